"""Classes 2, 3 and 8 of issue 23: numbers, geometry and names are checked where they enter,
once, for every command (one line, exit 2, nothing left behind)."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from bad_input import assert_refused
from PIL import Image

from convlens.cli import main
from convlens.demo.jigsaw_data import make_jigsaw_arrays
from convlens.demo.photos import bundled_photographs

TRAIN = ["--epochs", "1", "--width", "0.125", "--hidden", "16", "--precision", "fp32"]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("numbers")
    arrays = make_jigsaw_arrays(bundled_photographs(), n_train=72, n_test=24, size=32, seed=0)
    a, b, c, dd = arrays["a"], arrays["b"], arrays["c"], arrays["d"]
    f = {"dir": d}

    def npz(name, **kw):
        f[name] = d / f"{name}.npz"
        np.savez(f[name], **kw)

    npz("good", a=a, b=b, c=c, d=dd)
    npz("normal", a=arrays["orig_train"], b=np.arange(72) % 3, c=c, d=np.arange(24) % 3)
    f["run"] = d / "run"
    assert main(["jigsaw", "train", str(f["good"]), "--out", str(f["run"]), *TRAIN]) == 0
    labels = np.arange(72) % 3
    npz(
        "float_labels",
        a=arrays["orig_train"],
        b=np.where(labels == 2, 1e30, labels),
        c=c,
        d=dd[:, 0],
    )
    npz("string_labels", a=arrays["orig_train"], b=labels.astype(str), c=c, d=dd[:, 0])
    npz(
        "nan_labels",
        a=arrays["orig_train"],
        b=np.where(labels == 1, np.nan, labels),
        c=c,
        d=dd[:, 0],
    )
    npz("string_orders", a=a, b=b.astype(str), c=c, d=dd)
    npz("complex_orders", a=a, b=b.astype(np.complex128), c=c, d=dd)
    npz("empty_float", a=np.zeros((0, 3, 32, 32), np.float32), b=np.zeros((0, 4)))
    npz("one_per_class", a=arrays["orig_train"][:6], b=np.arange(6), c=c[:6], d=np.arange(6))
    npz("wide", a=np.repeat(a, 3, axis=3)[:, :, :, :96], b=b, c=np.repeat(c, 3, axis=3), d=dd)
    npz("tiny", a=a[:, :, :4, :4], b=b, c=c[:, :, :4, :4], d=dd)
    npz("normal_tiny", a=a[:, :, :4, :4], b=labels, c=c[:, :, :4, :4], d=labels[:24])
    npz(
        "bigger",
        a=np.repeat(np.repeat(a, 2, 2), 2, 3),
        b=b,
        c=np.repeat(np.repeat(c, 2, 2), 2, 3),
        d=dd,
    )
    # weights with NaN in them, as a diverged run would leave
    ckpt = torch.load(f["run"] / "best.pt", weights_only=True)
    first = next(k for k, v in ckpt["model"].items() if v.is_floating_point())
    ckpt["model"][first] = ckpt["model"][first].clone().fill_(float("nan"))
    (d / "nan_run").mkdir()
    torch.save(ckpt, d / "nan_run" / "best.pt")
    f["nan_run"] = d / "nan_run"
    from convlens.models import vgg11

    state = vgg11(num_classes=10, input_size=32, hidden=16).state_dict()
    state["features.0.weight"][0, 0, 0, 0] = float("inf")
    f["inf_weights"] = d / "inf.pth"
    torch.save(state, f["inf_weights"])
    quantised = dict(state)
    quantised["features.0.weight"] = torch.zeros_like(state["features.0.weight"], dtype=torch.int8)
    f["int8_weights"] = d / "int8.pth"
    torch.save(quantised, f["int8_weights"])
    ckpt = torch.load(f["run"] / "best.pt", weights_only=True)
    ckpt["model"][first] = ckpt["model"][first].to(torch.int16)
    (d / "int_run").mkdir()
    torch.save(ckpt, d / "int_run" / "best.pt")
    f["int_run"] = d / "int_run"
    f["pickled"] = d / "pickled.pth"
    f["pickled"].write_bytes(pickle.dumps({"weights": Path("not a tensor")}, protocol=4))
    f["weights_dir"] = d / "weights_dir"
    f["weights_dir"].mkdir()
    f["photo"] = d / "chelsea.png"
    Image.fromarray(bundled_photographs()["chelsea"]).resize((64, 48)).save(f["photo"])
    return f


_CASES = [
    # numbers
    ("class id 1e30", ["probe", "{run}", "{float_labels}"], "1e+30"),
    ("class id NaN", ["probe", "{run}", "{nan_labels}"], "not an integer class id"),
    ("class ids as strings", ["probe", "{run}", "{string_labels}"], "integer or float"),
    ("orders as strings", ["jigsaw", "train", "{string_orders}", "--out", "{new}"], "integer"),
    ("complex orders", ["jigsaw", "train", "{complex_orders}", "--out", "{new}"], "complex"),
    ("empty float npz", ["jigsaw", "train", "{empty_float}", "--out", "{new}"], "0 training"),
    ("one image per class", ["probe", "{run}", "{one_per_class}"], "single training image"),
    ("NaN weights, evaluate", ["jigsaw", "evaluate", "{nan_run}", "{good}"], "NaN"),
    ("NaN weights, probe", ["probe", "{nan_run}", "{normal}"], "NaN"),
    (
        "inf weights, classify",
        ["classify", "{photo}", "--weights", "{inf_weights}", "--arch", "vgg11"],
        "infinite",
    ),
    (
        "int8 weights, classify",
        ["classify", "{photo}", "--weights", "{int8_weights}", "--arch", "vgg11"],
        "features.0.weight: file has torch.int8",
    ),
    ("int16 checkpoint, evaluate", ["jigsaw", "evaluate", "{int_run}", "{good}"], "torch.int16"),
    ("pickled .pth", ["classify", "{photo}", "--weights", "{pickled}"], "Python objects"),
    ("--weights a folder", ["classify", "{photo}", "--weights", "{weights_dir}"], "is a folder"),
    # sizes, each bounded before anything is built
    (
        "hidden 1e9",
        ["jigsaw", "train", "{good}", "--out", "{new}", "--hidden", "1000000000"],
        "hidden",
    ),
    (
        "resolution 99968",
        ["jigsaw", "train", "{good}", "--out", "{new}", "--resolution", "99968"],
        "resolution",
    ),
    ("width 1000", ["jigsaw", "train", "{good}", "--out", "{new}", "--width", "1000"], "width"),
    (
        "batch 10^9",
        ["jigsaw", "train", "{good}", "--out", "{new}", "--batch-size", "1000000000"],
        "batch_size",
    ),
    (
        "epochs 10^9",
        ["jigsaw", "train", "{good}", "--out", "{new}", "--epochs", "1000000000"],
        "epochs",
    ),
    (
        "minutes 10^9",
        ["jigsaw", "train", "{good}", "--out", "{new}", "--minutes", "1e9"],
        "minutes",
    ),
    (
        "cfn gap 30",
        ["jigsaw", "train", "{good}", "--out", "{new}", "--arch", "cfn", "--gap", "30"],
        "gap",
    ),
    # geometry: one check of the images against the network, in every command
    ("train 4x4", ["jigsaw", "train", "{tiny}", "--out", "{new}"], "multiple of 32"),
    ("evaluate 4x4", ["jigsaw", "evaluate", "{run}", "{tiny}"], "multiple of 32"),
    ("restore 4x4", ["jigsaw", "restore", "{run}", "{tiny}", "--out", "{new}.npz"], "32"),
    ("probe 4x4", ["probe", "{run}", "{normal_tiny}"], "multiple of 32"),
    ("evaluate 32x96", ["jigsaw", "evaluate", "{run}", "{wide}"], "square"),
    ("restore 32x96", ["jigsaw", "restore", "{run}", "{wide}", "--out", "{new}.npz"], "square"),
    ("evaluate 64 px on a 32 px network", ["jigsaw", "evaluate", "{run}", "{bigger}"], "32 px"),
]


@pytest.mark.parametrize("case", _CASES, ids=[c[0] for c in _CASES])
def test_bad_numbers_and_shapes_are_one_line(case, files, tmp_path, capsys, monkeypatch):
    _, argv, words = case
    monkeypatch.chdir(tmp_path)
    paths = {k: str(v) for k, v in files.items()} | {"new": str(tmp_path / "new")}
    argv = [a.format(**paths) for a in argv]
    assert_refused(argv, words, capsys, [files["dir"], tmp_path])
    assert not any(tmp_path.iterdir())


def test_float_images_are_scaled_per_array_and_it_is_said(tmp_path):
    """'a' holding 0-1 floats beside a uint8 'c': each array read on its own scale."""
    from convlens.jigsaw.puzzle.data import load_npz

    arrays = make_jigsaw_arrays(bundled_photographs(), n_train=24, n_test=24, size=32, seed=0)
    path = tmp_path / "mixed.npz"
    np.savez(path, a=arrays["a"] / 255.0, b=arrays["b"], c=arrays["c"], d=arrays["d"])
    data = load_npz(path)
    np.testing.assert_array_equal(data.train.images, arrays["a"])
    np.testing.assert_array_equal(data.test.images, arrays["c"])
    assert "in 0-1 (key 'a'), scaled to 0-255" in data.dtype_found
    assert "key 'c'" not in data.dtype_found


def test_a_diverging_run_stops_with_one_line_and_leaves_no_folder(files, tmp_path, capsys):
    """--lr 1e30: the loss is not finite within the first steps; training stops at once and the
    folder it made is gone (no NaN model is ever saved, let alone chosen as best)."""
    fresh = tmp_path / "fresh"
    argv = ["jigsaw", "train", files["good"], "--out", fresh, *TRAIN, "--lr", "1e30"]
    line = assert_refused(argv, "training loss became", capsys, [files["dir"]])
    assert "--lr" in line and "nothing was kept" in line
    assert not fresh.exists()


def test_divergence_in_a_later_epoch_keeps_the_last_good_checkpoint(files, tmp_path, monkeypatch):
    import torch.nn.functional as F

    from convlens.engine import train_step
    from convlens.errors import ConvlensError
    from convlens.jigsaw.networks.configs import model_config
    from convlens.jigsaw.puzzle.data import load_npz
    from convlens.jigsaw.training import train as training
    from convlens.jigsaw.training.checkpoint import load_run
    from convlens.jigsaw.training.config import TrainConfig

    data = load_npz(files["good"])
    cfg = TrainConfig(
        epochs=3,
        batch_size=32,
        precision="fp32",
        model=model_config(width=0.125, hidden=16, input_size=32),
    )
    steps = -(-int(len(data.train.images) * 0.9) // 32)  # steps in the first epoch
    calls = {"n": 0}
    cross_entropy = F.cross_entropy

    def failing(*args, **kw):
        calls["n"] += 1
        loss = cross_entropy(*args, **kw)
        return loss * float("nan") if calls["n"] > steps + 1 else loss

    monkeypatch.setattr(train_step.F, "cross_entropy", failing)
    run = tmp_path / "run"
    with pytest.raises(ConvlensError, match="checkpoint.pt holds epoch 1, the last good one"):
        training.train(data.train.images, data.train.labels, run, cfg)
    monkeypatch.undo()
    ckpt = torch.load(run / "checkpoint.pt", weights_only=True)
    assert ckpt["epoch"] == 0  # the first epoch, complete
    model, _, _ = load_run(run)
    assert all(torch.isfinite(p).all() for p in model.parameters())
