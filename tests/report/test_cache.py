"""convlens.report.cache: a whole entry is reused; any entry that does not read back as the very
record written (damaged JSON, the wrong type, bad UTF-8, a field missing, a value edited to null,
a figure it names gone) is computed again, with one note saying why."""

import json
from dataclasses import dataclass

import pytest

from convlens.report.cache import cached, is_cached


@dataclass(frozen=True)
class _Record:
    accuracy: float
    figure: str


def _run(tmp_path, notes, calls):
    def compute():
        calls.append(1)
        (tmp_path / "figures").mkdir(exist_ok=True)
        (tmp_path / "figures" / "curve.png").write_bytes(b"png")
        return _Record(0.875, "curve.png")

    return cached(tmp_path, "problem1", "k", compute, _Record, tmp_path / "figures", notes.append)


def test_a_whole_entry_is_reused(tmp_path):
    notes, calls = [], []
    assert _run(tmp_path, notes, calls) == _Record(0.875, "curve.png")
    assert _run(tmp_path, notes, calls) == _Record(0.875, "curve.png")
    assert len(calls) == 1 and notes == []
    assert is_cached(tmp_path, "problem1", "k") and not is_cached(tmp_path, "problem1", "other")


def _edit_value_to_null(path):
    stored = json.loads(path.read_text())
    stored["results"]["accuracy"] = None
    path.write_text(json.dumps(stored))


def _drop_field(path):
    stored = json.loads(path.read_text())
    del stored["results"]["figure"]
    path.write_text(json.dumps(stored))


@pytest.mark.parametrize(
    "damage, why",
    [
        (lambda p: p.write_text("[]"), "not a cache entry"),
        (lambda p: p.write_text('{"key": "k", "res'), "not readable JSON"),
        (lambda p: p.write_bytes(b'{"key": "k\xff\xfe"}'), "not readable JSON"),
        (_edit_value_to_null, "changed since it was written"),
        (_drop_field, "changed since it was written"),
        (lambda p: (p.parent / "figures" / "curve.png").unlink(), "figure curve.png is missing"),
    ],
    ids=["a list", "cut short", "bad UTF-8", "null edited in", "field removed", "figure gone"],
)
def test_a_damaged_entry_is_computed_again_with_one_note(tmp_path, damage, why):
    notes, calls = [], []
    _run(tmp_path, notes, calls)
    damage(tmp_path / "problem1.json")
    assert not is_cached(tmp_path, "problem1", "k") or why.startswith("figure")
    assert _run(tmp_path, notes, calls) == _Record(0.875, "curve.png")
    assert len(calls) == 2
    assert len(notes) == 1 and why in notes[0] and "problem1.json" in notes[0], notes
    assert _run(tmp_path, notes, calls) == _Record(0.875, "curve.png")  # healed: reused
    assert len(calls) == 2


def test_an_entry_of_an_earlier_convlens_says_so(tmp_path):
    notes, calls = [], []
    _run(tmp_path, notes, calls)
    path = tmp_path / "problem1.json"
    stored = json.loads(path.read_text())
    del stored["digest"]
    path.write_text(json.dumps(stored))
    _run(tmp_path, notes, calls)
    assert len(calls) == 2 and "earlier convlens" in notes[0]
