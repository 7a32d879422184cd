"""convlens.probe.features: features by name, equal to a plain per-image forward pass."""

import numpy as np
import pytest
import torch

from convlens.errors import ConvlensError
from convlens.jigsaw.evaluation.inference import normalise
from convlens.jigsaw.networks.configs import model_config
from convlens.probe import extract_features
from convlens.problem3.probe import random_network

CFG = model_config(width=0.125, hidden=32, input_size=32)


def test_features_equal_a_plain_per_image_forward_in_eval_mode(normal):
    model = random_network(CFG, seed=3)
    with torch.no_grad():  # non-default BN statistics, so train-mode BN would differ
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-1, 1)
    model.train()
    x = normal["c"][:10]
    feats = extract_features(model, x, layer="pool", batch_size=4)
    assert model.training  # mode restored
    model.eval()
    with torch.no_grad():
        for i in range(10):
            one = model.forward_features(normalise(torch.from_numpy(x[i : i + 1])))
            np.testing.assert_allclose(feats[i], one[0].numpy(), atol=1e-5)
        fc1 = extract_features(model, x[:2], layer="fc1")
        ref = model.classifier[:2](model.forward_features(normalise(torch.from_numpy(x[:2]))))
        np.testing.assert_allclose(fc1, ref.numpy(), atol=1e-5)


def test_fc_layers_stop_before_the_head():
    """EdgeNet has one hidden layer: its fc2 would be the two seam scores, not features."""
    from convlens.errors import ConvlensError
    from convlens.jigsaw.networks.edgenet import EdgeNet
    from convlens.probe.features import feature_extractor

    edge = EdgeNet(width=0.25, hidden=16).eval()
    x = torch.rand(2, 3, 32, 32)
    assert feature_extractor(edge, "fc1")(x).shape == (2, 16)
    with pytest.raises(ConvlensError, match="fc2.*head"):
        feature_extractor(edge, "fc2")


def test_features_by_name_are_the_blocks_and_layers_read_their_own_way(normal):
    """The probe's one entry for features: blocks, the pooled features and fc layers by name,
    each equal to what its own reader gives, in the order asked for."""
    from convlens.probe import features
    from convlens.probe.blocks import block_features

    model = random_network(model_config(arch="vgg11_bn", width=0.125, hidden=16, input_size=32), 4)
    x = normal["c"][:6]
    got = features(model, x, ["fc1", "block3", "pool"])
    assert list(got) == ["fc1", "block3", "pool"]
    np.testing.assert_array_equal(got["block3"], block_features(model, x)["block3"])
    np.testing.assert_array_equal(got["fc1"], extract_features(model, x, layer="fc1"))
    np.testing.assert_array_equal(got["pool"], extract_features(model, x, layer="pool"))
    assert list(features(model, x)) == [f"block{i}" for i in range(1, 6)]
    with pytest.raises(ConvlensError, match="layer 'block9': choose from block1"):
        features(model, x, ["block9"])
