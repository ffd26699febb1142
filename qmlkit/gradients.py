"""Gradients of quantum cost functions and the optimisers that use them (review §4.2).

A variational model is trained by minimising a cost ``f(θ)``, an expectation value of a
parameterised circuit. This module estimates ``∇f`` and minimises ``f`` in the ways the review
compares, each written out to be read:

* the **parameter-shift rule** (:func:`parameter_shift_gradient`): exact for gates
  ``exp(-iθP/2)`` with a Pauli-like generator ``P`` (``P² = 1``), ``2P`` evaluations;
* **finite differences** (:func:`finite_difference_gradient`): biased by ``O(h)`` (forward,
  ``P + 1`` evaluations) or ``O(h²)`` (central, ``2P`` evaluations);
* **SPSA** (:func:`spsa_gradient`, :func:`spsa_minimize`): two evaluations per step whatever
  the number of parameters;
* **gradient-free** search through SciPy (:func:`minimize_gradient_free`);
* first-order loops (:func:`gradient_descent`, :func:`adam_minimize`) that take any of the
  gradient functions and record loss against the number of circuit evaluations.

Everything works on a plain cost function ``f(theta) -> float``. :class:`CircuitExpectation`
builds one from a symbolic Cirq circuit and an observable, exact (complex128 state vectors) or
sampled from ``shots`` measurements with an explicit :class:`numpy.random.Generator`, and
counts the evaluations and shots it spends. Importing this module does not import TensorFlow;
only :func:`tfq_gradient` does, when called.

Example:
    >>> import cirq, sympy
    >>> q = cirq.LineQubit(0)
    >>> a = sympy.Symbol("a")
    >>> f = CircuitExpectation(cirq.Circuit(cirq.rx(a)(q)), [a], cirq.Z(q))
    >>> res = parameter_shift_gradient(f, [0.5])
    >>> round(float(res.gradient[0]), 6), res.evaluations   # d/da cos(a) = -sin(a)
    (-0.479426, 2)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cirq
import numpy as np
import pandas as pd
import sympy
from scipy import optimize

from qmlkit._validation import (
    check_finite_array,
    check_float,
    check_int,
    check_rng,
)
from qmlkit.circuits import state_vector
from qmlkit.measurement import estimate_expectation

__all__ = [
    "PARAMETER_SHIFT_GATES",
    "CircuitExpectation",
    "GradientResult",
    "OptimizationResult",
    "adam_minimize",
    "finite_difference_gradient",
    "gradient_descent",
    "minimize_gradient_free",
    "parameter_shift_gradient",
    "spsa_gradient",
    "spsa_minimize",
    "tfq_gradient",
]

#: Gate families whose ``exponent`` ``t`` enters as ``exp(iπt·G)`` with a generator ``G`` of
#: two eigenvalues one apart (up to a global phase), so a cost is ``A + B cos(πt) + C sin(πt)``
#: in ``t`` and the two-term parameter-shift rule is exact. ``cirq.rx/ry/rz`` are subclasses of
#: ``X/Y/ZPowGate`` with exponent ``θ/π``.
PARAMETER_SHIFT_GATES: tuple[type, ...] = (
    cirq.XPowGate, cirq.YPowGate, cirq.ZPowGate, cirq.HPowGate, cirq.PhasedXPowGate,
    cirq.XXPowGate, cirq.YYPowGate, cirq.ZZPowGate, cirq.CZPowGate, cirq.CXPowGate,
)

_FD_METHODS = ("forward", "central")
_GRADIENT_FREE_METHODS = ("COBYLA", "Nelder-Mead", "Powell")
_TFQ_DIFFERENTIATORS = ("adjoint", "parameter_shift")

Cost = Callable[[np.ndarray], float]


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GradientResult:
    """A gradient estimate and what it cost.

    Attributes:
        gradient: the estimate of ``∇f(θ)``, shape ``(P,)``.
        evaluations: evaluations of the cost function (circuit executions) it used.
        shots: measurement shots it used; 0 for exact (state-vector) costs.
        method: the name of the method that produced it.

    Example:
        >>> GradientResult(np.array([0.5]), evaluations=2, shots=0, method="demo").evaluations
        2
    """

    gradient: np.ndarray
    evaluations: int
    shots: int
    method: str


@dataclass(frozen=True)
class OptimizationResult:
    """The outcome of a minimisation, with its trace.

    Attributes:
        x: the final parameters.
        fun: the cost at ``x`` (from the monitor for SPSA and first-order loops, from SciPy for
            gradient-free methods).
        history: a :class:`pandas.DataFrame` with at least the columns ``evaluations``
            (cumulative cost-function evaluations the optimiser had spent) and ``loss``.
        evaluations: evaluations of the cost function the optimiser spent in total.
        iterations: optimiser iterations, ``None`` where SciPy does not report them.
        method: the optimiser's name.
        success: whether the optimiser reports success (always ``True`` for fixed-length loops).
        message: the optimiser's message.

    Example:
        >>> r = OptimizationResult(np.zeros(1), 0.0, pd.DataFrame({"evaluations": [0],
        ...                        "loss": [0.0]}), 0, 0, "demo", True, "")
        >>> list(r.history.columns)
        ['evaluations', 'loss']
    """

    x: np.ndarray
    fun: float
    history: pd.DataFrame
    evaluations: int
    iterations: int | None
    method: str
    success: bool
    message: str


# --------------------------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------------------------

def _check_positive(name: str, value: Any) -> float:
    value = check_float(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return value


def _check_cost(f: Any) -> Cost:
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    return f


def _check_theta(f: Any, theta: Any, name: str = "theta") -> np.ndarray:
    arr = check_finite_array(name, theta, ndim=1).copy()
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    expected = getattr(f, "n_parameters", None)
    if expected is not None and arr.size != expected:
        raise ValueError(f"{name} must have length {expected} (one value per symbol), "
                         f"got {arr.size}")
    return arr


def _evaluate(f: Cost, theta: np.ndarray) -> float:
    value = f(theta)
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"f must return a real number, got {type(value).__name__}") from None
    if not math.isfinite(value):
        raise ValueError(f"f returned {value} at theta={theta.tolist()}")
    return value


def _shots_used(f: Any) -> int:
    return int(getattr(f, "shots_used", 0))


def _choose(name: str, value: Any, choices: Sequence[str]) -> str:
    if isinstance(value, str):
        for choice in choices:
            if value.lower() == choice.lower():
                return choice
    raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")


# --------------------------------------------------------------------------------------------
# Cost functions of circuits
# --------------------------------------------------------------------------------------------

def _as_pauli_sum(observable: Any) -> cirq.PauliSum:
    if isinstance(observable, cirq.PauliString):
        psum = cirq.PauliSum.from_pauli_strings([observable])
    elif isinstance(observable, cirq.PauliSum):
        psum = observable
    else:
        raise TypeError("observable must be a cirq.PauliString or cirq.PauliSum, got "
                        f"{type(observable).__name__}")
    for term in psum:
        coeff = complex(term.coefficient)
        if abs(coeff.imag) > 1e-12:
            raise ValueError(f"observable must be Hermitian (real coefficients), got {coeff} "
                             f"on {term}")
    return psum


class CircuitExpectation:
    """The cost ``f(θ) = <ψ(θ)|O|ψ(θ)>`` of a symbolic circuit, as a plain callable.

    ``f(theta)`` resolves ``symbols[i] = theta[i]`` and returns the expectation value of the
    observable: exactly from a complex128 state vector, or, with ``shots``, as the mean of
    ``shots`` simulated ±1 measurements of each Pauli term (:func:`qmlkit.measurement.
    estimate_expectation`), drawn from ``rng``. Each call adds 1 to :attr:`evaluations` and
    ``shots × (number of non-identity terms)`` to :attr:`shots_used`.

    Args:
        circuit: a circuit without measurements whose symbols are all in ``symbols``.
        symbols: the trainable symbols (``sympy.Symbol`` or names), in the order of ``theta``.
        observable: a Hermitian ``cirq.PauliString`` or ``cirq.PauliSum``.
        shots: measurements per Pauli term per evaluation; ``None`` for exact values.
        rng: the source of shot noise; required with ``shots``, refused without.

    Raises:
        TypeError: for arguments of the wrong type.
        ValueError: for measurements, symbols missing from ``symbols``, repeated symbols,
            ``shots <= 0`` or a non-Hermitian observable.

    Example:
        >>> q = cirq.LineQubit(0)
        >>> a = sympy.Symbol("a")
        >>> f = CircuitExpectation(cirq.Circuit(cirq.ry(a)(q)), [a], cirq.X(q))
        >>> round(f([np.pi / 2]), 12), f.evaluations
        (1.0, 1)
        >>> g = CircuitExpectation(cirq.Circuit(cirq.ry(a)(q)), [a], cirq.X(q), shots=100,
        ...                        rng=np.random.default_rng(0))
        >>> g([np.pi / 2]), g.shots_used
        (1.0, 100)
    """

    def __init__(self, circuit: cirq.AbstractCircuit, symbols: Sequence[sympy.Symbol | str],
                 observable: cirq.PauliString | cirq.PauliSum, *, shots: int | None = None,
                 rng: np.random.Generator | None = None) -> None:
        if not isinstance(circuit, cirq.AbstractCircuit):
            raise TypeError(f"circuit must be a cirq.Circuit, got {type(circuit).__name__}")
        if cirq.is_measurement(circuit):
            raise ValueError("circuit must not contain measurements")
        if isinstance(symbols, (str, sympy.Symbol)) or not isinstance(symbols, Sequence):
            raise TypeError("symbols must be a sequence of sympy.Symbol or str, got "
                            f"{type(symbols).__name__}")
        syms: list[sympy.Symbol] = []
        for i, s in enumerate(symbols):
            if isinstance(s, str):
                s = sympy.Symbol(s)
            if not isinstance(s, sympy.Symbol):
                raise TypeError(f"symbols[{i}] must be a sympy.Symbol or str, got "
                                f"{type(s).__name__}")
            syms.append(s)
        if not syms:
            raise ValueError("symbols must not be empty")
        names = [s.name for s in syms]
        if len(set(names)) != len(names):
            raise ValueError(f"symbols must be distinct, got {names}")
        missing = sorted(cirq.parameter_names(circuit) - set(names))
        if missing:
            raise ValueError(f"circuit has symbols {missing} that are not in symbols")
        if shots is None:
            if rng is not None:
                raise ValueError("rng is only used with shots; pass shots or drop rng")
        else:
            shots = check_int("shots", shots, minimum=1)
            rng = check_rng("rng", rng)
        self.circuit: cirq.AbstractCircuit = circuit
        self.symbols: tuple[sympy.Symbol, ...] = tuple(syms)
        self.observable: cirq.PauliSum = _as_pauli_sum(observable)
        self.shots: int | None = shots
        self.rng: np.random.Generator | None = rng
        self.qubits: list[cirq.Qid] = sorted(set(circuit.all_qubits())
                                             | set(self.observable.qubits))
        if not self.qubits:
            raise ValueError("circuit and observable act on no qubits")
        self._measured_terms = sum(1 for term in self.observable if term.qubits)
        self.evaluations: int = 0
        self.shots_used: int = 0

    @property
    def n_parameters(self) -> int:
        """Number of trainable symbols (the length of ``theta``).

        Example:
            >>> q = cirq.LineQubit(0)
            >>> CircuitExpectation(cirq.Circuit(cirq.rx(sympy.Symbol("a"))(q)), ["a"],
            ...                    cirq.Z(q)).n_parameters
            1
        """
        return len(self.symbols)

    def __repr__(self) -> str:
        mode = "exact" if self.shots is None else f"shots={self.shots}"
        return (f"CircuitExpectation({len(self.qubits)} qubits, {self.n_parameters} parameters, "
                f"{mode}, evaluations={self.evaluations})")

    def resolve(self, theta: Sequence[float] | np.ndarray) -> cirq.Circuit:
        """The circuit with ``symbols[i] = theta[i]``.

        Example:
            >>> q = cirq.LineQubit(0)
            >>> f = CircuitExpectation(cirq.Circuit(cirq.rx(sympy.Symbol("a"))(q)), ["a"],
            ...                        cirq.Z(q))
            >>> cirq.is_parameterized(f.resolve([0.1]))
            False
        """
        arr = _check_theta(self, theta)
        resolver = cirq.ParamResolver({s: float(v) for s, v in zip(self.symbols, arr,
                                                                  strict=True)})
        return cirq.resolve_parameters(self.circuit, resolver)

    def __call__(self, theta: Sequence[float] | np.ndarray) -> float:
        """The (exact or sampled) expectation value at ``theta``; counts one evaluation."""
        circuit = self.resolve(theta)
        if self.shots is None:
            psi = state_vector(circuit, self.qubits)
            qmap = {q: i for i, q in enumerate(self.qubits)}
            value = float(np.real(self.observable.expectation_from_state_vector(psi, qmap)))
        else:
            value = 0.0
            for term in self.observable:
                if not term.qubits:  # the identity: a constant, no measurement needed
                    value += float(np.real(complex(term.coefficient)))
                else:
                    value += float(estimate_expectation(circuit, term, shots=self.shots,
                                                        rng=self.rng))
            self.shots_used += self.shots * self._measured_terms
        self.evaluations += 1
        return value

    def reset_counters(self) -> None:
        """Set :attr:`evaluations` and :attr:`shots_used` back to 0.

        Example:
            >>> q = cirq.LineQubit(0)
            >>> f = CircuitExpectation(cirq.Circuit(cirq.rx(sympy.Symbol("a"))(q)), ["a"],
            ...                        cirq.Z(q))
            >>> _ = f([0.0]); f.reset_counters(); f.evaluations
            0
        """
        self.evaluations = 0
        self.shots_used = 0

    def shift_frequencies(self) -> np.ndarray:
        """Frequency ``ω_i`` of each symbol, checking the two-term parameter-shift rule applies.

        The rule is exact when each symbol enters the circuit in exactly one gate of
        :data:`PARAMETER_SHIFT_GATES`, linearly through its exponent: ``exponent = c·θ + d``.
        Then the cost is ``A + B cos(ω θ) + C sin(ω θ)`` with ``ω = π|c|``; ``cirq.rx(θ)``
        (exponent ``θ/π``) has ``ω = 1``, ``cirq.X**θ`` has ``ω = π`` and ``cirq.rx(2θ)`` has
        ``ω = 2``. Symbols absent from the circuit get ``ω = 1`` (their derivative is 0).

        Raises:
            ValueError: naming the gate, if a symbol is shared by several gates, enters a gate
                outside :data:`PARAMETER_SHIFT_GATES` (e.g. a controlled rotation, ``FSimGate``
                or ``PhasedXPowGate``'s phase exponent) or enters non-linearly.

        Example:
            >>> q = cirq.LineQubit(0)
            >>> a, b = sympy.symbols("a b")
            >>> f = CircuitExpectation(cirq.Circuit(cirq.rx(a)(q), (cirq.X**b)(q)), [a, b],
            ...                        cirq.Z(q))
            >>> np.round(f.shift_frequencies(), 6)
            array([1.      , 3.141593])
        """
        uses: dict[str, list[float]] = {s.name: [] for s in self.symbols}
        for op in self.circuit.all_operations():
            names = cirq.parameter_names(op)
            if not names:
                continue
            gate = op.gate
            in_exponent: set[str] = set()
            if isinstance(gate, PARAMETER_SHIFT_GATES):
                in_exponent = set(cirq.parameter_names(gate.exponent))
            outside = sorted(names - in_exponent)
            if outside:
                raise ValueError(
                    f"symbol(s) {outside} enter {op!r} in a way the two-term parameter-shift "
                    f"rule does not cover (supported: the exponent of "
                    f"{', '.join(g.__name__ for g in PARAMETER_SHIFT_GATES)})"
                )
            if len(in_exponent) > 1:
                raise ValueError(f"the exponent of {op!r} depends on several symbols "
                                 f"{sorted(in_exponent)}; use one symbol per gate")
            (name,) = in_exponent
            slope = sympy.diff(sympy.sympify(gate.exponent), sympy.Symbol(name))
            if slope.free_symbols:
                raise ValueError(f"the exponent {gate.exponent} of {op!r} is not linear in "
                                 f"{name}")
            if float(slope) != 0.0:
                uses[name].append(math.pi * abs(float(slope)))
        for name, freqs in uses.items():
            if len(freqs) > 1:
                raise ValueError(
                    f"symbol {name!r} appears in {len(freqs)} gates; the two-term "
                    "parameter-shift rule needs one gate per symbol (give each gate its own "
                    "symbol and add their derivatives)"
                )
        return np.array([freqs[0] if freqs else 1.0 for freqs in uses.values()])


# --------------------------------------------------------------------------------------------
# Gradients
# --------------------------------------------------------------------------------------------

def parameter_shift_gradient(f: Cost, theta: Sequence[float] | np.ndarray, *,
                             shift: float = math.pi / 2,
                             frequencies: Sequence[float] | np.ndarray | None = None
                             ) -> GradientResult:
    """Gradient by the two-term parameter-shift rule, ``2P`` evaluations.

    If ``f`` depends on ``θ_i`` as ``A + B cos(ω_i θ_i) + C sin(ω_i θ_i)`` -- true for a
    circuit where ``θ_i`` enters a single gate ``exp(-i ω_i θ_i P/2)`` with ``P² = 1``, e.g.
    ``cirq.rx/ry/rz`` (``ω = 1``) -- then, for any shift ``s`` in ``(0, π)``, exactly::

        ∂f/∂θ_i = ω_i [f(θ + (s/ω_i) e_i) - f(θ - (s/ω_i) e_i)] / (2 sin s)

    The default ``s = π/2`` gives the familiar ``[f(θ + π/2) - f(θ - π/2)] / 2`` and the
    smallest shot-noise variance. Unlike finite differences the rule has no bias, so with a
    sampled ``f`` the estimate is unbiased.

    Args:
        f: the cost function; a :class:`CircuitExpectation` is checked with
            :meth:`CircuitExpectation.shift_frequencies`, which raises for gates the rule is
            not exact for, and supplies ``frequencies``.
        theta: the point, shape ``(P,)``.
        shift: the shift ``s`` in ``(0, π)``.
        frequencies: ``ω_i`` per parameter; by default those of a :class:`CircuitExpectation`
            and 1 otherwise. Passing them skips the circuit check.

    Raises:
        ValueError: for a bad ``theta``, ``shift`` or ``frequencies``, or a circuit the rule
            does not cover.

    Example:
        >>> f = lambda t: float(np.cos(t[0]) * np.sin(t[1]))
        >>> res = parameter_shift_gradient(f, [0.3, 0.4])
        >>> np.allclose(res.gradient, [-np.sin(0.3) * np.sin(0.4), np.cos(0.3) * np.cos(0.4)])
        True
    """
    f = _check_cost(f)
    x = _check_theta(f, theta)
    shift = check_float("shift", shift)
    if not 0.0 < shift < math.pi:
        raise ValueError(f"shift must lie in (0, π), got {shift}")
    if frequencies is not None:
        omega = check_finite_array("frequencies", frequencies, ndim=1)
        if omega.shape != x.shape:
            raise ValueError(f"frequencies must have length {x.size}, got {omega.size}")
        if np.any(omega <= 0):
            raise ValueError("frequencies must be > 0")
    elif isinstance(f, CircuitExpectation):
        omega = f.shift_frequencies()
    else:
        omega = np.ones_like(x)
    shots_before = _shots_used(f)
    grad = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = shift / omega[i]
        grad[i] = omega[i] * (_evaluate(f, x + e) - _evaluate(f, x - e)) / (2 * math.sin(shift))
    return GradientResult(grad, 2 * x.size, _shots_used(f) - shots_before, "parameter_shift")


def finite_difference_gradient(f: Cost, theta: Sequence[float] | np.ndarray, *, step: float,
                               method: str = "forward") -> GradientResult:
    """Gradient by finite differences of step ``h``.

    ``"forward"``: ``[f(θ + h e_i) - f(θ)] / h``, ``P + 1`` evaluations, bias ``O(h)``.
    ``"central"``: ``[f(θ + h e_i) - f(θ - h e_i)] / (2h)``, ``2P`` evaluations, bias
    ``O(h²)``. With shot noise of standard deviation ``σ`` the variance grows like
    ``σ²/h²``, so small steps are useless on hardware -- the parameter-shift rule's case.

    Args:
        f: the cost function.
        theta: the point, shape ``(P,)``.
        step: the step ``h > 0``.
        method: ``"forward"`` or ``"central"``.

    Example:
        >>> f = lambda t: float(np.sin(t[0]))
        >>> res = finite_difference_gradient(f, [0.0], step=1e-4, method="central")
        >>> round(float(res.gradient[0]), 6), res.evaluations
        (1.0, 2)
    """
    f = _check_cost(f)
    x = _check_theta(f, theta)
    h = _check_positive("step", step)
    method = _choose("method", method, _FD_METHODS)
    shots_before = _shots_used(f)
    grad = np.empty_like(x)
    f0 = _evaluate(f, x) if method == "forward" else None
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        if f0 is not None:
            grad[i] = (_evaluate(f, x + e) - f0) / h
        else:
            grad[i] = (_evaluate(f, x + e) - _evaluate(f, x - e)) / (2 * h)
    evaluations = x.size + 1 if method == "forward" else 2 * x.size
    return GradientResult(grad, evaluations, _shots_used(f) - shots_before,
                          f"finite_difference_{method}")


def spsa_gradient(f: Cost, theta: Sequence[float] | np.ndarray, *, step: float,
                  rng: np.random.Generator) -> GradientResult:
    """Simultaneous-perturbation (SPSA) gradient estimate, 2 evaluations for any ``P``.

    Draws a random direction ``Δ ∈ {-1, +1}^P`` and returns
    ``[f(θ + cΔ) - f(θ - cΔ)] / (2c) · Δ`` (``1/Δ_i = Δ_i``). Its mean over ``Δ`` is the
    gradient up to ``O(c²)``; one estimate is a noisy, directional one.

    Args:
        f: the cost function.
        theta: the point, shape ``(P,)``.
        step: the perturbation size ``c > 0``.
        rng: the source of the random direction.

    Example:
        >>> f = lambda t: float(t @ t)
        >>> res = spsa_gradient(f, [1.0, 2.0], step=0.1, rng=np.random.default_rng(0))
        >>> res.evaluations, res.gradient.shape
        (2, (2,))
    """
    f = _check_cost(f)
    x = _check_theta(f, theta)
    c = _check_positive("step", step)
    rng = check_rng("rng", rng)
    shots_before = _shots_used(f)
    delta = 2.0 * rng.integers(0, 2, size=x.size) - 1.0
    diff = _evaluate(f, x + c * delta) - _evaluate(f, x - c * delta)
    return GradientResult(diff / (2 * c) * delta, 2, _shots_used(f) - shots_before, "spsa")


def tfq_gradient(f: CircuitExpectation, theta: Sequence[float] | np.ndarray, *,
                 differentiator: str = "adjoint") -> GradientResult:
    """Analytic-method gradient of a :class:`CircuitExpectation` from TensorFlow Quantum.

    Imports TensorFlow (through :func:`qmlkit._environment.import_tensorflow`) on first use.
    ``"adjoint"`` is ``tfq.differentiators.Adjoint`` (a simulator-only method: one forward
    and one backward sweep, reported as 1 evaluation); ``"parameter_shift"`` is
    ``tfq.differentiators.ParameterShift`` (reported as 2 evaluations per parameterised
    gate). TFQ computes in single precision (float32), and its ``Adjoint`` is not exact even
    apart from rounding: TFQ differentiates each gate matrix by a central difference of step
    ``5e-3`` in the gate's exponent (``_GRAD_EPS`` in TFQ's ``core/src/adj_util.cc``), a
    systematic relative error of about ``1e-5`` per component (more at large angles, where
    float32 resolves the exponent less finely). Expect ``"parameter_shift"`` to agree with
    :func:`parameter_shift_gradient` to about ``1e-6``--``1e-5`` and ``"adjoint"`` to about
    ``1e-5``--``1e-4`` on circuits of tens of gates.

    Args:
        f: an exact (``shots=None``) :class:`CircuitExpectation`.
        theta: the point, shape ``(P,)``.
        differentiator: ``"adjoint"`` or ``"parameter_shift"``.

    Example:
        >>> q = cirq.LineQubit(0)
        >>> f = CircuitExpectation(cirq.Circuit(cirq.rx(sympy.Symbol("a"))(q)), ["a"],
        ...                        cirq.Z(q))
        >>> res = tfq_gradient(f, [0.5])  # doctest: +SKIP
        >>> round(float(res.gradient[0]), 4)  # doctest: +SKIP
        -0.4794
    """
    if not isinstance(f, CircuitExpectation):
        raise TypeError(f"f must be a CircuitExpectation, got {type(f).__name__}")
    if f.shots is not None:
        raise ValueError("f must be exact (shots=None); TFQ's sampled ops seed themselves")
    x = _check_theta(f, theta)
    differentiator = _choose("differentiator", differentiator, _TFQ_DIFFERENTIATORS)
    from qmlkit._environment import import_tensorflow

    tf = import_tensorflow()
    import tensorflow_quantum as tfq

    diff = (tfq.differentiators.Adjoint() if differentiator == "adjoint"
            else tfq.differentiators.ParameterShift())
    values = tf.Variable(x[None, :].astype(np.float32))
    layer = tfq.layers.Expectation(differentiator=diff)
    with tf.GradientTape() as tape:
        out = layer(tfq.convert_to_tensor([f.circuit]),
                    symbol_names=[s.name for s in f.symbols], symbol_values=values,
                    operators=tfq.convert_to_tensor([[f.observable]]))
    grad = np.asarray(tape.gradient(out, values).numpy()[0], dtype=np.float64)
    if differentiator == "adjoint":
        evaluations = 1
    else:
        evaluations = 2 * sum(1 for op in f.circuit.all_operations()
                              if cirq.parameter_names(op))
    return GradientResult(grad, evaluations, 0, f"tfq_{differentiator}")


# --------------------------------------------------------------------------------------------
# Optimisers
# --------------------------------------------------------------------------------------------

def _gradient_of(result: Any, size: int) -> tuple[np.ndarray, int]:
    """The gradient array and its evaluation count from a grad_fn's return value."""
    if isinstance(result, GradientResult):
        grad, evaluations = result.gradient, result.evaluations
    else:
        grad, evaluations = result, 0
    grad = check_finite_array("gradient returned by grad_fn", grad, ndim=1)
    if grad.size != size:
        raise ValueError(f"grad_fn returned a gradient of length {grad.size}, expected {size}")
    return grad, int(evaluations)


