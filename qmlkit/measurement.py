"""Measurement, shots and the statistics of estimated expectation values (review §2).

A quantum model's output is an expectation value ``<O>`` that hardware can only *estimate* from
a finite number of shots ``N``; for a Pauli observable each shot gives ±1, so the estimate's
standard error is ``sqrt((1 - <O>²) / N)``. This module samples shots from exact probabilities
with an explicit :class:`numpy.random.Generator` (reproducible bit for bit, unlike TFQ's
sampled ops, which seed themselves) and measures how the error scales.

Example:
    >>> import numpy as np
    >>> from qmlkit.circuits import bloch_state_circuit
    >>> c = bloch_state_circuit(np.pi / 3)
    >>> z = cirq.Z(cirq.LineQubit(0))
    >>> round(exact_expectation(c, z), 6)
    0.5
    >>> est = estimate_expectation(c, z, shots=10_000, rng=np.random.default_rng(0))
    >>> abs(est - 0.5) < 0.03
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cirq
import numpy as np
import pandas as pd
from scipy import stats

from qmlkit._validation import (
    check_finite_array,
    check_int,
    check_int_sequence,
    check_rng,
)
from qmlkit.circuits import state_vector

__all__ = [
    "PowerLawFit",
    "estimate_expectation",
    "exact_expectation",
    "fit_power_law",
    "pauli_eigenvalues",
    "probabilities",
    "sample_bitstrings",
    "sample_counts",
    "shot_noise_scaling",
]


def probabilities(state: np.ndarray, *, atol: float = 1e-8) -> np.ndarray:
    """Born-rule probabilities ``|ψ_i|²`` of a normalised state vector.

    Raises:
        ValueError: if ``state`` is not normalised (to ``atol``) or holds NaN/inf.

    Example:
        >>> probabilities(np.array([1, 1j]) / np.sqrt(2))
        array([0.5, 0.5])
    """
    psi = check_finite_array("state", state, ndim=1, dtype=np.complex128)
    p = np.abs(psi) ** 2
    total = float(p.sum())
    if abs(total - 1.0) > atol:
        raise ValueError(f"state must be normalised, got squared norm {total:.6g}")
    return p / total


def sample_counts(state: np.ndarray, *, shots: int, rng: np.random.Generator) -> np.ndarray:
    """Counts of each computational-basis outcome in ``shots`` measurements of ``state``.

    Example:
        >>> sample_counts(np.array([1.0, 0.0]), shots=5, rng=np.random.default_rng(1))
        array([5, 0])
    """
    shots = check_int("shots", shots, minimum=1)
    rng = check_rng("rng", rng)
    return rng.multinomial(shots, probabilities(state))


def sample_bitstrings(state: np.ndarray, *, shots: int,
                      rng: np.random.Generator) -> np.ndarray:
    """``shots`` measured bitstrings, shape ``(shots, n_qubits)``, qubit 0 first.

    Example:
        >>> sample_bitstrings(np.array([0, 0, 0, 1.0]), shots=2, rng=np.random.default_rng(0))
        array([[1, 1],
               [1, 1]], dtype=uint8)
    """
    shots = check_int("shots", shots, minimum=1)
    rng = check_rng("rng", rng)
    p = probabilities(state)
    n = int(np.log2(p.size))
    idx = rng.choice(p.size, size=shots, p=p)
    return ((idx[:, None] >> np.arange(n - 1, -1, -1)) & 1).astype(np.uint8)


def pauli_eigenvalues(n_qubits: int, support: Sequence[int]) -> np.ndarray:
    """Eigenvalue (±1) of ``Z_{support[0]} Z_{support[1]} ...`` on each basis state.

    Example:
        >>> pauli_eigenvalues(2, [0, 1])
        array([ 1, -1, -1,  1])
    """
    n = check_int("n_qubits", n_qubits, minimum=1)
    idx = np.arange(2**n)
    parity = np.zeros(2**n, dtype=np.int64)
    for q in support:
        q = check_int("support qubit", q, minimum=0, maximum=n - 1)
        parity ^= (idx >> (n - 1 - q)) & 1
    return 1 - 2 * parity


def _rotated_state(circuit: cirq.AbstractCircuit, observable: cirq.PauliString,
                   qubits: Sequence[cirq.Qid]) -> tuple[np.ndarray, list[int]]:
    """State after rotating each factor of ``observable`` to the Z basis, and its support."""
    rotations: list[cirq.Operation] = []
    for q, pauli in observable.items():
        if pauli == cirq.X:
            rotations.append(cirq.H(q))
        elif pauli == cirq.Y:
            rotations += [cirq.S(q) ** -1, cirq.H(q)]
    psi = state_vector(cirq.Circuit(circuit, rotations), qubits)
    index = {q: i for i, q in enumerate(qubits)}
    return psi, [index[q] for q in observable.qubits]


def _check_observable(circuit: cirq.AbstractCircuit, observable: cirq.PauliString
                      ) -> tuple[list[cirq.Qid], complex]:
    if not isinstance(observable, cirq.PauliString):
        raise TypeError(f"observable must be a cirq.PauliString, got {type(observable).__name__}")
    coeff = complex(observable.coefficient)
    if abs(coeff.imag) > 1e-12:
        raise ValueError(f"observable must be Hermitian (real coefficient), got {coeff}")
    qubits = sorted(set(circuit.all_qubits()) | set(observable.qubits))
    return qubits, coeff


def exact_expectation(circuit: cirq.AbstractCircuit, observable: cirq.PauliString) -> float:
    """Exact ``<ψ|O|ψ>`` of a Pauli string on the state ``circuit`` prepares.

    Example:
        >>> from qmlkit.circuits import bell_circuit
        >>> q0, q1 = cirq.LineQubit.range(2)
        >>> round(exact_expectation(bell_circuit(), cirq.Z(q0) * cirq.Z(q1)), 12)
        1.0
    """
    qubits, _ = _check_observable(circuit, observable)
    psi = state_vector(circuit, qubits)
    qmap = {q: i for i, q in enumerate(qubits)}
    value = observable.expectation_from_state_vector(psi, qmap)
    return float(np.real(value))


def estimate_expectation(circuit: cirq.AbstractCircuit, observable: cirq.PauliString, *,
                         shots: int, rng: np.random.Generator, repetitions: int | None = None
                         ) -> float | np.ndarray:
    """Estimate ``<O>`` from ``shots`` simulated measurements in the observable's eigenbasis.

    Each factor of the Pauli string is rotated to Z (``H`` for X, ``S†H`` for Y), all qubits are
    measured and the estimate is the mean of the ±1 parity over the string's support, times its
    coefficient. With ``repetitions`` it returns that many independent estimates.

    Args:
        circuit: the state-preparation circuit.
        observable: a Hermitian ``cirq.PauliString``.
        shots: measurements per estimate (>= 1).
        rng: the source of randomness.
        repetitions: number of independent estimates; ``None`` for a single float.

    Example:
        >>> q = cirq.LineQubit(0)
        >>> estimate_expectation(cirq.Circuit(cirq.X(q)), cirq.Z(q), shots=10,
        ...                      rng=np.random.default_rng(0))
        -1.0
    """
    shots = check_int("shots", shots, minimum=1)
    rng = check_rng("rng", rng)
    reps = 1 if repetitions is None else check_int("repetitions", repetitions, minimum=1)
    qubits, coeff = _check_observable(circuit, observable)
    psi, support = _rotated_state(circuit, observable, qubits)
    eig = pauli_eigenvalues(len(qubits), support)
    counts = rng.multinomial(shots, probabilities(psi), size=reps)
    estimates = coeff.real * (counts @ eig) / shots
    return float(estimates[0]) if repetitions is None else estimates


def shot_noise_scaling(circuit: cirq.AbstractCircuit, observable: cirq.PauliString, *,
                       shots_grid: Sequence[int], repetitions: int,
                       rng: np.random.Generator) -> pd.DataFrame:
    """Measure the error of an estimated expectation value against the number of shots.

    For each ``N`` in ``shots_grid``, draws ``repetitions`` independent ``N``-shot estimates and
    reports their mean, their empirical standard deviation (the standard error of one
    ``N``-shot estimate), the root-mean-square error against the exact value, and the
    binomial prediction ``sqrt((1 - <O>²)/N)``.

    Returns:
        A DataFrame with columns ``shots, mean, std_error, rmse, predicted_std_error, exact``.

    Example:
        >>> q = cirq.LineQubit(0)
        >>> from qmlkit.circuits import bloch_state_circuit
        >>> df = shot_noise_scaling(bloch_state_circuit(1.0), cirq.Z(q), shots_grid=[10, 1000],
        ...                         repetitions=200, rng=np.random.default_rng(0))
        >>> list(df.columns)
        ['shots', 'mean', 'std_error', 'rmse', 'predicted_std_error', 'exact']
    """
    grid = check_int_sequence("shots_grid", shots_grid, minimum=1)
    reps = check_int("repetitions", repetitions, minimum=2)
    rng = check_rng("rng", rng)
    exact = exact_expectation(circuit, observable)
    scale = abs(complex(observable.coefficient))
    rows = []
    for n in grid:
        est = estimate_expectation(circuit, observable, shots=n, rng=rng, repetitions=reps)
        rows.append({
            "shots": n,
            "mean": float(np.mean(est)),
            "std_error": float(np.std(est, ddof=1)),
            "rmse": float(np.sqrt(np.mean((est - exact) ** 2))),
            "predicted_std_error": float(np.sqrt(max(scale**2 - exact**2, 0.0) / n)),
            "exact": exact,
        })
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class PowerLawFit:
    """Least-squares fit of ``y = prefactor · x**exponent`` on log-log axes.

    Attributes:
        exponent: fitted slope of ``log y`` against ``log x``.
        exponent_stderr: its standard error.
        prefactor: ``exp`` of the fitted intercept.
        prefactor_stderr: standard error of the prefactor (delta method).
        r_squared: coefficient of determination on log-log axes.
    """

    exponent: float
    exponent_stderr: float
    prefactor: float
    prefactor_stderr: float
    r_squared: float

    def predict(self, x: np.ndarray | float) -> np.ndarray:
        """Evaluate the fitted power law at ``x``."""
        return self.prefactor * np.asarray(x, dtype=float) ** self.exponent


def fit_power_law(x: Sequence[float], y: Sequence[float]) -> PowerLawFit:
    """Fit ``y ≈ a · x**b`` by linear regression of ``log y`` on ``log x``.

    Raises:
        ValueError: with fewer than 3 points, mismatched lengths, or non-positive values.

    Example:
        >>> fit = fit_power_law([1, 10, 100], [1.0, 0.1, 0.01])
        >>> round(fit.exponent, 6), round(fit.prefactor, 6)
        (-1.0, 1.0)
    """
    xa = check_finite_array("x", x, ndim=1)
    ya = check_finite_array("y", y, ndim=1)
    if xa.shape != ya.shape:
        raise ValueError(f"x and y must have the same length, got {xa.size} and {ya.size}")
    if xa.size < 3:
        raise ValueError(f"need at least 3 points to fit a power law, got {xa.size}")
    if np.any(xa <= 0) or np.any(ya <= 0):
        raise ValueError("x and y must be positive for a log-log fit")
    res = stats.linregress(np.log(xa), np.log(ya))
    prefactor = float(np.exp(res.intercept))
    return PowerLawFit(
        exponent=float(res.slope),
        exponent_stderr=float(res.stderr),
        prefactor=prefactor,
        prefactor_stderr=float(prefactor * res.intercept_stderr),
        r_squared=float(res.rvalue**2),
    )
