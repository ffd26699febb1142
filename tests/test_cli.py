"""Tests of the ``qmlkit`` command (qmlkit.cli): run, sweep, collect, about, new.

The library behind it is tested in tests/test_sweep.py (including a sweep killed with SIGKILL
and resumed through ``python -m qmlkit.cli sweep``); here: the argument handling, the exit
statuses and messages, and one real ``qmlkit run 02_background`` through the console script.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from tiny_chapter import write_tiny_chapter

from qmlkit import cli
from qmlkit.records import write_json_atomic
from qmlkit.sweep import read_status

ROOT = Path(__file__).resolve().parents[1]
QMLKIT = Path(sys.executable).parent / "qmlkit"


@pytest.fixture
def chapter(tmp_path: Path) -> Path:
    return write_tiny_chapter(tmp_path)


def test_every_subcommand_is_registered(capsys):
    _parser, handlers = cli.build_parser()
    assert set(handlers) == {"run", "sweep", "collect", "about", "new"}
    with pytest.raises(SystemExit) as info:
        cli.main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert all(name in out for name in handlers)


def test_no_subcommand_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main([])
    assert info.value.code == 2
    assert "required: COMMAND" in capsys.readouterr().err


def test_about(capsys):
    assert cli.main(["about"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("qmlkit: the executable companion")
    assert "tensorflow-quantum" in out and "git commit" in out


@pytest.mark.parametrize("args, message", [
    (["-p", "j", "1"], "unknown parameter 'j' for chapter tiny"),
    (["-p", "i", "1.5"], "i must be an integer like its default 0, got float 1.5"),
    (["-p", "i", "two"], "i must be an integer like its default 0, got str 'two'"),
    (["-p", "sleep", "[1]"], "sleep must be a real number"),
    (["-p", "i", "1", "-p", "i", "2"], "parameter 'i' is given twice"),
    (["-p", "results_dir", "x"], "set by qmlkit"),
    (["-p", "i", "[1"], "cannot parse '[1' as a YAML value"),
    (["--profile", "huge"], "profile 'huge' of tiny"),
])
def test_run_rejects_bad_parameters_before_execution(chapter, tmp_path, capsys, args, message):
    out = tmp_path / "results"
    assert cli.main(["run", str(chapter), "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("qmlkit run: error: ") and message in err
    assert not out.exists() and sorted(tmp_path.rglob("*.ipynb")) == [chapter]


def test_run_of_a_missing_chapter(capsys):
    assert cli.main(["run", "99"]) == 2
    assert "no chapter '99'" in capsys.readouterr().err


def test_run_string_parameter_keeps_yaml_lookalikes_as_text(chapter, tmp_path, capsys):
    assert cli.main(["run", str(chapter), "--out", str(tmp_path / "r"), "-p", "label", "yes",
                     "-p", "i", "1", "-p", "fail_on", "1"]) == 1  # fails on purpose
    captured = capsys.readouterr()
    assert captured.out.startswith("failed: ")
    assert "RuntimeError: run 1 fails on purpose" in captured.err
    run_dir = Path(captured.out.split()[1])
    status = read_status(run_dir)
    assert status["status"] == "failed" and status["parameters"]["label"] == "yes"
    assert "raise RuntimeError" in status["traceback"]


@pytest.mark.parametrize("args, message", [
    (["--grid", "i=0,1", "-p", "i", "2"], "i given both with -p and --grid"),
    (["--grid", "i=0", "--grid", "i=1"], "--grid i is given twice"),
    (["--grid", "i=0,x"], "i must be an integer"),
    (["--grid", "j=0,1"], "unknown parameter 'j'"),
    (["--grid", "i"], "grid must look like NAME=V1,V2,..."),
    (["--grid", "i=0", "--workers", "0"], "workers must be >= 1"),
    (["--grid", "i=0", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "workers"),
])
def test_sweep_rejects_bad_grids_before_execution(chapter, tmp_path, capsys, args, message):
    out = tmp_path / "results"
    assert cli.main(["sweep", str(chapter), "--out", str(out), "--no-progress", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("qmlkit sweep: error: ") and message in err
    assert not out.exists()


def test_sweep_needs_a_grid(chapter, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["sweep", str(chapter)])
    assert info.value.code == 2
    assert "--grid" in capsys.readouterr().err


def _fake_sweep(directory: Path) -> Path:
    """A sweep directory as run_sweep leaves it: two finished runs, one failed, one pending."""
    runs = [("tiny-a", 0, "finished"), ("tiny-b", 1, "finished"), ("tiny-c", 2, "failed"),
            ("tiny-d", 3, None)]
    write_json_atomic(directory / "manifest.json", {
        "chapter": "tiny", "grid": {"i": [0, 1, 2, 3]}, "fixed_parameters": {"sleep": 0.0},
        "runs": [{"run_id": rid, "grid_point": {"i": i}} for rid, i, _ in runs]})
    for rid, i, status in runs:
        if status is None:
            continue
        write_json_atomic(directory / rid / "status.json", {
            "status": status, "run_id": rid, "parameters": {"i": i, "sleep": 0.0},
            "results": {"square": i * i, "label": "A"} if status == "finished" else None,
            "duration_s": 1.0, "error": "RuntimeError: no" if status == "failed" else None})
    return directory


def test_collect(tmp_path, capsys):
    sweep_dir = _fake_sweep(tmp_path / "sweep")
    assert cli.main(["collect", str(sweep_dir)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["run_id", "status", "i", "square"]
    assert [line.split()[:2] for line in out[1:5]] == [
        ["tiny-a", "finished"], ["tiny-b", "finished"], ["tiny-c", "failed"],
        ["tiny-d", "pending"]]
    assert out[5] == f"table: {sweep_dir / 'results.csv'} (4 runs x 9 columns)"
    assert out[6] == f"plot: {sweep_dir / 'plot.png'} (square against i)"
    header = (sweep_dir / "results.csv").read_text().splitlines()[0]
    assert header == "run_id,status,i,sleep,square,label,duration_s,commit,error"
    assert (sweep_dir / "plot.png").stat().st_size > 1000

    assert cli.main(["collect", str(sweep_dir), "--no-plot", "--output",
                     str(tmp_path / "t.csv")]) == 0
    assert "plot:" not in capsys.readouterr().out and (tmp_path / "t.csv").exists()
    assert cli.main(["collect", str(sweep_dir), "--plot", str(tmp_path / "p.png")]) == 0
    assert (tmp_path / "p.png").exists()


def test_collect_errors(tmp_path, capsys):
    assert cli.main(["collect", str(tmp_path)]) == 2
    assert "not a sweep directory" in capsys.readouterr().err
    sweep_dir = _fake_sweep(tmp_path / "sweep")
    if importlib.util.find_spec("pyarrow") is None:
        assert cli.main(["collect", str(sweep_dir), "--format", "parquet"]) == 2
        assert "needs the package 'pyarrow'" in capsys.readouterr().err
        assert not (sweep_dir / "results.parquet").exists()
    else:
        assert cli.main(["collect", str(sweep_dir), "--format", "parquet"]) == 0
        assert (sweep_dir / "results.parquet").exists()
    with pytest.raises(SystemExit):
        cli.main(["collect", str(sweep_dir), "--format", "xlsx"])


def test_new_project(tmp_path, capsys):
    pytest.importorskip("qmlkit.template")
    target = tmp_path / "my_compendium"
    assert cli.main(["new", str(target)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"created {len(out.splitlines()) - 1} files in {target}")
    assert (target / "chapters" / "01_my_compendium.ipynb").is_file()
    assert cli.main(["new", str(target)]) == 2  # not empty any more
    assert "is not empty" in capsys.readouterr().err
    assert cli.main(["new", str(target), "--force"]) == 0
    assert cli.main(["new", str(tmp_path / "other"), "--name", "class"]) == 2
    assert "qmlkit new: error: name" in capsys.readouterr().err


@pytest.mark.slow
def test_console_script_runs_chapter_02_with_tiny_parameters(tmp_path):
    spec = yaml.safe_load((ROOT / "tests" / "chapter_reruns" / "02_background.yaml").read_text())
    params = spec["parameters"]
    args = [str(QMLKIT), "run", "02_background", "--out", str(tmp_path / "results")]
    for name, value in params.items():
        args += ["-p", name, json.dumps(value)]
    proc = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=600,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    run_dir = Path(proc.stdout.split()[1])
    assert run_dir.parent == tmp_path.resolve() / "results" / "02_background"
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "02_background.ipynb", "02_background.json", "parameters.json", "status.json"]
    status = read_status(run_dir)
    assert status["status"] == "finished"
    assert status["parameters"] == {**params, "theta": float(params["theta"])}
    record = json.loads((run_dir / "02_background.json").read_text())
    assert record["parameters"] == status["parameters"]
    assert record["results"] == status["results"]
    assert sum(record["results"]["Bell-state counts"].values()) == params["bell_shots"]
    assert f"exact <Z> = cos(theta) = {record['results']['exact <Z> = cos(theta)']}" \
        in proc.stdout
