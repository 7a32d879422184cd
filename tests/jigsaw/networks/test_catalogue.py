"""convlens.jigsaw.networks.catalogue: each de-shuffling network described once, and every
table that names the networks read from it."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from convlens.errors import ConvlensError
from convlens.jigsaw.networks import catalogue
from convlens.jigsaw.networks.catalogue import NETWORKS, build_model, shuffle_invariant, spec_of
from convlens.jigsaw.networks.configs import ARCHS, ModelConfig, config_class, model_config
from convlens.jigsaw.puzzle.permutations import NUM_PERMUTATIONS
from convlens.jigsaw.training.recipes import BARS, RECIPES, recipe
from convlens.problem3.budget import NEEDED_EPOCHS


@pytest.mark.parametrize("name", list(NETWORKS))
def test_each_entry_builds_its_network_from_its_own_or_stored_settings(name):
    spec = NETWORKS[name]
    small = dataclasses.replace(spec.model, width=0.125, hidden=16, input_size=64)
    torch.manual_seed(0)
    model = build_model(small).eval()
    x = torch.rand(2, 3, 64, 64)
    assert model(x).shape == (2, NUM_PERMUTATIONS)
    assert config_class(name) is type(spec.model)  # the settings class of the family's name
    torch.manual_seed(0)
    again = build_model(dataclasses.asdict(small)).eval()  # a run's stored settings
    torch.testing.assert_close(again(x), model(x))


def test_every_table_that_names_the_networks_is_read_from_the_catalogue():
    assert set(RECIPES) == set(BARS) == set(NEEDED_EPOCHS) == set(NETWORKS)
    for name, spec in NETWORKS.items():
        assert recipe(name).model.arch == name
        assert BARS[name] == spec.bar and NEEDED_EPOCHS[name] == spec.needed_epochs
        assert all(getattr(RECIPES[name], k) == v for k, v in spec.training.items())
    assert ARCHS[: len(NETWORKS)] == tuple(NETWORKS)  # the CLI lists the families first


def test_other_vggs_share_the_whole_image_entry_and_unknown_settings_are_refused():
    assert spec_of(model_config("vgg16_bn")) is NETWORKS["vgg11_bn"]
    assert not shuffle_invariant(model_config("vgg11"))

    @dataclasses.dataclass
    class Elsewhere(ModelConfig):
        pass

    with pytest.raises(ConvlensError, match="Elsewhere: not a de-shuffling network's settings"):
        build_model(Elsewhere())


def test_a_fourth_network_is_one_entry(monkeypatch):
    """What the catalogue dispatches on (building, test-time augmentation) follows a new entry
    without another branch anywhere."""

    @dataclasses.dataclass
    class LinearConfig(ModelConfig):
        arch: str = "linear"

    def build_linear(config):
        side = config.input_size
        return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * side * side, 24))

    entry = catalogue.NetworkSpec(
        name="linear",
        display="a linear model",
        description="every pixel weighted once",
        model=LinearConfig(input_size=8),
        build=build_linear,
        shuffle_invariant=lambda config: False,
        bar=0.1,
        needed_epochs=1,
        demo_epochs=1,
    )
    monkeypatch.setitem(NETWORKS, "linear", entry)
    model = build_model(LinearConfig(input_size=8))
    assert model(torch.rand(1, 3, 8, 8)).shape == (1, 24)
    assert spec_of(LinearConfig()).display == "a linear model"
    assert shuffle_invariant(LinearConfig()) is False
