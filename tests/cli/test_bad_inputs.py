"""Every bad input a user can give gets one line `convlens: error: ...`, exit status 2, no
traceback, and leaves no file behind (the cases of issue 12's fuzz run, one row each)."""

from __future__ import annotations

import json
import os
import shutil
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import PROBLEM2
from PIL import Image

from convlens.cli import main
from convlens.demo.jigsaw_data import make_jigsaw_arrays
from convlens.demo.photos import bundled_photographs

TRAIN = ["--epochs", "1", "--width", "0.125", "--hidden", "16", "--precision", "fp32"]


def _png_header_only(path: Path, width: int, height: int) -> None:
    """A PNG that claims width x height (a decompression bomb) with almost no data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat))


def _corrupt_member(zip_path: Path, member: str) -> None:
    """Flip a byte inside `member`'s stored data, so reading it fails its CRC check."""
    with zipfile.ZipFile(zip_path) as z:
        info = z.getinfo(member)
    data = bytearray(zip_path.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0xFF
    zip_path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("inputs")
    arrays = make_jigsaw_arrays(bundled_photographs(), n_train=72, n_test=24, size=32, seed=0)
    f = {"dir": d}
    f["npz"] = d / "DataShuffled.npz"
    np.savez(f["npz"], a=arrays["a"], b=arrays["b"], c=arrays["c"], d=arrays["d"])
    other = make_jigsaw_arrays(bundled_photographs(), n_train=72, n_test=24, size=32, seed=1)
    f["other_npz"] = d / "OtherShuffled.npz"
    np.savez(f["other_npz"], a=other["a"], b=other["b"], c=other["c"], d=other["d"])
    f["run"] = d / "run"
    assert main(["jigsaw", "train", str(f["npz"]), "--out", str(f["run"]), *TRAIN]) == 0
    labels = np.arange(72) % 3
    f["normal"] = d / "DataNormal.npz"
    np.savez(f["normal"], a=arrays["orig_train"], b=labels, c=arrays["orig_test"], d=labels[:24])
    # a problem3 folder whose probe images are twice the puzzles' side
    f["p3_sizes"] = d / "p3_sizes"
    f["p3_sizes"].mkdir()
    shutil.copy(f["npz"], f["p3_sizes"] / "DataShuffled.npz")
    big = {k: np.repeat(np.repeat(v, 2, -1), 2, -2) for k, v in arrays.items() if "orig" in k}
    np.savez(
        f["p3_sizes"] / "DataNormal.npz",
        a=big["orig_train"],
        b=labels,
        c=big["orig_test"],
        d=labels[:24],
    )
    f["one_class"] = d / "one_class.npz"
    np.savez(
        f["one_class"],
        a=arrays["orig_train"],
        b=0 * labels,
        c=arrays["orig_test"],
        d=0 * labels[:24],
    )
    f["two_images"] = d / "two_images.npz"
    np.savez(
        f["two_images"], a=arrays["orig_train"][:2], b=[0, 1], c=arrays["orig_test"][:2], d=[0, 1]
    )
    f["object_npz"] = d / "object.npz"
    np.savez(f["object_npz"], a=np.array([{"x": 1}], dtype=object))
    f["empty_npz"] = d / "empty.npz"
    np.savez(f["empty_npz"])
    f["zero_byte_npz"] = d / "zero.npz"
    f["zero_byte_npz"].write_bytes(b"")
    f["npy_as_npz"] = d / "renamed.npz"
    with open(f["npy_as_npz"], "wb") as handle:
        np.save(handle, arrays["a"])
    f["crc_npz"] = d / "crc.npz"
    np.savez(f["crc_npz"], a=arrays["a"], b=arrays["b"])
    _corrupt_member(f["crc_npz"], "a.npy")
    f["no_images"] = d / "no_images.npz"
    np.savez(f["no_images"], a=arrays["a"][:0], b=arrays["b"][:0])
    f["file"] = d / "a_file.txt"
    f["file"].write_text("not a folder\n")
    f["photo"] = d / "chelsea.png"
    Image.fromarray(bundled_photographs()["chelsea"]).resize((64, 48)).save(f["photo"])
    f["not_image"] = d / "fake.png"
    f["not_image"].write_bytes(b"this is text, not a PNG")
    f["bomb"] = d / "bomb.png"
    _png_header_only(f["bomb"], 20000, 20000)
    f["text_ckpt"] = d / "text_run" / "best.pt"
    f["text_ckpt"].parent.mkdir()
    f["text_ckpt"].write_text("hello, I am not a checkpoint\n")
    ckpt = torch.load(f["run"] / "best.pt", weights_only=True)
    ckpt["model"] = {"wrong." + k: v for k, v in ckpt["model"].items()}
    f["wrong_keys"] = d / "wrong_keys.pt"
    torch.save(ckpt, f["wrong_keys"])
    # a run whose checkpoint.pt holds a tensor of the wrong shape, resumed
    f["bad_shape_run"] = d / "bad_shape_run"
    shutil.copytree(f["run"], f["bad_shape_run"])
    ckpt = torch.load(f["run"] / "checkpoint.pt", weights_only=True)
    first = next(iter(ckpt["model"]))
    ckpt["model"][first] = ckpt["model"][first][:1]
    torch.save(ckpt, f["bad_shape_run"] / "checkpoint.pt")
    f["pickled"] = d / "pickled.pth"
    torch.save({"weights": Path("a python object")}, f["pickled"])
    # problem2-style folders: val.txt as a folder, as a FIFO, and a zip with a damaged val.txt
    for name in ("p2_valdir", "p2_fifo"):
        (d / name / "validation_images").mkdir(parents=True)
        f[name] = d / name
    (d / "p2_valdir" / "val.txt").mkdir()
    os.mkfifo(d / "p2_fifo" / "val.txt")
    f["p2_crc"] = d / "problem2.zip"
    with zipfile.ZipFile(f["p2_crc"], "w", zipfile.ZIP_STORED) as z:
        z.writestr("problem2/val.txt", "ILSVRC2012_val_00000001.JPEG 65\n" * 50)
        z.writestr("problem2/validation_images/ILSVRC2012_val_00000001.JPEG", b"x")
    _corrupt_member(f["p2_crc"], "problem2/val.txt")
    # names and labels that contradict themselves: a synset_words.txt with a line missing or
    # repeated (every name after it shifts by one), a val.txt naming one image twice
    real = PROBLEM2 / "synset_words.txt"
    if real.exists():
        lines = real.read_text().splitlines()
        image = sorted((PROBLEM2 / "validation_images").iterdir())[0]
        for name, names, val in (
            ("p2_missing_line", lines[:500] + lines[501:], f"{image.name} 3\n"),
            ("p2_repeated_line", lines[:500] + [lines[499]] + lines[501:], f"{image.name} 3\n"),
            ("p2_twice", lines, f"{image.name} 3\n{image.name} 7\n"),
        ):
            (d / name / "validation_images").mkdir(parents=True)
            shutil.copy(image, d / name / "validation_images" / image.name)
            (d / name / "synset_words.txt").write_text("\n".join(names) + "\n")
            (d / name / "val.txt").write_text(val)
            f[name] = d / name
        f["p2_notest"] = d / "p2_notest"
        shutil.copytree(PROBLEM2, f["p2_notest"])
        for image in (f["p2_notest"] / "test_images").iterdir():
            image.unlink()
    return f


def _cases():
    """(id, argv from the files, words the message must contain)."""
    r, n, norm = "{run}", "{npz}", "{normal}"
    model = ["--weights", "random", "--arch", "vgg11"]
    return [
        # outputs that cannot be written, refused before any work
        ("classify --out file", ["classify", "{photo}", "--out", "{file}"], "is a file"),
        ("evaluate --out file", ["evaluate", "{p2_valdir}", "--out", "{file}"], "is a file"),
        ("train --out file", ["jigsaw", "train", n, "--out", "{file}"], "is a file"),
        ("evaluate jigsaw --out file", ["jigsaw", "evaluate", r, n, "--out", "{file}"], "file"),
        ("probe --out file", ["probe", r, norm, "--out", "{file}"], "is a file"),
        ("report --out file", ["report", "--out", "{file}"], "is a file"),
        ("restore --out folder", ["jigsaw", "restore", r, n, "--out", "{dir}"], "is a folder"),
        # damaged or unusual files
        ("val.txt is a folder", ["evaluate", "{p2_valdir}"], "not a regular file"),
        ("val.txt is a FIFO", ["evaluate", "{p2_fifo}"], "not a regular file"),
        ("bad CRC in a zip", ["evaluate", "{p2_crc}"], "val.txt"),
        ("synset_words.txt line missing", ["evaluate", "{p2_missing_line}"], "class 500 is"),
        ("synset_words.txt line repeated", ["evaluate", "{p2_repeated_line}"], "named twice"),
        ("val.txt names an image twice", ["evaluate", "{p2_twice}"], "listed again"),
        # the report checks every section's inputs before its first step and leaves nothing
        (
            "report: no test images",
            ["report", "--problem2", "{p2_notest}", "--out", "{new}"],
            "test_images/ holds no images",
        ),
        ("report: --problem2 an npz", ["report", "--problem2", n, "--out", "{new}"], "val.txt"),
        (
            "report: --device that is not here",
            ["report", "--quick", "--device", "cuda:7", "--out", "{new}"],
            "cuda:7",
        ),
        (
            "report: probe images of another size than the puzzles",
            ["report", "--quick", "--problem3", "{p3_sizes}", "--out", "{new}"],
            "64 x 64 px but",
        ),
        (
            "report: --problem3 a puzzles file only",
            ["report", "--problem3", n, "--out", "{new}"],
            "class ids",
        ),
        ("bad CRC in an npz", ["jigsaw", "train", "{crc_npz}", "--out", "{new}"], "crc.npz"),
        ("object npz", ["jigsaw", "train", "{object_npz}", "--out", "{new}"], "Python objects"),
        ("empty npz", ["jigsaw", "train", "{empty_npz}", "--out", "{new}"], "no images"),
        ("zero-byte npz", ["jigsaw", "train", "{zero_byte_npz}", "--out", "{new}"], "npz"),
        ("npy named npz", ["jigsaw", "train", "{npy_as_npz}", "--out", "{new}"], ".npy"),
        ("text checkpoint", ["jigsaw", "evaluate", "{text_ckpt}", n], "not a checkpoint"),
        ("wrong-key checkpoint evaluate", ["jigsaw", "evaluate", "{wrong_keys}", n], "fit"),
        ("wrong-key checkpoint probe", ["probe", "{wrong_keys}", norm], "fit"),
        ("pickled weights", ["classify", "{photo}", "--weights", "{pickled}"], "Python objects"),
        ("not an image", ["classify", "{not_image}", *model], "not a readable image"),
        ("decompression bomb", ["classify", "{bomb}", *model], "pixels"),
        (
            "resume on other data",
            ["jigsaw", "train", "{other_npz}", "--out", r, "--resume", *TRAIN],
            "other data",
        ),
        (
            "resume a checkpoint of the wrong shapes",
            ["jigsaw", "train", n, "--out", "{bad_shape_run}", "--resume", *TRAIN],
            "checkpoint does not fit its own settings",
        ),
        ("restore zero images", ["jigsaw", "restore", r, "{no_images}", "--out", "{new}"], "no"),
        # argument values
        ("batch size 0", ["classify", "{photo}", "--batch-size", "0"], "--batch-size"),
        ("huge seed", ["classify", "{photo}", "--seed", "99999999999999999999"], "--seed"),
        ("device mps", ["classify", "{photo}", "--device", "mps", *model], "mps"),
        ("topk 1001", ["classify", "{photo}", "--topk", "1001", *model], "1..1000"),
        ("class-viz random -1", ["class-viz", "--random", "-1"], "--random"),
        ("class-viz steps 0", ["class-viz", "--steps", "0"], "--steps"),
        ("class-viz size 0", ["class-viz", "--size", "0"], "--size"),
        # every count and size has an upper bound, checked at parse time
        ("class-viz size 20000", ["class-viz", "--size", "20000", *model], "32..1,024"),
        ("class-viz steps 10^9", ["class-viz", "--steps", "1000000000"], "--steps"),
        ("class-viz blur sigma 1e9", ["class-viz", "--blur-sigma", "1e9"], "--blur-sigma"),
        ("class-viz jitter 10^6", ["class-viz", "--jitter", "1000000"], "--jitter"),
        ("class-viz lr inf", ["class-viz", "--lr", "inf"], "--lr"),
        (
            "uncertainty samples 10^9",
            ["uncertainty", "{photo}", "--samples", "1000000000"],
            "10,000",
        ),
        ("smoothgrad 10^6", ["saliency", "{photo}", "--smoothgrad", "1000000"], "--smoothgrad"),
        ("explain-eval steps 10^6", ["explain-eval", "{photo}", "--steps", "1000000"], "--steps"),
        ("batch size 10^7", ["classify", "{photo}", "--batch-size", "10000000"], "--batch-size"),
        ("report minutes 10^9", ["report", "--minutes", "1e9", "--out", "{new}"], "--minutes"),
        ("val fraction 1", ["jigsaw", "train", n, "--out", "{new}", "--val-fraction", "1"], "val"),
        ("val fraction 0", ["jigsaw", "train", n, "--out", "{new}", "--val-fraction", "0"], "val"),
        ("lr nan", ["jigsaw", "train", n, "--out", "{new}", "--lr", "nan"], "--lr"),
        ("dropout 2", ["jigsaw", "train", n, "--out", "{new}", "--dropout", "2"], "dropout"),
        ("workers -1", ["jigsaw", "train", n, "--out", "{new}", "--workers", "-1"], "--workers"),
        ("workers 10^5", ["jigsaw", "train", n, "--out", "{new}", "--workers", "100000"], "cores"),
        ("width 0", ["jigsaw", "train", n, "--out", "{new}", "--width", "0"], "--width"),
        ("hidden 0", ["jigsaw", "train", n, "--out", "{new}", "--hidden", "0"], "--hidden"),
        (
            "resolution 50",
            ["jigsaw", "train", n, "--out", "{new}", "--arch", "vgg11_bn", "--resolution", "50"],
            "32",
        ),
        (
            "tile gray 2",
            ["jigsaw", "train", n, "--out", "{new}", "--arch", "cfn", "--tile-gray", "2"],
            "tile_gray",
        ),
        (
            "another network's setting",
            ["jigsaw", "train", n, "--out", "{new}", "--gap", "2"],
            "--gap: a setting of cfn, not of edgenet",
        ),
        ("shuffles 30", ["jigsaw", "train", n, "--out", "{new}", "--shuffles", "30"], "shuffles"),
        (
            "fp16 on the CPU",
            ["jigsaw", "train", n, "--out", "{new}", "--precision", "fp16"],
            "fp16",
        ),
        ("probe k 1000", ["probe", r, norm, "--k", "1000"], "k must be"),
        ("probe one class", ["probe", r, "{one_class}"], "single class"),
        ("probe two images", ["probe", r, "{two_images}"], "k must be"),
        ("uncertainty batch 0", ["uncertainty", "{photo}", "--batch-size", "0"], "--batch-size"),
        ("calibration batch 0", ["calibration", "{p2_valdir}", "--batch-size", "0"], "batch"),
        ("saliency batch 0", ["saliency", "{photo}", "--batch-size", "0"], "--batch-size"),
        ("smoothgrad -2", ["saliency", "{photo}", "--smoothgrad", "-2"], "--smoothgrad"),
        ("guided-backprop batch 0", ["guided-backprop", "{photo}", "--batch-size", "0"], "batch"),
        ("explain-eval steps 0", ["explain-eval", "{photo}", "--steps", "0"], "--steps"),
        ("handin --out file", ["handin", "--candidate", "7", "--out", "{file}"], "is a file"),
        ("theory weight nan", ["theory", "--weight", "nan"], "weight"),
        ("uncertainty 1 sample", ["uncertainty", "{photo}", "--samples", "1", *model], "samples"),
        ("unknown option", ["theory", "--frobnicate"], "unrecognized"),
    ]


def _tree(folder: Path) -> dict[str, int]:
    return {
        str(p.relative_to(folder)): p.stat().st_size
        for p in folder.rglob("*")
        if not p.is_fifo() and p.is_file()
    }


@pytest.mark.parametrize("case", _cases(), ids=[c[0] for c in _cases()])
def test_bad_input_is_one_line_exit_2_and_leaves_nothing(
    case, files, tmp_path, capsys, monkeypatch
):
    _, argv, words = case
    monkeypatch.chdir(tmp_path)
    paths = {k: str(v) for k, v in files.items()} | {"new": str(tmp_path / "new_run")}
    if any(a.strip("{}") not in paths for a in argv if a.startswith("{p2_")):
        pytest.skip(f"the exam's problem2 folder is not at {PROBLEM2}")
    argv = [a.format(**paths) for a in argv]
    before_inputs, before_here = _tree(files["dir"]), _tree(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    line = err[0]
    assert line.startswith("convlens: error: ") and "Traceback" not in line
    assert "convlens: error: convlens" not in line  # no doubled prefix
    assert words.lower() in line.lower(), line
    for leak in ("BytesIO", "weights_only=False", "(105)", "0x"):
        assert leak not in line, line
    assert _tree(files["dir"]) == before_inputs  # nothing written beside the inputs
    assert _tree(tmp_path) == before_here and not (tmp_path / "new_run").exists()


def test_report_cache_key_follows_the_data_not_the_path(files, tmp_path):
    from convlens.report import ReportContext
    from convlens.report import problem3 as section

    data = tmp_path / "problem3"
    data.mkdir()
    ctx = ReportContext(out=tmp_path / "report", problem3=data)
    shutil.copy(files["npz"], data / "DataShuffled.npz")
    first = section.settings(ctx)
    shutil.copy(files["other_npz"], data / "DataShuffled.npz")
    assert section.settings(ctx) != first


def test_debug_may_follow_the_subcommand(capsys):
    assert main(["theory", "--json", "--debug"]) == 0
    json.loads(capsys.readouterr().out)


def _strict_loads(text: str):
    def refuse(token):
        raise ValueError(f"not strict JSON: {token}")

    return json.loads(text, parse_constant=refuse)


def test_every_json_output_is_strict(files, tmp_path, capsys):
    assert main(["theory", "--json"]) == 0  # its 1b row holds a NaN loss
    theory = _strict_loads(capsys.readouterr().out)
    assert any(v is None for row in theory["non_stochastic"] for v in row.values())
    assert (
        main(["jigsaw", "evaluate", str(files["run"]), str(files["npz"]), "--json", "--no-tta"])
        == 0
    )
    _strict_loads(capsys.readouterr().out)
    out = tmp_path / "r.npz"
    assert main(["jigsaw", "restore", str(files["run"]), str(files["npz"]), "--out", str(out)]) == 0
    _strict_loads(capsys.readouterr().out)


def test_killed_save_leftovers_are_removed_on_resume(files, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(files["run"], run)
    from convlens.atomic import TEMP_MARK

    leftover = run / f".best.pt{TEMP_MARK}k3j_x9a2.pt"  # as atomic_path names its partial files
    leftover.write_bytes(b"half a checkpoint")
    # the user's own dotfiles, some shaped like the old partial-file names: never ours to delete
    theirs = [".notes.20261207.txt", ".config.bak_2024", ".best.pt.k3j_x9a2.pt", ".x.abcdefgh"]
    for name in theirs:
        (run / name).write_text("the user's")
    argv = ["jigsaw", "train", str(files["npz"]), "--out", str(run), "--resume", *TRAIN]
    assert main(argv) == 0
    assert not leftover.exists()
    assert (run / "best.pt").exists()
    assert all((run / name).read_text() == "the user's" for name in theirs)


@pytest.mark.parametrize(
    "spell",
    [
        lambda p: p,  # the same path
        lambda p: p.parent / ".." / p.parent.name / p.name,  # another spelling
        "symlink",  # a link to it
        "hardlink",  # another name for the same file
    ],
    ids=["same", "dotdot", "symlink", "hardlink"],
)
def test_an_output_never_replaces_an_input(files, tmp_path, spell, capsys):
    data = tmp_path / "D.npz"
    data.write_bytes(files["npz"].read_bytes())
    before = data.read_bytes()
    if spell == "symlink":
        out = tmp_path / "link.npz"
        out.symlink_to(data)
    elif spell == "hardlink":
        out = tmp_path / "other.npz"
        out.hardlink_to(data)
    else:
        out = spell(data)
    argv = ["jigsaw", "restore", str(files["run"]), str(data), "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "writing the output there would destroy it" in err[0]
    assert data.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_evaluating_where_every_test_order_is_unknown_says_so(files, tmp_path, capsys):
    with np.load(files["npz"]) as z:
        arrays = dict(z)
    arrays["d"] = np.full_like(arrays["d"], -1)
    np.savez(tmp_path / "unknown.npz", **arrays)
    argv = ["jigsaw", "evaluate", str(files["run"]), str(tmp_path / "unknown.npz"), "--no-tta"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "marks every test image's order as unknown" in err[0]


def test_an_empty_test_split_is_said_plainly_and_restores_without_warnings(files, tmp_path, capsys):
    with np.load(files["npz"]) as z:
        arrays = dict(z)
    arrays["c"], arrays["d"] = arrays["c"][:0], arrays["d"][:0]
    np.savez(tmp_path / "empty_c.npz", **arrays)
    data = str(tmp_path / "empty_c.npz")
    assert main(["jigsaw", "evaluate", str(files["run"]), data, "--no-tta"]) == 2
    assert "'c' holds no test images" in capsys.readouterr().err
    out = str(tmp_path / "restored.npz")
    import warnings

    with warnings.catch_warnings(record=True) as caught:  # pytest would hide them from stderr
        warnings.simplefilter("always")
        assert main(["jigsaw", "restore", str(files["run"]), data, "--out", out]) == 0
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]
