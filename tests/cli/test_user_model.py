"""A user's own CNN from the command line: `--model file.py:FUNCTION` (or MODULE:FUNCTION) with
its weights (nested under model_state_dict, DataParallel's prefix), its class names and its
preprocessing, through every model command; what does not apply is one line."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image
from user_net import NET

from convlens.cli import main
from convlens.demo.photos import bundled_photographs
from convlens.explain.grad_cam import grad_cam
from convlens.models.user_model import Preprocessing, load_user_model
from convlens.predict import load_batch


@pytest.fixture(scope="module")
def user(tmp_path_factory):
    d = tmp_path_factory.mktemp("user")
    (d / "mynet.py").write_text(NET)
    torch.manual_seed(0)
    model = load_user_model(f"{d / 'mynet.py'}:build")
    state = {f"module.{k}": v for k, v in model.state_dict().items()}
    torch.save({"epoch": 9, "model_state_dict": state}, d / "w.pth")
    (d / "names.txt").write_text("cat\ndog\nbird\nfish\n")
    for name in ("chelsea", "coffee"):
        Image.fromarray(bundled_photographs()[name]).save(d / f"{name}.png")
    return d


def _flags(d, **extra):
    flags = {
        "--model": f"{d / 'mynet.py'}:build",
        "--weights": str(d / "w.pth"),
        "--classes": str(d / "names.txt"),
        "--input-size": "48",
    }
    flags.update(extra)
    out = []
    for k, v in flags.items():
        out += [k, *v.split()]
    return out


def test_classify_and_every_map_run_on_the_users_model(user, capsys):
    images = [str(user / "chelsea.png"), str(user / "coffee.png")]
    common = _flags(user, **{"--mean": "0.5 0.5 0.5", "--std": "0.25 0.25 0.25"})
    assert main(["classify", *images, *common, "--topk", "2", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {t["name"] for r in rows for t in r["top"]} <= {"cat", "dog", "bird", "fish"}
    for command in ("grad-cam", "guided-grad-cam", "integrated-gradients", "occlusion", "saliency"):
        assert main([command, *images, *common, "--target", "2", "--json"]) == 0, command
        out = json.loads(capsys.readouterr().out)
        assert [r["name"] for r in out] == ["bird", "bird"], command
    # the command's map is the library's on the same preprocessing and weights
    model = load_user_model(f"{user / 'mynet.py'}:build")
    state = torch.load(user / "w.pth", weights_only=True)["model_state_dict"]
    model.load_state_dict({k.removeprefix("module."): v for k, v in state.items()})
    from convlens.data.images import list_image_files

    prep = Preprocessing(48, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25))
    x = load_batch(list_image_files(images), prep)
    assert x.shape == (2, 3, 48, 48)
    assert main(["grad-cam", *images, *common, "--target", "2", "--json"]) == 0
    got = [r["max"] for r in json.loads(capsys.readouterr().out)]
    want = grad_cam(model, x, 2).amax((1, 2)).tolist()
    assert got == pytest.approx(want, rel=1e-5)


@pytest.mark.parametrize(
    "case, argv, words",
    [
        ("no colon", ["classify", "{img}", "--model", "mynet.py"], "expected MODULE:FUNCTION"),
        (
            "no such function",
            ["classify", "{img}", "--model", "{d}/mynet.py:nothing"],
            "no function",
        ),
        (
            "not a module",
            ["classify", "{img}", "--model", "{d}/mynet.py:not_a_model"],
            "returned a int",
        ),
        ("no such module", ["classify", "{img}", "--model", "no_such_pkg:build"], "cannot import"),
        (
            "wrong class count",
            ["classify", "{img}", "--model", "{d}/mynet.py:build", "--classes", "{d}/three.txt"],
            "names 3 classes but the model scores 4",
        ),
        (
            "report, wrong class count",
            [
                "report",
                "--quick",
                "--out",
                "{d}/report",
                "--model",
                "{d}/mynet.py:build",
                "--classes",
                "{d}/three.txt",
            ],
            "names 3 classes but the model scores 4",
        ),
        (
            "report, preprocessing without a model",
            ["report", "--quick", "--out", "{d}/report", "--mean", "0.5", "0.5", "0.5"],
            "--mean describe --model's classifier",
        ),
        (
            "guided backprop on GELU",
            ["guided-backprop", "{img}", "--model", "{d}/mynet.py:gelu"],
            "calls none",
        ),
        (
            "grad-cam layer",
            ["grad-cam", "{img}", "--model", "{d}/mynet.py:build", "--layer", "conv9"],
            "conv1, conv2",
        ),
        (
            "grad-cam linear layer",
            ["grad-cam", "{img}", "--model", "{d}/mynet.py:build", "--layer", "fc"],
            "not B x C x H x W",
        ),
        (
            "occlusion window",
            ["occlusion", "{img}", "--model", "{d}/mynet.py:build", "--window", "300"],
            "larger than the 224 px",
        ),
        (
            "MC dropout without dropout",
            ["uncertainty", "{img}", "--model", "{d}/mynet.py:build"],
            "no dropout",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) and " " in v else None,
)
def test_what_does_not_apply_is_one_line(user, case, argv, words, capsys):
    (user / "three.txt").write_text("a\nb\nc\n")
    argv = [a.format(d=user, img=user / "chelsea.png") for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0], err
