"""convlens.explain.method_checks: the checks for any set of methods give, for the exam's two,
exactly what explanation_quality gives, and cover every method on a trained classifier."""

import pytest
import torch

from convlens.explain.attributions import METHODS
from convlens.explain.method_checks import RANDOM_MAP, method_checks
from convlens.explain.quality import explanation_quality


def test_for_the_exams_two_methods_they_equal_explanation_quality(digits_model):
    model, data = digits_model
    x, t = data.x_test[:6], data.y_test[:6]
    checks, layers = method_checks(
        model, x, t, ["saliency", "guided backprop"], steps=8, max_layers=3, seed=1
    )
    q = explanation_quality(model, x, t, steps=8, max_layers=3, seed=1)
    ref = {r.method: r for r in q.deletion_insertion}
    for c in checks:
        assert c.deletion_auc == pytest.approx(ref[c.method].deletion_auc, rel=1e-6)
        assert c.insertion_auc == pytest.approx(ref[c.method].insertion_auc, rel=1e-6)
    assert layers == [r.layer for r in q.randomisation]
    by_name = {c.method: c for c in checks}
    assert by_name["saliency"].randomised == pytest.approx([r.saliency for r in q.randomisation])
    assert by_name["guided backprop"].randomised == pytest.approx(
        [r.guided_backprop for r in q.randomisation]
    )


def test_every_method_is_checked_beside_the_random_map(digits_model):
    model, data = digits_model
    x, t = data.x_test[:3], data.y_test[:3]
    settings = {"integrated gradients": {"steps": 8}, "occlusion": {"window": 8, "stride": 8}}
    checks, layers = method_checks(model, x, t, steps=6, max_layers=2, settings=settings)
    assert [c.method for c in checks] == [*METHODS, RANDOM_MAP]
    assert len(layers) == 2
    for c in checks:
        assert 0 <= c.deletion_auc <= 1 and 0 <= c.insertion_auc <= 1
        assert len(c.randomised) == (0 if c.method == RANDOM_MAP else 2)
    assert torch.isfinite(torch.tensor([r for c in checks for r in c.randomised])).all()