def _first_order_loop(f: Cost, grad_fn: Callable[[np.ndarray], Any], theta0: Any,
                      iterations: int, step: Callable[[int, np.ndarray, np.ndarray], np.ndarray],
                      method: str) -> OptimizationResult:
    f = _check_cost(f)
    if not callable(grad_fn):
        raise TypeError(f"grad_fn must be callable, got {type(grad_fn).__name__}")
    x = _check_theta(f, theta0, "theta0")
    iterations = check_int("iterations", iterations, minimum=1)
    spent = 0
    rows = [{"iteration": 0, "evaluations": 0, "loss": _evaluate(f, x)}]
    for k in range(1, iterations + 1):
        grad, cost = _gradient_of(grad_fn(x.copy()), x.size)
        spent += cost
        x = x - step(k, x, grad)
        rows.append({"iteration": k, "evaluations": spent, "loss": _evaluate(f, x)})
    history = pd.DataFrame(rows)
    return OptimizationResult(x, float(history["loss"].iloc[-1]), history, spent, iterations,
                              method, True, f"completed {iterations} iterations")


def gradient_descent(f: Cost, grad_fn: Callable[[np.ndarray], Any],
                     theta0: Sequence[float] | np.ndarray, *, iterations: int,
                     learning_rate: float) -> OptimizationResult:
    """Plain gradient descent ``θ ← θ - η ∇f(θ)`` with any gradient function.

    ``grad_fn(theta)`` returns a :class:`GradientResult` (its ``evaluations`` are summed into
    the history) or a bare array (an analytic gradient, counted as 0 evaluations). The history
    records ``f`` at every iterate; those monitoring calls are a diagnostic and are *not*
    counted in ``evaluations`` (but a :class:`CircuitExpectation` ``f`` counts them itself).

    Args:
        f: the cost, evaluated for the history.
        grad_fn: the gradient, e.g. ``functools.partial(parameter_shift_gradient, f)``.
        theta0: the starting point.
        iterations: the number of steps (>= 1).
        learning_rate: ``η > 0``.

    Example:
        >>> from functools import partial
        >>> f = lambda t: float(np.sum(1.0 - np.cos(t)))   # exact for parameter shift
        >>> res = gradient_descent(f, partial(parameter_shift_gradient, f), [1.0, -0.5],
        ...                        iterations=50, learning_rate=0.5)
        >>> bool(res.fun < 1e-8), res.evaluations
        (True, 200)
    """
    eta = _check_positive("learning_rate", learning_rate)
    return _first_order_loop(f, grad_fn, theta0, iterations, lambda k, x, g: eta * g,
                             "gradient_descent")


