"""Tests of qmlkit.sweep: parameter checks, recorded runs, resumable Dask sweeps, collect.

The chapter is a tiny notebook written into ``tmp_path`` (tests/tiny_chapter.py) that takes a
second or two per papermill run, logs each start, can sleep and can fail on purpose.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from tiny_chapter import starts, write_tiny_chapter

from qmlkit import sweep
from qmlkit.sweep import (
    chapter_defaults,
    check_parameters,
    check_value,
    collect,
    find_chapter,
    load_profile,
    parse_grid,
    parse_value,
    read_status,
    run_chapter,
    run_id,
    run_sweep,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def chapter(tmp_path: Path) -> Path:
    return write_tiny_chapter(tmp_path)


def _notebooks(directory: Path) -> list[Path]:
    return sorted(directory.rglob("*.ipynb")) if directory.exists() else []


# --------------------------------------------------------------------------------------------
# chapters, values, parameters (no execution)


def test_find_chapter_by_stem_number_and_path(chapter):
    assert find_chapter("02_background") == ROOT / "chapters" / "02_background.ipynb"
    assert find_chapter("2") == find_chapter("02") == find_chapter("02_background")
    assert find_chapter(str(chapter)) == chapter.resolve()
    assert find_chapter("tiny", chapters_dir=chapter.parent) == chapter.resolve()


@pytest.mark.parametrize("bad, error", [
    ("99", FileNotFoundError), ("no_such_chapter", FileNotFoundError),
    ("missing/x.ipynb", FileNotFoundError), ("", TypeError), (3, TypeError),
])
def test_find_chapter_rejects(bad, error):
    with pytest.raises(error, match="chapter"):
        find_chapter(bad)


def test_chapter_defaults_are_the_literals_of_the_parameters_cell(chapter):
    assert chapter_defaults(chapter) == {"i": 0, "sleep": 0.0, "fail_on": -1, "label": "a",
                                         "log_path": "", "results_dir": ""}


def test_chapter_defaults_sees_what_papermill_inspect_misses(tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    cell = new_code_cell(
        "import numpy as np\n"
        "n_qubits = 4  # qubits (= features)\n"
        "grid = [1,\n        2]  # spread over two lines\n"
        "angle: float = 0.5  # annotated\n"
        "phase = np.pi / 2  # not a literal\n"
        "a, b = 1, 2  # tuple targets are not parameters\n"
        "results_dir = ''\n")
    cell.metadata["tags"] = ["parameters"]
    path = tmp_path / "eq.ipynb"
    nbformat.write(new_notebook(cells=[cell]), path)
    defaults = chapter_defaults(path)
    assert list(defaults) == ["n_qubits", "grid", "angle", "phase", "results_dir"]
    assert defaults["n_qubits"] == 4 and defaults["grid"] == [1, 2]
    assert check_parameters(path, {"n_qubits": 3, "phase": "anything"}) == {
        "n_qubits": 3, "phase": "anything"}  # a non-literal default is not type-checked
    with pytest.raises(TypeError, match="n_qubits must be an integer"):
        check_parameters(path, {"n_qubits": 3.5})


def test_chapter_without_parameters_cell_is_refused(tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    path = tmp_path / "plain.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("x = 1")]), path)
    with pytest.raises(ValueError, match="no code cell tagged 'parameters'"):
        chapter_defaults(path)
    cell = new_code_cell("x = (")
    cell.metadata["tags"] = ["parameters"]
    nbformat.write(new_notebook(cells=[cell]), path)
    with pytest.raises(ValueError, match="not valid Python"):
        chapter_defaults(path)


@pytest.mark.parametrize("value, default, expected", [
    (3, 1, 3), (2, 0.5, 2.0), (0.25, 0.5, 0.25), (True, False, True), ("x", "a", "x"),
    ([1, 2], [16, 32], [1, 2]), ([1, 2.5], [0.1], [1.0, 2.5]), ([], [1], []),
    ({"a": 1}, {}, {"a": 1}), ("anything", None, "anything"),
])
def test_check_value_accepts_and_converts(value, default, expected):
    got = check_value("p", value, default=default)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize("value, default", [
    (1.5, 1), (True, 1), ("3", 1), (True, 0.5), ("0.5", 0.5), (1, False), (3, "a"),
    (5, [1, 2]), ([1, "x"], [1, 2]), ([0.5], [1]), ([1], {}),
])
def test_check_value_rejects_wrong_types_naming_the_parameter(value, default):
    with pytest.raises(TypeError, match=r"^p(\[\d\])? must be"):
        check_value("p", value, default=default)


def test_check_parameters(chapter):
    assert check_parameters(chapter, {"i": 2, "sleep": 1}) == {"i": 2, "sleep": 1.0}
    with pytest.raises(ValueError, match="unknown parameter 'j' for chapter tiny"):
        check_parameters(chapter, {"j": 2})
    with pytest.raises(ValueError, match="'results_dir' is set by qmlkit"):
        check_parameters(chapter, {"results_dir": "x"})
    with pytest.raises(TypeError, match="sleep must be a real number"):
        check_parameters(chapter, {"sleep": "long"})
    with pytest.raises(TypeError, match="parameters must be a mapping"):
        check_parameters(chapter, [("i", 1)])


def test_parse_value_and_grid():
    assert parse_value("7") == 7
    assert parse_value("[10, 100]") == [10, 100]
    assert parse_value("no") is False
    assert parse_value("no", default="a") == "no"
    assert parse_value("12", default="a") == "12"
    assert parse_grid("i=0,1,2") == ("i", [0, 1, 2])
    assert parse_grid("shots_grid=[1, 2],[3]") == ("shots_grid", [[1, 2], [3]])
    assert parse_grid("label=a,'b,c'") == ("label", ["a", "b,c"])


@pytest.mark.parametrize("bad", ["i", "=1,2", "i=", "1x=1", "i=[1"])
def test_parse_grid_rejects(bad):
    with pytest.raises(ValueError, match="grid"):
        parse_grid(bad)


def test_parse_value_rejects():
    with pytest.raises(ValueError, match="YAML"):
        parse_value("[1")
    with pytest.raises(TypeError, match="value must be a string"):
        parse_value(1)


def test_load_profile(chapter, tmp_path):
    assert load_profile(chapter, "full") == {"i": 5, "label": "full"}
    other = tmp_path / "mine.yaml"
    other.write_text("sleep: 0.1\n")
    assert load_profile(chapter, str(other)) == {"sleep": 0.1}
    assert load_profile(chapter, None) == {}
    with pytest.raises(FileNotFoundError, match=r"available: \['tiny.full.yaml'\]"):
        load_profile(chapter, "huge")
    (tmp_path / "list.yaml").write_text("- 1\n")
    with pytest.raises(ValueError, match="must be a mapping"):
        load_profile(chapter, str(tmp_path / "list.yaml"))


def test_the_full_profiles_of_the_chapters_pass_the_check():
    for profile in sorted((ROOT / "chapters" / "params").glob("*.full.yaml")):
        stem = profile.name.removesuffix(".full.yaml")
        check_parameters(stem, load_profile(stem, "full"))


def test_run_id_is_deterministic_and_order_free():
    a = run_id("tiny", {"i": 1, "sleep": 0.0})
    assert a == run_id("tiny", {"sleep": 0.0, "i": 1})
    assert a != run_id("tiny", {"i": 2, "sleep": 0.0}) != run_id("other", {"i": 1, "sleep": 0.0})
    assert a.startswith("tiny-") and len(a) == len("tiny-") + 12


# --------------------------------------------------------------------------------------------
# one run


@pytest.mark.slow
def test_run_chapter_records_everything(chapter, tmp_path):
    out = tmp_path / "results"
    outcome = run_chapter(chapter, profile="full", parameters={"label": "x", "sleep": 0},
                          out=out)
    assert outcome.status == "finished"
    parameters = {"i": 5, "label": "x", "sleep": 0.0}  # the profile's i, -p's label
    assert outcome.parameters == parameters
    assert outcome.run_dir == out.resolve() / "tiny" / run_id("tiny", parameters)
    assert sorted(p.name for p in outcome.run_dir.iterdir()) == [
        "parameters.json", "status.json", "tiny.ipynb", "tiny.json"]
    assert outcome.results == {"square": 25, "half": 2.5, "label": "X"}
    status = read_status(outcome.run_dir)
    assert status["status"] == "finished" and status["results"] == outcome.results
    assert status["parameters"] == parameters
    assert status["versions"]["qmlkit"] == "0.1.0" and status["commit"]
    assert status["duration_s"] > 0 and status["started"] < status["finished"]
    assert json.loads((outcome.run_dir / "tiny.json").read_text())["parameters"]["i"] == 5
    assert json.loads((outcome.run_dir / "parameters.json").read_text()) == parameters


@pytest.mark.parametrize("kwargs, error, match", [
    ({"parameters": {"j": 1}}, ValueError, "unknown parameter 'j'"),
    ({"parameters": {"i": "two"}}, TypeError, "i must be an integer"),
    ({"parameters": {"i": 1.0}}, TypeError, "i must be an integer"),
    ({"parameters": {"results_dir": "/tmp"}}, ValueError, "set by qmlkit"),
    ({"profile": "huge"}, FileNotFoundError, "profile 'huge'"),
    ({"parameters": [1]}, TypeError, "parameters must be a mapping"),
    ({"progress_bar": 1}, TypeError, "progress_bar must be a bool"),
    ({"out": 3}, TypeError, "out must be a path"),
    ({"kernel_name": ""}, TypeError, "kernel_name must be a non-empty string"),
])
def test_bad_run_is_rejected_before_execution(chapter, tmp_path, kwargs, error, match):
    out = tmp_path / "results"
    with pytest.raises(error, match=match):
        run_chapter(chapter, **{"out": out, **kwargs})
    assert not out.exists() and _notebooks(tmp_path) == [chapter]


def test_bad_profile_value_is_rejected_before_execution(tmp_path):
    chapter = write_tiny_chapter(tmp_path, full_profile={"sleep": "long"})
    with pytest.raises(TypeError, match="sleep must be a real number"):
        run_chapter(chapter, profile="full", out=tmp_path / "results")
    assert not (tmp_path / "results").exists()


# --------------------------------------------------------------------------------------------
# sweeps


@pytest.mark.slow
def test_sweep_on_two_workers_records_failures_resumes_and_collects(chapter, tmp_path,
                                                                   monkeypatch):
    log = tmp_path / "starts.log"
    out = tmp_path / "results"
    kwargs = dict(grid={"i": [0, 1, 2, 3], "label": ["p"]},
                  parameters={"fail_on": 2, "log_path": str(log)}, out=out, workers=2,
                  progress=False)
    cwd, moves = os.getcwd(), []
    real_chdir = os.chdir
    monkeypatch.setattr(os, "chdir", lambda path: (moves.append(path), real_chdir(path)))
    first = run_sweep(chapter, **kwargs)
    # concurrent runs in Dask threads must not move the process's working directory (papermill's
    # cwd= does, and two threads restoring it out of order leave it in a chapter folder)
    assert [m for m in moves if os.path.abspath(m) != cwd] == [] and os.getcwd() == cwd
    assert [r.status for r in first.runs] == ["finished", "finished", "failed", "finished"]
    assert [r.parameters["i"] for r in first.runs] == [0, 1, 2, 3]
    assert [r.results for r in first.runs] == [
        {"square": 0, "half": 0.0, "label": "P"}, {"square": 1, "half": 0.5, "label": "P"},
        None, {"square": 9, "half": 1.5, "label": "P"}]
    failed = first.runs[2]
    assert failed.error == "RuntimeError: run 2 fails on purpose"
    traceback = read_status(failed.run_dir)["traceback"]
    assert "raise RuntimeError" in traceback and "\x1b[" not in traceback
    assert (failed.run_dir / "tiny.ipynb").exists() and not (failed.run_dir / "tiny.json").exists()
    assert starts(log) == {0: 1, 1: 1, 2: 1, 3: 1}
    manifest = json.loads((first.sweep_dir / "manifest.json").read_text())
    assert manifest["grid"] == {"i": [0, 1, 2, 3], "label": ["p"]}
    assert manifest["fixed_parameters"] == {"fail_on": 2, "log_path": str(log)}
    assert manifest["versions"]["qmlkit"] == "0.1.0" and manifest["commit"]
    assert [r["run_id"] for r in manifest["runs"]] == [r.run_id for r in first.runs]
    finished_before = {r.run_id: read_status(r.run_dir) for r in first.runs
                       if r.status == "finished"}

    again = run_sweep(chapter, **kwargs)  # the same sweep: finished runs skipped, failed retried
    assert again.sweep_dir == first.sweep_dir
    assert [r.status for r in again.runs] == ["skipped", "skipped", "failed", "skipped"]
    assert starts(log) == {0: 1, 1: 1, 2: 2, 3: 1}
    for rid, status in finished_before.items():
        assert read_status(first.sweep_dir / rid) == status

    got = collect(first.sweep_dir)
    table = got.table
    assert list(table.columns) == ["run_id", "status", "i", "label", "fail_on", "log_path",
                                   "square", "half", "result: label", "duration_s", "commit",
                                   "error"]
    assert table.shape == (4, 12)
    assert table["commit"].iloc[0] == manifest["commit"]
    assert list(table["run_id"]) == [r.run_id for r in first.runs]
    assert list(table["status"]) == ["finished", "finished", "failed", "finished"]
    assert list(table["square"].fillna(-1)) == [0, 1, -1, 9]
    assert list(table["result: label"].fillna("")) == ["P", "P", "", "P"]
    assert table["error"].iloc[2] == "RuntimeError: run 2 fails on purpose"
    assert table["error"].iloc[[0, 1, 3]].isna().all()
    assert got.table_path == first.sweep_dir / "results.csv"
    assert pd.read_csv(got.table_path).shape == (4, 12)
    assert got.plotted == ("square", "i")  # the first numeric result that varies
    assert got.plot_path == first.sweep_dir / "plot.png" and got.plot_path.stat().st_size > 1000
    assert collect(first.sweep_dir, plot=False).plot_path is None
    own = collect(first.sweep_dir, plot=tmp_path / "p.png", y="half", output=tmp_path / "t.csv")
    assert own.plotted == ("half", "i") and (tmp_path / "p.png").exists()
    assert own.table_path == tmp_path / "t.csv"
    with pytest.raises(ValueError, match="y='label' is not a numeric result"):
        collect(first.sweep_dir, y="label")


def test_collect_rejects(chapter, tmp_path):
    with pytest.raises(FileNotFoundError, match="not a sweep directory"):
        collect(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps(
        {"grid": {"i": [0]}, "fixed_parameters": {}, "runs": [{"run_id": "tiny-x",
                                                              "grid_point": {"i": 0}}]}))
    with pytest.raises(ValueError, match="format must be one of"):
        collect(tmp_path, format="xlsx")
    with pytest.raises(TypeError, match="plot must be a path or a bool"):
        collect(tmp_path, plot=3)
    pending = collect(tmp_path, plot=False).table
    assert list(pending["status"]) == ["pending"]
    if sweep.importlib.util.find_spec("pyarrow") is None:
        with pytest.raises(ImportError, match="needs the package 'pyarrow'"):
            collect(tmp_path, format="parquet")
    else:
        assert collect(tmp_path, format="parquet", plot=False).table_path.suffix == ".parquet"


@pytest.mark.parametrize("kwargs, error, match", [
    ({"grid": {"i": [0, 1.5]}}, TypeError, "i must be an integer"),
    ({"grid": {"j": [0, 1]}}, ValueError, "unknown parameter 'j'"),
    ({"grid": {}}, ValueError, "grid must be a non-empty mapping"),
    ({"grid": {"i": []}}, ValueError, "grid i must be a non-empty list"),
    ({"grid": {"sleep": [1, 1.0]}}, ValueError, "are the same run"),
    ({"grid": {"i": [0]}, "workers": 0}, ValueError, "workers must be >= 1"),
    ({"grid": {"i": [0]}, "scheduler": "tcp://x:1", "workers": 2}, ValueError, "workers"),
    ({"grid": {"i": [0]}, "parameters": {"sleep": "x"}}, TypeError, "sleep must be"),
])
def test_bad_sweep_is_rejected_before_execution(chapter, tmp_path, kwargs, error, match):
    out = tmp_path / "results"
    with pytest.raises(error, match=match):
        run_sweep(chapter, out=out, progress=False, **kwargs)
    assert not out.exists()


def _wait_for(predicate, *, timeout: float, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f"the sweep ended early: {proc.communicate()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("timed out waiting for the sweep")
        time.sleep(0.05)


@pytest.mark.slow
def test_killed_sweep_resumes_without_losing_or_repeating_runs(chapter, tmp_path):
    log = tmp_path / "starts.log"
    out = tmp_path / "results"
    grid, fixed = {"i": [0, 1, 2, 3]}, {"sleep": 2.0, "log_path": str(log)}
    cmd = [sys.executable, "-m", "qmlkit.cli", "sweep", str(chapter), "--grid", "i=0,1,2,3",
           "-p", "sleep", "2", "-p", "log_path", str(log), "--out", str(out), "--workers", "2",
           "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)

    def run_dirs() -> list[Path]:
        return [d for d in out.glob("tiny/sweep-*/tiny-*") if d.is_dir()]

    def states() -> dict[str, str | None]:
        return {d.name: (read_status(d) or {}).get("status") for d in run_dirs()}

    def one_done_one_running() -> bool:
        started = set(starts(log))
        running_in_kernel = [  # parameters.json is written before status "running"
            d for d in run_dirs() if (read_status(d) or {}).get("status") == "running"
            and json.loads((d / "parameters.json").read_text())["i"] in started]
        return "finished" in states().values() and bool(running_in_kernel)

    try:
        _wait_for(one_done_one_running, timeout=240, proc=proc)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
    before = states()
    finished = {rid for rid, st in before.items() if st == "finished"}
    interrupted = {rid for rid, st in before.items() if st == "running"}
    assert finished and interrupted
    sweep_dir = next(out.glob("tiny/sweep-*"))
    finished_status = {rid: read_status(sweep_dir / rid) for rid in finished}
    time.sleep(1.5)  # the orphaned kernels notice their parent is gone within a second
    counts_at_kill = starts(log)
    params = {r["run_id"]: r["grid_point"]["i"]
              for r in json.loads((sweep_dir / "manifest.json").read_text())["runs"]}
    assert any(params[rid] in counts_at_kill for rid in interrupted)  # killed mid-execution

    result = run_sweep(chapter, grid=grid, parameters=fixed, out=out, workers=2, progress=False)
    assert result.sweep_dir == sweep_dir
    assert result.count("failed") == 0 and len(result.runs) == 4
    assert {r.run_id for r in result.runs if r.status == "skipped"} == finished
    for rid, status in finished_status.items():  # no finished result lost or rewritten
        assert read_status(sweep_dir / rid) == status
    counts = starts(log)
    for r in result.runs:
        i = r.parameters["i"]
        if r.run_id in finished:  # started once, not again
            assert counts_at_kill[i] == counts[i] == 1, (i, counts_at_kill, counts)
        else:  # interrupted or never started: (re)done exactly once now
            assert counts[i] == counts_at_kill.get(i, 0) + 1, (i, counts_at_kill, counts)
            assert r.status == "finished"
        assert read_status(r.run_dir)["status"] == "finished"
        assert r.results["square"] == i**2
