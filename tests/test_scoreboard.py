"""Tests of qmlkit.scoreboard: rules, thresholds, record loading, and the real chapters' records."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from qmlkit.claims import published_chapters, review_claims
from qmlkit.scoreboard import (
    _RULES,
    DEFAULT_THRESHOLDS,
    VERDICTS,
    evaluate_claims,
    load_records,
    scoreboard_markdown,
    scoreboard_table,
    stored_record,
)

ROOT = Path(__file__).resolve().parents[1]


def _barren_record(slope: float) -> dict:
    return {"06_barren_plateaus": {"parameters": {}, "results": {
        "random circuits, deep: log2-slope of Var vs n": slope,
        "random circuits, deep: slope standard error": 0.03}}}


def test_every_claim_has_a_rule():
    assert {c.key for c in review_claims()} == set(_RULES)


@pytest.mark.parametrize("slope, verdict", [(-1.04, "supported"), (-1.3, "not supported"),
                                            (-0.5, "not supported")])
def test_barren_rule_follows_the_numbers(slope, verdict):
    (v,) = evaluate_claims(_barren_record(slope), keys=["barren"])
    assert v.verdict == verdict
    assert f"{slope:g}" in v.measured


def test_thresholds_change_verdicts_and_are_checked():
    (v,) = evaluate_claims(_barren_record(-1.2), keys=["barren"], thresholds={"slope_tolerance": 0.1})
    assert v.verdict == "not supported"
    (v,) = evaluate_claims(_barren_record(-1.2), keys=["barren"])
    assert v.verdict == "supported" and DEFAULT_THRESHOLDS["slope_tolerance"] == 0.25
    with pytest.raises(ValueError, match="unknown criterion"):
        evaluate_claims({}, thresholds={"slope": 1.0})
    with pytest.raises(TypeError, match="slope_tolerance"):
        evaluate_claims({}, thresholds={"slope_tolerance": "wide"})


def test_missing_results_are_not_measured_and_unknown_keys_rejected():
    (v,) = evaluate_claims({"06_barren_plateaus": {"results": {}}}, keys=["barren"])
    assert v.verdict == "not measured" and "lacks" in v.measured
    (v,) = evaluate_claims({}, keys=["barren"])
    assert v.verdict == "not measured" and "not published" in v.measured
    with pytest.raises(ValueError, match="unknown claims"):
        evaluate_claims({}, keys=["no-such-claim"])


def test_partly_supported_when_only_some_optimisers_win():
    rec = {"05_gradients": {"results": {"mean final gap, SPSA, shots": 0.1,
                                        "mean final gap, COBYLA, shots": 0.6,
                                        "mean final gap, Adam + parameter shift, shots": 0.3}}}
    assert evaluate_claims(rec, keys=["gradient-free"])[0].verdict == "partly supported"
    rec["05_gradients"]["results"]["mean final gap, COBYLA, shots"] = 0.2
    assert evaluate_claims(rec, keys=["gradient-free"])[0].verdict == "supported"


def test_records_dir_takes_precedence_over_stored_outputs(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("")])
    stored = {"chapter": "99_x", "parameters": {}, "results": {"a": 1}}
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout",
                                                  text=json.dumps(stored, indent=2) + "\n")]
    nbformat.write(nb, tmp_path / "99_x.ipynb")
    assert load_records(["99_x"], chapters_dir=tmp_path)["99_x"]["results"] == {"a": 1}
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "99_x.json").write_text(json.dumps({**stored, "results": {"a": 2}}))
    assert load_records(["99_x"], chapters_dir=tmp_path, records_dir=runs)["99_x"]["results"] \
        == {"a": 2}
    assert load_records(["98_y"], chapters_dir=tmp_path) == {}


def test_stored_record_requires_a_record(tmp_path):
    nbformat.write(nbformat.v4.new_notebook(), tmp_path / "empty.ipynb")
    with pytest.raises(ValueError, match="printed no ChapterRecord"):
        stored_record(tmp_path / "empty.ipynb")


def test_markdown_and_table_shapes():
    verdicts = evaluate_claims({}, keys=["subroutines", "barren"])
    md = scoreboard_markdown(verdicts, published=["03_approaches"])
    lines = md.splitlines()
    assert len(lines) == 4 and "[03](03_approaches.ipynb)" in lines[2]
    assert "| 06 |" in lines[3]
    table = scoreboard_table(verdicts)
    assert list(table["verdict"]) == ["untestable offline", "not measured"]


def test_the_published_chapters_measure_every_claim_they_own():
    """The real records: every claim whose chapter is published gets a real verdict."""
    published = published_chapters(ROOT / "_toc.yml")
    chapters = sorted(c for c in published if c[:2].isdigit())
    records = load_records(chapters, chapters_dir=ROOT / "chapters")
    for v in evaluate_claims(records):
        assert v.verdict in VERDICTS
        if v.claim.chapter in published:
            assert v.verdict != "not measured", (v.claim.key, v.measured)
