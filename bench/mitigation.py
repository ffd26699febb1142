"""Benchmark: error and cost of error mitigation on ≥ 4-qubit mirror circuits (review §6.2).

The review says mitigation (ZNE, PEC, read-out calibration) "helps, but adds overhead". This
benchmark measures both on Mitiq's randomized **mirror circuits** (``--qubits`` qubits on a
line, ``--layers`` random Clifford layers and their mirror image; the ideal value of the signed
parity ``±Z⊗Z⊗...⊗Z`` is exactly 1), ``--circuits`` seeds each, under two noise settings:

* ``depolarizing``: :class:`qmlkit.noise.DepolarizingNoise` (``--p2`` per qubit after two-qubit
  gates, ``--p1`` after one-qubit gates) plus :class:`qmlkit.noise.ReadoutNoise`
  (``--readout P0 P1``);
* ``rainbow``: the circuit placed and compiled onto Google's Rainbow processor
  (:func:`qmlkit.noise.map_to_device`, PhasedXZ + √iSWAP) under the noise model of its real
  median calibration (:func:`qmlkit.noise.rainbow_noise_model`: gate Pauli errors, T1/Tphi,
  coherent fSim errors, read-out errors).

Each method is run with an exact density-matrix executor (the bias alone) and with a sampling
executor of ``--shots`` read-outs per circuit execution (bias + shot noise; the realistic
case): unmitigated, ZNE (global folding × linear / Richardson / exponential, random gate
folding, layer folding and identity insertion × Richardson), PEC (``--pec-samples`` circuits;
representations from the exact depolarizing model, or from the calibrated Pauli errors on
Rainbow: there an approximation), REM (confusion matrices calibrated with 2 executions, once
per setting) and REM + ZNE (global folding × Richardson / linear / exponential). Reported: the mean absolute error over the circuits, its reduction
relative to the unmitigated error of the same executor, and the cost in circuit executions per
estimate. The target -- at least 3× smaller error at at most 3× the executions, in the
realistic (Rainbow, sampled) setting -- is checked and reported either way, for the recipe
declared in advance (:data:`PRIMARY`) and for any variant (a post-hoc choice).

What limits ZNE on the calibrated model: its noise is not all depolarizing. T1 relaxation is
not unital (it drives the register towards ``|0...0>``, not to the maximally mixed state, so the
infinite-noise value is not 0) and the fSim angle errors are coherent (folding adds them up
coherently), so the noisy values do not decay like one exponential and extrapolations can
overshoot; unmitigated read-out error can hide the overshoot. The per-method table shows it.

Usage::

    python bench/mitigation.py --json data/derived/bench_mitigation.json
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import cirq
import networkx as nx
import numpy as np

import qmlkit
from qmlkit import mitigation as M
from qmlkit import noise as N

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/_common.py, also if imported
import _common as common

#: (label, keyword arguments of zne_expectation)
ZNE_VARIANTS: list[tuple[str, dict[str, Any]]] = [
    ("zne_global_linear", {"scaling": "global", "factory": "linear"}),
    ("zne_global_richardson", {"scaling": "global", "factory": "richardson"}),
    ("zne_global_exp", {"scaling": "global", "factory": "exp", "asymptote": 0.0}),
    ("zne_random_richardson", {"scaling": "gates_at_random", "factory": "richardson"}),
    ("zne_layer_richardson", {"scaling": "layer", "factory": "richardson"}),
    ("zne_identity_richardson", {"scaling": "identity", "factory": "richardson"}),
]
TARGET_REDUCTION = 3.0
TARGET_EXECUTIONS = 3
#: The method declared in advance as "the" realistic recipe (read-out calibration + 3-point
#: Richardson ZNE); the other variants are reported too, but picking the best of them on the
#: same circuits is a post-hoc choice.
PRIMARY = "rem_zne_global_richardson"


def mirror_problem(n_qubits: int, layers: int, seed: int
                   ) -> tuple[cirq.Circuit, cirq.PauliString]:
    """A Mitiq mirror circuit on a line and the signed parity whose ideal value is 1."""
    from mitiq.benchmarks import generate_mirror_circuit

    circuit, bits = generate_mirror_circuit(
        nlayers=layers, two_qubit_gate_prob=1.0, connectivity_graph=nx.path_graph(n_qubits),
        two_qubit_gate_name="CZ", seed=seed)
    qubits = cirq.LineQubit.range(n_qubits)
    observable = cirq.PauliString({q: cirq.Z for q in qubits},
                                  coefficient=(-1) ** int(sum(bits)))
    return cirq.Circuit(circuit), observable


def run_circuit(circuit: cirq.Circuit, observable: cirq.PauliString, model: cirq.NoiseModel,
                pec_level: Any, calibration: M.ReadoutCalibration | None, *, shots: int,
                pec_samples: int, seed: int) -> dict[str, dict[str, dict[str, float]]]:
    """All methods on one circuit: ``{method: {"exact"|"sampled": {error, executions}}}``."""
    cache: dict = {}
    ideal = N.DensityMatrixExecutor(observable)(circuit)
    assert abs(ideal - 1.0) < 1e-8, ideal  # mirror circuits: the identity up to a Pauli
    out: dict[str, dict[str, dict[str, float]]] = {}

    def record(name: str, mode: str, res: M.MitigationResult) -> None:
        out.setdefault(name, {})[mode] = {"value": res.value, "error": abs(res.value - ideal),
                                          "executions": res.executions, "shots": res.shots}

    for mode in ("exact", "sampled"):
        def executor(stream: int, mode: str = mode) -> Any:
            if mode == "exact":
                return N.DensityMatrixExecutor(observable, model, probability_cache=cache)
            return N.SamplingExecutor(observable, model, shots=shots,
                                      rng=np.random.default_rng([seed, stream]),
                                      probability_cache=cache)

        record("unmitigated", mode, M.unmitigated_expectation(circuit, executor(0)))
        for k, (name, kwargs) in enumerate(ZNE_VARIANTS):
            record(name, mode, M.zne_expectation(circuit, executor(1 + k),
                                                 rng=np.random.default_rng([seed, 99, k]),
                                                 **kwargs))
        record("pec", mode, M.pec_expectation(circuit, executor(50), noise_level=pec_level,
                                              num_samples=pec_samples,
                                              rng=np.random.default_rng([seed, 98])))
        if mode == "sampled" and calibration is not None:
            record("rem", mode, M.rem_expectation(circuit, executor(60), calibration=calibration,
                                                  rng=np.random.default_rng([seed, 97])))
            record("rem_zne_global_richardson", mode, M.zne_expectation(
                circuit, executor(61), scaling="global", factory="richardson",
                readout=calibration, rng=np.random.default_rng([seed, 96])))
            record("rem_zne_global_linear", mode, M.zne_expectation(
                circuit, executor(63), scaling="global", factory="linear",
                readout=calibration, rng=np.random.default_rng([seed, 94])))
            record("rem_zne_global_exp", mode, M.zne_expectation(
                circuit, executor(62), scaling="global", factory="exp", asymptote=0.0,
                readout=calibration, rng=np.random.default_rng([seed, 95])))
    return out


def setting_problems(setting: str, args: argparse.Namespace
                     ) -> tuple[list[tuple[cirq.Circuit, cirq.PauliString]], cirq.NoiseModel,
                                Any, list[cirq.Qid]]:
    """The circuits, noise model, PEC noise level and measured qubits of a setting."""
    problems = [mirror_problem(args.qubits, args.layers, args.seed + i)
                for i in range(args.circuits)]
    if setting == "depolarizing":
        gate_noise = N.DepolarizingNoise(p1=args.p1, p2=args.p2)
        model = N.compose_noise(gate_noise, N.ReadoutNoise(*args.readout))
        return problems, model, gate_noise, cirq.LineQubit.range(args.qubits)
    mapped = []
    for circuit, obs in problems:
        m = N.map_to_device(circuit, "rainbow")
        mapped.append((m.circuit, m.map_observable(obs)))
    qubits = sorted(set().union(*(c.all_qubits() for c, _ in mapped)))
    model = N.rainbow_noise_model(qubits=qubits)
    return mapped, model, N.calibrated_noise_level("rainbow"), qubits


def summarise(per_circuit: list[dict[str, dict[str, dict[str, float]]]]
              ) -> dict[str, dict[str, dict[str, float]]]:
    """Mean error and executions over circuits, and the reduction against unmitigated."""
    summary: dict[str, dict[str, dict[str, float]]] = {}
    for name in per_circuit[0]:
        for mode in per_circuit[0][name]:
            errors = [pc[name][mode]["error"] for pc in per_circuit]
            base = np.mean([pc["unmitigated"][mode]["error"] for pc in per_circuit])
            err = float(np.mean(errors))
            summary.setdefault(name, {})[mode] = {
                "mean_abs_error": err,
                "std_abs_error": float(np.std(errors, ddof=1)) if len(errors) > 1 else 0.0,
                "reduction": float(base / err) if err > 0 else float("inf"),
                "executions": float(np.mean([pc[name][mode]["executions"]
                                             for pc in per_circuit])),
            }
    return summary


def print_table(setting: str, summary: dict[str, dict[str, dict[str, float]]],
                calibration_executions: int) -> None:
    print(f"\n[{setting}] mean |error| over circuits (reduction vs unmitigated), "
          "executions per estimate")
    print(f"{'method':<28}{'exec':>6}{'exact |err|':>14}{'red.':>7}{'sampled |err|':>16}"
          f"{'red.':>7}")
    for name, modes in summary.items():
        ex = modes.get("exact")
        sa = modes.get("sampled")
        execs = (sa or ex)["executions"]
        note = f" (+{calibration_executions} calibration)" if name.startswith("rem") else ""
        exact_txt = f"{ex['mean_abs_error']:>14.4f}{ex['reduction']:>7.1f}" if ex else \
            f"{'-':>14}{'-':>7}"
        samp_txt = f"{sa['mean_abs_error']:>16.4f}{sa['reduction']:>7.1f}" if sa else \
            f"{'-':>16}{'-':>7}"
        print(f"{name:<28}{execs:>6.0f}{exact_txt}{samp_txt}{note}")


def target_check(summary: dict[str, dict[str, dict[str, float]]], calibration_executions: int
                 ) -> dict[str, Any]:
    """Which methods reach ≥ 3× error reduction at ≤ 3× the executions (sampled executor).

    REM's calibration is counted amortised (once per device, reused by every circuit); the
    ``with_calibration`` entries count it in full for one circuit.
    """
    met, met_with_calibration = [], []
    for name, modes in summary.items():
        s = modes.get("sampled")
        if name == "unmitigated" or s is None:
            continue
        if s["reduction"] >= TARGET_REDUCTION and s["executions"] <= TARGET_EXECUTIONS:
            met.append(name)
            extra = calibration_executions if name.startswith("rem") else 0
            if s["executions"] + extra <= TARGET_EXECUTIONS:
                met_with_calibration.append(name)
    primary = summary.get(PRIMARY, {}).get("sampled")
    return {"reached": bool(met), "methods": met,
            "methods_counting_calibration": met_with_calibration,
            "primary": PRIMARY, "primary_reached": PRIMARY in met,
            "primary_reduction": primary["reduction"] if primary else None}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--qubits", type=int, default=4)
    parser.add_argument("--layers", type=int, default=3, help="mirror-circuit Clifford layers")
    parser.add_argument("--circuits", type=int, default=3, help="mirror circuits (seeds) per setting")
    parser.add_argument("--shots", type=int, default=10_000,
                        help="read-outs per circuit execution (sampled executor)")
    parser.add_argument("--pec-samples", type=int, default=100)
    parser.add_argument("--p1", type=float, default=1e-3)
    parser.add_argument("--p2", type=float, default=1e-2)
    parser.add_argument("--readout", type=float, nargs=2, default=[0.01, 0.03],
                        metavar=("P0", "P1"), help="depolarizing setting's read-out error")
    parser.add_argument("--settings", nargs="+", default=["depolarizing", "rainbow"],
                        choices=["depolarizing", "rainbow"])
    parser.add_argument("--seed", type=int, default=20251217)
    common.add_json_argument(parser)
    args = parser.parse_args(argv)
    common.check_positive(parser, args, ("qubits", "layers", "circuits", "shots", "pec_samples"))
    if args.qubits < 2:
        parser.error("--qubits must be >= 2")

    warnings.filterwarnings("ignore", message="The input circuit is very short")
    start_all = time.perf_counter()
    results: dict[str, Any] = {}
    for setting in args.settings:
        start = time.perf_counter()
        problems, model, pec_level, qubits = setting_problems(setting, args)
        cal_ex = N.SamplingExecutor(problems[0][1], model, shots=args.shots,
                                    rng=np.random.default_rng([args.seed, 7]))
        calibration = M.calibrate_readout(cal_ex, qubits)
        per_circuit = [run_circuit(c, obs, model, pec_level, calibration, shots=args.shots,
                                   pec_samples=args.pec_samples, seed=args.seed + i)
                       for i, (c, obs) in enumerate(problems)]
        summary = summarise(per_circuit)
        results[setting] = {
            "summary": summary,
            "per_circuit": per_circuit,
            "target": target_check(summary, calibration.executions),
            "calibration": {"executions": calibration.executions, "shots": calibration.shots,
                            "confusion_matrices": [c.tolist()
                                                   for c in calibration.confusion_matrices]},
            "two_qubit_gates": float(np.mean([sum(1 for op in c.all_operations()
                                                  if len(op.qubits) == 2)
                                              for c, _ in problems])),
            "time_s": time.perf_counter() - start,
        }
        print_table(setting, summary, calibration.executions)
        t = results[setting]["target"]
        print(f"target (>= {TARGET_REDUCTION:g}x smaller error at <= {TARGET_EXECUTIONS} "
              f"executions, sampled executor):")
        print(f"  pre-declared recipe {PRIMARY}: "
              f"{'REACHED' if t['primary_reached'] else 'NOT reached'} "
              f"({t['primary_reduction']:.1f}x, calibration amortised)")
        print(f"  any variant (post hoc): {'REACHED' if t['reached'] else 'NOT reached'} by "
              f"{t['methods'] or 'no method'}; counting the 2 calibration executions per "
              f"circuit: {t['methods_counting_calibration'] or 'none'}")

    import mitiq

    timings = {s: r["time_s"] for s, r in results.items()}
    timings["total"] = time.perf_counter() - start_all
    errors = {f"{s}/{name}/{mode}": v["mean_abs_error"]
              for s, r in results.items() for name, modes in r["summary"].items()
              for mode, v in modes.items()}
    executions = {f"{s}/{name}": (modes.get("sampled") or modes["exact"])["executions"]
                  for s, r in results.items() for name, modes in r["summary"].items()}
    ratios = {f"{s}/{name}/{mode}/error_reduction": v["reduction"]
              for s, r in results.items() for name, modes in r["summary"].items()
              for mode, v in modes.items() if name != "unmitigated"}
    payload = {
        "benchmark": "mitigation",
        "params": {
            "qubits": args.qubits, "layers": args.layers, "circuits": args.circuits,
            "shots_per_execution": args.shots, "pec_samples": args.pec_samples,
            "p1": args.p1, "p2": args.p2, "readout": list(args.readout),
            "settings": args.settings, "seed": args.seed,
            "circuit_family": "mitiq.benchmarks.generate_mirror_circuit (CZ, path graph, "
                              "two_qubit_gate_prob=1)",
            "observable": "signed Z parity of all qubits (ideal value 1)",
            "statistic": "mean absolute error over circuits",
            "target": {"reduction": TARGET_REDUCTION, "executions": TARGET_EXECUTIONS,
                       "executor": "sampled"},
            "versions": {"qmlkit": qmlkit.__version__, "mitiq": mitiq.__version__,
                         "cirq": cirq.__version__, "python": common.python_version()},
        },
        "timings_s": timings,
        "errors": errors,
        "executions": executions,
        "ratios": ratios,
        "max_abs_diff": {f"{s}/{name}/{mode}": float(max(pc[name][mode]["error"]
                                                         for pc in r["per_circuit"]))
                         for s, r in results.items() for name, modes in r["summary"].items()
                         for mode in modes},
        "targets": {s: r["target"] for s, r in results.items()},
        "results": {s: {k: v for k, v in r.items() if k != "per_circuit"}
                    for s, r in results.items()},
        "per_circuit": {s: r["per_circuit"] for s, r in results.items()},
    }
    print(f"\ntotal {timings['total']:.1f} s")
    common.write_payload(args.json, payload)
    return payload


if __name__ == "__main__":
    main()
