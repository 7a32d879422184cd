import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from convlens import __version__
from convlens.cli import main


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_theory_json(capsys):
    assert main(["theory", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["argmin_l1"] == [1.0, 0.0]
    assert out["argmin_l2"][0] == pytest.approx(0.80901699, abs=1e-7)


def test_bad_argument_is_one_line_exit_2(capsys):
    assert main(["theory", "--weight", "abc"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("convlens: error:")
    assert "--weight" in err[0]


def test_unknown_command_is_one_line(capsys):
    assert main(["frobnicate"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "frobnicate" in err[0]


def test_library_error_has_no_traceback(capsys):
    assert main(["classify", "/nowhere/cat.png"]) == 2  # refused by the library, not argparse
    err = capsys.readouterr().err
    assert err.startswith("convlens: error: /nowhere/cat.png: no such file or folder")
    assert "Traceback" not in err


def test_console_script_help_for_every_subcommand(capsys):
    from convlens.cli import build_parser

    # One real process for the entry point; the subcommands in-process (each process would
    # spend seconds importing torch for the same parser).
    proc = subprocess.run(
        [sys.executable, "-m", "convlens", "--help"], capture_output=True, text=True
    )
    assert proc.returncode == 0 and "usage: convlens" in proc.stdout
    parser = build_parser()
    subcommands = parser._subparsers._group_actions[0].choices
    # every command the README's command table lists exists, and every command is listed
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    blocks = "\n".join(re.findall(r"^```\n(.*?)^```", readme, re.M | re.S))
    documented = set(re.findall(r"^convlens ([a-z][a-z0-9-]*)", blocks, re.M))
    assert documented == set(subcommands)
    for name in subcommands:
        with pytest.raises(SystemExit) as exit_info:
            main([name, "--help"])
        assert exit_info.value.code == 0, name
        assert f"usage: convlens {name}" in capsys.readouterr().out


def test_handin_packs_doc_and_src(tmp_path, capsys):
    import zipfile

    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "report.pdf").write_bytes(b"%PDF-1.4 test")
    assert (
        main(
            [
                "handin",
                "--candidate",
                "17",
                "--report",
                str(tmp_path / "report"),
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    names = zipfile.ZipFile(tmp_path / "homeexam_candidate17.zip").namelist()
    assert "doc/report.pdf" in names
    assert "src/convlens/theory/cross_entropy.py" in names
    assert "src/convlens/report/text/theory.md" in names
    assert not any("__pycache__" in n for n in names)
    assert main(["handin", "--candidate", "1 7", "--report", str(tmp_path)]) == 2
    assert "--candidate must be" in capsys.readouterr().err


def test_handin_never_packs_its_own_output(tmp_path, monkeypatch):
    """An --out inside the packed tree (docs/ of a checkout): the zip holds neither itself, nor
    its partial file, nor an earlier hand-in, and it is made twice the same."""
    import types
    import zipfile

    from convlens import handin

    root = tmp_path / "checkout"
    (root / "src" / "convlens").mkdir(parents=True)
    (root / "src" / "convlens" / "__init__.py").write_text("")
    (root / "docs").mkdir()
    (root / "docs" / "guide.md").write_text("# guide")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.4 test")
    fake = types.SimpleNamespace(__file__=str(root / "src" / "convlens" / "__init__.py"))
    monkeypatch.setattr(handin, "convlens", fake)
    first = handin.pack("21", pdf, root / "docs")
    names = zipfile.ZipFile(first).namelist()
    assert "src/docs/guide.md" in names
    assert not any("homeexam" in n or "convlens-partial" in n for n in names)
    again = zipfile.ZipFile(handin.pack("21", pdf, root / "docs")).namelist()
    assert again == names
