import json

from convlens.cli import main


def test_explanation_commands_on_real_images(problem2_dir, tmp_path, capsys):
    imgs = [str(problem2_dir / "test_images" / f"{i}.JPEG") for i in (1, 2)]
    common = ["--weights", "random", "--arch", "vgg11", "--json", "--out", str(tmp_path)]
    assert main(["saliency", *imgs, *common]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 2 and all(r["saliency_max"] > 0 for r in rows)
    # The command is the library's step: the same rows from a direct call.
    import torch

    from convlens.data import imagenet_classes
    from convlens.data.images import list_image_files
    from convlens.models.pretrained import load_classifier
    from convlens.predict import load_batch
    from convlens.problem2 import saliency_and_guided_backprop
    from convlens.record import to_json

    model = load_classifier("vgg11", "random", seed=0)
    x = load_batch(list_image_files(imgs))
    with torch.no_grad():
        targets = model(x).argmax(1)
    names = imagenet_classes().names
    files = [r["image"] for r in rows]
    direct = saliency_and_guided_backprop(model, x, targets, files, names)
    assert to_json(direct.rows) == rows
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
    assert [r["method"] for r in out["checks"]] == ["saliency", "guided backprop", "random map"]
    assert len(out["layers_randomised"]) == 2
    assert [len(r["randomised"]) for r in out["checks"]] == [2, 2, 0]


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
