"""convlens.problem2.section on the ImageNet path: its record equals the stand-alone step
functions'."""

import pytest
import torch
from report_page import check_figures, check_numbers

from convlens.problem2.answers import Problem2Results
from convlens.record import from_json, to_json
from convlens.report import ReportContext


def test_problem2_section_on_the_imagenet_path(problem2_dir, tmp_path, monkeypatch):
    """With weights present the report runs VGG16's steps; a tiny 1000-class VGG stands in."""
    from convlens.models import vgg11
    from convlens.problem2 import section
    from convlens.report import problem2
    from convlens.report.document import Document

    def tiny(init_weights=True):
        return vgg11(width=0.0625, hidden=32, init_weights=init_weights)

    torch.manual_seed(0)
    weights = tmp_path / "tiny.pth"
    torch.save(tiny().state_dict(), weights)
    monkeypatch.setattr(section, "vgg16", tiny)
    ctx = ReportContext(out=tmp_path, quick=True, problem2=problem2_dir, weights=str(weights))
    ctx.figures.mkdir(parents=True)
    loaded = problem2.SECTION.check(ctx)
    record = problem2.SECTION.compute(loaded, problem2.SECTION.estimate(loaded, "key"))
    results = to_json(record)
    assert results["mode"] == "imagenet"
    assert results["validation"]["n"] == 95 and len(results["top5"]) == 5
    # The report's 2b (from the Monte Carlo run's dropout-off pass) and `convlens evaluate`'s
    # (a plain forward pass) give the same rows.
    from convlens.data.problem2 import load_problem2
    from convlens.models.weights import load_weights
    from convlens.problem2 import validation_accuracy

    p2 = load_problem2(problem2_dir)
    cli = validation_accuracy(load_weights(tiny(False), weights).eval(), p2.validation, p2.names)
    for key in ("top1_correct", "top5_correct", "misclassified"):
        assert getattr(cli, key) == results["validation"][key], key
    assert results["calibration"]["n"] == 95
    # 2d's top-5 comes from 2h's dropout-off pass, and the checks reuse 2e/2f's maps: both equal
    # what the stand-alone functions compute from scratch.
    from convlens.explain.quality import explanation_quality
    from convlens.problem2 import top5
    from convlens.problem2.setup import imagenet_setup, sizes

    setup = imagenet_setup(
        load_weights(tiny(False), weights).eval(), p2, 0, sizes("imagenet", quick=True)
    )
    alone = to_json(top5(setup.model, setup.images, setup.files, setup.names).rows)
    for ours, ref in zip(results["top5"], alone, strict=True):
        assert [t["class_id"] for t in ours["top"]] == [t["class_id"] for t in ref["top"]]
        for a, b in zip(ours["top"], ref["top"], strict=True):
            assert abs(a["prob"] - b["prob"]) < 1e-6
    targets = torch.tensor([r["top"][0]["class_id"] for r in alone])
    q = to_json(explanation_quality(setup.model, setup.images, targets, **setup.quality))
    assert results["quality"]["layers"] == q["layers"]
    for ours, ref in zip(results["quality"]["checks"], q["checks"], strict=True):
        assert ours["method"] == ref["method"]
        for k in ("deletion_auc", "insertion_auc"):
            assert abs(ours[k] - ref[k]) < 1e-6, k
        assert ours["randomised"] == pytest.approx(ref["randomised"], abs=1e-6)
    doc = Document("t")
    problem2.render(doc, from_json(Problem2Results, results), ctx)  # as the cache reads it
    page = doc.to_html()
    assert "built-in demo" not in page and "2h." in page
    check_numbers(page, {"p2": results})
    check_figures(page, tmp_path)
