"""`convlens report --model`: Problem 2's section on a user's own classifier (not a VGG: a
residual block with functional relu and batch norm, or GELU with dropout), through the section
contract the report uses. Its maps and checks equal the stand-alone functions' on the same
preprocessing and weights; what the model cannot take is a line, never a failure."""

import pytest
import torch
from report_page import check_figures, check_numbers
from user_net import NET

from convlens.explain.attributions import METHODS
from convlens.explain.quality import RANDOM_MAP, explanation_quality
from convlens.explain.saliency import saliency
from convlens.models.user_model import Preprocessing, load_user_model
from convlens.record import to_json
from convlens.report import ReportContext

PREP = Preprocessing(48, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25))


def _section(tmp_path, function, problem2=None, **extra):
    from convlens.report import problem2 as report_problem2

    (tmp_path / "mynet.py").write_text(NET)
    torch.manual_seed(0)
    model = load_user_model(f"{tmp_path / 'mynet.py'}:{function}")
    torch.save({"state_dict": model.state_dict()}, tmp_path / "w.pth")
    ctx = ReportContext(
        out=tmp_path / "out",
        quick=True,
        problem2=problem2,
        model=f"{tmp_path / 'mynet.py'}:{function}",
        weights=str(tmp_path / "w.pth"),
        preprocessing=PREP,
        **extra,
    )
    ctx.figures.mkdir(parents=True)
    s = report_problem2.SECTION
    loaded = s.check(ctx)
    return ctx, loaded, s.compute(loaded, s.estimate(loaded, "key")), model.eval()


def test_a_users_resnet_gets_every_method_and_its_checks(problem2_dir, tmp_path):
    from convlens.report import problem2
    from convlens.report.document import Document

    (tmp_path / "names.txt").write_text("cat\ndog\nbird\nfish\n")
    ctx, loaded, record, model = _section(
        tmp_path, "build", problem2_dir, class_names=tmp_path / "names.txt"
    )
    assert record.mode == "user" and record.user_model.endswith("mynet.py:build")
    assert record.other_methods.methods == [
        m for m in METHODS if m not in ("saliency", "guided backprop")
    ]
    assert [c.method for c in record.quality.checks] == [*METHODS, RANDOM_MAP]
    # 2b needs ImageNet's classes, 2h dropout: one line each, no failure
    assert [line[:2] for line in record.not_run] == ["2b", "2h"]
    assert record.validation is None and record.uncertainty is None
    assert {t.top[0].name for t in record.top5} <= {"cat", "dog", "bird", "fish"}
    # the oracle: the stand-alone functions on the same images, preprocessing and weights
    x, targets = loaded_images(loaded), torch.tensor([t.top[0].class_id for t in record.top5])
    want = saliency(model, x, targets).flatten(1).amax(1)
    got = torch.tensor([r.saliency_max for r in record.explanations.rows])
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-7)
    settings = {
        "integrated gradients": {"steps": 8, "black": torch.tensor([-2.0] * 3)},
        "occlusion": {"window": 12, "stride": 6},
    }
    alone = explanation_quality(
        model, x, targets, list(METHODS), steps=8, max_layers=4, settings=settings
    )
    for ours, ref in zip(record.quality.checks, alone.checks, strict=True):
        assert ours.deletion_auc == pytest.approx(ref.deletion_auc, abs=1e-5), ours.method
        assert ours.randomised == pytest.approx(ref.randomised, abs=1e-5), ours.method
    doc = Document("t")
    problem2.render(doc, record, ctx)
    page = doc.to_html()
    assert "steps on your model" in page and "Not run: 2h" in page
    assert "passed every check" in page or "None of the 6 methods" in page
    check_numbers(page, {"p2": to_json(record)})
    check_figures(page, ctx.out)


def loaded_images(loaded):
    """The test images as the user's preprocessing makes them (the section's own reading)."""
    from convlens.predict import load_batch
    from convlens.problem2.setup import test_items

    return load_batch(test_items(loaded.problem2)[0], PREP)


def test_a_gelu_model_skips_the_guided_methods_in_one_line_each(tmp_path):
    ctx, loaded, record, _ = _section(tmp_path, "gelu_dropout")
    assert record.other_methods.methods == ["grad-cam", "integrated gradients", "occlusion"]
    assert [line.split(":")[0] for line in record.other_methods.skipped] == [
        "guided backprop",
        "guided grad-cam",
    ]
    assert "guided backprop" not in [c.method for c in record.quality.checks]
    assert record.uncertainty is not None  # it has dropout: 2h runs
    assert record.not_run is None


def test_the_cache_key_follows_the_users_model_and_preprocessing(tmp_path):
    from convlens.problem2.section import settings

    (tmp_path / "mynet.py").write_text(NET)
    base = ReportContext(out=tmp_path, model=f"{tmp_path / 'mynet.py'}:build", preprocessing=PREP)
    a = settings(base)
    (tmp_path / "mynet.py").write_text(NET + "\n# edited\n")
    assert settings(base) != a
    other = ReportContext(out=tmp_path, model=base.model, preprocessing=Preprocessing(64))
    assert settings(other)["preprocessing"] != settings(base)["preprocessing"]
