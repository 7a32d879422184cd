"""`convlens jigsaw`: train, evaluate and restore through the command line, with each network's
recipe."""

import json

import numpy as np
import torch

from convlens.cli import main
from convlens.jigsaw import deshuffle, load_npz
from convlens.jigsaw.training.checkpoint import load_run


def test_jigsaw_cli_train_evaluate_restore(photo_arrays, tmp_path, capsys):
    npz = tmp_path / "DataShuffled.npz"
    b = photo_arrays["b"].astype(np.float64)
    b[:5] = -1  # some images came without their permutation
    np.savez(npz, a=photo_arrays["a"], b=b, c=photo_arrays["c"], d=photo_arrays["d"])
    run = tmp_path / "run"
    args = ["--epochs", "1", "--width", "0.125", "--hidden", "16", "--precision", "fp32"]
    # 32x32 inputs need input_size 32: the CLI reads it from the data
    assert main(["jigsaw", "train", str(npz), "--out", str(run), *args]) == 0
    assert (
        main(
            ["jigsaw", "evaluate", str(run), str(npz), "--json", "--no-tta", "--out", str(tmp_path)]
        )
        == 0
    )
    out = capsys.readouterr().out
    result = json.loads(out[out.index("{") :])
    assert set(result["methods"]) == {"network", "seam", "network+seam"}
    assert result["n_test"] == 96
    assert (tmp_path / "jigsaw_examples.png").exists()
    restored = tmp_path / "restored.npz"
    assert (
        main(
            [
                "jigsaw",
                "restore",
                str(run),
                str(npz),
                "--out",
                str(restored),
                "--method",
                "seam",
                "--png",
                str(tmp_path),
            ]
        )
        == 0
    )
    r = np.load(restored)
    assert r["a"].shape == photo_arrays["a"].shape and r["b"].shape == (240, 4)
    np.testing.assert_array_equal(r["c"], deshuffle(photo_arrays["c"], r["d"]))
    assert load_npz(restored).train.labels.shape == (240, 4)  # the output reads back
    assert main(["jigsaw", "evaluate", str(tmp_path / "nope"), str(npz)]) == 2
    assert "no checkpoint" in capsys.readouterr().err


def test_vgg11_bn_option_trains_through_the_cli(photo_arrays, tmp_path):
    npz = tmp_path / "d.npz"
    np.savez(npz, a=photo_arrays["a"][:64], b=photo_arrays["b"][:64])
    args = [
        "--arch",
        "vgg11_bn",
        "--epochs",
        "1",
        "--width",
        "0.125",
        "--hidden",
        "16",
        "--precision",
        "fp32",
    ]
    assert main(["jigsaw", "train", str(npz), "--out", str(tmp_path / "run"), *args]) == 0
    model, cfg, _ = load_run(tmp_path / "run")
    assert cfg.model.arch == "vgg11_bn" and model(torch.zeros(1, 3, 32, 32)).shape == (1, 24)


def test_cli_takes_the_recipe_of_the_arch_and_flags_override_it(photo_arrays, tmp_path):
    npz = tmp_path / "d.npz"
    np.savez(npz, a=photo_arrays["a"][:64], b=photo_arrays["b"][:64])
    args = ["--arch", "cfn", "--epochs", "1", "--width", "0.125", "--hidden", "16"]
    args += ["--gap", "2", "--no-tile-norm", "--tile-gray", "0.5", "--precision", "fp32"]
    args += ["--crop-scale", "0.5", "--mix", "0.25", "--ema-epochs", "1.5"]
    assert main(["jigsaw", "train", str(npz), "--out", str(tmp_path / "run"), *args]) == 0
    model, cfg, _ = load_run(tmp_path / "run")
    assert (cfg.crop_scale, cfg.mix, cfg.ema_epochs) == (0.5, 0.25, 1.5)
    assert (cfg.model.arch, cfg.model.gap, cfg.model.tile_norm, cfg.model.tile_gray) == (
        "cfn",
        2,
        False,
        0.5,
    )
    assert (model.gap, model.tile_norm, model.tile_gray) == (2, False, 0.5)
    from convlens.jigsaw.training.recipes import RECIPES

    assert (cfg.batch_size, cfg.lr) == (RECIPES["cfn"].batch_size, RECIPES["cfn"].lr)
