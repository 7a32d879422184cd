"""Each de-shuffling network's settings are its own."""

import dataclasses

import pytest

from convlens.errors import ConvlensError
from convlens.jigsaw.networks.configs import (
    CFNConfig,
    EdgeNetConfig,
    VGGConfig,
    model_config,
    stored_config,
    with_settings,
)
from convlens.jigsaw.training.recipes import recipe

# what a run saved before each network had its own settings held: every network's
OLD_FLAT = {
    "arch": "cfn",
    "width": 0.25,
    "hidden": 512,
    "dropout": 0.0,
    "input_size": 96,
    "border": 8,
    "resolution": 0,
    "gap": 3,
    "tile_norm": False,
    "tile_gray": 0.0,
    "head": "borders",
    "tile_grid": 1,
    "slots": False,
}


def test_each_architecture_gets_its_own_settings_and_refuses_another_networks():
    assert type(model_config("edgenet")) is EdgeNetConfig
    assert type(model_config("vgg16_bn", resolution=64)) is VGGConfig
    assert type(model_config("cfn", gap=2)) is CFNConfig
    assert not hasattr(model_config("vgg11_bn"), "gap")  # the CFN's gap is not a VGG setting
    with pytest.raises(ConvlensError, match="gap: a setting of cfn, not of vgg11_bn"):
        model_config("vgg11_bn", gap=2)
    with pytest.raises(ConvlensError, match="border: a setting of edgenet, not of cfn"):
        model_config("cfn", border=4)


def test_a_run_saved_with_every_networks_settings_reads_back_as_its_own():
    config = stored_config(OLD_FLAT)
    assert config == CFNConfig(
        width=0.25, hidden=512, gap=3, tile_norm=False, tile_gray=0.0, head="borders"
    )
    assert stored_config(dataclasses.asdict(config)) == config  # and round-trips


def test_with_settings_moves_to_another_architecture_keeping_the_shared_settings():
    vgg = recipe("vgg11_bn").model
    moved = with_settings(vgg, arch="vgg16_bn")
    assert type(moved) is VGGConfig and moved.arch == "vgg16_bn"
    assert (moved.width, moved.hidden, moved.resolution) == (vgg.width, vgg.hidden, vgg.resolution)
    cfn = with_settings(vgg, arch="cfn", gap=2)  # VGG's resolution goes; the head, shared, stays
    assert type(cfn) is CFNConfig and cfn.gap == 2 and cfn.width == vgg.width
    assert cfn.head == vgg.head and not hasattr(cfn, "resolution")
