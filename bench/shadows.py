"""Benchmark: classical-shadow generation and estimation, qmlkit vs PennyLane (and Mitiq).

**Estimation.** A ``--qubits``-qubit state (the critical transverse-field Ising ground state,
``h = J = 1``, open chain, from :func:`qmlkit.datasets.tfim_ground_state`) gets ``--snapshots``
Pauli snapshots from :meth:`qmlkit.shadows.ClassicalShadow.from_state`. On these *identical*
snapshots the benchmark times the median-of-means estimate (``--groups`` groups) of a set of
Pauli observables by

* qmlkit, ``ClassicalShadow.expval(words, n_groups=groups)``,
* PennyLane, ``qml.ClassicalShadow(bits, recipes).expval(observables, k=groups)``,
* Mitiq, ``classical_post_processing(outcomes, observables=..., k_shadows=groups)`` (timed once;
  ``--no-mitiq`` skips it),

and reports the largest difference between their estimates (identical up to rounding) and the
largest error against the exact values. ``--observables correlators`` (default) is every
one-local Pauli and every same-axis two-point correlator ``σ^a_i σ^a_j`` (``a = X, Y, Z``,
``i < j``): ``3n + 3·n(n−1)/2`` observables, 408 for ``n = 16``; ``--observables all`` is every
one- and two-local Pauli string, ``3n + 9·n(n−1)/2`` (1128 for ``n = 16``).

**Generation.** The time and the peak resident memory (``ru_maxrss`` of a fresh subprocess,
which includes the interpreter, NumPy and Cirq; the RSS just before sampling is reported too) of
drawing the snapshots. PennyLane's ``default.qubit`` ``classical_shadow`` needs more than 24 GB
at 16 qubits, so it is timed only at ``--pennylane-qubits`` (default 10) qubits, against qmlkit
at the same size.

Timings are reported, never asserted; each is the median of up to ``--repeats`` runs after a
warm-up (see ``timed`` in ``bench/_common.py``).

Usage::

    python bench/shadows.py --json data/derived/bench_shadows.json
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import qmlkit
from qmlkit.datasets import tfim_ground_state
from qmlkit.shadows import ClassicalShadow, local_pauli_strings

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/_common.py, also if imported
import _common as common

TARGETS = {"estimation_speedup_over_pennylane_min": 5.0, "generation_time_max_s": 30.0,
           "generation_peak_rss_max_bytes": 2 * 2**30}


def rss_bytes() -> int:
    """Current resident set size of this process."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize()


