"""Benchmark: Gram matrix of the ZZ feature map, qmlkit vs qiskit-machine-learning vs PennyLane.

The fidelity-kernel Gram matrix ``K_ij = |<φ(x_i)|φ(x_j)>|²`` of the ZZ feature map
(Havlíček et al. 2019; ``--reps`` repetitions, full entanglement, qiskit's conventions:
``P(2 x_i)`` and ``P(2 φ_ij)`` with ``φ_ij = (π - x_i)(π - x_j)``) for ``--n`` points of
``--qubits`` features drawn uniformly in ``[0, 2π)`` (seeded), computed by

* qmlkit: :func:`qmlkit.kernels.fidelity_kernel` with :class:`qmlkit.kernels.ZZFeatureMap`
  (vectorised numpy state vectors, no per-point simulation), and, for reference, the generic
  Cirq path (one Cirq simulation per point) on the first ``--cirq-n`` points;
* qiskit-machine-learning: ``FidelityStatevectorKernel(feature_map=zz_feature_map(...))`` on
  the same data, run by a *separate* interpreter (``--qiskit-python``, a virtualenv with
  ``qiskit`` and ``qiskit-machine-learning``; they are not part of the locked environment);
  skipped with a message when no interpreter is given or it lacks the packages;
* PennyLane: ``qml.kernels.square_kernel_matrix`` with a compute–uncompute QNode on
  ``default.qubit``, on the first ``--pennylane-n`` points only (it evaluates one circuit per
  pair); its time is extrapolated to ``N`` by ``(N/n)²`` and labelled so.

Results are compared entrywise (``max_abs_diff``; equal results means ``<= 1e-6``). Timings
are medians of ``--repeats`` runs after a warm-up (PennyLane and the Cirq path: one run),
reported, never asserted.

Usage::

    python bench/kernels.py --qiskit-python /tmp/qiskit-venv/bin/python \\
        --json data/derived/bench_kernels.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import qmlkit
from qmlkit.encodings import zz_feature_map
from qmlkit.kernels import ZZFeatureMap, fidelity_kernel

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/_common.py, also if imported
import _common as common

#: Run by ``--qiskit-python``: argv = data.npy, out.npy, reps, repeats; prints JSON timings.
QISKIT_SCRIPT = r"""
import json, statistics, sys, time
import numpy as np
import qiskit, qiskit_machine_learning
from qiskit.circuit.library import zz_feature_map
from qiskit_machine_learning.kernels import FidelityStatevectorKernel

x = np.load(sys.argv[1]); reps = int(sys.argv[3]); repeats = int(sys.argv[4])
fm = zz_feature_map(x.shape[1], reps=reps, entanglement="full")
kernel = FidelityStatevectorKernel(feature_map=fm)
kernel.evaluate(x[:4])  # warm-up
samples, k = [], None
for _ in range(repeats):
    t = time.perf_counter(); k = kernel.evaluate(x); samples.append(time.perf_counter() - t)
np.save(sys.argv[2], k)
print(json.dumps({"samples": samples, "qiskit": qiskit.__version__,
                  "qiskit_machine_learning": qiskit_machine_learning.__version__}))
"""


def qiskit_gram(python: str | None, x: np.ndarray, reps: int, repeats: int,
                threads: int | None = None
                ) -> tuple[np.ndarray | None, list[float] | None, dict[str, str], str]:
    """The qiskit-ml Gram matrix via ``python``, or ``None`` and the reason it was skipped."""
    if not python:
        return None, None, {}, "skipped: no --qiskit-python given"
    with tempfile.TemporaryDirectory() as tmp:
        data, out = Path(tmp) / "x.npy", Path(tmp) / "k.npy"
        np.save(data, x)
        env = dict(os.environ)
        if threads is not None:
            env.update({k: str(threads) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                                   "MKL_NUM_THREADS")})
        try:
            proc = subprocess.run([python, "-c", QISKIT_SCRIPT, str(data), str(out), str(reps),
                                   str(repeats)], capture_output=True, text=True, timeout=3600,
                                  check=False, env=env)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, None, {}, f"skipped: could not run {python}: {exc}"
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            return None, None, {}, f"skipped: {python} failed: {last}"
        info = json.loads(proc.stdout.strip().splitlines()[-1])
        versions = {k: info[k] for k in ("qiskit", "qiskit_machine_learning")}
        return np.load(out), info["samples"], versions, "ran"


def pennylane_gram(x: np.ndarray, reps: int) -> Callable[[], np.ndarray]:
    """PennyLane's ``square_kernel_matrix`` with a compute–uncompute ZZ QNode."""
    import pennylane as qml

    n = x.shape[1]
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    dev = qml.device("default.qubit", wires=n)

    def zz(v: np.ndarray) -> None:
        for _ in range(reps):
            for i in range(n):
                qml.Hadamard(wires=i)
                qml.PhaseShift(2 * v[i], wires=i)
            for i, j in pairs:
                qml.CNOT(wires=[i, j])
                qml.PhaseShift(2 * (np.pi - v[i]) * (np.pi - v[j]), wires=j)
                qml.CNOT(wires=[i, j])

    @qml.qnode(dev)
    def overlap(a: np.ndarray, b: np.ndarray) -> Any:
        zz(a)
        qml.adjoint(zz)(b)
        return qml.probs(wires=range(n))

    return lambda: np.asarray(qml.kernels.square_kernel_matrix(
        x, lambda a, b: overlap(a, b)[0], assume_normalized_kernel=True))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=512, help="number of points")
    parser.add_argument("--qubits", type=int, default=8)
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20251217)
    parser.add_argument("--qiskit-python", default=None,
                        help="interpreter with qiskit + qiskit-machine-learning (else skipped)")
    parser.add_argument("--pennylane-n", type=int, default=16,
                        help="points for PennyLane (0: skip); time extrapolated by N^2")
    parser.add_argument("--cirq-n", type=int, default=64,
                        help="points for qmlkit's generic Cirq path (0: skip)")
    parser.add_argument("--blas-threads", type=int, default=None,
                        help="limit BLAS/OpenMP threads (here via threadpoolctl, and for the "
                             "qiskit interpreter via OPENBLAS/OMP/MKL_NUM_THREADS); on a shared, "
                             "loaded machine 1 avoids oversubscription")
    common.add_json_argument(parser)
    args = parser.parse_args(argv)
    common.check_positive(parser, args, ("n", "qubits", "reps", "repeats"))
    if args.blas_threads is not None:
        if args.blas_threads < 1:
            parser.error("--blas-threads must be >= 1")
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=args.blas_threads):
            return _run(args)
    return _run(args)