def adam_minimize(f: Cost, grad_fn: Callable[[np.ndarray], Any],
                  theta0: Sequence[float] | np.ndarray, *, iterations: int,
                  learning_rate: float = 0.05, beta1: float = 0.9, beta2: float = 0.999,
                  epsilon: float = 1e-8) -> OptimizationResult:
    """Adam (Kingma & Ba) with any gradient function, recording loss against evaluations.

    ``m ← β₁m + (1-β₁)g``, ``v ← β₂v + (1-β₂)g²``, ``θ ← θ - η m̂ / (√v̂ + ε)`` with the
    bias-corrected moments ``m̂ = m/(1-β₁ᵏ)``, ``v̂ = v/(1-β₂ᵏ)``. Evaluation counting and the
    history are as in :func:`gradient_descent`.

    Args:
        f: the cost, evaluated for the history.
        grad_fn: returns a :class:`GradientResult` or an array.
        theta0: the starting point.
        iterations: the number of steps (>= 1).
        learning_rate: ``η > 0``.
        beta1: first-moment decay in ``[0, 1)``.
        beta2: second-moment decay in ``[0, 1)``.
        epsilon: ``ε > 0``.

    Example:
        >>> f = lambda t: float(np.sum((t - 1.0) ** 2))
        >>> res = adam_minimize(f, lambda t: 2 * (t - 1.0), [0.0], iterations=300,
        ...                     learning_rate=0.05)
        >>> bool(abs(res.x[0] - 1.0) < 1e-2), list(res.history.columns)
        (True, ['iteration', 'evaluations', 'loss'])
    """
    eta = _check_positive("learning_rate", learning_rate)
    b1 = check_float("beta1", beta1, minimum=0.0)
    b2 = check_float("beta2", beta2, minimum=0.0)
    for name, b in (("beta1", b1), ("beta2", b2)):
        if b >= 1.0:
            raise ValueError(f"{name} must be < 1, got {b}")
    eps = _check_positive("epsilon", epsilon)
    moments: dict[str, np.ndarray] = {}

    def step(k: int, x: np.ndarray, g: np.ndarray) -> np.ndarray:
        m = b1 * moments.get("m", np.zeros_like(g)) + (1 - b1) * g
        v = b2 * moments.get("v", np.zeros_like(g)) + (1 - b2) * g**2
        moments["m"], moments["v"] = m, v
        m_hat = m / (1 - b1**k)
        v_hat = v / (1 - b2**k)
        return eta * m_hat / (np.sqrt(v_hat) + eps)

    return _first_order_loop(f, grad_fn, theta0, iterations, step, "adam")


