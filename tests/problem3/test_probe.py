"""convlens.problem3.probe: the probe's random twin and which layers each network is probed at."""

import pytest
import torch

from convlens.errors import ConvlensError
from convlens.jigsaw.networks.configs import model_config
from convlens.probe import extract_features
from convlens.problem3.probe import random_network

CFG = model_config(width=0.125, hidden=32, input_size=32)


def test_random_network_is_reproducible_from_its_seed():
    a, b, c = random_network(CFG, 1), random_network(CFG, 1), random_network(CFG, 2)
    assert all(
        torch.equal(x, y)
        for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    )
    assert not torch.equal(a.features[0].weight, c.features[0].weight)


def test_cfn_is_probed_by_block_and_refuses_fc_layers(normal):
    from convlens.probe.blocks import block_features
    from convlens.probe.features import feature_extractor

    cfn = random_network(model_config(arch="cfn", width=0.125, hidden=16, input_size=32), 0)
    feats = block_features(cfn, normal["c"][:3])
    assert [f.shape[1] for f in feats.values()] == [8, 16, 32, 64, 64]
    with pytest.raises(ConvlensError, match="four tiles"):
        feature_extractor(cfn, "fc1")
    assert extract_features(cfn, normal["c"][:3]).shape == (3, 64)