def _run(args: argparse.Namespace) -> dict[str, Any]:
    """The benchmark proper, for parsed arguments."""

    rng = np.random.default_rng(args.seed)
    x = rng.uniform(0.0, 2 * np.pi, size=(args.n, args.qubits))
    fm = ZZFeatureMap(reps=args.reps, entanglement="full")
    k_fast, fast_samples = common.timed(lambda: fidelity_kernel(x, feature_map=fm), args.repeats)
    samples: dict[str, list[float]] = {"qmlkit_vectorised": fast_samples}
    timings: dict[str, float] = common.medians(samples)
    max_abs_diff: dict[str, float] = {}
    ratios: dict[str, float] = {}
    notes: dict[str, str] = {}

    n_cirq = min(max(args.cirq_n, 0), args.n)
    if n_cirq:
        def generic() -> np.ndarray:
            return fidelity_kernel(x[:n_cirq], feature_map=lambda v: zz_feature_map(
                v, reps=args.reps, entanglement="full"))
        start = time.perf_counter()
        k_cirq = generic()
        t = time.perf_counter() - start
        samples["qmlkit_cirq_generic_measured"] = [t]
        timings[f"qmlkit_cirq_generic_at_N={args.n}_extrapolated_linear"] = t * args.n / n_cirq
        notes["qmlkit_cirq_generic"] = (f"measured on {n_cirq} points ({t:.3f} s); one Cirq "
                                        f"simulation per point, extrapolated by N")
        max_abs_diff["qmlkit_vectorised_vs_cirq_generic"] = float(
            np.max(np.abs(k_fast[:n_cirq, :n_cirq] - k_cirq)))

    k_qiskit, q_samples, q_versions, q_status = qiskit_gram(args.qiskit_python, x, args.reps,
                                                            args.repeats, args.blas_threads)
    notes["qiskit_machine_learning"] = q_status
    if k_qiskit is not None and q_samples:
        timings.update(common.medians({"qiskit_ml_fidelity_statevector_kernel": q_samples}))
        samples["qiskit_ml_fidelity_statevector_kernel"] = q_samples
        max_abs_diff["qmlkit_vs_qiskit_ml"] = float(np.max(np.abs(k_fast - k_qiskit)))
        ratios["qiskit_ml_over_qmlkit"] = (timings["qiskit_ml_fidelity_statevector_kernel"]
                                           / timings["qmlkit_vectorised"])

    n_pl = min(max(args.pennylane_n, 0), args.n)
    if n_pl:
        import pennylane

        fn = pennylane_gram(x[:n_pl], args.reps)
        start = time.perf_counter()
        k_pl = fn()  # one run, no warm-up: it is slow, and the warm-up would double it
        t = time.perf_counter() - start
        samples["pennylane_measured"] = [t]
        key = f"pennylane_square_kernel_matrix_at_N={args.n}_extrapolated_N2"
        timings[key] = t * (args.n / n_pl) ** 2
        notes["pennylane"] = (f"measured on {n_pl} points ({t:.3f} s, {n_pl * (n_pl - 1) // 2} "
                              f"circuits), extrapolated by (N/n)^2")
        max_abs_diff["qmlkit_vs_pennylane"] = float(np.max(np.abs(k_fast[:n_pl, :n_pl] - k_pl)))
        ratios["pennylane_extrapolated_over_qmlkit"] = timings[key] / timings["qmlkit_vectorised"]
        q_versions["pennylane"] = pennylane.__version__

    payload = {
        "benchmark": "kernels",
        "params": {
            "n": args.n, "qubits": args.qubits, "reps": args.reps, "entanglement": "full",
            "data": "uniform [0, 2pi)", "repeats": args.repeats, "seed": args.seed,
            "statistic": "median after one warm-up", "pennylane_n": n_pl, "cirq_n": n_cirq,
            "blas_threads": args.blas_threads,
            "notes": notes,
            "versions": {"qmlkit": qmlkit.__version__, "numpy": np.__version__,
                         "python": common.python_version(), **q_versions},
        },
        "timings_s": timings,
        "ratios": ratios,
        "max_abs_diff": max_abs_diff,
        "samples_s": samples,
    }

    print(f"kernels: ZZ feature map Gram matrix, N={args.n}, {args.qubits} qubits, "
          f"reps {args.reps}, full entanglement; median time per matrix")
    print(f"{'method':<66}{'time [s]':>12}")
    for name, t in timings.items():
        print(f"{name:<66}{t:>12.4f}")
    common.print_ratios_and_diffs(ratios, max_abs_diff, ratio_fmt=".1f", value_width=12)
    for name, note in notes.items():
        print(f"{name}: {note}")
    common.write_payload(args.json, payload)
    return payload


if __name__ == "__main__":
    main()