def spsa_minimize(f: Cost, theta0: Sequence[float] | np.ndarray, *, iterations: int,
                  rng: np.random.Generator, a: float, c: float, alpha: float = 0.602,
                  gamma: float = 0.101, stability: float | None = None,
                  monitor: Cost | None = None) -> OptimizationResult:
    """Minimise ``f`` by SPSA with Spall's gain schedule, 2 evaluations per iteration.

    At iteration ``k = 0, 1, ...`` the step is ``a_k = a / (k + 1 + A)^α`` and the
    perturbation ``c_k = c / (k + 1)^γ``; ``θ ← θ - a_k ĝ_k`` with ``ĝ_k`` from
    :func:`spsa_gradient`. Spall's recommended exponents ``α = 0.602``, ``γ = 0.101`` are the
    defaults and ``A`` (``stability``) defaults to 10 % of ``iterations``.

    The history records ``monitor(θ_k)`` (``f`` by default; pass an exact cost to plot the true
    loss of a sampled ``f``); those calls are *not* counted in ``evaluations``.

    Args:
        f: the cost function to minimise (may be noisy).
        theta0: the starting point.
        iterations: the number of SPSA steps (>= 1).
        rng: the source of the perturbations.
        a: step-size scale ``a > 0``.
        c: perturbation scale ``c > 0`` (about the noise level of ``f``).
        alpha: step-size decay exponent ``α > 0``.
        gamma: perturbation decay exponent ``γ > 0``.
        stability: ``A >= 0``.
        monitor: the cost recorded in the history and returned as ``fun``.

    Example:
        >>> f = lambda t: float(np.sum((t - 1.0) ** 2))
        >>> res = spsa_minimize(f, [0.0, 0.0], iterations=200, rng=np.random.default_rng(0),
        ...                     a=0.5, c=0.1)
        >>> bool(res.fun < 1e-3), res.evaluations
        (True, 400)
    """
    f = _check_cost(f)
    x = _check_theta(f, theta0, "theta0")
    iterations = check_int("iterations", iterations, minimum=1)
    rng = check_rng("rng", rng)
    a = _check_positive("a", a)
    c = _check_positive("c", c)
    alpha = _check_positive("alpha", alpha)
    gamma = _check_positive("gamma", gamma)
    big_a = 0.1 * iterations if stability is None else check_float("stability", stability,
                                                                   minimum=0.0)
    loss = _check_cost(f if monitor is None else monitor)
    spent = 0
    rows = [{"iteration": 0, "evaluations": 0, "loss": _evaluate(loss, x), "a_k": np.nan,
             "c_k": np.nan}]
    for k in range(iterations):
        a_k = a / (k + 1 + big_a) ** alpha
        c_k = c / (k + 1) ** gamma
        est = spsa_gradient(f, x, step=c_k, rng=rng)
        spent += est.evaluations
        x = x - a_k * est.gradient
        rows.append({"iteration": k + 1, "evaluations": spent, "loss": _evaluate(loss, x),
                     "a_k": a_k, "c_k": c_k})
    history = pd.DataFrame(rows)
    return OptimizationResult(x, float(history["loss"].iloc[-1]), history, spent, iterations,
                              "spsa", True, f"completed {iterations} iterations")


