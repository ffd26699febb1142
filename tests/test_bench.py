"""Smoke tests of the benchmark scripts in ``bench/``: each runs at its smallest sizes.

Every bench is run as a script (``python bench/NAME.py``, as documented) in a subprocess and
must exit 0 and write a JSON record of the common shape. Timings are never asserted, only
that they are finite numbers; ``max_abs_diff`` is checked where the bench compares results
that should agree. The qiskit part of ``bench/kernels.py`` needs a separate interpreter and
is skipped (no ``--qiskit-python``).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
REQUIRED = ("benchmark", "params", "timings_s", "ratios", "max_abs_diff")

#: name -> (smallest CLI options, tolerance on max_abs_diff or None where the bench reports
#: errors rather than differences between equal results)
CASES = {
    "gradients": (["--qubits", "1", "--layers", "1", "--batch", "1", "--repeats", "1",
                   "--budget-s", "0", "--qmlkit-examples", "1"], 1e-4),  # TFQ is float32
    "shadows": (["--qubits", "2", "--snapshots", "20", "--groups", "1", "--repeats", "1",
                 "--budget-s", "0", "--pennylane-qubits", "2"], 1e-9),
    "kernels": (["--n", "2", "--qubits", "1", "--reps", "1", "--repeats", "1",
                 "--pennylane-n", "2", "--cirq-n", "2", "--blas-threads", "1"], 1e-6),
    "mitigation": (["--qubits", "2", "--layers", "1", "--circuits", "1", "--shots", "10",
                    "--pec-samples", "1", "--settings", "depolarizing"], None),
}


def _finite_numbers(mapping: dict) -> None:
    for key, value in mapping.items():
        assert isinstance(value, int | float) and not isinstance(value, bool), (key, value)
        assert math.isfinite(value), (key, value)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_bench_runs_and_writes_json(name: str, tmp_path: Path) -> None:
    options, tolerance = CASES[name]
    out = tmp_path / "x.json"
    proc = subprocess.run([sys.executable, str(BENCH / f"{name}.py"), *options,
                           "--json", str(out)],
                          capture_output=True, text=True, timeout=600, check=False,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert f"wrote {out}" in proc.stdout
    payload = json.loads(out.read_text())
    for key in REQUIRED:
        assert key in payload, key
    assert payload["benchmark"] == name
    assert isinstance(payload["params"], dict) and payload["params"]["seed"] == 20251217
    assert payload["timings_s"]
    _finite_numbers(payload["timings_s"])
    assert all(v >= 0 for v in payload["timings_s"].values())
    _finite_numbers(payload["max_abs_diff"])
    if name != "mitigation":  # its reductions may be inf where an error is exactly 0
        assert payload["ratios"]
        _finite_numbers(payload["ratios"])
    if tolerance is not None:
        assert payload["max_abs_diff"]
        for key, diff in payload["max_abs_diff"].items():
            assert diff <= tolerance, (key, diff)


@pytest.mark.slow
def test_common_timed_without_budget_takes_exactly_repeats() -> None:
    sys.path.insert(0, str(BENCH))
    try:
        import _common
    finally:
        sys.path.remove(str(BENCH))
    calls = []
    value, samples = _common.timed(lambda: calls.append(1) or len(calls), 3)
    assert value == 4 and len(samples) == 3 and len(calls) == 4
