"""convlens.jigsaw.evaluation.inference: test-time augmentation over the 24 re-shuffles, against a
plain loop."""

import numpy as np
import pytest
import torch
from torch import nn

from convlens.demo.jigsaw_data import make_jigsaw_arrays
from convlens.demo.photos import bundled_photographs
from convlens.jigsaw.evaluation.inference import predict_log_probs
from convlens.jigsaw.evaluation.scoring import tta_log_probs
from convlens.jigsaw.networks.catalogue import build_model, shuffle_invariant
from convlens.jigsaw.networks.configs import model_config
from convlens.jigsaw.puzzle.permutations import PERMUTATIONS
from convlens.jigsaw.puzzle.seam_solver import seam_costs


class SeamOracle(nn.Module):
    """A 'network' whose logits are minus the seam costs of its (de-normalised) input."""

    def forward(self, x):
        mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
        std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
        return -seam_costs((x * std + mean) * 255) / 5.0


def test_tta_maps_every_reshuffle_back_to_the_right_order(photo_arrays):
    # The seam costs of an arrangement do not depend on how the input was shuffled, so a
    # correct mapping makes all 24 views agree and TTA equals the plain prediction.
    x = photo_arrays["c"][:12]
    plain = predict_log_probs(SeamOracle(), x)
    tta = tta_log_probs(SeamOracle(), x)
    torch.testing.assert_close(tta, plain, atol=1e-3, rtol=1e-3)


def test_tta_on_the_device_equals_a_plain_loop_over_the_24_views(photo_arrays):
    """One batched pass re-shuffling each batch on the device gives what shuffling the whole
    set on the host 24 times and predicting each view gives, and its plain half is the
    network alone."""
    from convlens.jigsaw import shuffle
    from convlens.jigsaw.evaluation.inference import predict_with_tta
    from convlens.jigsaw.puzzle.permutations import COMPOSE

    torch.manual_seed(0)
    vgg = model_config(arch="vgg11_bn", head="orders", width=0.125, hidden=16, input_size=32)
    model = build_model(vgg).eval()  # not shuffle-invariant
    x = photo_arrays["c"][:10]
    total = torch.zeros(len(x), 24)
    for p in range(24):
        view = shuffle(x, np.repeat(PERMUTATIONS[p : p + 1], len(x), axis=0))
        total += predict_log_probs(model, view)[:, torch.from_numpy(COMPOSE[:, p])]
    loop = torch.log_softmax(total / 24, dim=1)
    plain, tta = predict_with_tta(model, x, batch_size=4)  # batches that do not divide 10
    torch.testing.assert_close(tta, loop, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(plain, predict_log_probs(model, x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(
    "config",
    [
        model_config(arch="edgenet", width=0.125, hidden=16, input_size=64),
        model_config(arch="cfn", width=0.125, hidden=16, input_size=64, head="borders"),
        model_config(arch="cfn", width=0.125, hidden=16, input_size=64, head="seams"),
        model_config(arch="cfn", width=0.125, hidden=16, input_size=64, head="orders"),
        model_config(arch="vgg11_bn", width=0.125, hidden=16, input_size=64, head="seams"),
    ],
    ids=lambda c: f"{c.arch}-{getattr(c, 'head', 'seams')}",
)
def test_shuffle_invariant_exactly_where_tta_changes_nothing(config, photo_arrays):
    # Evaluation skips the 24 views where shuffle_invariant says they cannot change a score:
    # a random network of each kind must then agree with its TTA, and the others must not.
    torch.manual_seed(0)
    model = build_model(config).eval()
    x = make_jigsaw_arrays(bundled_photographs(), n_train=24, n_test=8, size=64, seed=1)["c"]
    plain, tta = predict_log_probs(model, x), tta_log_probs(model, x)
    same = torch.allclose(tta, plain, atol=1e-4, rtol=1e-4)
    assert same == shuffle_invariant(config)
