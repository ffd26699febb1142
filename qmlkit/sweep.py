"""Rerun chapters and sweep parameter grids: checked, recorded, resumable papermill runs.

A *run* executes one chapter notebook with papermill into its own directory,
``<out>/<chapter>/<run-id>/``, which holds

* ``<chapter>.ipynb`` -- the executed notebook;
* ``parameters.json`` -- the parameters of the run;
* ``<chapter>.json`` -- the chapter's :class:`~qmlkit.records.ChapterRecord` (the chapter gets
  ``results_dir`` set to the run directory);
* ``status.json`` -- written atomically, first with ``"status": "running"`` and last with
  ``"finished"`` or ``"failed"`` (with the traceback), the results, the timings, the host, the
  git commit and :func:`qmlkit.versions`. A run directory is complete only when its
  ``status.json`` says ``finished``.

Run ids are deterministic (the chapter and a hash of its parameters), so a *sweep* -- the
Cartesian product of a grid, run on Dask distributed -- that is started again skips the runs
that finished, redoes the ones that were interrupted or failed, and never runs a finished one
twice. A sweep lives in ``<out>/<chapter>/sweep-<id>/`` with a ``manifest.json`` (grid, fixed
parameters, profile, commit, versions) and one run directory per grid point; :func:`collect`
turns it into one tidy table and a default plot.

Parameters are checked against the chapter's ``parameters`` cell *before* anything runs: an
unknown name is a :class:`ValueError`, a value whose type differs from the default's is a
:class:`TypeError` (an integer is accepted where a float is expected).

Example:
    >>> parse_grid("seed=1,2,3")
    ('seed', [1, 2, 3])
    >>> parse_grid("shots_grid=[10, 100],[10, 1000]")
    ('shots_grid', [[10, 100], [10, 1000]])
    >>> check_value("theta", 1, default=0.5)
    1.0
    >>> run_id("02_background", {"seed": 1, "theta": 0.5})
    '02_background-93f3ec356c55'
"""

from __future__ import annotations

import ast
import asyncio
import contextvars
import hashlib
import importlib.util
import itertools
import json
import os
import re
import shutil
import socket
import sys
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from qmlkit._validation import check_bool, check_choice, check_int
from qmlkit.records import write_json_atomic

__all__ = [
    "CollectOutcome",
    "RunOutcome",
    "SweepOutcome",
    "chapter_defaults",
    "check_parameters",
    "check_value",
    "collect",
    "find_chapter",
    "load_profile",
    "parse_grid",
    "parse_value",
    "read_status",
    "run_chapter",
    "run_id",
    "run_sweep",
]

#: Default root of all run and sweep directories (relative to the working directory).
RESULTS_ROOT = "results"
#: The marker of a run directory: complete only when it says ``finished``.
STATUS_FILE = "status.json"
#: The parameters of a run, written before it starts.
PARAMETERS_FILE = "parameters.json"
#: The description of a sweep, in the sweep directory.
MANIFEST_FILE = "manifest.json"
#: Parameters qmlkit sets itself; users may not pass them.
RESERVED_PARAMETERS = ("results_dir",)
#: Table formats of :func:`collect`.
TABLE_FORMATS = ("csv", "parquet")

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_NOT_A_LITERAL = object()


# --------------------------------------------------------------------------------------------
# chapters and their parameters


def _chapter_dirs() -> list[Path]:
    dirs = [Path.cwd() / "chapters", Path(__file__).resolve().parents[1] / "chapters"]
    unique: list[Path] = []
    for d in dirs:
        if d.is_dir() and d.resolve() not in [u.resolve() for u in unique]:
            unique.append(d)
    return unique


