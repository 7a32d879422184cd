import json

from convlens.cli import main


def test_uncertainty_and_calibration_commands(problem2_dir, tmp_path, capsys):
    common = ["--weights", "random", "--arch", "vgg11", "--json", "--out", str(tmp_path)]
    imgs = [str(problem2_dir / "test_images")]
    assert main(["uncertainty", *imgs, "--samples", "6", "--seed", "3", *common]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["path"] == "prefix once" and len(first["images"]) == 5
    row = first["images"][0]
    assert len(row["top"]) == 5 and row["mutual_information"] >= 0
    assert (
        abs(row["predictive_entropy"] - row["expected_entropy"] - row["mutual_information"]) < 1e-5
    )
    assert len(list(tmp_path.glob("uncertainty_*.png"))) == 5
    assert main(["uncertainty", *imgs, "--samples", "6", "--seed", "3", *common]) == 0
    assert json.loads(capsys.readouterr().out) == first  # same seed, same numbers

    assert main(["calibration", str(problem2_dir), "--samples", "3", *common]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["n"] == 95 and 0 <= rep["mc_dropout"]["ece"] <= 1
    assert (tmp_path / "reliability.png").exists()


def test_too_few_samples_is_one_line(problem2_dir, capsys):
    img = str(problem2_dir / "test_images" / "1.JPEG")
    assert main(["uncertainty", img, "--samples", "1", "--weights", "random"]) == 2
    assert capsys.readouterr().err.strip() == (
        "convlens: error: uncertainty: argument --samples: expected an integer in 2..10,000 "
        "(Monte Carlo samples; two at least, to spread), got 1"
    )
