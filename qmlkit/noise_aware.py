"""Noise-aware training: error mitigation inside the training loop (review §7, Table 3).

The review recommends to "use noise-aware optimizers and include error-mitigation steps in
training loops", and lists "error mitigation and noise-aware training" against the gradient
variance that noise and decoherence cause (Table 3). Neither TensorFlow Quantum, PennyLane nor
Mitiq ships such a loop; this module is one, written to be read and to count what it spends:

* :class:`MitigatedCost` -- the cost ``f(θ) = c + Σ_g <O_g>(θ)`` of a parameterised circuit and
  an observable, split into qubit-wise commuting measurement groups
  (:func:`measurement_groups`), one executor per group, each group's value mitigated with
  :mod:`qmlkit.mitigation` (``"none"``, ``"zne"``, ``"rem"``, ``"rem+zne"``), every execution
  and shot counted;
* :func:`train_noise_aware` -- Adam on parameter-shift gradients of the *mitigated* cost, or
  SPSA on the mitigated cost, run until a **shot budget** (or an iteration count) is spent, so
  that mitigated, unmitigated and noiseless training can be compared at equal cost. It returns
  the history as a :class:`pandas.DataFrame`.

**Parameter shift on mitigated values.** The gradient is the two-term rule applied to the
mitigated cost: each shifted circuit ``U(θ ± (π/2) e_i)`` is built first and then mitigated as a
whole (for ZNE: folded and extrapolated), and ``[f̂(θ + π/2 e_i) - f̂(θ - π/2 e_i)] / 2`` is
taken. At a single scale factor ``λ > 1`` that difference is not exactly the derivative of the
folded circuit's value (``θ_i`` occurs ``λ`` times in a globally folded circuit, which makes the
noisy value a trigonometric polynomial of degree ``λ`` in ``θ_i``, its higher harmonics of the
order of the noise); what makes the rule valid here is that the extrapolated value
estimates the noiseless cost, a single sinusoid in ``θ_i`` for rotation gates, so the difference
of the mitigated values estimates the noiseless ``∂f/∂θ_i``, with exactly the residual bias and
the variance of the mitigated values. SPSA needs no such argument (it differences any cost) and
spends 2 cost evaluations per step whatever the number of parameters.

Example:
    >>> import cirq
    >>> import numpy as np
    >>> from qmlkit.noise import DepolarizingNoise, SamplingExecutor
    >>> q = cirq.LineQubit(0)
    >>> noise = DepolarizingNoise(p1=0.05)
    >>> def executor_factory(observable):
    ...     return SamplingExecutor(observable, noise, shots=1000, rng=np.random.default_rng(1))
    >>> history = train_noise_aware(
    ...     lambda t: cirq.Circuit(cirq.ry(t[0])(q), cirq.I(q)), [0.3], observable=cirq.Z(q),
    ...     executor_factory=executor_factory, mitigation="zne", shot_budget=60_000,
    ...     rng=np.random.default_rng(0), learning_rate=0.2)
    >>> int(history["shots"].iloc[-1]) <= 60_000, list(history.columns)[:5]
    (True, ['iteration', 'evaluations', 'executions', 'shots', 'estimate'])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import cirq
import numpy as np
import pandas as pd

from qmlkit import mitigation as _mit
from qmlkit._validation import check_choice, check_finite_array, check_float, check_int, check_rng
from qmlkit.gradients import parameter_shift_gradient, spsa_gradient

__all__ = [
    "MITIGATIONS",
    "OPTIMIZERS",
    "ZNE_OPTIONS",
    "MitigatedCost",
    "measurement_groups",
    "train_noise_aware",
]

#: Mitigation methods of :class:`MitigatedCost` (``"rem+zne"``: read-out correction, then ZNE).
MITIGATIONS = ("none", "zne", "rem", "rem+zne")

#: Optimisers of :func:`train_noise_aware`.
OPTIMIZERS = ("adam", "spsa")

#: Keyword arguments of :func:`qmlkit.mitigation.zne_expectation` that ``mitigation_options``
#: may set.
ZNE_OPTIONS = ("scale_factors", "factory", "scaling", "order", "asymptote", "num_to_average")

#: ZNE defaults of the training loop: a two-point linear fit at λ = 1, 3 (global folding), whose
#: variance amplification Σγ² = 2.5 is far below three-point Richardson's 19 -- under a shot
#: budget, variance is what the loop pays for.
DEFAULT_ZNE_OPTIONS: dict[str, Any] = {"scale_factors": (1.0, 3.0), "factory": "linear",
                                       "scaling": "global"}

_PAULIS = {"X": cirq.X, "Y": cirq.Y, "Z": cirq.Z}


# --------------------------------------------------------------------------------------------
# Measurement groups
# --------------------------------------------------------------------------------------------

def _terms(name: str, observable: Any) -> list[cirq.PauliString]:
    if isinstance(observable, cirq.PauliString):
        terms = [observable]
    elif isinstance(observable, cirq.PauliSum):
        terms = list(observable)
    else:
        raise TypeError(f"{name} must be a cirq.PauliString or cirq.PauliSum, "
                        f"got {type(observable).__name__}")
    for term in terms:
        coeff = complex(term.coefficient)
        if abs(coeff.imag) > 1e-12:
            raise ValueError(f"{name} must be Hermitian (real coefficients), got {coeff} "
                             f"on {term}")
    return terms


def measurement_groups(observable: cirq.PauliString | cirq.PauliSum
                       ) -> tuple[float, list[cirq.PauliSum]]:
    """Split ``observable`` into its constant and qubit-wise commuting groups (greedy, in order).

    Each group is measurable in one basis (one executor, one circuit per evaluation); terms are
    placed in the first group whose Paulis agree with theirs on every shared qubit.

    Returns:
        ``(constant, groups)``: the identity part (needs no measurement) and the groups.

    Raises:
        TypeError: if ``observable`` is not a Pauli string or sum.
        ValueError: for complex coefficients.

    Example:
        >>> a, b = cirq.LineQubit.range(2)
        >>> const, groups = measurement_groups(-cirq.Z(a) * cirq.Z(b) - cirq.X(a) - cirq.X(b)
        ...                                    + 0.5 * cirq.PauliString())
        >>> const, [str(g) for g in groups]
        (0.5, ['-1.000*Z(q(0))*Z(q(1))', '-1.000*X(q(0))-1.000*X(q(1))'])
    """
    constant = 0.0
    groups: list[tuple[dict[cirq.Qid, cirq.Pauli], list[cirq.PauliString]]] = []
    for term in _terms("observable", observable):
        if not term.qubits:
            constant += complex(term.coefficient).real
            continue
        for basis, members in groups:
            if all(basis.get(q, p) == p for q, p in term.items()):
                basis.update(term.items())
                members.append(term)
                break
        else:
            groups.append((dict(term.items()), [term]))
    return constant, [cirq.PauliSum.from_pauli_strings(members) for _, members in groups]


def _z_form(group: cirq.PauliSum) -> cirq.PauliSum:
    """The group with every Pauli replaced by Z (what is measured after the basis change)."""
    return cirq.PauliSum.from_pauli_strings([
        cirq.PauliString({q: cirq.Z for q in term.qubits}, coefficient=term.coefficient)
        for term in group])


def _basis_ops(basis_change: Callable[..., Any], qubit: cirq.Qid, pauli: cirq.Pauli
               ) -> list[cirq.Operation]:
    """``basis_change(qubit, pauli)``, checked to rotate ``pauli`` to Z: ``R† Z R = P``."""
    ops = list(cirq.flatten_to_ops(basis_change(qubit, pauli)))
    if any(set(op.qubits) != {qubit} for op in ops):
        raise ValueError(f"basis_change({qubit}, {pauli}) must act on {qubit} only")
    u = cirq.unitary(cirq.Circuit(ops)) if ops else np.eye(2)
    z = np.diag([1.0, -1.0])
    if not np.allclose(u.conj().T @ z @ u, cirq.unitary(pauli), atol=1e-8):
        raise ValueError(f"basis_change({qubit}, {pauli}) must rotate {pauli} to Z "
                         "(R† Z R = P), e.g. a Y rotation by -π/2 for X")
    return ops


# --------------------------------------------------------------------------------------------
# The mitigated cost
# --------------------------------------------------------------------------------------------

def _as_builder(cost_builder: Any) -> tuple[Callable[[np.ndarray], cirq.Circuit], Any]:
    """A callable ``θ -> circuit`` and, for a :class:`qmlkit.ansatz.Ansatz`, the ansatz."""
    from qmlkit.ansatz import Ansatz

    if isinstance(cost_builder, Ansatz):
        return cost_builder.resolve, cost_builder
    if not callable(cost_builder):
        raise TypeError("cost_builder must be a callable theta -> cirq.Circuit or a "
                        f"qmlkit.ansatz.Ansatz, got {type(cost_builder).__name__}")
    return cost_builder, None


def _executor_counts(executor: Any) -> tuple[int, int]:
    shots = getattr(executor, "shots", 0)
    executions = getattr(executor, "executions", 0)
    return (int(shots) if isinstance(shots, (int, np.integer)) else 0,
            int(executions) if isinstance(executions, (int, np.integer)) else 0)


class MitigatedCost:
    """The mitigated cost ``f̂(θ) = c + Σ_g <O_g>_mitigated(θ)``, counting what it spends.

    The observable is split by :func:`measurement_groups`; ``executor_factory`` is called once
    per group with the observable that group's executor measures, and every evaluation runs the
    circuit ``cost_builder(θ)`` (plus the group's basis change, if ``basis_change`` is given)
    once per group through the chosen mitigation.

    Args:
        cost_builder: a callable ``theta -> cirq.Circuit`` (no measurements, no symbols), or a
            :class:`qmlkit.ansatz.Ansatz` (its :meth:`~qmlkit.ansatz.Ansatz.resolve`).
        observable: the cost's ``cirq.PauliString`` or ``cirq.PauliSum``.
        executor_factory: ``observable -> executor`` (``circuit -> float``), e.g. a
            :class:`qmlkit.noise.SamplingExecutor` with its own seeded generator; read-out
            mitigation needs executors with ``measure`` (sampling executors).
        mitigation: one of :data:`MITIGATIONS`.
        rng: the source of the mitigation's randomness (random folding, read-out resampling).
        mitigation_options: keyword arguments of :func:`qmlkit.mitigation.zne_expectation`
            (names in :data:`ZNE_OPTIONS`); default :data:`DEFAULT_ZNE_OPTIONS`.
        basis_change: ``(qubit, pauli) -> operations`` rotating ``pauli`` (X or Y) to Z. When
            given, these operations are appended to the circuit of each group (so the noise
            model acts on them and ZNE folds them: use the device's native gates) and the
            executors measure the Z form of the group. By default the executor rotates the
            basis itself.
        readout_calibration: a :class:`qmlkit.mitigation.ReadoutCalibration` for ``"rem"`` and
            ``"rem+zne"`` (e.g. exact, from the noise model, at no cost). None: it is measured
            with :func:`qmlkit.mitigation.calibrate_readout` on the first group's executor at the
            first evaluation, and its shots are counted in :attr:`calibration_shots` and
            :attr:`shots`.

    Attributes:
        evaluations: cost evaluations so far.
        executions: circuit executions they spent (calibration included).
        shots: read-outs they spent (calibration included).
        calibration_shots: read-outs of the read-out calibration.
        calibration_executions: circuit executions of the read-out calibration.
        executors: the executors, one per group.
        groups: the measurement groups (as given in ``observable``).
        constant: the identity part of ``observable``.
        last_values: the mitigated value of each group at the last evaluation.

    Example:
        >>> from qmlkit.noise import DensityMatrixExecutor, DepolarizingNoise
        >>> q = cirq.LineQubit(0)
        >>> def cost(mitigation, basis_change=None):
        ...     return MitigatedCost(
        ...         lambda t: cirq.Circuit(cirq.ry(t[0])(q)), cirq.Z(q) + cirq.X(q),
        ...         lambda o: DensityMatrixExecutor(o, DepolarizingNoise(p1=0.02)),
        ...         mitigation=mitigation, rng=np.random.default_rng(0),
        ...         basis_change=basis_change)
        >>> f = cost("zne")     # ideal cos(0.5) + sin(0.5) = 1.3570
        >>> round(cost("none")([0.5]), 4), round(f([0.5]), 4), f.evaluations, f.executions
        (1.3084, 1.3428, 1, 4)
        >>> g = cost("zne", basis_change=lambda q, p: cirq.ry(-np.pi / 2)(q))  # folded too
        >>> round(g([0.5]), 4)
        1.3541
    """

    def __init__(self, cost_builder: Any, observable: cirq.PauliString | cirq.PauliSum,
                 executor_factory: Callable[[Any], Any], *, mitigation: str = "zne",
                 rng: np.random.Generator,
                 mitigation_options: Mapping[str, Any] | None = None,
                 basis_change: Callable[[cirq.Qid, cirq.Pauli], Any] | None = None,
                 readout_calibration: _mit.ReadoutCalibration | None = None) -> None:
        self._build, self.ansatz = _as_builder(cost_builder)
        self.observable = observable
        self.constant, self.groups = measurement_groups(observable)
        if not self.groups:
            raise ValueError("observable has no non-identity term to measure")
        self.mitigation = check_choice("mitigation", mitigation, MITIGATIONS)
        self.rng = check_rng("rng", rng)
        if mitigation_options is None:
            options = dict(DEFAULT_ZNE_OPTIONS)
        elif isinstance(mitigation_options, Mapping):
            unknown = sorted(set(mitigation_options) - set(ZNE_OPTIONS))
            if unknown:
                raise ValueError(f"mitigation_options has unknown keys {unknown}; allowed: "
                                 f"{ZNE_OPTIONS}")
            options = dict(mitigation_options)
        else:
            raise TypeError("mitigation_options must be a mapping or None, "
                            f"got {type(mitigation_options).__name__}")
        if options and self.mitigation in ("none", "rem") and mitigation_options is not None:
            raise ValueError(f"mitigation_options are ZNE options; mitigation={mitigation!r} "
                             "uses none")
        self.options = options
        if basis_change is not None and not callable(basis_change):
            raise TypeError("basis_change must be callable (qubit, pauli) -> operations or "
                            f"None, got {type(basis_change).__name__}")
        self.basis_change = basis_change
        if readout_calibration is not None and not isinstance(readout_calibration,
                                                              _mit.ReadoutCalibration):
            raise TypeError("readout_calibration must be a ReadoutCalibration or None, "
                            f"got {type(readout_calibration).__name__}")
        self.calibration = readout_calibration
        if not callable(executor_factory):
            raise TypeError("executor_factory must be callable observable -> executor, "
                            f"got {type(executor_factory).__name__}")
        self._rotations: list[list[cirq.Operation]] = []
        self.executors: list[Any] = []
        for group in self.groups:
            if basis_change is None:
                measured: cirq.PauliSum = group
                rotations: list[cirq.Operation] = []
            else:
                basis: dict[cirq.Qid, cirq.Pauli] = {}
                for term in group:
                    basis.update(term.items())
                rotations = [op for q in sorted(basis) if basis[q] != cirq.Z
                             for op in _basis_ops(basis_change, q, basis[q])]
                measured = _z_form(group)
            executor = executor_factory(measured)
            if not callable(executor):
                raise TypeError("executor_factory must return a callable circuit -> float, "
                                f"got {type(executor).__name__}")
            self.executors.append(executor)
            self._rotations.append(rotations)
        self.evaluations = 0
        self.executions = 0
        self.shots = 0
        self.calibration_shots = 0
        self.calibration_executions = 0
        self.last_values: tuple[float, ...] = ()

    def _counted(self) -> tuple[int, int]:
        counts = [_executor_counts(ex) for ex in self.executors]
        return sum(s for s, _ in counts), sum(e for _, e in counts)

    def _calibrate(self, circuit: cirq.Circuit) -> None:
        if self.calibration is not None or self.mitigation not in ("rem", "rem+zne"):
            return
        qubits = sorted(set(circuit.all_qubits()).union(*(g.qubits for g in self.groups)))
        shots0, executions0 = self._counted()
        self.calibration = _mit.calibrate_readout(self.executors[0], qubits)
        shots1, executions1 = self._counted()
        self.calibration_shots = shots1 - shots0
        self.calibration_executions = executions1 - executions0
        self.shots += shots1 - shots0
        self.executions += executions1 - executions0

    def circuit(self, theta: Sequence[float] | np.ndarray) -> cirq.Circuit:
        """``cost_builder(theta)``, checked."""
        x = check_finite_array("theta", theta, ndim=1)
        if self.ansatz is not None and x.size != self.ansatz.n_parameters:
            raise ValueError(f"theta must have length {self.ansatz.n_parameters}, got {x.size}")
        out = self._build(x)
        if not isinstance(out, cirq.AbstractCircuit):
            raise TypeError(f"cost_builder must return a cirq.Circuit, got {type(out).__name__}")
        return cirq.Circuit(out)

    def __call__(self, theta: Sequence[float] | np.ndarray) -> float:
        """The mitigated cost at ``theta``; counts one evaluation."""
        circuit = self.circuit(theta)
        self._calibrate(circuit)
        shots0, executions0 = self._counted()
        values = []
        for executor, rotations in zip(self.executors, self._rotations, strict=True):
            c = cirq.Circuit(circuit, rotations) if rotations else circuit
            if self.mitigation == "none":
                res = _mit.unmitigated_expectation(c, executor)
            elif self.mitigation == "zne":
                res = _mit.zne_expectation(c, executor, rng=self.rng, **self.options)
            elif self.mitigation == "rem":
                res = _mit.rem_expectation(c, executor, calibration=self.calibration,
                                           rng=self.rng)
            else:
                res = _mit.zne_expectation(c, executor, rng=self.rng,
                                           readout=self.calibration, **self.options)
            values.append(res.value)
        shots1, executions1 = self._counted()
        self.shots += shots1 - shots0
        self.executions += executions1 - executions0
        self.evaluations += 1
        self.last_values = tuple(values)
        return float(self.constant + sum(values))


# --------------------------------------------------------------------------------------------
# The training loop
# --------------------------------------------------------------------------------------------

def _shift_frequencies(ansatz: Any, observable: Any, n: int) -> np.ndarray:
    """ω of each parameter (checking the two-term rule applies) for an Ansatz; ones otherwise."""
    if ansatz is None:
        return np.ones(n)
    from qmlkit.gradients import CircuitExpectation

    return CircuitExpectation(ansatz.circuit, ansatz.symbols, observable).shift_frequencies()


def train_noise_aware(cost_builder: Any, theta0: Sequence[float] | np.ndarray, *,
                      observable: cirq.PauliString | cirq.PauliSum,
                      executor_factory: Callable[[Any], Any], rng: np.random.Generator,
                      mitigation: str = "zne", optimizer: str = "adam",
                      shot_budget: int | None = None, max_iterations: int | None = None,
                      learning_rate: float = 0.1, beta1: float = 0.9, beta2: float = 0.999,
                      spsa_a: float = 0.2, spsa_c: float = 0.2, spsa_alpha: float = 0.602,
                      spsa_gamma: float = 0.101, spsa_stability: float = 5.0,
                      mitigation_options: Mapping[str, Any] | None = None,
                      basis_change: Callable[[cirq.Qid, cirq.Pauli], Any] | None = None,
                      readout_calibration: _mit.ReadoutCalibration | None = None,
                      frequencies: Sequence[float] | np.ndarray | None = None,
                      monitor: Callable[[np.ndarray], float] | None = None,
                      evaluate_every: int = 1) -> pd.DataFrame:
    """Minimise ``<observable>`` of ``cost_builder(θ)`` with mitigated values in the loop.

    The cost is a :class:`MitigatedCost` (its arguments are passed through). Each iteration
    estimates the gradient of the *mitigated* cost and takes one step:

    * ``optimizer="adam"``: the two-term parameter-shift rule on mitigated values
      (:func:`qmlkit.gradients.parameter_shift_gradient`, ``2P`` cost evaluations; see the
      module docstring for why shifting and then mitigating is valid) and Adam's update with
      ``learning_rate``, ``beta1``, ``beta2``;
    * ``optimizer="spsa"``: :func:`qmlkit.gradients.spsa_gradient` on mitigated values (2 cost
      evaluations) with Spall's gains ``a_k = spsa_a / (k + 1 + spsa_stability)^spsa_alpha``,
      ``c_k = spsa_c / (k + 1)^spsa_gamma``.

    The mitigated cost itself (the *estimate*) is evaluated at ``θ_0``, at every
    ``evaluate_every``-th iterate and at the last one; those evaluations are spent from the
    budget like the gradient's. Training stops before the step whose evaluations (gradient and
    the estimate at the new iterate) would take the shots spent past ``shot_budget``, or after
    ``max_iterations`` steps, whichever comes first: with executors of fixed shots per
    execution the budget is never exceeded.

    Args:
        cost_builder: a callable ``theta -> cirq.Circuit`` or a :class:`qmlkit.ansatz.Ansatz`
            (then the two-term rule is checked to apply to every parameter).
        theta0: the starting parameters, shape ``(P,)``.
        observable: the cost observable.
        executor_factory: ``observable -> executor``; see :class:`MitigatedCost`.
        rng: the source of randomness (SPSA's directions and the mitigation's).
        mitigation: one of :data:`MITIGATIONS`.
        optimizer: one of :data:`OPTIMIZERS`.
        shot_budget: the total read-outs the training may spend (calibration included);
            requires executors that count shots.
        max_iterations: the largest number of steps. At least one of ``shot_budget`` and
            ``max_iterations`` must be given.
        learning_rate, beta1, beta2: Adam's step size (> 0) and moment decays (in ``[0, 1)``).
        spsa_a, spsa_c, spsa_alpha, spsa_gamma, spsa_stability: SPSA's gains (> 0; the
            stability constant >= 0).
        mitigation_options, basis_change, readout_calibration: see :class:`MitigatedCost`.
        frequencies: ``ω_i`` of the parameter-shift rule (default: from the ansatz, or 1).
        monitor: a function of ``θ`` recorded at every iterate but not counted (e.g. the exact
            noiseless cost, to see the true loss of the parameters).
        evaluate_every: estimate the cost every this many iterations (>= 1).

    Returns:
        A DataFrame with one row per iterate (``iteration`` 0 is ``θ_0``) and the columns
        ``iteration``, ``evaluations``, ``executions`` and ``shots`` (cumulative spending of the
        training, read-out calibration included), ``estimate`` (the mitigated cost at the
        iterate, NaN where not evaluated), ``monitor`` (with ``monitor``) and ``theta`` (the
        parameters, a tuple). ``history.attrs`` holds ``mitigation``, ``optimizer``,
        ``shot_budget``, ``shots_per_evaluation``, ``executions_per_evaluation``,
        ``calibration_shots`` and ``stopped`` (``"shot_budget"`` or ``"max_iterations"``).

    Raises:
        TypeError, ValueError: for bad arguments, naming them; ValueError if the budget does
            not cover one evaluation or the executors count no shots under a shot budget.
    """
    x = check_finite_array("theta0", theta0, ndim=1).copy()
    if x.size == 0:
        raise ValueError("theta0 must not be empty")
    optimizer = check_choice("optimizer", optimizer, OPTIMIZERS)
    rng = check_rng("rng", rng)
    if shot_budget is None and max_iterations is None:
        raise ValueError("give shot_budget or max_iterations (or both)")
    if shot_budget is not None:
        shot_budget = check_int("shot_budget", shot_budget, minimum=1)
    if max_iterations is not None:
        max_iterations = check_int("max_iterations", max_iterations, minimum=1)
    evaluate_every = check_int("evaluate_every", evaluate_every, minimum=1)
    if monitor is not None and not callable(monitor):
        raise TypeError(f"monitor must be callable or None, got {type(monitor).__name__}")
    eta = check_float("learning_rate", learning_rate)
    if eta <= 0:
        raise ValueError(f"learning_rate must be > 0, got {eta}")
    b1 = check_float("beta1", beta1, minimum=0.0)
    b2 = check_float("beta2", beta2, minimum=0.0)
    for name, b in (("beta1", b1), ("beta2", b2)):
        if b >= 1.0:
            raise ValueError(f"{name} must be < 1, got {b}")
    gains = {}
    for name, value in (("spsa_a", spsa_a), ("spsa_c", spsa_c), ("spsa_alpha", spsa_alpha),
                        ("spsa_gamma", spsa_gamma)):
        gains[name] = check_float(name, value)
        if gains[name] <= 0:
            raise ValueError(f"{name} must be > 0, got {gains[name]}")
    stability = check_float("spsa_stability", spsa_stability, minimum=0.0)
    mitigation_rng, spsa_rng = rng.spawn(2)
    cost = MitigatedCost(cost_builder, observable, executor_factory, mitigation=mitigation,
                         rng=mitigation_rng, mitigation_options=mitigation_options,
                         basis_change=basis_change, readout_calibration=readout_calibration)
    if cost.ansatz is not None and x.size != cost.ansatz.n_parameters:
        raise ValueError(f"theta0 must have length {cost.ansatz.n_parameters} (one value per "
                         f"symbol of the ansatz), got {x.size}")
    if frequencies is None:
        omega = _shift_frequencies(cost.ansatz, observable, x.size) if optimizer == "adam" \
            else np.ones_like(x)
    else:
        omega = check_finite_array("frequencies", frequencies, ndim=1)
        if omega.shape != x.shape or np.any(omega <= 0):
            raise ValueError(f"frequencies must hold {x.size} values > 0, got {omega.tolist()}")
    evals_per_step = 2 * x.size if optimizer == "adam" else 2

    rows: list[dict[str, Any]] = []

    def row(k: int, estimate: float) -> None:
        entry = {"iteration": k, "evaluations": cost.evaluations,
                 "executions": cost.executions, "shots": cost.shots, "estimate": estimate}
        if monitor is not None:
            entry["monitor"] = float(monitor(x.copy()))
        entry["theta"] = tuple(float(v) for v in x)
        rows.append(entry)

    estimate = cost(x)
    per_eval_shots = cost.shots - cost.calibration_shots
    per_eval_executions = cost.executions - cost.calibration_executions
    if shot_budget is not None:
        if per_eval_shots == 0:
            raise ValueError("shot_budget needs executors that count shots (e.g. "
                             "qmlkit.noise.SamplingExecutor); these spent 0 shots per "
                             "evaluation -- use max_iterations with exact executors")
        if cost.shots > shot_budget:
            raise ValueError(f"shot_budget={shot_budget} does not cover one cost evaluation "
                             f"({cost.shots} shots)")
    row(0, estimate)
    step_shots = (evals_per_step + 1) * per_eval_shots
    m = np.zeros_like(x)
    v = np.zeros_like(x)
    k = 0
    stopped = "max_iterations"
    while True:
        if max_iterations is not None and k >= max_iterations:
            stopped = "max_iterations"
            break
        if shot_budget is not None and cost.shots + step_shots > shot_budget:
            stopped = "shot_budget"
            break
        if optimizer == "adam":
            grad = parameter_shift_gradient(cost, x, frequencies=omega).gradient
            m = b1 * m + (1 - b1) * grad
            v = b2 * v + (1 - b2) * grad**2
            m_hat = m / (1 - b1 ** (k + 1))
            v_hat = v / (1 - b2 ** (k + 1))
            x = x - eta * m_hat / (np.sqrt(v_hat) + 1e-8)
        else:
            a_k = gains["spsa_a"] / (k + 1 + stability) ** gains["spsa_alpha"]
            c_k = gains["spsa_c"] / (k + 1) ** gains["spsa_gamma"]
            grad = spsa_gradient(cost, x, step=c_k, rng=spsa_rng).gradient
            x = x - a_k * grad
        k += 1
        last = ((max_iterations is not None and k >= max_iterations)
                or (shot_budget is not None and cost.shots + per_eval_shots + step_shots
                    > shot_budget))
        row(k, cost(x) if (k % evaluate_every == 0 or last) else math.nan)
    history = pd.DataFrame(rows)
    history.attrs.update({
        "mitigation": cost.mitigation, "optimizer": optimizer, "shot_budget": shot_budget,
        "shots_per_evaluation": per_eval_shots,
        "executions_per_evaluation": per_eval_executions,
        "calibration_shots": cost.calibration_shots, "stopped": stopped,
    })
    return history