def find_chapter(chapter: str | os.PathLike, *,
                 chapters_dir: str | os.PathLike | None = None) -> Path:
    """Return the notebook of ``chapter``: a path, a stem (``"02_background"``) or a number.

    Names and numbers are looked up in ``chapters_dir``, by default ``./chapters`` and the
    ``chapters/`` folder of the qmlkit checkout.

    Example:
        >>> find_chapter("02").name
        '02_background.ipynb'
    """
    if not isinstance(chapter, (str, os.PathLike)) or not str(chapter):
        raise TypeError(f"chapter must be a non-empty string or path, got {chapter!r}")
    path = Path(chapter)
    if path.suffix == ".ipynb" or path.is_file() or os.sep in str(chapter):
        if not path.is_file():
            raise FileNotFoundError(f"chapter notebook {str(path)!r} does not exist")
        return path.resolve()
    dirs = [Path(chapters_dir)] if chapters_dir is not None else _chapter_dirs()
    name = str(chapter)
    for d in dirs:
        if name.isdigit():
            matches = sorted(d.glob(f"{int(name):02d}_*.ipynb"))
        else:
            matches = sorted(d.glob(f"{name}.ipynb"))
        if len(matches) > 1:
            raise ValueError(f"chapter {name!r} is ambiguous: {[m.name for m in matches]}")
        if matches:
            return matches[0].resolve()
    known = sorted(p.stem for d in dirs for p in d.glob("[0-9][0-9]_*.ipynb"))
    raise FileNotFoundError(
        f"no chapter {name!r} in {[str(d) for d in dirs]}; known chapters: {known}")


def chapter_defaults(chapter: str | os.PathLike) -> dict[str, Any]:
    """The parameters of a chapter's ``parameters`` cell and their (literal) default values.

    The cell is parsed with :mod:`ast`: every top-level ``name = value`` (or
    ``name: type = value``) is a parameter, as papermill sees them, but a comment containing
    ``=`` or a value spread over several lines does not hide it. A default that is not a Python
    literal (``np.pi``, say) is kept as its source text and not type-checked.

    Example:
        >>> chapter_defaults("02_background")["repetitions"]
        400
    """
    import nbformat

    path = find_chapter(chapter)
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells
             if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]
    if not cells:
        raise ValueError(f"chapter {path.stem} has no code cell tagged 'parameters'")
    try:
        tree = ast.parse(cells[0].source)
    except SyntaxError as exc:
        raise ValueError(f"the parameters cell of {path.stem} is not valid Python: {exc}") from None
    defaults: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if not isinstance(target, ast.Name):
            continue
        try:
            defaults[target.id] = ast.literal_eval(value)
        except (ValueError, SyntaxError, TypeError):
            defaults[target.id] = _Unchecked(ast.get_source_segment(cells[0].source, value)
                                             or "")
    return defaults


@dataclass(frozen=True)
class _Unchecked:
    """A default that is not a literal: any value is accepted for it."""

    source: str


def _type_word(default: Any) -> str:
    if isinstance(default, bool):
        return "a bool"
    if isinstance(default, int):
        return "an integer"
    if isinstance(default, float):
        return "a real number"
    if isinstance(default, str):
        return "a string"
    if isinstance(default, (list, tuple)):
        return "a list"
    if isinstance(default, dict):
        return "a mapping"
    return type(default).__name__


