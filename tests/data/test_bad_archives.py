"""Class 1 of issue 23: archives are checked before they are trusted (convlens.archive).

Each case is a zip or npz a user might hand over, built here byte by byte where Python's own
zipfile would refuse to write it (encrypted members, foreign compression methods, names written
the way Info-ZIP writes them on Linux)."""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import textwrap
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from bad_input import assert_refused
from PIL import Image

from convlens.demo.jigsaw_data import make_jigsaw_arrays
from convlens.demo.photos import bundled_photographs


def _npz_bytes(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _patch_entry(path: Path, member: str, *, flag: int | None = None, method: int | None = None):
    """Set a member's general-purpose flag bits or compression method in both its local header
    and its central directory entry (Python refuses to write such archives itself)."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(member)
    local = info.header_offset
    central = data.find(b"PK\x01\x02")
    while central >= 0:
        n = struct.unpack("<H", data[central + 28 : central + 30])[0]
        if data[central + 46 : central + 46 + n] == member.encode():
            break
        central = data.find(b"PK\x01\x02", central + 4)
    for offset, flag_at, method_at in ((local, 6, 8), (central, 8, 10)):
        if flag is not None:
            old = struct.unpack("<H", data[offset + flag_at : offset + flag_at + 2])[0]
            data[offset + flag_at : offset + flag_at + 2] = struct.pack("<H", old | flag)
        if method is not None:
            data[offset + method_at : offset + method_at + 2] = struct.pack("<H", method)
    path.write_bytes(bytes(data))


def _rename_raw(path: Path, placeholder: str, raw: bytes, unicode_field: bool) -> None:
    """Give a member a raw (flagless) UTF-8 name, as Info-ZIP's zip does on Linux: the name's
    bytes are replaced in place, and optionally its Unicode Path extra field (0x7075) added to
    the central directory entry."""
    assert len(placeholder.encode()) == len(raw)
    data = path.read_bytes().replace(placeholder.encode(), raw)
    if unicode_field:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            info = next(i for i in z.infolist() if i.orig_filename.encode("cp437").endswith(raw))
        full = info.orig_filename.encode("cp437")
        field = struct.pack("<BI", 1, zlib.crc32(full)) + full
        extra = struct.pack("<HH", 0x7075, len(field)) + field
        entry = data.find(b"PK\x01\x02")
        while struct.unpack("<I", data[entry + 42 : entry + 46])[0] != info.header_offset:
            entry = data.find(b"PK\x01\x02", entry + 4)
        n, m, k = struct.unpack("<HHH", data[entry + 28 : entry + 34])
        head = bytearray(data[: entry + 46 + n + m])
        head[entry + 30 : entry + 32] = struct.pack("<H", m + len(extra))
        data = bytes(head) + extra + data[entry + 46 + n + m :]
        eocd = data.rfind(b"PK\x05\x06")
        size = struct.unpack("<I", data[eocd + 12 : eocd + 16])[0]
        data = data[: eocd + 12] + struct.pack("<I", size + len(extra)) + data[eocd + 16 :]
    path.write_bytes(data)


@pytest.fixture(scope="module")
def archives(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("archives")
    arrays = make_jigsaw_arrays(bundled_photographs(), n_train=48, n_test=24, size=32, seed=0)
    good = _npz_bytes(a=arrays["a"], b=arrays["b"], c=arrays["c"], d=arrays["d"])
    f = {"dir": d}

    def problem3(name, compression=zipfile.ZIP_DEFLATED, payload=good):
        f[name] = d / f"{name}.zip"
        with zipfile.ZipFile(f[name], "w", compression) as z:
            z.writestr("problem3/DataShuffled.npz", payload)
        return f[name]

    problem3("encrypted")
    _patch_entry(f["encrypted"], "problem3/DataShuffled.npz", flag=0x1)
    problem3("deflate64", zipfile.ZIP_STORED)
    _patch_entry(f["deflate64"], "problem3/DataShuffled.npz", method=9)
    problem3("aes", zipfile.ZIP_STORED)
    _patch_entry(f["aes"], "problem3/DataShuffled.npz", method=99)
    problem3("not_npz", payload=b"these bytes are not an npz" * 100)
    cut = problem3("truncated", zipfile.ZIP_STORED)
    cut.write_bytes(cut.read_bytes()[: len(good) // 2])
    # An npz whose a.npy header claims 10^7 x 3 x 96 x 96 bytes (257 GiB) over 100 bytes.
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "|u1", "fortran_order": False, "shape": (10**7, 3, 96, 96)}
    )
    f["huge_header"] = d / "huge_header.npz"
    with zipfile.ZipFile(f["huge_header"], "w") as z:
        z.writestr("a.npy", header.getvalue() + bytes(100))
        z.writestr("b.npy", _npz_member(arrays["b"]))
    # An npz member whose data are longer than its header says (a lie the other way).
    f["long_member"] = d / "long_member.npz"
    with zipfile.ZipFile(f["long_member"], "w") as z:
        z.writestr("a.npy", _npz_member(arrays["a"]) + bytes(4096))
    # A central directory that declares 2 GiB unpacked from a few hundred bytes.
    lie = problem3("size_lie")
    data = bytearray(lie.read_bytes())
    entry = data.find(b"PK\x01\x02")
    data[entry + 24 : entry + 28] = struct.pack("<I", 2**31)
    lie.write_bytes(bytes(data))
    return f


def _npz_member(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr)
    return buf.getvalue()


_CASES = [
    ("encrypted member", "encrypted", "encrypted"),
    ("deflate64 member", "deflate64", "compression method 9"),
    ("AES member", "aes", "compression method 99"),
    ("member that is not an npz", "not_npz", "DataShuffled.npz"),
    ("truncated zip", "truncated", "truncated.zip"),
    ("npz header declares 257 GiB", "huge_header", "10000000 x 3 x 96 x 96"),
    ("npz member longer than its array", "long_member", "member holds"),
    ("2 GiB declared from a few bytes", "size_lie", "cannot produce"),
]


@pytest.mark.parametrize("case", _CASES, ids=[c[0] for c in _CASES])
def test_a_bad_problem3_archive_is_one_line(case, archives, tmp_path, capsys):
    _, name, words = case
    argv = ["jigsaw", "train", archives[name], "--out", tmp_path / "run"]
    assert_refused(argv, words, capsys, [archives["dir"], tmp_path])
    assert not (tmp_path / "run").exists()


def _problem2_zip(path: Path, val_name: str, image_name: str, photo: bytes, utf8_flag=True):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("problem2/val.txt", f"{val_name} 281")
        z.writestr(f"problem2/validation_images/{image_name}", photo)


def _photo() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(bundled_photographs()["chelsea"]).resize((64, 48)).save(buf, "JPEG")
    return buf.getvalue()


@pytest.mark.parametrize("unicode_field", [True, False], ids=["Unicode Path field", "raw UTF-8"])
def test_a_non_ascii_name_written_by_info_zip_matches_val_txt(unicode_field, tmp_path):
    """Info-ZIP on Linux stores UTF-8 names without the UTF-8 flag (with its Unicode Path
    field, or, in older versions, without); Python's zipfile would show them as cp437."""
    from convlens.data.problem2 import load_problem2

    name = "chat_noir_été.jpg"
    placeholder = "x" * len(name.encode())
    path = tmp_path / "problem2.zip"
    _problem2_zip(path, name, placeholder, _photo())
    _rename_raw(path, placeholder, name.encode(), unicode_field)
    with zipfile.ZipFile(path) as z:  # what Python alone would call it
        assert not any(name in n for n in z.namelist())
    p2 = load_problem2(path)
    assert [item.name.rsplit("/", 1)[-1] for item in p2.validation] == [name]
    from convlens.data.images import read_image

    assert read_image(p2.validation[0]).size == (64, 48)


@pytest.mark.parametrize(
    "member, flag, method, words",
    [
        ("problem2/val.txt", 0x1, None, "encrypted"),
        ("problem2/validation_images/cat.jpg", 0x1, None, "encrypted"),
        ("problem2/val.txt", None, 9, "compression method 9"),
    ],
    ids=["encrypted val.txt", "encrypted image", "deflate64 val.txt"],
)
def test_a_bad_problem2_archive_is_one_line(member, flag, method, words, tmp_path, capsys):
    path = tmp_path / "problem2.zip"
    _problem2_zip(path, "cat.jpg", "cat.jpg", _photo())
    _patch_entry(path, member, flag=flag, method=method)
    line = assert_refused(["evaluate", path, "--weights", "random"], words, capsys, [tmp_path])
    assert member in line


def _peak_memory(code: str, env: dict | None = None) -> tuple[int, str]:
    """(kilobytes the child's resident memory grew while running `code`, its stderr)."""
    script = textwrap.dedent(
        """
        import resource, sys
        from convlens.errors import ConvlensError
        from convlens.jigsaw.puzzle.data import load_npz
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            {code}
        except ConvlensError as exc:
            print(exc, file=sys.stderr)
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base)
        """
    ).format(code=code)
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
        check=True,
    )
    return int(out.stdout.strip().splitlines()[-1]), out.stderr


