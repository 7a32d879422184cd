"""The package as a user installs it: the wheel holds every file read at run time, and nothing in
src/ imports a package that only the test extras install."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "convlens"
# Imported only inside a guard that names the `pip install` fixing it (tested elsewhere).
OPTIONAL = {"safetensors"}


def _runtime_distributions() -> set[str]:
    reqs = importlib.metadata.requires("convlens") or []
    names = {re.split(r"[ <>=!~;\[]", r, maxsplit=1)[0] for r in reqs if "extra ==" not in r}
    return {n.lower().replace("_", "-") for n in names}


def _third_party_imports() -> dict[str, str]:
    """Top-level module imported -> first file importing it, over every module in src/."""
    found: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                mods = [node.module]
            else:
                continue
            for mod in mods:
                top = mod.split(".")[0]
                if top not in sys.stdlib_module_names and top != "convlens":
                    found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def test_every_import_is_a_runtime_dependency():
    runtime = _runtime_distributions()
    owners = importlib.metadata.packages_distributions()
    missing = []
    for module, where in _third_party_imports().items():
        if module in OPTIONAL:
            continue
        dists = {d.lower().replace("_", "-") for d in owners.get(module, [module])}
        if not dists & runtime:
            missing.append(f"{module} ({where}) from {sorted(dists)}")
    assert not missing, f"imported but not in [project].dependencies: {missing}"


def _resource_paths() -> set[str]:
    """Package-relative paths named in `importlib.resources.files("pkg") / "a" / "b"` reads;
    a dynamic last part (a variable) stands for every file of that folder."""
    paths = set()
    pattern = re.compile(r'files\("(convlens[\w.]*)"\)((?:\s*/\s*(?:"[^"]+"|\w+))+)')
    for path in PACKAGE.rglob("*.py"):
        for pkg, tail in pattern.findall(path.read_text()):
            parts = re.findall(r'"([^"]+)"|(\w+)', tail)
            base = PACKAGE.parent.joinpath(*pkg.split("."))
            literal = [s for s, var in parts if s]
            if parts[-1][1]:  # the file name is a variable: every file in the folder
                folder = base.joinpath(*literal)
                paths |= {str(f.relative_to(PACKAGE.parent)) for f in folder.iterdir()}
            else:
                paths.add(str(base.joinpath(*literal).relative_to(PACKAGE.parent)))
    return paths


@pytest.fixture(scope="module")
def wheel_files(tmp_path_factory) -> set[str]:
    # Built from a copy: setuptools' build/ folder in the checkout could hide a missing file.
    tree = tmp_path_factory.mktemp("tree")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tree / name)
    shutil.copytree(ROOT / "src", tree / "src", ignore=shutil.ignore_patterns("*.egg-info"))
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
        + ["-w", str(out), str(tree)],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("convlens-*.whl")
    with zipfile.ZipFile(wheel) as z:
        return set(z.namelist())


def test_wheel_holds_every_file_read_at_run_time(wheel_files):
    read = _resource_paths()
    assert any(p.startswith("convlens/report/text/") for p in read)  # the scan sees the texts
    assert "convlens/data/imagenet_class_index.json" in read
    assert sorted(read - wheel_files) == []


def test_wheel_holds_every_data_file_of_the_package(wheel_files):
    data = {
        str(f.relative_to(PACKAGE.parent))
        for f in PACKAGE.rglob("*")
        if f.is_file() and f.suffix not in (".py", ".pyc") and "__pycache__" not in f.parts
    }
    assert sorted(data - wheel_files) == []


def test_missing_optional_dependency_names_its_pip_install(tmp_path, monkeypatch):
    """Without WeasyPrint (or safetensors) the user gets one line with the install command."""
    import builtins

    from convlens.errors import ConvlensError
    from convlens.models.weights import load_state_dict
    from convlens.report.document import write_pdf

    real_import = builtins.__import__

    def without(name, *args, **kw):
        if name.split(".")[0] in ("weasyprint", "safetensors"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kw)

    monkeypatch.setattr(builtins, "__import__", without)
    with pytest.raises(ConvlensError, match="pip install weasyprint"):
        write_pdf("<html></html>", tmp_path / "report.pdf")
    assert not (tmp_path / "report.pdf").exists()
    (tmp_path / "w.safetensors").write_bytes(b"x")
    with pytest.raises(ConvlensError, match="pip install safetensors"):
        load_state_dict(tmp_path / "w.safetensors")
