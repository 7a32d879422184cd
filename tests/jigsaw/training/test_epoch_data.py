"""convlens.jigsaw.training.epoch_data: every epoch's shuffles and blends keep exact labels,
against a plain loop."""

import numpy as np
import torch

from convlens.jigsaw import deshuffle
from convlens.jigsaw.networks.configs import model_config
from convlens.jigsaw.puzzle.permutations import PERMUTATIONS
from convlens.jigsaw.training.config import TrainConfig

TINY = model_config(width=0.125, hidden=32, input_size=32)


def _cfg(epochs=2, **kw):
    return TrainConfig(epochs=epochs, batch_size=32, precision="fp32", model=TINY, **kw)


def test_epoch_plan_puts_differently_shuffled_copies_side_by_side():
    from convlens.jigsaw.training.epoch_data import epoch_plan

    rng = np.random.default_rng(0)
    order, classes, params = epoch_plan(50, _cfg(shuffles=4), rng)
    assert len(order) == len(classes) == len(params) == 200
    groups = order.reshape(50, 4)
    assert (groups == groups[:, :1]).all() and sorted(groups[:, 0]) == list(range(50))
    assert all(len(set(c)) == 4 for c in classes.reshape(50, 4))  # four different orders
    assert (params.reshape(50, 4, -1) == params.reshape(50, 4, -1)[:, :1]).all()
    # one copy per image: every image once, the 24 orders equally often
    order, classes, _ = epoch_plan(48, _cfg(), np.random.default_rng(0))
    assert sorted(order) == list(range(48)) and (np.bincount(classes) == 2).all()


def test_blended_batches_keep_exact_labels_and_equal_a_plain_loop(photo_arrays):
    """mix=1: every training image is a blend of two restored photographs (own weight 0.5-1),
    shuffled by its label; a plain loop over the images, with the exam's de-shuffling, gives
    the same batch back."""
    from convlens.data.transforms import normalize
    from convlens.jigsaw.training.epoch_data import EpochBatches, augment, epoch_plan

    originals = torch.from_numpy(deshuffle(photo_arrays["a"][:40], photo_arrays["b"][:40]))
    cfg = _cfg(mix=1.0, crop_scale=0.6)
    order, classes, params = epoch_plan(len(originals), cfg, np.random.default_rng(3))
    assert params.shape[1] == 9 and (params[:, 8] >= 0.5).all() and (params[:, 8] < 1).all()
    assert (params[:, 7] != np.arange(40)[order]).any()  # partners are other images
    x, y = EpochBatches(originals, order, classes, params, [np.arange(40)])[0]
    for i in range(40):
        own = originals[order[i]].float() / 255
        partner = originals[int(params[i, 7])].float() / 255
        blended = params[i, 8] * own + (1 - params[i, 8]) * partner
        expected = normalize(augment(blended[None], params[i : i + 1]))[0]
        restored = deshuffle(x[i : i + 1].numpy(), PERMUTATIONS[y[i : i + 1].numpy()])[0]
        np.testing.assert_allclose(restored, expected.numpy(), atol=1e-5)