def test_a_header_that_claims_257_gib_allocates_nothing(archives):
    grew, err = _peak_memory(f"load_npz({str(archives['huge_header'])!r})")
    assert "declares a 10000000 x 3 x 96 x 96" in err
    assert grew < 64 * 1024  # kB: far below the 257 GiB declared


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    """A deflated member of 1 GiB of zeros (about 1 MB on disk): refused from its declared sizes,
    and the process never holds the gigabyte."""
    bomb = tmp_path / "problem3.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        with z.open("DataShuffled.npz", "w", force_zip64=True) as member:
            chunk = bytes(1 << 24)
            for _ in range(64):
                member.write(chunk)
    assert bomb.stat().st_size < 8 << 20
    code = f"load_npz({str(bomb)!r})"
    grew, err = _peak_memory(code, {"CONVLENS_MAX_BYTES": str(256 << 20)})
    assert "declares 1.0 GiB unpacked" in err and "CONVLENS_MAX_BYTES" in err
    assert grew < 128 * 1024
    # Within the limit, a thousandfold expansion is still no image data: refused as a bomb.
    grew, err = _peak_memory(code, {"CONVLENS_MAX_BYTES": str(4 << 30)})
    assert "zip bomb" in err
    assert grew < 128 * 1024


def test_a_good_archive_reads_the_same_from_a_zip_as_unpacked(archives, tmp_path):
    from convlens.jigsaw.puzzle.data import load_npz

    arrays = make_jigsaw_arrays(bundled_photographs(), n_train=48, n_test=24, size=32, seed=0)
    npz = tmp_path / "DataShuffled.npz"
    np.savez(npz, a=arrays["a"], b=arrays["b"], c=arrays["c"], d=arrays["d"])
    for compression in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2):
        z = tmp_path / f"problem3_{compression}.zip"
        with zipfile.ZipFile(z, "w", compression) as out:
            out.write(npz, "problem3/DataShuffled.npz")
        a, b = load_npz(npz), load_npz(z)
        assert a.digest == b.digest
        np.testing.assert_array_equal(a.train.images, b.train.images)
        np.testing.assert_array_equal(a.test.labels, b.test.labels)


