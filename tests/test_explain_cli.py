import json

from convlens.cli import main


def test_explanation_commands_on_real_images(problem2_dir, tmp_path, capsys):
    imgs = [str(problem2_dir / "test_images" / f"{i}.JPEG") for i in (1, 2)]
    common = ["--weights", "random", "--arch", "vgg11", "--json", "--out", str(tmp_path)]
    assert main(["saliency", *imgs, *common]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 2 and all(r["saliency_max"] > 0 for r in rows)
    assert main(["guided-backprop", *imgs, "--target", "3", *common]) == 0
    assert {r["class_id"] for r in json.loads(capsys.readouterr().out)} == {3}
    assert (tmp_path / "saliency.png").exists() and (tmp_path / "guided-backprop.png").exists()

    viz = ["class-viz", "--random", "2", "--seed", "5", "--steps", "3", "--size", "64"]
    assert main([*viz, *common]) == 0
    first = json.loads(capsys.readouterr().out)
    assert main([*viz, *common]) == 0
    assert json.loads(capsys.readouterr().out)["classes"] == first["classes"]  # seeded
    assert (tmp_path / "class_viz.png").exists()

    assert main(["explain-eval", imgs[0], "--steps", "4", "--layers", "2", *common]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["method"] for r in out["deletion_insertion"]] == [
        "saliency",
        "guided backprop",
        "random map",
    ]
    assert len(out["randomisation"]) == 2


def test_class_viz_rejects_bad_classes(capsys):
    assert (
        main(
            [
                "class-viz",
                "--classes",
                "5000",
                "--weights",
                "random",
                "--arch",
                "vgg11",
                "--size",
                "32",
                "--steps",
                "1",
            ]
        )
        == 2
    )
    assert "--classes: [5000] out of range" in capsys.readouterr().err