def peak_rss_bytes() -> int:
    """Peak resident set size of this process (Linux ``ru_maxrss`` is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def exact_expectations(psi: np.ndarray, words: list[str]) -> np.ndarray:
    """``<ψ|P|ψ>`` of Pauli strings by applying each factor to the state tensor."""
    n = len(words[0])
    t = psi.reshape((2,) * n)
    out = np.empty(len(words))
    for k, word in enumerate(words):
        v = t
        for q, ch in enumerate(word):
            if ch == "I":
                continue
            v = np.moveaxis(v, q, 0)
            if ch == "X":
                v = v[::-1]
            elif ch == "Y":
                v = np.stack([-1j * v[1], 1j * v[0]])
            else:
                v = np.stack([v[0], -v[1]])
            v = np.moveaxis(v, 0, q)
        out[k] = float(np.vdot(t, v).real)
    return out


def generation_worker(args: argparse.Namespace) -> None:
    """Run in a fresh process: build the state, then sample, and print JSON to stdout."""
    _, psi = tfim_ground_state(args.qubits, 1.0)
    baseline = rss_bytes()
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    shadow = ClassicalShadow.from_state(psi, n_snapshots=args.snapshots, rng=rng,
                                        memory_limit_bytes=args.memory_limit_mib * 2**20)
    elapsed = time.perf_counter() - start
    print(json.dumps({"time_s": elapsed, "peak_rss_bytes": peak_rss_bytes(),
                      "rss_before_sampling_bytes": baseline,
                      "n_snapshots": shadow.n_snapshots}))


def pennylane_generation(n_qubits: int, n_snapshots: int, psi: np.ndarray, seed: int
                         ) -> Callable[[], tuple[np.ndarray, np.ndarray]]:
    import pennylane as qml

    dev = qml.device("default.qubit", wires=n_qubits, seed=seed)

    @qml.set_shots(shots=n_snapshots)
    @qml.qnode(dev)
    def circuit():
        qml.StatePrep(psi, wires=range(n_qubits))
        return qml.classical_shadow(wires=range(n_qubits))

    def run() -> tuple[np.ndarray, np.ndarray]:
        bits, recipes = circuit()
        return np.asarray(bits), np.asarray(recipes)

    return run


def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--qubits", type=int, default=16)
    parser.add_argument("--snapshots", type=int, default=10_000)
    parser.add_argument("--groups", type=int, default=10, help="median-of-means groups")
    parser.add_argument("--observables", choices=("correlators", "all"), default="correlators")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--budget-s", type=float, default=20.0,
                        help="stop repeating a method once its samples add up to this")
    parser.add_argument("--memory-limit-mib", type=int, default=512,
                        help="qmlkit sampler's working-memory bound (memory_limit_bytes)")
    parser.add_argument("--pennylane-qubits", type=int, default=10,
                        help="size at which PennyLane's default.qubit generation is timed "
                             "(0: skip)")
    parser.add_argument("--no-mitiq", action="store_true", help="skip Mitiq's estimation")
    parser.add_argument("--seed", type=int, default=20251217)
    common.add_json_argument(parser)
    parser.add_argument("--generation-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    common.check_positive(parser, args,
                          ("qubits", "snapshots", "groups", "repeats", "memory_limit_mib"))
    if args.groups > args.snapshots:
        parser.error("--groups must not exceed --snapshots")
    if args.generation_worker:
        generation_worker(args)
        return None

    import pennylane as qml

    n, t, k = args.qubits, args.snapshots, args.groups
    timings: dict[str, float] = {}
    samples: dict[str, list[float]] = {}

    # ---- generation, in a fresh process for an honest peak RSS ----
    proc = subprocess.run(
        [sys.executable, __file__, "--generation-worker", "--qubits", str(n), "--snapshots",
         str(t), "--seed", str(args.seed), "--memory-limit-mib", str(args.memory_limit_mib)],
        check=True, capture_output=True, text=True)
    gen = json.loads(proc.stdout.strip().splitlines()[-1])
    timings["qmlkit_generation_subprocess"] = gen["time_s"]
    samples["qmlkit_generation_subprocess"] = [gen["time_s"]]

    energy, psi = tfim_ground_state(n, 1.0)
    shadow, samples["qmlkit_generation"] = common.timed(
        lambda: ClassicalShadow.from_state(psi, n_snapshots=t,
                                           rng=np.random.default_rng(args.seed),
                                           memory_limit_bytes=args.memory_limit_mib * 2**20),
        args.repeats, budget_s=args.budget_s, warmup_threshold_s=2.0)

    m = args.pennylane_qubits
    if m:
        _, small = tfim_ground_state(m, 1.0)
        pl_gen = pennylane_generation(m, t, small, args.seed)
        _, samples[f"pennylane_generation_{m}q"] = common.timed(
            pl_gen, args.repeats, budget_s=args.budget_s, warmup_threshold_s=2.0)
        _, samples[f"qmlkit_generation_{m}q"] = common.timed(
            lambda: ClassicalShadow.from_state(small, n_snapshots=t,
                                               rng=np.random.default_rng(args.seed)),
            args.repeats, budget_s=args.budget_s, warmup_threshold_s=2.0)

    # ---- estimation on identical snapshots ----
    words = local_pauli_strings(n, max_weight=2, same_axis=args.observables == "correlators")
    pl_observables = []
    for w in words:
        factors = [getattr(qml, ch)(i) for i, ch in enumerate(w) if ch != "I"]
        pl_observables.append(factors[0] if len(factors) == 1 else qml.prod(*factors))
    bits, recipes = shadow.to_pennylane()
    pl_shadow = qml.ClassicalShadow(bits, recipes)

    ours, samples["qmlkit_expval"] = common.timed(lambda: shadow.expval(words, n_groups=k),
                                           args.repeats, budget_s=args.budget_s,
                                           warmup_threshold_s=2.0)
    theirs, samples["pennylane_expval"] = common.timed(
        lambda: np.asarray(pl_shadow.expval(pl_observables, k=k), dtype=float),
        args.repeats, budget_s=args.budget_s, warmup_threshold_s=2.0)
    truth = exact_expectations(psi, words)
    max_abs_diff = {"qmlkit_vs_pennylane_expval": float(np.max(np.abs(ours - theirs)))}
    if not args.no_mitiq:
        import mitiq

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            from mitiq.experimental.shadows import classical_post_processing
        mitiq_obs = []
        for w in words:
            support = [i for i, ch in enumerate(w) if ch != "I"]
            mitiq_obs.append(mitiq.PauliString("".join(w[i] for i in support), support=support))
        outcomes = shadow.to_mitiq()
        start = time.perf_counter()
        out = classical_post_processing(outcomes, observables=mitiq_obs, k_shadows=k)
        samples["mitiq_expval"] = [time.perf_counter() - start]
        mitiq_values = np.array([out[str(o)] for o in mitiq_obs])
        max_abs_diff["qmlkit_vs_mitiq_expval"] = float(np.max(np.abs(ours - mitiq_values)))

    timings.update(common.medians(samples))
    ratios = {"pennylane_expval_over_qmlkit_expval":
              timings["pennylane_expval"] / timings["qmlkit_expval"]}
    if "mitiq_expval" in timings:
        ratios["mitiq_expval_over_qmlkit_expval"] = (timings["mitiq_expval"]
                                                     / timings["qmlkit_expval"])
    if m:
        ratios[f"pennylane_generation_{m}q_over_qmlkit_generation_{m}q"] = (
            timings[f"pennylane_generation_{m}q"] / timings[f"qmlkit_generation_{m}q"])
    errors = np.abs(ours - truth)
    values = shadow.snapshot_values(words)
    z = (values.mean(axis=0) - truth) / (values.std(axis=0, ddof=1) / np.sqrt(t))
    accuracy = {
        "max_abs_error_vs_exact": float(errors.max()),
        "mean_abs_error_vs_exact": float(errors.mean()),
        # z-scores of the plain means (no median of means) against their standard errors:
        # for an unbiased estimator about 4.6 % exceed 2 and max |z| ~ 3-3.5 for ~400 values.
        "max_abs_z_plain_mean": float(np.max(np.abs(z))),
        "fraction_abs_z_above_2": float(np.mean(np.abs(z) > 2)),
    }
    met = {
        "estimation_speedup_over_pennylane":
            ratios["pennylane_expval_over_qmlkit_expval"]
            >= TARGETS["estimation_speedup_over_pennylane_min"],
        "generation_time": timings["qmlkit_generation_subprocess"]
            <= TARGETS["generation_time_max_s"],
        "generation_peak_rss": gen["peak_rss_bytes"] <= TARGETS["generation_peak_rss_max_bytes"],
    }

    import cirq
    import mitiq as mitiq_pkg

    payload = {
        "benchmark": "shadows",
        "params": {
            "qubits": n, "snapshots": t, "groups": k, "observables": args.observables,
            "n_observables": len(words), "state": "TFIM ground state, open chain, h = J = 1",
            "state_energy": energy, "ensemble": "pauli", "repeats": args.repeats,
            "budget_s": args.budget_s, "memory_limit_mib": args.memory_limit_mib,
            "pennylane_qubits": m, "mitiq": not args.no_mitiq, "seed": args.seed,
            "statistic": "median (see timed())",
            "versions": {"qmlkit": qmlkit.__version__, "pennylane": qml.__version__,
                         "mitiq": mitiq_pkg.__version__, "cirq": cirq.__version__,
                         "numpy": np.__version__, "python": common.python_version()},
        },
        "timings_s": timings,
        "ratios": ratios,
        "max_abs_diff": max_abs_diff,
        "memory": {"generation_peak_rss_bytes": gen["peak_rss_bytes"],
                   "generation_rss_before_sampling_bytes": gen["rss_before_sampling_bytes"],
                   "how": "ru_maxrss of a fresh subprocess that imports qmlkit, builds the "
                          "state and samples once (interpreter and imports included)"},
        "accuracy": accuracy,
        "targets": {**TARGETS, "met": met},
        "samples_s": samples,
    }

    print(f"shadows: {n} qubits, {t} Pauli snapshots, {len(words)} observables "
          f"({args.observables}), median of means over {k} groups; median time per call")
    print(f"{'method':<40}{'time [s]':>12}{'runs':>6}")
    for name, value in timings.items():
        print(f"{name:<40}{value:>12.4f}{len(samples[name]):>6}")
    common.print_ratios_and_diffs(ratios, max_abs_diff)
    print(f"{'generation peak RSS [MiB] (before sampling)':<66}"
          f"{gen['peak_rss_bytes'] / 2**20:>10.0f} ({gen['rss_before_sampling_bytes'] / 2**20:.0f})")
    for name, v in accuracy.items():
        print(f"{name:<66}{v:>10.4f}")
    print("targets met: " + ", ".join(f"{key}={val}" for key, val in met.items()))
    common.write_payload(args.json, payload)
    return payload


if __name__ == "__main__":
    main()