def _folders_zip(path: Path, folders: list[str], sep: str = "/", images: tuple = ()) -> Path:
    """A zip holding a val.txt naming one photograph in each folder (a PNG of real pixels),
    and validation_images/ only in the folders of `images` (all of them when empty)."""
    buf = io.BytesIO()
    Image.fromarray(bundled_photographs()["chelsea"][:64, :64]).save(buf, format="PNG")
    with zipfile.ZipFile(path, "w") as z:
        for i, folder in enumerate(folders):
            root = folder + sep if folder else ""
            z.writestr(f"{root}val.txt", f"cat{i}.png {i}\n")
            if not images or folder in images:
                z.writestr(f"{root}validation_images{sep}cat{i}.png", buf.getvalue())
    return path


@pytest.mark.parametrize(
    ("folders", "images", "chosen"),
    [
        (["problem2", "problem2/old"], (), "cat0.png"),  # the shallowest
        (["problem1", "problem2"], ("problem2",), "cat1.png"),  # the one with images
        (["__MACOSX/x", "problem2"], ("problem2",), "cat1.png"),  # macOS copies ignored
    ],
)
def test_the_problem2_folder_in_a_zip_is_chosen_by_a_rule(folders, images, chosen, tmp_path):
    from convlens.data.problem2 import load_problem2

    for seed in ("0", "1", "2"):  # the choice must not follow the process's hash seed
        code = (
            "from convlens.data.problem2 import load_problem2; import sys; "
            "print(load_problem2(sys.argv[1]).validation[0].name)"
        )
        path = _folders_zip(tmp_path / f"p{seed}.zip", folders, images=images)
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", code, str(path)], env=env, capture_output=True, text=True
        )
        assert out.stdout.strip().endswith(chosen), out.stderr
    assert load_problem2(path).validation[0].label == int(chosen[3])


def test_several_equal_problem2_folders_are_one_line_naming_them(tmp_path, capsys):
    path = _folders_zip(tmp_path / "two.zip", ["problem1", "problem2"])
    assert_refused(
        ["evaluate", str(path)], "problem1/val.txt, problem2/val.txt", capsys, [tmp_path]
    )


def test_backslash_separated_names_read_as_unzip_reads_them(tmp_path):
    from convlens.data.problem2 import load_problem2

    path = _folders_zip(tmp_path / "windows.zip", ["problem2"], sep="\\")
    p2 = load_problem2(path)
    assert [it.label for it in p2.validation] == [0]
    assert p2.validation[0].name.endswith("validation_images/cat0.png")
