"""Integration: all 100 real problem2 images through `evaluate` and `classify` (random weights;
VGG11, half VGG16's arithmetic: what is tested is the commands' path, not the network)."""

import csv
import json

import pytest

from convlens.cli import main


@pytest.mark.slow
def test_evaluate_and_classify_every_real_image(problem2_dir, tmp_path, capsys):
    out = tmp_path / "eval"
    args = ["--arch", "vgg11", "--weights", "random", "--batch-size", "24", "--precision", "auto"]
    args.append("--json")
    assert main(["evaluate", str(problem2_dir), *args, "--out", str(out)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n"] == 95
    assert 0 <= result["top1_correct"] <= result["top5_correct"] <= 95
    assert len(result["misclassified"]) == 95 - result["top1_correct"]
    with open(out / "predictions.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 95
    gray = next(r for r in rows if r["file"] == "ILSVRC2012_val_00000034.JPEG")
    assert len(gray["top5_ids"].split()) == 5

    figs = tmp_path / "figs"
    images = [str(problem2_dir / "test_images"), gray_path(problem2_dir)]
    cmd = ["classify", *images, "--arch", "vgg11", "--weights", "random", "--json"]
    assert main([*cmd, "--out", str(figs)]) == 0
    results = json.loads(capsys.readouterr().out)
    assert len(results) == 6
    for r in results:
        probs = [t["prob"] for t in r["top"]]
        assert len(probs) == 5 and probs == sorted(probs, reverse=True)
    assert len(list(figs.glob("classify_*.png"))) == 6


def gray_path(problem2_dir):
    return str(problem2_dir / "validation_images" / "ILSVRC2012_val_00000034.JPEG")


def test_missing_weights_offline_is_one_line(problem2_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert main(["classify", gray_path(problem2_dir)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "vgg16-397923af.pth" in err[0] and "put" in err[0]


def test_evaluate_bad_data_is_one_line(tmp_path, capsys):
    (tmp_path / "notzip.zip").write_text("hello")
    assert main(["evaluate", str(tmp_path / "notzip.zip"), "--weights", "random"]) == 2
    assert "expected the problem2 folder or problem2.zip" in capsys.readouterr().err
