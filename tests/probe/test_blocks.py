"""convlens.probe.blocks: block features equal a plain forward through each block."""

import numpy as np
import torch

from convlens.jigsaw.evaluation.inference import normalise
from convlens.jigsaw.networks.configs import model_config
from convlens.problem3.probe import random_network

CFG = model_config(width=0.125, hidden=32, input_size=32)


def test_block_features_equal_a_plain_forward_through_each_block(normal):
    """The folded channels_last copy against running the model's own `features` module by
    module, per image, in eval mode, with batch-norm statistics that folding has to get right;
    the model itself is left as it was."""
    from convlens.probe.blocks import block_features

    model = random_network(model_config(arch="vgg11_bn", width=0.125, hidden=16, input_size=32), 4)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = normal["c"][:5]
    feats = block_features(model, x, batch_size=2)
    assert model.training and all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    assert model.features[0].weight.is_contiguous()  # not left in channels_last
    model.eval()
    assert list(feats) == [f"block{i}" for i in range(1, 6)]
    with torch.no_grad():
        for i in range(5):
            h, j = normalise(torch.from_numpy(x[i : i + 1])), 0
            for m in model.features:
                h = m(h)
                if isinstance(m, torch.nn.MaxPool2d):
                    j += 1
                    np.testing.assert_allclose(feats[f"block{j}"][i], h.mean((2, 3))[0], atol=1e-5)
    edge = block_features(random_network(CFG, 0), x)  # EdgeNet's last block has no pool
    assert list(edge) == ["block1", "block2", "block3"]
