"""Quantum subroutines: estimating state overlaps with the swap test (review §3).

The review's third paradigm uses quantum *subroutines* inside classical learning: quantum
linear algebra, sampling, and, as their common primitive, the estimation of an overlap
``F = |<a|b>|²`` between two prepared states. It is also how a quantum kernel entry is
measured. Two circuits do it:

* the **swap test** (:func:`swap_test_circuit`, :func:`swap_test_overlap`): an ancilla in
  ``|+>`` controls a SWAP of the two registers and is read in the X basis;
  ``P(ancilla = 0) = (1 + F) / 2``, so ``F = 2 P(0) - 1 = <Z_ancilla>`` after the final
  Hadamard. It needs ``2n + 1`` qubits but only the two preparations, not their inverses;
* **compute-uncompute** (:func:`compute_uncompute_circuit`, :func:`compute_uncompute_overlap`):
  ``U_b† U_a |0...0>`` has ``P(0...0) = F``. It needs only ``n`` qubits, but the inverse of one
  preparation (Havlíček et al. 2019 estimate their kernel this way).

Estimates are sampled from the circuits' exact probabilities with an explicit
:class:`numpy.random.Generator` (as in :mod:`qmlkit.measurement`), so they are reproducible.
Each shot is one Bernoulli trial, so the swap test's standard error is ``sqrt((1 - F²)/N)`` and
compute-uncompute's ``sqrt(F (1 - F)/N)``: smaller for every ``F``, by at least ``√2``.

The ``k``-th qubit of ``prep_a`` (in sorted order) is paired with the ``k``-th qubit of
``prep_b``; both preparations must act on the same number of qubits, without measurements
or unresolved symbols. Importing this module does not import TensorFlow.

Example:
    >>> import cirq, numpy as np
    >>> q = cirq.LineQubit(0)
    >>> zero, plus = cirq.Circuit(cirq.I(q)), cirq.Circuit(cirq.H(q))
    >>> round(exact_overlap(zero, plus), 12)
    0.5
    >>> est = swap_test_overlap(zero, plus, shots=4000, rng=np.random.default_rng(0))
    >>> abs(est.value - 0.5) < 4 * est.std_error
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cirq
import numpy as np
import pandas as pd

from qmlkit._validation import check_choice, check_int, check_int_sequence, check_rng
from qmlkit.circuits import state_vector
from qmlkit.measurement import estimate_expectation, probabilities

__all__ = [
    "OverlapEstimate",
    "compute_uncompute_circuit",
    "compute_uncompute_overlap",
    "exact_overlap",
    "overlap_shot_scaling",
    "swap_test_circuit",
    "swap_test_overlap",
]

_METHODS = ("swap", "compute_uncompute")


@dataclass(frozen=True)
class OverlapEstimate:
    """A sampled estimate of ``|<a|b>|²``.

    Attributes:
        value: the estimate (the swap test's ``2 P̂(0) - 1`` is unbiased and may be negative).
        std_error: its binomial standard error, from the estimate itself.
        shots: the number of measurements.
        n_qubits: qubits of the circuit that was run.
        method: ``"swap"`` or ``"compute_uncompute"``.

    Example:
        >>> OverlapEstimate(0.5, 0.02, 1000, 3, "swap").n_qubits
        3
    """

    value: float
    std_error: float
    shots: int
    n_qubits: int
    method: str


def _preparation_qubits(name: str, circuit: cirq.AbstractCircuit) -> list[cirq.Qid]:
    """Sorted qubits of a state preparation, which must be measurement- and symbol-free."""
    if not isinstance(circuit, cirq.AbstractCircuit):
        raise TypeError(f"{name} must be a cirq.Circuit, got {type(circuit).__name__}")
    if cirq.is_measurement(circuit):
        raise ValueError(f"{name} must not contain measurements (it prepares a state)")
    if cirq.is_parameterized(circuit):
        raise ValueError(f"{name} has unresolved symbols; resolve them with "
                         "cirq.resolve_parameters")
    qubits = sorted(circuit.all_qubits())
    if not qubits:
        raise ValueError(f"{name} acts on no qubits")
    return qubits


def _paired_qubits(prep_a: cirq.AbstractCircuit, prep_b: cirq.AbstractCircuit
                   ) -> tuple[list[cirq.Qid], list[cirq.Qid]]:
    qa = _preparation_qubits("prep_a", prep_a)
    qb = _preparation_qubits("prep_b", prep_b)
    if len(qa) != len(qb):
        raise ValueError(f"prep_a and prep_b must act on the same number of qubits, got "
                         f"{len(qa)} and {len(qb)}")
    return qa, qb


def swap_test_circuit(prep_a: cirq.AbstractCircuit, prep_b: cirq.AbstractCircuit
                      ) -> tuple[cirq.Circuit, cirq.Qid]:
    """The swap test of the states ``prep_a`` and ``prep_b`` prepare, and its ancilla.

    The circuit acts on ``2n + 1`` line qubits: the ancilla is ``LineQubit(0)`` (the most
    significant bit of the state vector), ``prep_a`` is moved onto qubits ``1..n`` and
    ``prep_b`` onto ``n+1..2n`` (each in its sorted qubit order, so the registers are disjoint
    even when the preparations share qubits). Then ``H`` on the ancilla, a controlled SWAP of
    each pair ``(a_k, b_k)``, and ``H`` again: ``P(ancilla = 0) = (1 + |<a|b>|²) / 2``.

    Args:
        prep_a: circuit preparing ``|a>`` from ``|0...0>``.
        prep_b: circuit preparing ``|b>``, on as many qubits as ``prep_a``.

    Returns:
        ``(circuit, ancilla)``; the circuit has no measurement.

    Raises:
        TypeError: if either preparation is not a Cirq circuit.
        ValueError: for measurements, unresolved symbols, or different numbers of qubits.

    Example:
        >>> q = cirq.LineQubit(0)
        >>> circuit, ancilla = swap_test_circuit(cirq.Circuit(cirq.X(q)), cirq.Circuit(cirq.H(q)))
        >>> print(circuit)
        0: ───H───@───H───
                  │
        1: ───X───×───────
                  │
        2: ───H───×───────
    """
    qa, qb = _paired_qubits(prep_a, prep_b)
    n = len(qa)
    ancilla = cirq.LineQubit(0)
    reg_a = cirq.LineQubit.range(1, n + 1)
    reg_b = cirq.LineQubit.range(n + 1, 2 * n + 1)
    a = prep_a.transform_qubits(dict(zip(qa, reg_a, strict=True)))
    b = prep_b.transform_qubits(dict(zip(qb, reg_b, strict=True)))
    circuit = cirq.Circuit.zip(a.unfreeze(copy=False), b.unfreeze(copy=False))  # in parallel
    circuit.append(cirq.H(ancilla))
    circuit.append(cirq.CSWAP(ancilla, x, y) for x, y in zip(reg_a, reg_b, strict=True))
    circuit.append(cirq.H(ancilla))
    return circuit, ancilla


def compute_uncompute_circuit(prep_a: cirq.AbstractCircuit,
                              prep_b: cirq.AbstractCircuit) -> cirq.Circuit:
    """``U_b† U_a`` on ``n`` line qubits: ``P(0...0) = |<b|a>|²``.

    ``prep_a`` and ``prep_b`` are both moved onto ``LineQubit(0..n-1)`` in their sorted qubit
    order, and ``prep_b`` is inverted (every gate of a state preparation is unitary).

    Args:
        prep_a: circuit preparing ``|a>`` from ``|0...0>``.
        prep_b: circuit preparing ``|b>``, on as many qubits as ``prep_a``.

    Raises:
        TypeError: if either preparation is not a Cirq circuit.
        ValueError: for measurements, unresolved symbols, or different numbers of qubits.

    Example:
        >>> q = cirq.LineQubit(5)
        >>> print(compute_uncompute_circuit(cirq.Circuit(cirq.X(q)), cirq.Circuit(cirq.H(q))))
        0: ───X───H───
    """
    qa, qb = _paired_qubits(prep_a, prep_b)
    reg = cirq.LineQubit.range(len(qa))
    a = prep_a.transform_qubits(dict(zip(qa, reg, strict=True)))
    b = prep_b.transform_qubits(dict(zip(qb, reg, strict=True)))
    return cirq.Circuit(a, cirq.inverse(b))


def exact_overlap(prep_a: cirq.AbstractCircuit, prep_b: cirq.AbstractCircuit) -> float:
    """Exact ``|<a|b>|²`` from the two state vectors (complex128), qubits paired in sorted order.

    Example:
        >>> q = cirq.LineQubit.range(2)
        >>> bell = cirq.Circuit(cirq.H(q[0]), cirq.CNOT(*q))
        >>> round(exact_overlap(bell, cirq.Circuit(cirq.I.on_each(*q))), 12)
        0.5
    """
    qa, qb = _paired_qubits(prep_a, prep_b)
    psi_a = state_vector(prep_a, qa)
    psi_b = state_vector(prep_b, qb)
    return float(min(abs(np.vdot(psi_a, psi_b)) ** 2, 1.0))


def _sample_overlaps(prep_a: cirq.AbstractCircuit, prep_b: cirq.AbstractCircuit, *,
                     method: str, shots: int, repetitions: int,
                     rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """``repetitions`` independent ``shots``-shot estimates, and the qubits of the circuit."""
    if method == "swap":
        circuit, ancilla = swap_test_circuit(prep_a, prep_b)
        # 2 P(0) - 1 = P(0) - P(1) = <Z_ancilla>: the swap test is an expectation estimate.
        values = estimate_expectation(circuit, cirq.Z(ancilla), shots=shots, rng=rng,
                                      repetitions=repetitions)
        return np.asarray(values, dtype=float), len(circuit.all_qubits())
    circuit = compute_uncompute_circuit(prep_a, prep_b)
    qubits = cirq.LineQubit.range(len(circuit.all_qubits()))
    p = probabilities(state_vector(circuit, qubits))
    counts = rng.multinomial(shots, p, size=repetitions)
    return counts[:, 0] / shots, len(qubits)


def _std_error(method: str, value: float, shots: int) -> float:
    f = min(max(value, 0.0), 1.0)
    variance = 1.0 - f**2 if method == "swap" else f * (1.0 - f)
    return float(np.sqrt(variance / shots))


def swap_test_overlap(prep_a: cirq.AbstractCircuit, prep_b: cirq.AbstractCircuit, *,
                      shots: int, rng: np.random.Generator) -> OverlapEstimate:
    """Estimate ``|<a|b>|²`` with the swap test from ``shots`` measurements of the ancilla.

    The swap-test circuit (:func:`swap_test_circuit`) is simulated exactly and its ancilla is
    sampled from the exact probabilities with ``rng``; the estimate ``2 P̂(0) - 1`` equals the
    estimated ``<Z>`` of the ancilla. Its standard error ``sqrt((1 - F̂²)/N)`` uses the
    estimate ``F̂`` clipped to ``[0, 1]``.

    Args:
        prep_a: circuit preparing ``|a>`` from ``|0...0>``.
        prep_b: circuit preparing ``|b>``, on as many qubits as ``prep_a``.
        shots: number of measurements (>= 1).
        rng: the source of randomness.

    Raises:
        TypeError: for a non-circuit preparation or a ``rng`` that is not a Generator.
        ValueError: for ``shots < 1``, measurements, symbols or mismatched widths.

    Example:
        >>> q = cirq.LineQubit(0)
        >>> same = cirq.Circuit(cirq.H(q))
        >>> swap_test_overlap(same, same, shots=100, rng=np.random.default_rng(0))
        OverlapEstimate(value=1.0, std_error=0.0, shots=100, n_qubits=3, method='swap')
    """
    shots = check_int("shots", shots, minimum=1)
    rng = check_rng("rng", rng)
    values, n_qubits = _sample_overlaps(prep_a, prep_b, method="swap", shots=shots,
                                        repetitions=1, rng=rng)
    value = float(values[0])
    return OverlapEstimate(value, _std_error("swap", value, shots), shots, n_qubits, "swap")


def compute_uncompute_overlap(prep_a: cirq.AbstractCircuit, prep_b: cirq.AbstractCircuit, *,
                              shots: int, rng: np.random.Generator) -> OverlapEstimate:
    """Estimate ``|<a|b>|²`` as the frequency of ``0...0`` after ``U_b† U_a``.

    The circuit (:func:`compute_uncompute_circuit`) is simulated exactly and all its ``n``
    qubits are sampled from the exact probabilities with ``rng``. The standard error is
    ``sqrt(F̂ (1 - F̂)/N)``.

    Args:
        prep_a: circuit preparing ``|a>`` from ``|0...0>``.
        prep_b: circuit preparing ``|b>``, on as many qubits as ``prep_a``.
        shots: number of measurements (>= 1).
        rng: the source of randomness.

    Raises:
        TypeError: for a non-circuit preparation or a ``rng`` that is not a Generator.
        ValueError: for ``shots < 1``, measurements, symbols or mismatched widths.

    Example:
        >>> q = cirq.LineQubit(0)
        >>> est = compute_uncompute_overlap(cirq.Circuit(cirq.I(q)), cirq.Circuit(cirq.X(q)),
        ...                                 shots=100, rng=np.random.default_rng(0))
        >>> est.value, est.n_qubits
        (0.0, 1)
    """
    shots = check_int("shots", shots, minimum=1)
    rng = check_rng("rng", rng)
    values, n_qubits = _sample_overlaps(prep_a, prep_b, method="compute_uncompute",
                                        shots=shots, repetitions=1, rng=rng)
    value = float(values[0])
    return OverlapEstimate(value, _std_error("compute_uncompute", value, shots), shots,
                           n_qubits, "compute_uncompute")


def overlap_shot_scaling(prep_a: cirq.AbstractCircuit, prep_b: cirq.AbstractCircuit, *,
                         shots_grid: Sequence[int], repetitions: int,
                         rng: np.random.Generator, method: str = "swap") -> pd.DataFrame:
    """Error of an estimated overlap against the number of shots, for one method.

    For each ``N`` in ``shots_grid``, draws ``repetitions`` independent ``N``-shot estimates
    (the circuit is simulated once per ``N``) and reports their mean, their empirical standard
    deviation (the standard error of one ``N``-shot estimate), their root-mean-square error
    against the exact overlap, and the binomial prediction (``sqrt((1 - F²)/N)`` for the swap
    test, ``sqrt(F (1 - F)/N)`` for compute-uncompute).

    Args:
        prep_a: circuit preparing ``|a>`` from ``|0...0>``.
        prep_b: circuit preparing ``|b>``, on as many qubits as ``prep_a``.
        shots_grid: shot counts (each >= 1).
        repetitions: estimates per shot count (>= 2).
        rng: the source of randomness.
        method: ``"swap"`` or ``"compute_uncompute"``.

    Returns:
        A DataFrame with columns ``shots, mean, std_error, rmse, predicted_std_error, exact``.

    Example:
        >>> q = cirq.LineQubit(0)
        >>> df = overlap_shot_scaling(cirq.Circuit(cirq.I(q)), cirq.Circuit(cirq.H(q)),
        ...                           shots_grid=[10, 1000], repetitions=50,
        ...                           rng=np.random.default_rng(0))
        >>> list(df["predicted_std_error"].round(4))
        [0.2739, 0.0274]
    """
    grid = check_int_sequence("shots_grid", shots_grid, minimum=1)
    reps = check_int("repetitions", repetitions, minimum=2)
    rng = check_rng("rng", rng)
    method = check_choice("method", method, _METHODS)
    exact = exact_overlap(prep_a, prep_b)
    rows = []
    for n in grid:
        est, _ = _sample_overlaps(prep_a, prep_b, method=method, shots=n, repetitions=reps,
                                  rng=rng)
        rows.append({
            "shots": n,
            "mean": float(np.mean(est)),
            "std_error": float(np.std(est, ddof=1)),
            "rmse": float(np.sqrt(np.mean((est - exact) ** 2))),
            "predicted_std_error": _std_error(method, exact, n),
            "exact": exact,
        })
    return pd.DataFrame(rows)
