"""Benchmark: time per full gradient of a batched hardware-efficient PQC (review §4.2).

An ``--qubits``-qubit circuit encodes each input ``x`` (``rx(x_i)`` on qubit ``i``), then applies
``--layers`` layers of ``ry(θ)``, ``rz(θ)`` on every qubit and a ring of CNOTs; the observable is
``Σ_i Z_i``. For a batch of ``--batch`` inputs the benchmark times one full gradient of the
sum of the batch's expectation values with respect to the ``2 · qubits · layers`` trainable
parameters, for

* TensorFlow Quantum, ``tfq.differentiators.Adjoint`` (float32),
* TensorFlow Quantum, ``tfq.differentiators.ParameterShift`` (float32),
* PennyLane ``lightning.qubit`` with ``diff_method="adjoint"`` (float64; the batch through
  parameter broadcasting, or a Python loop with ``--pennylane-mode loop``),

plus the forward pass of each framework, and qmlkit's own (readable, Cirq-based)
parameter-shift gradient for ``--qmlkit-examples`` inputs of the batch (timed once). The
gradients are compared (``max_abs_diff``) against PennyLane's float64 result. Timings are
reported, never asserted; each is the median of up to ``--repeats`` runs after a warm-up
(slow methods stop repeating after ``--budget-s`` seconds, see :func:`timed`).

Usage::

    python bench/gradients.py --json data/derived/bench_gradients.json
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cirq
import numpy as np
import sympy

import qmlkit
from qmlkit._environment import import_tensorflow
from qmlkit.gradients import CircuitExpectation, parameter_shift_gradient

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/_common.py, also if imported
import _common as common


def build_circuit(n_qubits: int, n_layers: int
                  ) -> tuple[cirq.Circuit, list[sympy.Symbol], list[sympy.Symbol]]:
    """The encoding + hardware-efficient circuit, its input symbols and trainable symbols."""
    q = cirq.LineQubit.range(n_qubits)
    inputs = list(sympy.symbols(f"x0:{n_qubits}"))
    weights = list(sympy.symbols(f"w0:{2 * n_qubits * n_layers}"))
    ops: list[cirq.Operation] = [cirq.rx(inputs[i])(q[i]) for i in range(n_qubits)]
    k = 0
    for _ in range(n_layers):
        for i in range(n_qubits):
            ops += [cirq.ry(weights[k])(q[i]), cirq.rz(weights[k + 1])(q[i])]
            k += 2
        if n_qubits > 1:
            ring = range(n_qubits) if n_qubits > 2 else range(1)
            ops += [cirq.CNOT(q[i], q[(i + 1) % n_qubits]) for i in ring]
    return cirq.Circuit(ops), inputs, weights


def observable(n_qubits: int) -> cirq.PauliSum:
    """``Σ_i Z_i``."""
    return cirq.PauliSum.from_pauli_strings([cirq.Z(q) for q in cirq.LineQubit.range(n_qubits)])


def tfq_functions(circuit: cirq.Circuit, inputs: list[sympy.Symbol],
                  weights: list[sympy.Symbol], obs: cirq.PauliSum, x: np.ndarray,
                  theta: np.ndarray) -> dict[str, Callable[[], np.ndarray]]:
    tf = import_tensorflow()
    import tensorflow_quantum as tfq

    batch = x.shape[0]
    circuits = tfq.convert_to_tensor([circuit] * batch)
    operators = tfq.convert_to_tensor([[obs]] * batch)
    names = [s.name for s in inputs + weights]
    x_t = tf.constant(x, dtype=tf.float32)
    theta_v = tf.Variable(theta.astype(np.float32))

    def values() -> Any:
        return tf.concat([x_t, tf.tile(theta_v[None, :], [batch, 1])], axis=1)

    def gradient(layer: Any) -> Callable[[], np.ndarray]:
        def run() -> np.ndarray:
            with tf.GradientTape() as tape:
                out = layer(circuits, symbol_names=names, symbol_values=values(),
                            operators=operators)
                loss = tf.reduce_sum(out)
            return np.asarray(tape.gradient(loss, theta_v).numpy(), dtype=np.float64)
        return run

    forward_layer = tfq.layers.Expectation()

    def forward() -> np.ndarray:
        out = forward_layer(circuits, symbol_names=names, symbol_values=values(),
                            operators=operators)
        return np.asarray(out.numpy()[:, 0], dtype=np.float64)

    return {
        "tfq_forward": forward,
        "tfq_adjoint": gradient(tfq.layers.Expectation(
            differentiator=tfq.differentiators.Adjoint())),
        "tfq_parameter_shift": gradient(tfq.layers.Expectation(
            differentiator=tfq.differentiators.ParameterShift())),
    }


def pennylane_functions(n_qubits: int, n_layers: int, x: np.ndarray, theta: np.ndarray,
                        mode: str) -> dict[str, Callable[[], np.ndarray]]:
    import pennylane as qml
    from pennylane import numpy as pnp

    dev = qml.device("lightning.qubit", wires=n_qubits)
    hamiltonian = qml.sum(*[qml.PauliZ(i) for i in range(n_qubits)])

    @qml.qnode(dev, diff_method="adjoint")
    def circuit(inputs, params):
        for i in range(n_qubits):
            qml.RX(inputs[..., i], wires=i)
        k = 0
        for _ in range(n_layers):
            for i in range(n_qubits):
                qml.RY(params[k], wires=i)
                qml.RZ(params[k + 1], wires=i)
                k += 2
            if n_qubits > 1:
                ring = range(n_qubits) if n_qubits > 2 else range(1)
                for i in ring:
                    qml.CNOT(wires=[i, (i + 1) % n_qubits])
        return qml.expval(hamiltonian)

    xs = pnp.array(x, requires_grad=False)

    def batch_values(params: Any) -> Any:
        if mode == "broadcast":
            return circuit(xs, params)
        return pnp.stack([circuit(xs[b], params) for b in range(len(xs))])

    def loss(params: Any) -> Any:
        return pnp.sum(batch_values(params))

    grad_fn = qml.grad(loss)
    params = pnp.array(theta, requires_grad=True)

    def gradient() -> np.ndarray:
        return np.asarray(grad_fn(params), dtype=np.float64)

    def forward() -> np.ndarray:
        return np.asarray(batch_values(params), dtype=np.float64)

    return {"pennylane_forward": forward, "pennylane_lightning_adjoint": gradient}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--qubits", type=int, default=8)
    parser.add_argument("--layers", type=int, default=6,
                        help="trainable layers; parameters = 2 * qubits * layers (default 96)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--budget-s", type=float, default=15.0,
                        help="stop repeating a method once its samples add up to this")
    parser.add_argument("--seed", type=int, default=20251217)
    parser.add_argument("--pennylane-mode", choices=("broadcast", "loop"), default="broadcast")
    parser.add_argument("--qmlkit-examples", type=int, default=1,
                        help="inputs for which qmlkit's own parameter shift is timed (0: skip)")
    common.add_json_argument(parser)
    args = parser.parse_args(argv)
    common.check_positive(parser, args, ("qubits", "layers", "batch", "repeats"))

    rng = np.random.default_rng(args.seed)
    circuit, inputs, weights = build_circuit(args.qubits, args.layers)
    obs = observable(args.qubits)
    x = rng.uniform(0.0, np.pi, size=(args.batch, args.qubits))
    theta = rng.uniform(-np.pi, np.pi, size=len(weights))

    fns = tfq_functions(circuit, inputs, weights, obs, x, theta)
    fns.update(pennylane_functions(args.qubits, args.layers, x, theta, args.pennylane_mode))

    results: dict[str, np.ndarray] = {}
    samples: dict[str, list[float]] = {}
    for name, fn in fns.items():
        results[name], samples[name] = common.timed(fn, args.repeats, budget_s=args.budget_s,
                                                     warmup_threshold_s=2.0)

    n_ex = min(max(args.qmlkit_examples, 0), args.batch)
    if n_ex:
        def qmlkit_gradient() -> np.ndarray:
            total = np.zeros(len(weights))
            for b in range(n_ex):
                fixed = cirq.resolve_parameters(
                    circuit, {s: float(v) for s, v in zip(inputs, x[b], strict=True)})
                f = CircuitExpectation(fixed, weights, obs)
                total += parameter_shift_gradient(f, theta).gradient
            return total

        start = time.perf_counter()
        results["qmlkit_parameter_shift"] = qmlkit_gradient()
        samples["qmlkit_parameter_shift"] = [time.perf_counter() - start]
        pl_examples = pennylane_functions(args.qubits, args.layers, x[:n_ex], theta, "loop")
        reference_examples = pl_examples["pennylane_lightning_adjoint"]()

    timings = common.medians(samples)
    reference = results["pennylane_lightning_adjoint"]
    max_abs_diff = {
        "tfq_adjoint_vs_pennylane": float(np.max(np.abs(results["tfq_adjoint"] - reference))),
        "tfq_parameter_shift_vs_pennylane": float(
            np.max(np.abs(results["tfq_parameter_shift"] - reference))),
        "tfq_adjoint_vs_tfq_parameter_shift": float(
            np.max(np.abs(results["tfq_adjoint"] - results["tfq_parameter_shift"]))),
        "tfq_forward_vs_pennylane_forward": float(
            np.max(np.abs(results["tfq_forward"] - results["pennylane_forward"]))),
    }
    if n_ex:
        max_abs_diff["qmlkit_parameter_shift_vs_pennylane"] = float(
            np.max(np.abs(results["qmlkit_parameter_shift"] - reference_examples)))
    ratios = {
        "tfq_parameter_shift_over_tfq_adjoint":
            timings["tfq_parameter_shift"] / timings["tfq_adjoint"],
        "pennylane_lightning_adjoint_over_tfq_adjoint":
            timings["pennylane_lightning_adjoint"] / timings["tfq_adjoint"],
        "tfq_adjoint_over_tfq_forward": timings["tfq_adjoint"] / timings["tfq_forward"],
        "pennylane_lightning_adjoint_over_pennylane_forward":
            timings["pennylane_lightning_adjoint"] / timings["pennylane_forward"],
    }
    if n_ex:
        # Per input, qmlkit's 2P Cirq simulations against TFQ's batched ParameterShift.
        ratios["qmlkit_parameter_shift_per_input_over_tfq_parameter_shift_per_input"] = (
            (timings["qmlkit_parameter_shift"] / n_ex)
            / (timings["tfq_parameter_shift"] / args.batch))

    import pennylane
    import tensorflow as tf
    import tensorflow_quantum as tfq

    payload = {
        "benchmark": "gradients",
        "params": {
            "qubits": args.qubits, "layers": args.layers, "batch": args.batch,
            "trainable_parameters": len(weights), "input_symbols": len(inputs),
            "gates": len(list(circuit.all_operations())), "observable": "sum_i Z_i",
            "repeats": args.repeats, "seed": args.seed, "statistic": "median (see timed())",
            "budget_s": args.budget_s,
            "pennylane_mode": args.pennylane_mode, "qmlkit_examples": n_ex,
            "versions": {"qmlkit": qmlkit.__version__, "tensorflow": tf.__version__,
                         "tensorflow_quantum": tfq.__version__, "cirq": cirq.__version__,
                         "pennylane": pennylane.__version__, "python": common.python_version()},
        },
        "timings_s": timings,
        "ratios": ratios,
        "max_abs_diff": max_abs_diff,
        "samples_s": samples,
    }

    print(f"gradients: {args.qubits} qubits, {len(weights)} trainable parameters, "
          f"batch {args.batch}; median time per call")
    print(f"{'method':<34}{'time [s]':>12}{'runs':>6}")
    for name, t in timings.items():
        note = f"  ({n_ex} input{'s' if n_ex > 1 else ''})" if name.startswith("qmlkit") else ""
        print(f"{name:<34}{t:>12.4f}{len(samples[name]):>6}{note}")
    common.print_ratios_and_diffs(ratios, max_abs_diff)
    common.write_payload(args.json, payload)
    return payload


if __name__ == "__main__":
    main()
