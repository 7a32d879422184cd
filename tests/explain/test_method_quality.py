"""convlens.explain.quality for any set of methods: the shared pass and the given maps change
nothing (each method's checks equal its checks computed alone, from its own function), every
method is checked beside the random map, and the record's tables read the same numbers."""

import pytest
import torch

from convlens.errors import ConvlensError
from convlens.explain.attributions import METHODS
from convlens.explain.deletion import deletion_insertion_curves
from convlens.explain.quality import RANDOM_MAP, explanation_quality
from convlens.explain.randomisation import randomisation_check


def test_the_exams_two_equal_each_method_checked_alone(digits_model):
    model, data = digits_model
    x, t = data.x_test[:6], data.y_test[:6]
    q = explanation_quality(model, x, t, steps=8, max_layers=3, seed=1)
    assert q.methods == ["saliency", "guided backprop"] and q.checks[-1].method == RANDOM_MAP
    # oracle: each method's own function, no shared pass, the plain deletion and
    # randomisation helpers
    maps = {m: METHODS[m](model, x, t) for m in q.methods}
    curves = deletion_insertion_curves(model, x, maps, t, steps=8)
    rnd = randomisation_check(model, x, t, {m: METHODS[m] for m in q.methods}, seed=1, max_layers=3)
    assert q.layers == rnd["layers"]
    for m in q.methods:
        c = q.of(m)
        assert c.deletion_auc == pytest.approx(float(curves[m]["deletion_auc"].mean()), rel=1e-5)
        assert c.insertion_auc == pytest.approx(float(curves[m]["insertion_auc"].mean()), rel=1e-5)
        assert c.randomised == pytest.approx([row[m] for row in rnd["rows"]], abs=1e-6)
    # maps handed in are used as they are: the same record
    given = explanation_quality(model, x, t, steps=8, max_layers=3, seed=1, maps=maps)
    for a, b in zip(given.checks, q.checks, strict=True):
        assert a.deletion_auc == pytest.approx(b.deletion_auc, rel=1e-5)
        assert a.randomised == pytest.approx(b.randomised, abs=1e-6)


def test_every_method_is_checked_beside_the_random_map(digits_model):
    model, data = digits_model
    x, t = data.x_test[:3], data.y_test[:3]
    settings = {"integrated gradients": {"steps": 8}, "occlusion": {"window": 8, "stride": 8}}
    q = explanation_quality(model, x, t, METHODS, steps=6, max_layers=2, settings=settings)
    assert [c.method for c in q.checks] == [*METHODS, RANDOM_MAP]
    assert len(q.layers) == 2
    for c in q.checks:
        assert 0 <= c.deletion_auc <= 1 and 0 <= c.insertion_auc <= 1
        assert len(c.randomised) == (0 if c.method == RANDOM_MAP else 2)
    assert torch.isfinite(torch.tensor([r for c in q.checks for r in c.randomised])).all()
    rows = q.randomisation_rows()
    assert [r["layer"] for r in rows] == q.layers
    assert rows[1]["occlusion"] == q.of("occlusion").randomised[1]
    assert RANDOM_MAP not in rows[0]
    assert [r["method"] for r in q.area_rows()] == [c.method for c in q.checks]


def test_an_unknown_method_is_refused_in_one_line(digits_model):
    model, data = digits_model
    with pytest.raises(ConvlensError, match="unknown method 'lime'"):
        explanation_quality(model, data.x_test[:2], data.y_test[:2], ["saliency", "lime"])
