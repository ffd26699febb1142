"""Helpers shared by the benchmark scripts in ``bench/`` (timing, JSON, tables, CLI).

The scripts are run as ``python bench/NAME.py``; each puts its own folder on ``sys.path``
(already there when run as a script; needed when loaded from elsewhere, e.g. by a test) and
imports this module as ``_common``.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from qmlkit.records import write_json_atomic


def timed(fn: Callable[[], Any], repeats: int, *, budget_s: float = math.inf,
          warmup_threshold_s: float = math.inf) -> tuple[Any, list[float]]:
    """Time ``fn``: a warm-up call, then up to ``repeats`` timed calls within ``budget_s``.

    The warm-up call is discarded unless it took longer than ``warmup_threshold_s`` (one-off
    costs are then negligible), in which case it is the first sample. Repeats stop early once
    the samples add up to ``budget_s``; there is always at least one sample. With the defaults
    (no budget, no threshold) it is one discarded warm-up and exactly ``repeats`` samples.
    Returns the last result and the samples.
    """
    start = time.perf_counter()
    value = fn()
    first = time.perf_counter() - start
    samples = [first] if first > warmup_threshold_s else []
    while len(samples) < repeats and (not samples or sum(samples) < budget_s):
        start = time.perf_counter()
        value = fn()
        samples.append(time.perf_counter() - start)
    return value, samples


def medians(samples: Mapping[str, list[float]]) -> dict[str, float]:
    """The median of each method's samples."""
    return {name: statistics.median(s) for name, s in samples.items()}


def python_version() -> str:
    """``sys.version`` without the build details, as recorded in ``params.versions``."""
    return sys.version.split()[0]


def add_json_argument(parser: argparse.ArgumentParser) -> None:
    """The ``--json PATH`` option every benchmark has."""
    parser.add_argument("--json", type=Path, default=None, help="write the results here")


def check_positive(parser: argparse.ArgumentParser, args: argparse.Namespace,
                   names: Iterable[str]) -> None:
    """``parser.error`` unless each named option is ``>= 1``."""
    for name in names:
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")


def print_values(title: str, values: Mapping[str, float], fmt: str, *, width: int = 66,
                 value_width: int = 10) -> None:
    """A two-column table: ``title`` and ``value`` headers, then one row per entry."""
    print(f"{title:<{width}}{'value':>{value_width}}")
    for name, v in values.items():
        print(f"{name:<{width}}{v:>{value_width}{fmt}}")


def print_ratios_and_diffs(ratios: Mapping[str, float], max_abs_diff: Mapping[str, float], *,
                           ratio_fmt: str = ".2f", value_width: int = 10) -> None:
    """The ``ratio`` and ``max |difference|`` tables of a benchmark's report."""
    print_values("ratio", ratios, ratio_fmt, value_width=value_width)
    print_values("max |difference|", max_abs_diff, ".2e", value_width=value_width)


def write_payload(path: Path | None, payload: Mapping[str, Any]) -> None:
    """Write ``payload`` atomically to ``path`` (if given) and say so."""
    if path is not None:
        write_json_atomic(path, payload)
        print(f"wrote {path}")
