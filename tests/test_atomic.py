"""Classes 4 and 5 of issue 23: every write can fail (a full disk, for real, on a small tmpfs)
and two processes can race for one folder (two real processes)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from bad_input import assert_refused, tree
from PIL import Image

from convlens.cli import main
from convlens.demo.jigsaw_data import make_jigsaw_arrays
from convlens.demo.photos import bundled_photographs

TRAIN = ["--epochs", "1", "--width", "0.125", "--hidden", "16", "--precision", "fp32"]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("writes")
    arrays = make_jigsaw_arrays(bundled_photographs(), n_train=72, n_test=24, size=32, seed=0)
    f = {"dir": d, "npz": d / "DataShuffled.npz", "run": d / "run"}
    np.savez(f["npz"], a=arrays["a"], b=arrays["b"], c=arrays["c"], d=arrays["d"])
    assert main(["jigsaw", "train", str(f["npz"]), "--out", str(f["run"]), *TRAIN]) == 0
    f["photo"] = d / "chelsea.png"
    Image.fromarray(bundled_photographs()["chelsea"]).resize((64, 48)).save(f["photo"])
    return f


@pytest.fixture()
def full_disk(tmp_path) -> Path:
    """A real 64 KiB filesystem, nearly full: every write of more than a few KB fails."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip() or 'not root'})")
    try:
        (mount / "filler").write_bytes(bytes(48 << 10))
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


_FULL = [
    ("train", ["jigsaw", "train", "{npz}", "--out", "{disk}/run", *TRAIN], "{disk}/run"),
    ("restore", ["jigsaw", "restore", "{run}", "{npz}", "--out", "{disk}/r.npz"], "r.npz"),
    (
        "restore --png",
        ["jigsaw", "restore", "{run}", "{npz}", "--out", "{dir}/r.npz", "--png", "{disk}/png"],
        "{disk}/png/",
    ),
    ("evaluate --out", ["jigsaw", "evaluate", "{run}", "{npz}", "--out", "{disk}/ev"], "/ev/"),
    (
        "classify --out",
        ["classify", "{photo}", "--weights", "random", "--arch", "vgg11", "--out", "{disk}/c"],
        "/c/",
    ),
]


@pytest.mark.parametrize("case", _FULL, ids=[c[0] for c in _FULL])
def test_a_full_disk_is_one_line_naming_the_file(case, files, full_disk, capsys):
    _, argv, words = case
    paths = {k: str(v) for k, v in files.items()} | {"disk": str(full_disk)}
    argv = [a.format(**paths) for a in argv]
    before = tree(full_disk)
    line = assert_refused(argv, words.format(**paths), capsys, [files["dir"]])
    assert "cannot write" in line or "No space" in line, line
    assert tree(full_disk) == before  # no half-written file, no temporary file
    assert sorted(p.name for p in full_disk.iterdir()) == ["filler"]  # no empty folders either


def test_an_out_path_with_a_newline_is_still_one_line(files, tmp_path, capsys):
    out = tmp_path / "a\nb" / "x.npz"
    (tmp_path / "a\nb").write_text("a file where a folder is expected")
    line = assert_refused(
        ["jigsaw", "restore", files["run"], files["npz"], "--out", out], "a\\nb", capsys, []
    )
    assert "\n" not in line


def _convlens(*args: str) -> list[str]:
    return [sys.executable, "-m", "convlens", *map(str, args)]


def test_two_trainings_in_one_folder_the_second_is_refused_with_the_holder(files, tmp_path):
    """Two real processes: the first trains (long enough to be caught), the second is refused
    at once with the first one's pid, and the first finishes its run untouched."""
    run = tmp_path / "run"
    long = ["--epochs", "200", "--width", "0.125", "--hidden", "16", "--precision", "fp32"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    first = subprocess.Popen(
        _convlens("jigsaw", "train", files["npz"], "--out", run, *long),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        lock = run / ".convlens.lock"
        deadline = time.monotonic() + 120
        while not (lock.exists() and lock.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert lock.read_text().strip() == str(first.pid)
        second = subprocess.run(
            _convlens("jigsaw", "train", files["npz"], "--out", run, *long),
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert second.returncode == 2
        lines = [ln for ln in second.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1, lines
        assert f"in use by another convlens process (pid {first.pid})" in lines[0]
        assert first.poll() is None  # the first run goes on
    finally:
        first.terminate()
        first.wait(60)
    # The kernel released the lock with the process: the folder is usable again.
    from convlens.lock import folder_lock

    with folder_lock(run):
        pass


def test_the_report_folder_is_locked_too(tmp_path):
    from convlens.errors import ConvlensError
    from convlens.report import ReportContext
    from convlens.report.build import build_report

    out = tmp_path / "report"
    out.mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from convlens.lock import folder_lock\n"
            f"with folder_lock({str(out)!r}):\n    print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ConvlensError, match=f"pid {holder.pid}"):
            build_report(ReportContext(out=out, quick=True))
    finally:
        holder.kill()
        holder.wait()


def test_a_command_never_writes_over_a_file_it_read(tmp_path):
    """The writer's own check, behind the command line's: inside a command, a file marked as
    read is refused as an output by any spelling; outside one (library use) nothing is kept."""
    from convlens import atomic
    from convlens.errors import ConvlensError

    data = tmp_path / "data.npz"
    data.write_text("input")
    with atomic.inputs_kept():
        atomic.write_text(tmp_path / "other.txt", "fine")  # not an input
        atomic.mark_input(data)
        with pytest.raises(ConvlensError, match="is an input of this command"):
            atomic.write_text(tmp_path / "." / "data.npz", "output")
    assert data.read_text() == "input"
    atomic.mark_input(data)  # outside a command: a no-op
    atomic.write_text(data, "library use")
    assert data.read_text() == "library use"


def test_a_failed_download_leaves_no_empty_cache_folders(tmp_path, monkeypatch):
    import urllib.error

    import torch

    from convlens.errors import ConvlensError
    from convlens.models.weights import resolve_checkpoint

    def offline(*args, **kw):  # no network in tests: the download fails as it would offline
        raise urllib.error.URLError("offline")

    monkeypatch.delenv("CONVLENS_OFFLINE", raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "new_torch_home"))
    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(ConvlensError, match="could not be downloaded"):
        resolve_checkpoint("vgg16")
    assert not (tmp_path / "new_torch_home").exists()