def minimize_gradient_free(f: Cost, theta0: Sequence[float] | np.ndarray, *,
                           method: str = "COBYLA", maxiter: int = 200, tol: float | None = None,
                           options: Mapping[str, Any] | None = None,
                           monitor: Cost | None = None) -> OptimizationResult:
    """Minimise ``f`` without gradients through :func:`scipy.optimize.minimize`.

    Every evaluation SciPy makes is recorded, so the history has one row per evaluation with
    the columns ``evaluations``, ``loss`` and ``best_loss`` (the running minimum).

    With a noisy (sampled) ``f`` the running minimum of its values is optimistically biased:
    the point that *looks* best is partly the luckiest draw. Pass ``monitor`` (e.g. the exact
    cost) to see the truth: it is evaluated at each point that becomes the best one by ``f``,
    and the history gets the column ``best_monitor``, the monitor's value at the point of
    ``best_loss``. Those calls are *not* counted in ``evaluations``; ``fun`` stays SciPy's
    (the value of ``f``).

    Args:
        f: the cost function.
        theta0: the starting point.
        method: ``"COBYLA"``, ``"Nelder-Mead"`` or ``"Powell"`` (case-insensitive).
        maxiter: SciPy's ``maxiter`` option (>= 1).
        tol: SciPy's ``tol``.
        options: further SciPy options (e.g. ``{"rhobeg": 0.5}`` for COBYLA).
        monitor: a cost recorded at each new best point, as ``best_monitor``.

    Example:
        >>> f = lambda t: float(np.sum((t - 1.0) ** 2))
        >>> res = minimize_gradient_free(f, [0.0, 0.0], method="COBYLA", maxiter=200)
        >>> bool(res.fun < 1e-6), res.evaluations == len(res.history)
        (True, True)
        >>> noisy_rng = np.random.default_rng(0)
        >>> noisy = lambda t: f(t) + 0.01 * noisy_rng.normal()
        >>> res = minimize_gradient_free(noisy, [0.0, 0.0], maxiter=100, monitor=f)
        >>> list(res.history.columns)
        ['evaluations', 'loss', 'best_loss', 'best_monitor']
        >>> bool(res.history["best_monitor"].iloc[-1] == f(res.x))  # COBYLA returns its best
        True
    """
    f = _check_cost(f)
    x0 = _check_theta(f, theta0, "theta0")
    method = _choose("method", method, _GRADIENT_FREE_METHODS)
    maxiter = check_int("maxiter", maxiter, minimum=1)
    if tol is not None:
        tol = _check_positive("tol", tol)
    if options is not None and not isinstance(options, Mapping):
        raise TypeError(f"options must be a mapping, got {type(options).__name__}")
    if monitor is not None and not callable(monitor):
        raise TypeError(f"monitor must be callable, got {type(monitor).__name__}")
    losses: list[float] = []
    best_monitor: list[float] = []
    best_loss = [math.inf]

    def recorded(theta: np.ndarray) -> float:
        point = np.asarray(theta, dtype=float)
        value = _evaluate(f, point)
        if monitor is not None:
            # A new best by f (ties keep the earlier point, as np.minimum.accumulate does).
            if value < best_loss[0]:
                best_loss[0] = value
                best_monitor.append(_evaluate(monitor, point.copy()))
            else:
                best_monitor.append(best_monitor[-1])
        losses.append(value)
        return value

    res = optimize.minimize(recorded, x0, method=method, tol=tol,
                            options={"maxiter": maxiter, **(options or {})})
    history = pd.DataFrame({"evaluations": np.arange(1, len(losses) + 1), "loss": losses,
                            "best_loss": np.minimum.accumulate(losses)})
    if monitor is not None:
        history["best_monitor"] = best_monitor
    nit = res.get("nit")
    return OptimizationResult(np.asarray(res.x, dtype=float), float(res.fun), history,
                              len(losses), None if nit is None else int(nit), method,
                              bool(res.success), str(res.message))