def check_value(name: str, value: Any, *, default: Any) -> Any:
    """Check ``value`` against the type of the parameter's ``default`` and return it.

    bool, int, float, str, list and dict defaults are enforced (a float accepts an integer
    and returns it as float; a list's elements are checked against the type of the default's
    elements when those share one scalar type); a ``None`` or non-literal default accepts
    anything.

    Example:
        >>> check_value("shots_grid", [10, 100], default=[16, 32])
        [10, 100]
        >>> check_value("seed", 1.5, default=2025)
        Traceback (most recent call last):
        ...
        TypeError: seed must be an integer like its default 2025, got float 1.5
    """
    if default is None or isinstance(default, _Unchecked):
        return value

    def bad() -> TypeError:
        return TypeError(f"{name} must be {_type_word(default)} like its default {default!r}, "
                         f"got {type(value).__name__} {value!r}")

    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise bad()
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad()
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad()
        return float(value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise bad()
        return value
    if isinstance(default, (list, tuple)):
        if not isinstance(value, (list, tuple)):
            raise bad()
        kinds = {type(v) for v in default}
        if len(kinds) == 1 and kinds <= {bool, int, float, str}:
            element = default[0]
            return [check_value(f"{name}[{i}]", v, default=element) for i, v in enumerate(value)]
        return list(value)
    if isinstance(default, dict):
        if not isinstance(value, dict):
            raise bad()
        return dict(value)
    return value


def check_parameters(chapter: str | os.PathLike, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Check parameter names and types against the chapter's ``parameters`` cell.

    Args:
        chapter: the chapter notebook (path, stem or number, see :func:`find_chapter`).
        parameters: name -> value.

    Returns:
        The checked parameters (integers given for floats converted to float).

    Raises:
        ValueError: an unknown or reserved (``results_dir``) name.
        TypeError: a value whose type differs from its default's.

    Example:
        >>> check_parameters("02", {"seed": 3, "theta": 1})
        {'seed': 3, 'theta': 1.0}
        >>> check_parameters("02", {"sead": 3})
        Traceback (most recent call last):
        ...
        ValueError: unknown parameter 'sead' for chapter 02_background; its parameters are: seed, theta, shots_grid, repetitions, bell_shots, max_qubits
    """
    if not isinstance(parameters, Mapping):
        raise TypeError(f"parameters must be a mapping, got {type(parameters).__name__}")
    path = find_chapter(chapter)
    defaults = chapter_defaults(path)
    if "results_dir" not in defaults:
        raise ValueError(f"chapter {path.stem} has no results_dir parameter, so its results "
                         "cannot be recorded")
    settable = [n for n in defaults if n not in RESERVED_PARAMETERS]
    checked: dict[str, Any] = {}
    for name, value in parameters.items():
        if not isinstance(name, str):
            raise TypeError(f"parameter names must be strings, got {name!r}")
        if name in RESERVED_PARAMETERS:
            raise ValueError(f"parameter {name!r} is set by qmlkit (to the run directory)")
        if name not in defaults:
            raise ValueError(f"unknown parameter {name!r} for chapter {path.stem}; "
                             f"its parameters are: {', '.join(settable)}")
        checked[name] = check_value(name, value, default=defaults[name])
    return checked


def parse_value(text: str, *, default: Any = None) -> Any:
    """Parse a command-line value as a YAML literal (like ``papermill -y``).

    Where the default is a string, text that YAML would read as something else (``yes``,
    ``1``) is kept as the string.

    Example:
        >>> parse_value("[10, 100]")
        [10, 100]
        >>> parse_value("0.5")
        0.5
        >>> parse_value("yes", default="mode")
        'yes'
    """
    if not isinstance(text, str):
        raise TypeError(f"value must be a string, got {type(text).__name__}")
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"cannot parse {text!r} as a YAML value: {exc}") from None
    if isinstance(default, str) and not isinstance(value, str):
        return text
    return value


def parse_grid(text: str) -> tuple[str, list[Any]]:
    """Parse ``NAME=V1,V2,...`` (values are YAML, so lists may be written ``[1, 2],[3]``).

    Example:
        >>> parse_grid("theta=0.5,1")
        ('theta', [0.5, 1])
    """
    if not isinstance(text, str):
        raise TypeError(f"grid must be a string NAME=V1,V2,..., got {type(text).__name__}")
    name, sep, values = text.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier():
        raise ValueError(f"grid must look like NAME=V1,V2,..., got {text!r}")
    try:
        parsed = yaml.safe_load(f"[{values}]")
    except yaml.YAMLError as exc:
        raise ValueError(f"cannot parse the values of grid {text!r}: {exc}") from None
    if not parsed:
        raise ValueError(f"grid {name} has no values")
    return name, parsed


def load_profile(chapter: str | os.PathLike, profile: str | os.PathLike | None) -> dict[str, Any]:
    """The parameters of a profile: ``chapters/params/<stem>.<profile>.yaml`` or a YAML file.

    Example:
        >>> load_profile("02", "full")["repetitions"]
        4000
        >>> load_profile("02", None)
        {}
    """
    if profile is None:
        return {}
    if not isinstance(profile, (str, os.PathLike)) or not str(profile):
        raise TypeError(f"profile must be a name or a YAML path, got {profile!r}")
    path = find_chapter(chapter)
    text = str(profile)
    if text.endswith((".yaml", ".yml")) or os.sep in text:
        file = Path(text)
    else:
        file = path.parent / "params" / f"{path.stem}.{text}.yaml"
    if not file.is_file():
        known = sorted(p.name for p in (path.parent / "params").glob(f"{path.stem}.*.yaml"))
        raise FileNotFoundError(f"profile {text!r} of {path.stem}: no file {file}; "
                                f"available: {known}")
    values = yaml.safe_load(file.read_text()) or {}
    if not isinstance(values, dict):
        raise ValueError(f"profile {file} must be a mapping of parameters")
    return values


def _canonical(payload: Any) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)


def run_id(chapter: str, parameters: Mapping[str, Any]) -> str:
    """The deterministic id of a run: ``<chapter>-<12 hex digits of the parameters' hash>``.

    The hash covers the chapter stem and the (checked) parameters, in any order.
    """
    digest = hashlib.sha256(_canonical({"chapter": chapter, "parameters": dict(parameters)})
                            .encode()).hexdigest()
    return f"{chapter}-{digest[:12]}"


# --------------------------------------------------------------------------------------------
# one run


@dataclass
class RunOutcome:
    """What became of one run.

    Attributes:
        run_id: the deterministic id (also the run directory's name).
        run_dir: the run directory.
        status: ``"finished"``, ``"failed"`` or, for a finished run that was skipped,
            ``"skipped"``.
        parameters: the checked parameters.
        results: the chapter's recorded results (``None`` if it failed or recorded none).
        duration_s: wall-clock seconds of the execution.
        error: ``"ExceptionName: message"`` of a failed run.
    """

    run_id: str
    run_dir: Path
    status: str
    parameters: dict[str, Any]
    results: dict[str, Any] | None = None
    duration_s: float | None = None
    error: str | None = None


def read_status(run_dir: str | os.PathLike) -> dict[str, Any] | None:
    """The ``status.json`` of a run directory, or ``None`` if there is none (or it is unreadable)."""
    file = Path(run_dir) / STATUS_FILE
    try:
        return json.loads(file.read_text())
    except (OSError, ValueError):
        return None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _with_own_event_loop(fn: Any) -> Any:
    """Call ``fn()`` with an event loop of its own, closed afterwards.

    papermill runs nbclient through ``jupyter_core.utils.run_sync``, which keeps its loop in a
    context variable; Dask copies the submitting thread's context into its worker threads, so
    two in-process workers would share (and both try to run) one loop. A fresh context gives
    each run its own loop. Under an already running loop (in a notebook) ``fn`` is called as it
    is: jupyter_core then runs the coroutines on a runner thread.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        return fn()

    def call() -> Any:
        from jupyter_core.utils import ensure_event_loop

        loop = ensure_event_loop()  # new: the fresh context has none
        try:
            return fn()
        finally:
            asyncio.set_event_loop(None)
            loop.close()

    return contextvars.Context().run(call)


def _execute(spec: dict[str, Any]) -> dict[str, Any]:
    """Execute one run (the Dask task): ``spec`` has notebook, chapter, run_id, run_dir,
    parameters, kernel_name, progress_bar, skip_finished. Returns the final status dict."""
    import papermill

    from qmlkit._about import versions

    run_dir = Path(spec["run_dir"])
    old = read_status(run_dir)
    if spec["skip_finished"] and old is not None and old.get("status") == "finished":
        return {**old, "skipped": True}
    if run_dir.exists():  # interrupted, failed or rerun: start from an empty directory
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)
    stem = spec["chapter"]
    info = versions()
    status: dict[str, Any] = {
        "status": "running",
        "run_id": spec["run_id"],
        "chapter": stem,
        "notebook": spec["notebook"],
        "parameters": spec["parameters"],
        "started": _now(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "commit": info.get("git commit"),
        "versions": info,
    }
    write_json_atomic(run_dir / PARAMETERS_FILE, spec["parameters"])
    write_json_atomic(run_dir / STATUS_FILE, status)
    start = time.perf_counter()
    try:
        _with_own_event_loop(lambda: papermill.execute_notebook(
            spec["notebook"], str(run_dir / f"{stem}.ipynb"),
            parameters={**spec["parameters"], "results_dir": str(run_dir)},
            # The kernel starts in the chapter's folder through nbclient's resources, not
            # papermill's ``cwd``, which chdirs the whole process: concurrent runs in Dask
            # threads would race on the working directory (and break relative paths).
            resources={"metadata": {"path": str(Path(spec["notebook"]).resolve().parent)}},
            kernel_name=spec["kernel_name"],
            progress_bar=spec["progress_bar"], log_output=False,
        ))
    except Exception as exc:  # a failed chapter is recorded, not raised
        if isinstance(exc, papermill.PapermillExecutionError):
            error = f"{exc.ename}: {exc.evalue}"
            tb = _ANSI.sub("", "\n".join(exc.traceback))
            tb = f"in cell {exc.exec_count} of {stem}.ipynb\n{tb}"
        else:
            error = f"{type(exc).__name__}: {exc}"
            tb = traceback.format_exc()
        status.update(status="failed", error=error, traceback=tb, results=None)
    else:
        record = run_dir / f"{stem}.json"
        results = json.loads(record.read_text())["results"] if record.is_file() else None
        status.update(status="finished", results=results)
    status["finished"] = _now()
    status["duration_s"] = round(time.perf_counter() - start, 3)
    write_json_atomic(run_dir / STATUS_FILE, status)
    return status


def _outcome(status: dict[str, Any], run_dir: Path) -> RunOutcome:
    return RunOutcome(
        run_id=status["run_id"], run_dir=run_dir,
        status="skipped" if status.get("skipped") else status["status"],
        parameters=status["parameters"], results=status.get("results"),
        duration_s=status.get("duration_s"), error=status.get("error"))


def _check_kernel(kernel_name: Any) -> str:
    if not isinstance(kernel_name, str) or not kernel_name:
        raise TypeError(f"kernel_name must be a non-empty string, got {kernel_name!r}")
    return kernel_name


def _merged_parameters(path: Path, profile: str | os.PathLike | None,
                       parameters: Mapping[str, Any] | None) -> dict[str, Any]:
    if parameters is not None and not isinstance(parameters, Mapping):
        raise TypeError(f"parameters must be a mapping, got {type(parameters).__name__}")
    merged = {**load_profile(path, profile), **dict(parameters or {})}
    return check_parameters(path, merged)


def run_chapter(chapter: str | os.PathLike, *, parameters: Mapping[str, Any] | None = None,
                profile: str | os.PathLike | None = None,
                out: str | os.PathLike = RESULTS_ROOT, kernel_name: str = "python3",
                progress_bar: bool = False, skip_finished: bool = False) -> RunOutcome:
    """Run a chapter with papermill into ``<out>/<chapter>/<run-id>/``.

    Args:
        chapter: path, stem or number of the chapter (see :func:`find_chapter`).
        parameters: papermill parameters; they override the profile's.
        profile: a profile name (``"full"``) or YAML file (see :func:`load_profile`).
        out: root of the results.
        kernel_name: the Jupyter kernel.
        progress_bar: show papermill's cell progress bar (on standard error).
        skip_finished: return a finished earlier run with the same parameters instead of
            running it again.

    Returns:
        The :class:`RunOutcome`; a chapter that raises gives ``status="failed"`` (with the
        traceback in ``status.json``), invalid parameters raise before anything runs.

    Example:
        >>> run_chapter("02", parameters={"seed": "one"})
        Traceback (most recent call last):
        ...
        TypeError: seed must be an integer like its default 2025, got str 'one'
    """
    path = find_chapter(chapter)
    checked = _merged_parameters(path, profile, parameters)
    progress_bar = check_bool("progress_bar", progress_bar)
    kernel_name = _check_kernel(kernel_name)
    skip_finished = check_bool("skip_finished", skip_finished)
    if not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"out must be a path, got {type(out).__name__}")
    rid = run_id(path.stem, checked)
    run_dir = (Path(out) / path.stem / rid).resolve()
    status = _execute(dict(notebook=str(path), chapter=path.stem, run_id=rid,
                           run_dir=str(run_dir), parameters=checked, kernel_name=kernel_name,
                           progress_bar=progress_bar, skip_finished=skip_finished))
    return _outcome(status, run_dir)


# --------------------------------------------------------------------------------------------
# sweeps


@dataclass
class SweepOutcome:
    """What became of a sweep: its directory and one :class:`RunOutcome` per grid point."""

    sweep_dir: Path
    runs: list[RunOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        """How many runs have ``status``."""
        return sum(r.status == status for r in self.runs)


def _sweep_plan(path: Path, grid: Mapping[str, Sequence[Any]],
                fixed: dict[str, Any]) -> list[dict[str, Any]]:
    if not isinstance(grid, Mapping) or not grid:
        raise ValueError("grid must be a non-empty mapping NAME -> values")
    for name, values in grid.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
            raise ValueError(f"grid {name} must be a non-empty list of values")
    points = [dict(zip(grid, combo, strict=True))
              for combo in itertools.product(*grid.values())]
    plan, seen = [], {}
    for point in points:  # every point is checked before anything runs
        params = check_parameters(path, {**fixed, **point})
        rid = run_id(path.stem, params)
        if rid in seen:
            raise ValueError(f"grid points {seen[rid]} and {point} are the same run")
        seen[rid] = point
        plan.append({"run_id": rid, "point": {k: params[k] for k in grid},
                     "parameters": params})
    return plan


def run_sweep(chapter: str | os.PathLike, *, grid: Mapping[str, Sequence[Any]],
              parameters: Mapping[str, Any] | None = None,
              profile: str | os.PathLike | None = None, out: str | os.PathLike = RESULTS_ROOT,
              scheduler: str | None = None, workers: int | None = None,
              kernel_name: str = "python3", progress: bool = True) -> SweepOutcome:
    """Run a chapter over the Cartesian product of ``grid`` on Dask distributed.

    The sweep directory ``<out>/<chapter>/sweep-<id>/`` (the id hashes the chapter, the grid
    and the fixed parameters) gets ``manifest.json`` and one run directory per grid point.
    Started again, the same sweep skips the runs that finished and reruns interrupted and
    failed ones; a failing run is recorded (``status.json`` with the traceback) while the
    others go on.

    Args:
        chapter: path, stem or number of the chapter.
        grid: parameter name -> list of values; every combination is one run.
        parameters: fixed parameters of every run (override the profile's).
        profile: a profile name or YAML file (see :func:`load_profile`).
        out: root of the results.
        scheduler: address of a running Dask scheduler (``tcp://host:8786``); by default a
            LocalCluster is started for the sweep and closed after it.
        workers: LocalCluster workers (one thread each, default 2); not with ``scheduler``.
        kernel_name: the Jupyter kernel of the runs.
        progress: show a progress bar on standard error.

    Returns:
        The :class:`SweepOutcome`.

    Example:
        >>> run_sweep("02", grid={"seed": [1, 1.5]})
        Traceback (most recent call last):
        ...
        TypeError: seed must be an integer like its default 2025, got float 1.5
    """
    path = find_chapter(chapter)
    fixed = _merged_parameters(path, profile, parameters)
    plan = _sweep_plan(path, grid, fixed)
    progress = check_bool("progress", progress)
    kernel_name = _check_kernel(kernel_name)
    if scheduler is not None and workers is not None:
        raise ValueError("workers is for the LocalCluster; a scheduler brings its own workers")
    if scheduler is not None and not isinstance(scheduler, str):
        raise TypeError(f"scheduler must be an address string, got {type(scheduler).__name__}")
    workers = check_int("workers", 2 if workers is None else workers, minimum=1)
    if not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"out must be a path, got {type(out).__name__}")

    grid_lists = {name: [p["point"][name] for p in plan] for name in grid}
    grid_values = {name: list(dict.fromkeys(_canonical(v) for v in vals))
                   for name, vals in grid_lists.items()}
    grid_values = {name: [json.loads(v) for v in vals] for name, vals in grid_values.items()}
    sweep_hash = hashlib.sha256(_canonical(
        {"chapter": path.stem, "grid": grid_values, "fixed": fixed}).encode()).hexdigest()[:12]
    sweep_dir = (Path(out) / path.stem / f"sweep-{sweep_hash}").resolve()
    from qmlkit._about import versions

    info = versions()
    old = _read_json(sweep_dir / MANIFEST_FILE) or {}
    write_json_atomic(sweep_dir / MANIFEST_FILE, {
        "chapter": path.stem, "notebook": str(path), "sweep_id": f"sweep-{sweep_hash}",
        "grid": grid_values, "fixed_parameters": fixed,
        "profile": None if profile is None else str(profile),
        "created": old.get("created", _now()), "updated": _now(),
        "scheduler": scheduler or f"LocalCluster(n_workers={workers})",
        "commit": info.get("git commit"), "versions": info,
        "runs": [{"run_id": p["run_id"], "grid_point": p["point"]} for p in plan],
    })

    specs, outcome = [], SweepOutcome(sweep_dir)
    for p in plan:
        run_dir = sweep_dir / p["run_id"]
        status = read_status(run_dir)
        if status is not None and status.get("status") == "finished":
            outcome.runs.append(_outcome({**status, "skipped": True}, run_dir))
            continue
        specs.append(dict(notebook=str(path), chapter=path.stem, run_id=p["run_id"],
                          run_dir=str(run_dir), parameters=p["parameters"],
                          kernel_name=kernel_name, progress_bar=False, skip_finished=True))
    if progress and outcome.runs:
        print(f"{len(outcome.runs)} of {len(plan)} runs already finished in {sweep_dir}",
              file=sys.stderr)
    if specs:
        outcome.runs += _run_on_dask(specs, scheduler=scheduler, workers=workers,
                                     progress=progress)
    order = {p["run_id"]: i for i, p in enumerate(plan)}
    outcome.runs.sort(key=lambda r: order[r.run_id])
    return outcome


def _run_on_dask(specs: list[dict[str, Any]], *, scheduler: str | None, workers: int,
                 progress: bool) -> list[RunOutcome]:
    import logging

    from distributed import Client, LocalCluster, as_completed
    from tqdm import tqdm

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=False,
                               dashboard_address=None, silence_logs=logging.ERROR)
        client = Client(cluster)
    else:
        client = Client(scheduler)
    results = []
    run_dirs = {spec["run_id"]: Path(spec["run_dir"]) for spec in specs}
    try:
        futures = [client.submit(_execute, spec, key=f"qmlkit-{spec['run_id']}", pure=False)
                   for spec in specs]
        bar = tqdm(total=len(futures), file=sys.stderr, disable=not progress, unit="run",
                   desc="sweep")
        with bar:
            for future in as_completed(futures):
                status = future.result()
                results.append(_outcome(status, run_dirs[status["run_id"]]))
                bar.set_postfix_str(f"{status['run_id']} {status['status']}", refresh=False)
                bar.update()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return results


# --------------------------------------------------------------------------------------------
# collecting a sweep


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


@dataclass
class CollectOutcome:
    """The tidy table of a sweep and where it and the plot were written.

    Attributes:
        table: the :class:`pandas.DataFrame`, one row per run.
        table_path: where it was written.
        grid: the grid parameters' names, in order.
        plot_path: where the plot was written (``None`` if there is none).
        plotted: ``(result, grid parameter)`` of the plot.
    """

    table: Any
    table_path: Path
    grid: list[str]
    plot_path: Path | None
    plotted: tuple[str, str] | None


def _cell(value: Any) -> Any:
    if isinstance(value, (list, dict, tuple)):
        return json.dumps(value)
    return value


def collect(sweep_dir: str | os.PathLike, *, format: str = "csv",
            output: str | os.PathLike | None = None,
            plot: str | os.PathLike | bool = True, y: str | None = None) -> CollectOutcome:
    """Gather a sweep's runs into one tidy table and plot its first result.

    One row per grid point of the manifest: ``run_id``, ``status`` (``finished``, ``failed``,
    ``incomplete`` for an interrupted run, ``pending`` for one never started), every
    parameter, every recorded result (lists and mappings as JSON text; a result named like a
    parameter gets the prefix ``result:``), ``duration_s``, ``commit`` (the git commit the run
    used: a resumed sweep keeps runs made with older code) and ``error``.

    Args:
        sweep_dir: the sweep directory (with ``manifest.json``).
        format: ``"csv"`` or ``"parquet"`` (needs pyarrow).
        output: the table's path; default ``<sweep_dir>/results.<format>``.
        plot: the plot's path, ``True`` for ``<sweep_dir>/plot.png``, ``False`` for none. The
            plot shows a result against the first grid parameter, one line per combination of
            the other grid parameters.
        y: the plotted result; by default the first numeric result that differs between the
            finished runs (the first numeric one if all are constant).

    Example:
        >>> collect("no/such/sweep")
        Traceback (most recent call last):
        ...
        FileNotFoundError: no/such/sweep is not a sweep directory (no manifest.json)
    """
    import pandas as pd

    if not isinstance(sweep_dir, (str, os.PathLike)):
        raise TypeError(f"sweep_dir must be a path, got {type(sweep_dir).__name__}")
    sweep = Path(sweep_dir)
    format = check_choice("format", format, TABLE_FORMATS)
    if not isinstance(plot, (bool, str, os.PathLike)):
        raise TypeError(f"plot must be a path or a bool, got {type(plot).__name__}")
    manifest = _read_json(sweep / MANIFEST_FILE)
    if manifest is None:
        raise FileNotFoundError(f"{sweep_dir} is not a sweep directory (no {MANIFEST_FILE})")
    if format == "parquet" and importlib.util.find_spec("pyarrow") is None:
        raise ImportError("the parquet format needs the package 'pyarrow', which is not "
                          "installed (pip install pyarrow); use the csv format")
    grid_names = list(manifest["grid"])
    rows = []
    for entry in manifest["runs"]:
        status = read_status(sweep / entry["run_id"])
        params = {**manifest["fixed_parameters"], **entry["grid_point"]}
        row: dict[str, Any] = {"run_id": entry["run_id"]}
        if status is None:
            row["status"] = "pending"
        elif status["status"] == "running":
            row["status"] = "incomplete"
        else:
            row["status"] = status["status"]
        for name in grid_names + [n for n in params if n not in grid_names]:
            row[name] = _cell(params[name])
        for key, value in ((status or {}).get("results") or {}).items():
            row[f"result: {key}" if key in row else key] = _cell(value)
        row["duration_s"] = (status or {}).get("duration_s")
        row["commit"] = (status or {}).get("commit")
        row["error"] = (status or {}).get("error")
        rows.append(row)
    columns = list(dict.fromkeys(k for row in rows for k in row))
    tail = ["duration_s", "commit", "error"]
    columns = [c for c in columns if c not in tail] + tail
    table = pd.DataFrame(rows, columns=columns)

    table_path = Path(output) if output is not None else sweep / f"results.{format}"
    table_path.parent.mkdir(parents=True, exist_ok=True)
    if format == "csv":
        table.to_csv(table_path, index=False)
    else:
        table.to_parquet(table_path, index=False)

    plot_path: Path | None = None
    plotted = None
    if plot is not False:
        plot_path = sweep / "plot.png" if plot is True else Path(plot)
        plotted = _plot(table, grid_names, set(manifest["fixed_parameters"]), plot_path, y,
                        title=str(manifest.get("chapter", sweep.name)))
        if plotted is None:
            plot_path = None
    return CollectOutcome(table=table, table_path=table_path, grid=grid_names,
                          plot_path=plot_path, plotted=plotted)


def _plot(table: Any, grid_names: list[str], fixed: set[str], path: Path,
          y: str | None, *, title: str) -> tuple[str, str] | None:
    import pandas as pd
    from matplotlib.figure import Figure

    done = table[table["status"] == "finished"]
    params = set(grid_names) | fixed
    skip = params | {"run_id", "status", "duration_s", "commit", "error"}
    numeric = [c for c in done.columns if c not in skip
               and pd.api.types.is_numeric_dtype(done[c])
               and not pd.api.types.is_bool_dtype(done[c]) and done[c].notna().any()]
    if y is not None:
        if not isinstance(y, str):
            raise TypeError(f"y must be a result name, got {type(y).__name__}")
        if y not in numeric:
            raise ValueError(f"y={y!r} is not a numeric result of the finished runs; "
                             f"numeric results: {numeric}")
    if not numeric or done.empty:
        return None
    if y is None:
        varying = [c for c in numeric if done[c].nunique(dropna=True) > 1]
        y = (varying or numeric)[0]
    x = grid_names[0]
    others = grid_names[1:]
    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    numeric_x = pd.api.types.is_numeric_dtype(done[x]) and not pd.api.types.is_bool_dtype(done[x])
    labels = list(dict.fromkeys(done[x].astype(str)))
    groups = done.groupby(others, sort=False) if others else [((), done)]
    for key, group in groups:
        group = group.sort_values(x) if numeric_x else group
        xs = group[x] if numeric_x else [labels.index(v) for v in group[x].astype(str)]
        key = key if isinstance(key, tuple) else (key,)
        label = ", ".join(f"{n}={v}" for n, v in zip(others, key, strict=True)) or None
        ax.plot(xs, group[y], marker="o", label=label)
    if not numeric_x:
        ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(f"{title}: {y}")
    if others:
        ax.legend(fontsize="small")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    return y, x
