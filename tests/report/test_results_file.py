"""Typed results: records read back from results.json exactly as written, a renamed or missing
field fails when results are read, and every report section renders from records built with
the constructors alone."""

import dataclasses
import json
import math
import re
from pathlib import Path

import fabricated
import numpy as np
import pytest
from PIL import Image

from convlens.errors import ConvlensError
from convlens.probe.probe_records import RANDOM, SECOND_TWIN
from convlens.record import from_json, key, to_json
from convlens.report import ReportContext, problem1, problem2, problem3, summary
from convlens.report.document import Document
from convlens.report.results_file import ReportResults, read_results, write_results

# The quick demo's results.json: first written before the records existed, written again (same
# layout) on a 2-core AMD EPYC with native bf16 when the CFN recipe's crops changed.
BEFORE = Path(__file__).parent / "demo_results.json"


def _same(a, b, where="") -> None:
    """Equal JSON trees, floats within rounding (NaN equal to NaN)."""
    assert type(a) is type(b) or {type(a), type(b)} <= {int, float}, where
    if isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            _same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, float):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-15) or math.isnan(a) and math.isnan(b), where
    else:
        assert a == b, where


def test_a_whole_report_reads_back_into_records_and_writes_the_same_file(tmp_path):
    """The demo results.json written before results were typed (tests/data): read into records
    and written again, key by key and in the same order."""
    before = json.loads(BEFORE.read_text())
    records = read_results(BEFORE)
    assert isinstance(records, ReportResults)
    assert records.problem3.study.networks["vgg11_bn"].probe.trained.k == 3
    write_results(tmp_path / "results.json", records)
    _same(before, json.loads((tmp_path / "results.json").read_text()))


def test_a_missing_or_unknown_key_is_an_error_naming_it():
    before = json.loads(BEFORE.read_text())
    del before["problem2"]["class_viz"]["classes"][0]["hf_energy_blur"]
    with pytest.raises(ConvlensError, match=r"classes\[0\]: missing 'hf_energy_blur'"):
        from_json(ReportResults, before)
    before = json.loads(BEFORE.read_text())
    before["problem3"]["evaluation"]["methods"]["network"]["image_acc"] = 1.0
    with pytest.raises(ConvlensError, match="unexpected 'image_acc' in a MethodAccuracy"):
        from_json(ReportResults, before)
    before = json.loads(BEFORE.read_text())
    before["problem1"]["dataset_ce"]["n"] = "eight"
    with pytest.raises(ConvlensError, match=r"dataset_ce.n: expected int"):
        from_json(ReportResults, before)


@dataclasses.dataclass(frozen=True)
class _Example:
    plain: int
    renamed: float = key("with.dot")
    missing: str | None = key(omit_if_none=True, default=None)
    array: np.ndarray | None = key(stored=False, default=None)


def test_a_record_names_omits_and_keeps_back_fields_as_declared():
    a = _Example(1, float("nan"), array=np.arange(3))
    assert to_json(a) == {"plain": 1, "with.dot": a.renamed}
    back = from_json(_Example, json.loads('{"plain": 1, "with.dot": null}'))
    assert math.isnan(back.renamed) and back.missing is None and back.array is None
    assert _Example(1, 2.0, array=np.arange(3)) == _Example(1, 2.0)  # arrays do not compare
    assert to_json(_Example(1, 2.0, "here"))["missing"] == "here"


def _placeholders(results, folder: Path) -> None:
    """A small PNG for every figure name the results hold."""
    names = re.findall(r'"([^"]+\.png)"', json.dumps(to_json(results)))
    folder.mkdir(parents=True, exist_ok=True)
    for name in set(names):
        Image.new("RGB", (4, 4)).save(folder / name)


def test_every_section_renders_from_records_built_with_the_constructors(tmp_path):
    results = fabricated.report_results()
    ctx = ReportContext(out=tmp_path)
    _placeholders(results, ctx.figures)
    doc = Document("fabricated")
    for module, section in (
        (problem1, results.problem1),
        (problem2, results.problem2),
        (problem3, results.problem3),
    ):
        module.render(doc, section, ctx)
    doc.glance = summary.glance_rows(results)
    page = doc.to_html()
    for text in ("Problem 1: cross-entropy", "Problem 2: inspecting", "Problem 3: learning"):
        assert text in page
    assert "tench" in page and "b.jpg" in page and "vgg11_bn" in page
    answers = {row["question"]: row["answer"] for row in doc.glance}  # the last of each
    assert [row["question"] for row in doc.glance][-2:] == ["3d", "3d"]
    assert "vgg11_bn 0.660" in answers["3b"]  # 3b quotes each network alone
    assert "on the digits: vgg11_bn +0.090" in answers["3d"] and "digits" in page


def test_at_a_glance_3d_names_the_networks_beyond_their_noise():
    diff = fabricated.difference
    results = fabricated.report_results()
    nets = dict(results.problem3.study.networks)

    def tested(name, *pairs):
        n = nets[name]
        differences = dict(zip((RANDOM, SECOND_TWIN), pairs, strict=True))
        nets[name] = dataclasses.replace(
            n, probe=dataclasses.replace(n.probe, differences=differences)
        )

    def row_3d() -> str:
        study = dataclasses.replace(results.problem3.study, networks=nets)
        p3 = dataclasses.replace(results.problem3, study=study)
        rows = summary.glance_rows(dataclasses.replace(results, problem3=p3))
        return next(row["answer"] for row in rows if row["question"] == "3d")

    assert row_3d() == "trained minus random twin: edgenet -0.050, vgg11_bn +0.040"  # untested
    tested("edgenet", diff(0.08, 0.04, 0.12, True), diff(0.06, 0.02, 0.10, True))
    tested("vgg11_bn", diff(0.03, 0.01, 0.05, True), diff(0.01, -0.01, 0.03, False))
    assert row_3d().endswith("beyond the noise against every twin: edgenet")
    assert "edgenet +0.080 [+0.040, +0.120]" in row_3d()
    tested("edgenet", diff(-0.08, -0.12, -0.04, True), diff(-0.06, -0.1, -0.02, True))
    assert row_3d().endswith("beyond the noise against every twin: none")  # worse is not beyond


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        (((0.05, True), (0.04, True)), 1),
        (((-0.05, True), (-0.04, True)), -1),
        (((0.05, True), (0.01, False)), 0),  # real against one twin only
        (((0.05, True), (-0.04, True)), 0),  # the twins disagree on the sign
        ((), 0),
    ],
)
def test_beyond_noise_needs_every_twin_on_the_same_side(pairs, expected):
    from convlens.probe.probe_records import beyond_noise

    differences = {
        f"twin {i}": fabricated.difference(d, d - 0.02, d + 0.02, real)
        for i, (d, real) in enumerate(pairs)
    }
    assert beyond_noise(differences) == expected
