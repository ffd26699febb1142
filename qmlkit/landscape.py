"""Loss landscapes and barren plateaus (review §4.3, Table 3, §7).

A barren plateau is a cost whose gradients concentrate exponentially around zero as qubits are
added (McClean et al. 2018). This module measures that concentration instead of assuming it:

* the cost functions of Cerezo et al. (2021): the *global* cost
  ``C_G = 1 - |<0|ψ>|²`` (:func:`global_cost_observable`), the *local* cost
  ``C_L = 1 - (1/n) Σ_i P(q_i = 0)`` (:func:`local_cost_observable`), and the energy of a
  Hamiltonian, by default McClean's ``Z_0 Z_1`` (:func:`zz_observable`);
* :func:`gradient_variance` -- the mean and variance of one partial derivative ``∂C/∂θ_k``
  over random parameter draws, for a grid of qubit numbers, depths, costs and depolarising
  noise levels; exact, through TensorFlow Quantum's adjoint differentiator (a single circuit
  tiled over a batch of parameter rows) or through a batched complex128 NumPy simulation of
  the Cirq circuit with the parameter-shift rule (state vectors, or density matrices with
  ``cirq.depolarize`` noise);
* :func:`fit_variance_decay` -- the slope of ``log₂ Var`` against ``n`` (or depth) with its
  standard error, and the power-law exponent for comparison;
* :func:`two_design_variance` -- the exact variance when the circuit after the differentiated
  gate is a unitary 2-design, the reference value of a fully random circuit;
* :class:`ExactCost` and :func:`train_layerwise` -- exact TFQ costs with adjoint gradients for
  training experiments (all layers at once, or layer by layer as in Skolik et al. 2021).

Importing this module does not import TensorFlow; only the TFQ paths do, when called.

Example:
    >>> import numpy as np
    >>> from qmlkit.ansatz import hardware_efficient_ansatz
    >>> df = gradient_variance(lambda n, d: hardware_efficient_ansatz(n, layers=d),
    ...                        n_qubits_list=[2, 3], depths=[1], cost="local", n_samples=50,
    ...                        rng=np.random.default_rng(0), backend="numpy")
    >>> df[["n_qubits", "depth", "cost", "n_samples"]].values.tolist()
    [[2, 1, 'local', 50], [3, 1, 'local', 50]]
"""

from __future__ import annotations

import contextlib
import itertools
import math
import numbers
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cirq
import numpy as np
import pandas as pd
import sympy
from scipy import stats

from qmlkit._validation import (
    check_choice,
    check_finite_array,
    check_float,
    check_int,
    check_n_qubits,
    check_rng,
)
from qmlkit.ansatz import Ansatz, _register, initial_parameters
from qmlkit.gradients import CircuitExpectation, GradientResult, OptimizationResult, adam_minimize

__all__ = [
    "COSTS",
    "ExactCost",
    "fit_variance_decay",
    "global_cost_observable",
    "gradient_variance",
    "local_cost_observable",
    "train_layerwise",
    "two_design_variance",
    "zz_observable",
]

#: The named costs of :func:`gradient_variance` and :class:`ExactCost`.
COSTS: tuple[str, ...] = ("global", "local", "energy")
_BACKENDS = ("auto", "tfq", "numpy")
_INDEX_NAMES = ("first", "middle", "last")
_INITIALIZATIONS = ("uniform", "small", "identity_blocks")
#: Largest register for which the global cost is expanded into its 2ⁿ Pauli-Z strings.
_MAX_EXPANDED_QUBITS = 16
#: Bytes one chunk of the NumPy simulation may hold (states of a chunk of parameter rows).
_CHUNK_BYTES = 2**27

ObservableBuilder = Callable[[Sequence[cirq.Qid]], cirq.PauliSum]
CostSpec = str | ObservableBuilder
AnsatzBuilder = Callable[[int, int], Ansatz]


# --------------------------------------------------------------------------------------------
# Cost functions
# --------------------------------------------------------------------------------------------

def zz_observable(qubits: int | Sequence[cirq.Qid]) -> cirq.PauliSum:
    """``Z_0 Z_1`` on the first two qubits, the observable of McClean et al. (2018).

    Example:
        >>> print(zz_observable(3))
        1.000*Z(q(0))*Z(q(1))
    """
    q = _register("qubits", qubits)
    if len(q) < 2:
        raise ValueError(f"qubits must hold at least 2 qubits for Z0 Z1, got {len(q)}")
    return cirq.PauliSum.from_pauli_strings([cirq.Z(q[0]) * cirq.Z(q[1])])


def global_cost_observable(qubits: int | Sequence[cirq.Qid]) -> cirq.PauliSum:
    """The global cost ``C_G = 1 - |<0...0|ψ>|²`` of Cerezo et al. (2021) as a Pauli sum.

    ``|0...0><0...0| = Π_i (1 + Z_i)/2`` expands into all ``2ⁿ`` products of Z's, so
    ``C_G = 1 - 2⁻ⁿ Σ_{S ⊆ qubits} Z_S``. The expansion is exponentially long and is refused
    beyond 16 qubits; :func:`gradient_variance` and :class:`ExactCost` do not use it but
    evaluate ``C_G`` from the state (NumPy) or through a flag qubit (TFQ), and the tests check
    all three against each other.

    Raises:
        ValueError: for more than 16 qubits.

    Example:
        >>> import numpy as np
        >>> obs = global_cost_observable(2)
        >>> len(obs), np.real(obs.matrix()).diagonal().tolist()
        (4, [0.0, 1.0, 1.0, 1.0])
    """
    q = _register("qubits", qubits)
    n = len(q)
    if n > _MAX_EXPANDED_QUBITS:
        raise ValueError(f"qubits: the expanded global cost has 2^{n} terms; at most "
                         f"{_MAX_EXPANDED_QUBITS} qubits are expanded")
    weight = 1.0 / 2**n
    terms = [cirq.PauliString(cirq.I(q[0]), coefficient=1.0 - weight)]
    for size in range(1, n + 1):
        for subset in itertools.combinations(q, size):
            terms.append(cirq.PauliString({qi: cirq.Z for qi in subset}, coefficient=-weight))
    return cirq.PauliSum.from_pauli_strings(terms)


def local_cost_observable(qubits: int | Sequence[cirq.Qid]) -> cirq.PauliSum:
    """The local cost ``C_L = 1 - (1/n) Σ_i P(q_i = 0) = (1/2)(1 - (1/n) Σ_i Z_i``).

    Zero exactly on ``|0...0>``, like the global cost, but a sum of one-qubit terms, whose
    gradients vanish only polynomially for shallow circuits (Cerezo et al. 2021).

    Example:
        >>> import numpy as np
        >>> np.real(local_cost_observable(2).matrix()).diagonal().tolist()
        [0.0, 0.5, 0.5, 1.0]
    """
    q = _register("qubits", qubits)
    n = len(q)
    terms = [cirq.PauliString(cirq.I(q[0]), coefficient=0.5)]
    terms += [cirq.PauliString(cirq.Z(qi), coefficient=-0.5 / n) for qi in q]
    return cirq.PauliSum.from_pauli_strings(terms)


def two_design_variance(observable: cirq.PauliSum | cirq.PauliString,
                        n_qubits: int) -> float:
    """``Var(∂C/∂θ)`` for a Pauli rotation applied first, followed by a unitary 2-design.

    If the circuit is ``U R(θ)`` with ``R(θ) = exp(-iθP/2)`` (``P`` a Pauli string) acting on
    a fixed pure state and ``U`` drawn from a unitary 2-design on ``d = 2ⁿ`` dimensions, then
    ``∂C/∂θ = Re <a|U†HU|b>`` with ``<a|b> = 0`` and the Haar integral gives exactly::

        Var(∂C/∂θ) = (Tr H² - (Tr H)²/d) / (2 (d² - 1)) = d Σ' c_s² / (2 (d² - 1))

    where ``Σ'`` runs over the non-identity Pauli terms ``c_s P_s`` of ``H``. For McClean's
    ``Z_0 Z_1`` this is ``d / (2(d² - 1)) ≈ 2^-(n+1)``: a log₂-slope of -1 per qubit. It is the
    value a deep random circuit converges to when the first parameter is differentiated.

    Args:
        observable: the Hermitian observable ``H``.
        n_qubits: the register size ``n`` (>= 1).

    Example:
        >>> round(two_design_variance(zz_observable(2), 2), 6)   # 4 / (2 * 15)
        0.133333
    """
    n = check_int("n_qubits", n_qubits, minimum=1)
    psum = _as_pauli_sum("observable", observable)
    if len(psum.qubits) > n:
        raise ValueError(f"observable acts on {len(psum.qubits)} qubits, more than "
                         f"n_qubits={n}")
    d = 2.0**n
    weight = sum(abs(complex(t.coefficient)) ** 2 for t in psum if t.qubits)
    return float(d * weight / (2.0 * (d * d - 1.0)))


def _as_pauli_sum(name: str, value: Any) -> cirq.PauliSum:
    if isinstance(value, cirq.PauliString):
        value = cirq.PauliSum.from_pauli_strings([value])
    if not isinstance(value, cirq.PauliSum):
        raise TypeError(f"{name} must be a cirq.PauliSum or cirq.PauliString, got "
                        f"{type(value).__name__}")
    for term in value:
        if abs(complex(term.coefficient).imag) > 1e-12:
            raise ValueError(f"{name} must be Hermitian (real coefficients), got "
                             f"{term.coefficient} on {term}")
    return value


@dataclass(frozen=True)
class _Cost:
    """A resolved cost: its label and observable (``None`` for the global cost)."""

    label: str
    observable: cirq.PauliSum | None


def _resolve_cost(name: str, cost: Any, qubits: Sequence[cirq.Qid], hamiltonian: Any) -> _Cost:
    if isinstance(cost, str):
        cost = check_choice(name, cost, COSTS)
        if cost == "global":
            return _Cost("global", None)
        if cost == "local":
            return _Cost("local", local_cost_observable(qubits))
        if hamiltonian is None:
            obs = zz_observable(qubits)
        elif isinstance(hamiltonian, (cirq.PauliSum, cirq.PauliString)):
            obs = _as_pauli_sum("hamiltonian", hamiltonian)
        elif callable(hamiltonian):
            obs = _as_pauli_sum("hamiltonian(qubits)", hamiltonian(list(qubits)))
        else:
            raise TypeError("hamiltonian must be a cirq.PauliSum or a callable building one "
                            f"from the qubits, got {type(hamiltonian).__name__}")
        label = "energy"
    elif callable(cost):
        obs = _as_pauli_sum(f"{name}(qubits)", cost(list(qubits)))
        label = getattr(cost, "__name__", "observable")
    else:
        raise TypeError(f"{name} must be one of {COSTS} or a callable building a cirq.PauliSum "
                        f"from the qubits, got {type(cost).__name__}")
    extra = set(obs.qubits) - set(qubits)
    if extra:
        raise ValueError(f"the observable of cost {label!r} acts on qubits {sorted(extra)} "
                         "outside the ansatz")
    return _Cost(label, obs)


def _flag_qubit(qubits: Sequence[cirq.Qid]) -> cirq.Qid:
    """A fresh qubit of the same kind as ``qubits`` (TFQ accepts Line and Grid qubits only)."""
    if all(isinstance(q, cirq.LineQubit) for q in qubits):
        return cirq.LineQubit(max(q.x for q in qubits) + 1)
    if all(isinstance(q, cirq.GridQubit) for q in qubits):
        return cirq.GridQubit(max(q.row for q in qubits) + 1, 0)
    raise TypeError("the global cost through TFQ needs cirq.LineQubit or cirq.GridQubit qubits")


def _tfq_program(ansatz: Ansatz, cost: _Cost) -> tuple[cirq.Circuit, cirq.PauliSum]:
    """The circuit and observable TFQ evaluates for ``cost``.

    The global cost uses a flag qubit: an X on it controlled by every register qubit being
    ``|0>`` makes ``<Z_flag> = 1 - 2|<0|ψ>|²``, so ``C_G = (1 + <Z_flag>)/2`` -- one Pauli
    term instead of ``2ⁿ``, at the price of one extra qubit.
    """
    if cost.observable is not None:
        return ansatz.circuit, cost.observable
    q = list(ansatz.qubits)
    flag = _flag_qubit(q)
    circuit = ansatz.circuit + cirq.Circuit(
        cirq.X(flag).controlled_by(*q, control_values=[0] * len(q)))
    return circuit, cirq.PauliSum.from_pauli_strings(
        [cirq.PauliString(cirq.I(flag), coefficient=0.5),
         cirq.PauliString(cirq.Z(flag), coefficient=0.5)])


# --------------------------------------------------------------------------------------------
# TensorFlow Quantum: exact costs and adjoint gradients
# --------------------------------------------------------------------------------------------

_TFQ_CACHE: dict[str, Any] = {}


def _tfq_modules() -> tuple[Any, Any, Any]:
    """TensorFlow, TFQ and one shared adjoint Expectation layer (imported on first use)."""
    if "layer" not in _TFQ_CACHE:
        from qmlkit._environment import import_tensorflow

        tf = import_tensorflow()  # quiet: TF's native start-up lines never reach outputs
        import tensorflow_quantum as tfq

        _TFQ_CACHE.update(tf=tf, tfq=tfq, layer=tfq.layers.Expectation(
            differentiator=tfq.differentiators.Adjoint()))
    return _TFQ_CACHE["tf"], _TFQ_CACHE["tfq"], _TFQ_CACHE["layer"]


@contextlib.contextmanager
def _quiet_tensorflow(tf: Any) -> Iterator[None]:
    """Silence TensorFlow's Python warnings (tf.function retracing for new circuit shapes)."""
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        yield
    finally:
        logger.setLevel(level)


class ExactCost:
    """An ansatz's exact cost through TensorFlow Quantum, with adjoint gradients.

    ``cost(theta)`` returns ``C(θ)``; :meth:`gradient` returns ``∇C(θ)`` from
    ``tfq.differentiators.Adjoint`` (exact up to TFQ's single precision); :meth:`batch`
    evaluates many parameter rows at once (the circuit is converted once and tiled). The last
    value and gradient are cached, so an optimiser that asks for ``C(θ)`` and then ``∇C(θ)``
    (as :func:`qmlkit.gradients.adam_minimize` does) pays one simulation. Each simulated row
    adds 1 to :attr:`evaluations`; each gradient is reported as 1 evaluation.

    Args:
        ansatz: the parameterised circuit.
        cost: ``"global"``, ``"local"``, ``"energy"`` or a callable building a
            ``cirq.PauliSum`` from the ansatz's qubits.
        hamiltonian: for ``cost="energy"``: a ``cirq.PauliSum`` or a callable building one
            from the qubits; default :func:`zz_observable`.
        trainable: names (or symbols) of the parameters to train; the gradient of the others
            is reported as 0. Default: all.
        batch_size: parameter rows per TFQ call (>= 1).

    Raises:
        TypeError: for arguments of the wrong type.
        ValueError: for an unknown cost, unknown trainable names, or too many qubits.

    Example:
        >>> from qmlkit.ansatz import hardware_efficient_ansatz
        >>> f = ExactCost(hardware_efficient_ansatz(2, layers=1), "local")  # doctest: +SKIP
        >>> round(f(np.zeros(f.n_parameters)), 6)  # doctest: +SKIP
        0.0
    """

    def __init__(self, ansatz: Ansatz, cost: CostSpec = "energy", *,
                 hamiltonian: cirq.PauliSum | ObservableBuilder | None = None,
                 trainable: Sequence[str | sympy.Symbol] | None = None,
                 batch_size: int = 256) -> None:
        if not isinstance(ansatz, Ansatz):
            raise TypeError(f"ansatz must be a qmlkit.ansatz.Ansatz, got {type(ansatz).__name__}")
        spec = _resolve_cost("cost", cost, ansatz.qubits, hamiltonian)
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.ansatz = ansatz
        self.label = spec.label
        names = ansatz.symbol_names
        if trainable is None:
            self.trainable = np.ones(len(names), dtype=bool)
        else:
            if isinstance(trainable, (str, sympy.Symbol)) or not isinstance(trainable, Sequence):
                raise TypeError("trainable must be a sequence of parameter names, got "
                                f"{type(trainable).__name__}")
            wanted = {t.name if isinstance(t, sympy.Symbol) else t for t in trainable}
            unknown = sorted(str(w) for w in wanted - set(names))
            if unknown:
                raise ValueError(f"trainable names parameters the ansatz does not have: "
                                 f"{unknown[:5]}")
            self.trainable = np.array([s in wanted for s in names], dtype=bool)
        circuit, observable = _tfq_program(ansatz, spec)
        check_n_qubits("number of qubits", len(circuit.all_qubits() | set(observable.qubits)),
                       copies=8)
        self._circuit = circuit
        self._observable = observable
        tf, tfq, _ = _tfq_modules()
        self._circuit_t = tfq.convert_to_tensor([circuit])
        self._operator_t = tfq.convert_to_tensor([[observable]])
        self._names = tf.constant(names)
        self._cache: tuple[bytes, float, np.ndarray] | None = None
        self.evaluations = 0

    @property
    def n_parameters(self) -> int:
        """Number of parameters (the length of ``theta``)."""
        return self.ansatz.n_parameters

    def __repr__(self) -> str:
        return (f"ExactCost({self.label}, {len(self.ansatz.qubits)} qubits, "
                f"{self.n_parameters} parameters, evaluations={self.evaluations})")

    def batch(self, thetas: np.ndarray | Sequence[Sequence[float]]
              ) -> tuple[np.ndarray, np.ndarray]:
        """Costs ``C(θ_r)`` and gradients ``∇C(θ_r)`` of parameter rows, shapes (S,), (S, P).

        Example:
            >>> from qmlkit.ansatz import hardware_efficient_ansatz
            >>> f = ExactCost(hardware_efficient_ansatz(2, layers=1), "global")  # doctest: +SKIP
            >>> values, grads = f.batch(np.zeros((3, f.n_parameters)))  # doctest: +SKIP
            >>> values.shape, grads.shape  # doctest: +SKIP
            ((3,), (3, 8))
        """
        rows = check_finite_array("thetas", thetas, ndim=2)
        if rows.shape[1] != self.n_parameters:
            raise ValueError(f"thetas must have {self.n_parameters} columns (one per symbol), "
                             f"got {rows.shape[1]}")
        tf, _, layer = _tfq_modules()
        values = np.empty(rows.shape[0])
        grads = np.empty(rows.shape)
        with _quiet_tensorflow(tf):
            for start in range(0, rows.shape[0], self.batch_size):
                chunk = rows[start:start + self.batch_size]
                size = chunk.shape[0]
                symbol_values = tf.constant(chunk.astype(np.float32))
                with tf.GradientTape() as tape:
                    tape.watch(symbol_values)
                    out = layer(tf.tile(self._circuit_t, [size]), symbol_names=self._names,
                                symbol_values=symbol_values,
                                operators=tf.tile(self._operator_t, [size, 1]))
                g = tape.gradient(out, symbol_values)
                values[start:start + size] = np.asarray(out.numpy()[:, 0], dtype=np.float64)
                grads[start:start + size] = np.asarray(g.numpy(), dtype=np.float64)
        self.evaluations += rows.shape[0]
        grads[:, ~self.trainable] = 0.0
        return values, grads

    def _at(self, theta: Any) -> tuple[float, np.ndarray]:
        x = check_finite_array("theta", theta, ndim=1)
        if x.size != self.n_parameters:
            raise ValueError(f"theta must have length {self.n_parameters}, got {x.size}")
        key = x.tobytes()
        if self._cache is None or self._cache[0] != key:
            values, grads = self.batch(x[None, :])
            self._cache = (key, float(values[0]), grads[0])
        return self._cache[1], self._cache[2].copy()

    def __call__(self, theta: Sequence[float] | np.ndarray) -> float:
        """The exact cost at ``theta``."""
        return self._at(theta)[0]

    def gradient(self, theta: Sequence[float] | np.ndarray) -> GradientResult:
        """The adjoint gradient at ``theta``, reported as 1 evaluation (one forward and one
        backward sweep, as :func:`qmlkit.gradients.tfq_gradient` counts it) even when the sweep
        was already run, and cached, by ``cost(theta)``."""
        grad = self._at(theta)[1]
        return GradientResult(grad, 1, 0, "tfq_adjoint")


# --------------------------------------------------------------------------------------------
# NumPy: batched exact simulation of Cirq circuits (state vectors or density matrices)
# --------------------------------------------------------------------------------------------

_PAULI_MATRICES = {
    cirq.X: np.array([[0, 1], [1, 0]], dtype=np.complex128),
    cirq.Y: np.array([[0, -1j], [1j, 0]], dtype=np.complex128),
    cirq.Z: np.array([[1, 0], [0, -1]], dtype=np.complex128),
}


def _apply(state: np.ndarray, axes: Sequence[int], u: np.ndarray) -> np.ndarray:
    """Apply ``u`` (``(k2, k2)`` or a batch ``(S, k2, k2)``) to the tensor axes ``axes``."""
    k = len(axes)
    end = list(range(state.ndim - k, state.ndim))
    moved = np.moveaxis(state, list(axes), end)
    shape = moved.shape
    flat = moved.reshape(shape[0], -1, 2**k)
    out = flat @ (u.T if u.ndim == 2 else np.swapaxes(u, 1, 2))
    return np.moveaxis(out.reshape(shape), end, list(axes))


class _BatchedSimulator:
    """Exact complex128 simulation of a symbolic circuit for a batch of parameter rows.

    Gates whose parameters enter through the exponent of a :class:`cirq.EigenGate` (``rx``,
    ``ry``, ``rz``, ``XX/YY/ZZPowGate``, ``CZPowGate``, ...) are built for the whole batch from
    their eigen-decomposition; other parameterised gates are resolved row by row. With
    ``noise = p > 0`` the state is a density matrix and ``cirq.depolarize(p)`` acts on every
    qubit of the register after every moment -- exactly ``circuit.with_noise(cirq.depolarize(p))``.
    """

    def __init__(self, circuit: cirq.AbstractCircuit, qubits: Sequence[cirq.Qid],
                 symbols: Sequence[sympy.Symbol]) -> None:
        self.qubits = list(qubits)
        self.n = len(self.qubits)
        index = {q: i for i, q in enumerate(self.qubits)}
        column = {s.name: i for i, s in enumerate(symbols)}
        self.moments: list[list[tuple[list[int], str, Any]]] = []
        for moment in circuit:
            ops = []
            for op in moment:
                targets = [index[q] for q in op.qubits]
                if not cirq.is_parameterized(op):
                    ops.append((targets, "fixed", cirq.unitary(op)))
                    continue
                gate = op.gate
                if (isinstance(gate, cirq.EigenGate) and isinstance(op, cirq.GateOperation)
                        and not cirq.is_parameterized(gate.global_shift)):
                    expr = sympy.sympify(gate.exponent)
                    names = sorted(s.name for s in expr.free_symbols)
                    fn = sympy.lambdify([sympy.Symbol(s) for s in names], expr, "numpy")
                    comps = [(float(lam) + gate.global_shift, np.asarray(p, dtype=np.complex128))
                             for lam, p in gate._eigen_components()]
                    ops.append((targets, "eigen", (fn, [column[s] for s in names], comps)))
                else:
                    ops.append((targets, "resolve", op))
            self.moments.append(ops)
        self.symbols = list(symbols)

    def _batch_unitary(self, kind: str, payload: Any, values: np.ndarray) -> np.ndarray:
        if kind == "fixed":
            return payload
        if kind == "eigen":
            fn, cols, comps = payload
            t = np.broadcast_to(np.asarray(fn(*[values[:, c] for c in cols]), dtype=float),
                                (values.shape[0],))
            return sum(np.exp(1j * np.pi * t * shift)[:, None, None] * proj[None]
                       for shift, proj in comps)
        return np.stack([cirq.unitary(cirq.resolve_parameters(
            payload, dict(zip(self.symbols, row.tolist(), strict=True)))) for row in values])

    def final_states(self, values: np.ndarray, noise: float) -> np.ndarray:
        """States ``(S, 2, ..., 2)`` (``n`` axes) or density matrices (``2n`` axes)."""
        s, n = values.shape[0], self.n
        mixed = noise > 0
        axes_count = 2 * n if mixed else n
        state = np.zeros((s,) + (2,) * axes_count, dtype=np.complex128)
        state[(slice(None),) + (0,) * axes_count] = 1.0
        keep = 1.0 - 4.0 * noise / 3.0
        for ops in self.moments:
            for targets, kind, payload in ops:
                u = self._batch_unitary(kind, payload, values)
                state = _apply(state, [1 + t for t in targets], u)
                if mixed:
                    state = _apply(state, [1 + n + t for t in targets], np.conj(u))
            if mixed and ops:
                state = np.ascontiguousarray(state)
                for t in range(n):  # ρ → (1 - 4p/3) ρ + (4p/3) Tr_t(ρ) ⊗ 1/2 on each qubit
                    zero = [slice(None)] * state.ndim
                    one = list(zero)
                    zero[1 + t] = zero[1 + n + t] = 0
                    one[1 + t] = one[1 + n + t] = 1
                    trace = state[tuple(zero)] + state[tuple(one)]
                    state *= keep
                    state[tuple(zero)] += (2.0 * noise / 3.0) * trace
                    state[tuple(one)] += (2.0 * noise / 3.0) * trace
        return state

    def cost(self, values: np.ndarray, cost: _Cost, noise: float) -> np.ndarray:
        """The cost of each parameter row, shape ``(S,)``."""
        state = self.final_states(values, noise)
        s, d = values.shape[0], 2**self.n
        mixed = noise > 0
        if cost.observable is None:
            zero = (state.reshape(s, d, d)[:, 0, 0].real if mixed
                    else np.abs(state.reshape(s, d)[:, 0]) ** 2)
            return 1.0 - zero
        index = {q: i for i, q in enumerate(self.qubits)}
        total = np.zeros(s)
        for term in cost.observable:
            coeff = float(complex(term.coefficient).real)
            phi = state
            for q, pauli in term.items():
                phi = _apply(phi, [1 + index[q]], _PAULI_MATRICES[pauli])
            if mixed:
                value = np.trace(phi.reshape(s, d, d), axis1=1, axis2=2).real
            else:
                value = np.einsum("bi,bi->b", np.conj(state.reshape(s, d)),
                                  phi.reshape(s, d)).real
            total += coeff * value
        return total


def _numpy_derivatives(ansatz: Ansatz, cost: _Cost, values: np.ndarray, index: int,
                       noise: float, omega: float) -> np.ndarray:
    """``∂C/∂θ_index`` of each row by the two-term parameter-shift rule (exact)."""
    n = len(ansatz.qubits)
    dim = 4**n if noise > 0 else 2**n
    chunk = max(1, min(values.shape[0], _CHUNK_BYTES // (16 * dim * 2)))
    sim = _BatchedSimulator(ansatz.circuit, ansatz.qubits, ansatz.symbols)
    out = np.empty(values.shape[0])
    step = (np.pi / 2) / omega
    for start in range(0, values.shape[0], chunk):
        rows = values[start:start + chunk]
        plus, minus = rows.copy(), rows.copy()
        plus[:, index] += step
        minus[:, index] -= step
        both = sim.cost(np.concatenate([plus, minus]), cost, noise)
        half = rows.shape[0]
        out[start:start + half] = omega * (both[:half] - both[half:]) / 2.0
    return out


# --------------------------------------------------------------------------------------------
# Gradient-variance sweeps
# --------------------------------------------------------------------------------------------

def _depth_rules(depths: Any) -> list[tuple[str, Callable[[int], int]]]:
    if isinstance(depths, Mapping):
        items = list(depths.items())
        if not items:
            raise ValueError("depths must not be empty")
        rules = []
        for label, rule in items:
            if not isinstance(label, str) or not label:
                raise TypeError(f"depths keys must be non-empty strings, got {label!r}")
            if callable(rule):
                rules.append((label, rule))
            else:
                d = check_int(f"depths[{label!r}]", rule, minimum=0)
                rules.append((label, lambda n, d=d: d))
        return rules
    if isinstance(depths, (str, bytes)) or not isinstance(depths, (Sequence, np.ndarray)):
        raise TypeError("depths must be a sequence of integers or a mapping from labels to "
                        f"integers or callables n -> depth, got {type(depths).__name__}")
    if len(depths) == 0:
        raise ValueError("depths must not be empty")
    out = []
    for i, d in enumerate(depths):
        d = check_int(f"depths[{i}]", d, minimum=0)
        out.append((str(d), lambda n, d=d: d))
    return out


def _parameter_column(name: str, value: Any, n_parameters: int) -> int:
    if isinstance(value, str):
        value = check_choice(name, value, _INDEX_NAMES)
        return {"first": 0, "middle": n_parameters // 2, "last": n_parameters - 1}[value]
    k = check_int(name, value, minimum=0)
    if k >= n_parameters:
        raise ValueError(f"{name}={k} but the ansatz has only {n_parameters} parameters")
    return k


def _draw(ansatz: Ansatz, initialization: Any, n_samples: int,
          rng: np.random.Generator) -> np.ndarray:
    if callable(initialization):
        rows = [check_finite_array("initialization(ansatz, rng)", initialization(ansatz, rng),
                                   ndim=1) for _ in range(n_samples)]
        if any(r.size != ansatz.n_parameters for r in rows):
            raise ValueError(f"initialization must return {ansatz.n_parameters} values")
        return np.stack(rows)
    return np.stack([initial_parameters(ansatz, strategy=initialization, rng=rng)
                     for _ in range(n_samples)])


def _noise_levels(noise: Any) -> list[float]:
    if isinstance(noise, (Sequence, np.ndarray)) and not isinstance(noise, (str, bytes)):
        if len(noise) == 0:
            raise ValueError("noise must not be empty")
        levels = [check_float(f"noise[{i}]", p, minimum=0.0, maximum=0.75)
                  for i, p in enumerate(noise)]
    else:
        levels = [check_float("noise", noise, minimum=0.0, maximum=0.75)]
    return levels


def _variance_stats(g: np.ndarray) -> tuple[float, float, float, float]:
    """Mean, mean square, unbiased variance and the standard error of that variance."""
    s = g.size
    centred = (g - g.mean()) ** 2
    var = float(centred.sum() / (s - 1))
    sem = float(np.std(centred, ddof=1) / math.sqrt(s) * s / (s - 1))
    return float(g.mean()), float(np.mean(g**2)), var, sem


def gradient_variance(ansatz_builder: AnsatzBuilder, *, n_qubits_list: Sequence[int],
                      depths: Sequence[int] | Mapping[str, int | Callable[[int], int]],
                      cost: CostSpec | Sequence[CostSpec] = "energy",
                      hamiltonian: cirq.PauliSum | ObservableBuilder | None = None,
                      n_samples: int, rng: np.random.Generator,
                      parameter_index: str | int = "first",
                      initialization: str | Callable[[Ansatz, np.random.Generator],
                                                     np.ndarray] = "uniform",
                      noise: float | Sequence[float] = 0.0,
                      backend: str = "auto") -> pd.DataFrame:
    """Mean and variance of ``∂C/∂θ_k`` over random parameters, for a grid of sizes and costs.

    For each ``n`` in ``n_qubits_list`` and each depth, the ansatz ``ansatz_builder(n, depth)``
    is initialised ``n_samples`` times (``initialization``, from ``rng``) and the partial
    derivative of each cost with respect to the parameter ``parameter_index`` is computed
    exactly at every draw. The same parameter draws are used for all costs and noise levels
    of one ``(n, depth)`` (common random numbers, so their comparison is not blurred by
    sampling). The variance's standard error is the delta-method one,
    ``std((g - ḡ)²) / √S``.

    Backends: ``"tfq"`` -- TensorFlow Quantum's adjoint differentiator on the batch of
    parameter rows (one circuit tiled; all partial derivatives at once; float32);
    ``"numpy"`` -- a batched complex128 simulation of the Cirq circuit with the two-term
    parameter-shift rule (two simulations per row), state vectors or, with ``noise > 0``,
    density matrices with ``cirq.depolarize(noise)`` on every qubit after every moment;
    ``"auto"`` -- ``"tfq"`` without noise, ``"numpy"`` otherwise.

    Args:
        ansatz_builder: ``(n_qubits, depth) -> Ansatz``, e.g.
            ``lambda n, d: hardware_efficient_ansatz(n, layers=d)``.
        n_qubits_list: register sizes.
        depths: depths passed to the builder: a sequence of integers, or a mapping from a label
            to an integer or to a rule ``n -> depth`` (e.g. ``{"deep": lambda n: 10 * n}``).
        cost: ``"global"``, ``"local"``, ``"energy"``, a callable building a ``cirq.PauliSum``
            from the qubits, or a sequence of these.
        hamiltonian: the observable of ``"energy"`` (a ``cirq.PauliSum`` or a callable of the
            qubits); default :func:`zz_observable` (McClean et al. 2018).
        n_samples: parameter draws per grid point (>= 2).
        rng: the source of the parameter draws.
        parameter_index: ``"first"``, ``"middle"``, ``"last"`` or an index into
            ``ansatz.symbols``. ``"first"`` (default) is the first gate of the circuit, inside
            the light cone of any observable.
        initialization: a strategy of :func:`qmlkit.ansatz.initial_parameters`
            (``"uniform"``, ``"small"``, ``"identity_blocks"``) or ``(ansatz, rng) -> values``.
        noise: depolarising probability per qubit and moment, or a sequence of them.
        backend: ``"auto"``, ``"tfq"`` or ``"numpy"``.

    Returns:
        One row per ``(n, depth, noise, cost)`` with the columns ``n_qubits``,
        ``depth_label``, ``depth``, ``cost``, ``initialization``, ``noise``, ``parameter``,
        ``parameter_index``, ``n_parameters``, ``n_samples``, ``mean``, ``mean_square``
        (``E[g²]``: the typical size of the derivative even where it hardly varies, as at an
        identity-block initialisation), ``variance``, ``variance_sem``, ``backend``.

    Raises:
        TypeError: for arguments of the wrong type.
        ValueError: for out-of-range arguments, registers too large for memory, noise with the
            ``"tfq"`` backend, or, with ``"numpy"``, circuits the two-term parameter-shift rule
            does not cover (a symbol shared by several gates, as in the HVA: use ``"tfq"``).

    Example:
        >>> from qmlkit.ansatz import hardware_efficient_ansatz
        >>> df = gradient_variance(lambda n, d: hardware_efficient_ansatz(n, layers=d),
        ...                        n_qubits_list=[2], depths={"two": 2}, cost=["global", "local"],
        ...                        n_samples=40, rng=np.random.default_rng(1), noise=[0.0, 0.1],
        ...                        backend="numpy")
        >>> df[["cost", "noise", "depth_label"]].values.tolist()
        [['global', 0.0, 'two'], ['local', 0.0, 'two'], ['global', 0.1, 'two'], ['local', 0.1, 'two']]
        >>> bool((df["variance"] > 0).all())
        True
    """
    if not callable(ansatz_builder):
        raise TypeError(f"ansatz_builder must be callable, got {type(ansatz_builder).__name__}")
    if isinstance(n_qubits_list, (str, bytes)) or not isinstance(n_qubits_list,
                                                                  (Sequence, np.ndarray)):
        raise TypeError(f"n_qubits_list must be a sequence of integers, got "
                        f"{type(n_qubits_list).__name__}")
    if len(n_qubits_list) == 0:
        raise ValueError("n_qubits_list must not be empty")
    sizes = [check_n_qubits(f"n_qubits_list[{i}]", n) for i, n in enumerate(n_qubits_list)]
    rules = _depth_rules(depths)
    costs = list(cost) if isinstance(cost, (list, tuple)) else [cost]
    if not costs:
        raise ValueError("cost must not be empty")
    for i, c in enumerate(costs):
        if not (isinstance(c, str) or callable(c)):
            raise TypeError(f"cost[{i}] must be one of {COSTS} or a callable, got "
                            f"{type(c).__name__}")
        if isinstance(c, str):
            check_choice(f"cost[{i}]" if len(costs) > 1 else "cost", c, COSTS)
    n_samples = check_int("n_samples", n_samples, minimum=2)
    rng = check_rng("rng", rng)
    if isinstance(initialization, str):
        init_label = check_choice("initialization", initialization, _INITIALIZATIONS)
    elif callable(initialization):
        init_label = getattr(initialization, "__name__", "custom")
    else:
        raise TypeError(f"initialization must be one of {_INITIALIZATIONS} or a callable, got "
                        f"{type(initialization).__name__}")
    levels = _noise_levels(noise)
    backend = check_choice("backend", backend, _BACKENDS)
    noisy = any(p > 0 for p in levels)
    if backend == "auto":
        backend = "numpy" if noisy else "tfq"
    if backend == "tfq" and noisy:
        raise ValueError("backend='tfq' is noiseless here; use backend='numpy' (exact density "
                         "matrices) for noise > 0")
    if isinstance(parameter_index, bool) or not isinstance(parameter_index,
                                                            (str, numbers.Integral)):
        raise TypeError("parameter_index must be 'first', 'middle', 'last' or an integer, got "
                        f"{type(parameter_index).__name__}")

    rows: list[dict[str, Any]] = []
    for n in sizes:
        if backend == "numpy":
            check_n_qubits("n_qubits (density matrix: twice the qubits)" if noisy
                           else "n_qubits", 2 * n if noisy else n, copies=8)
        for label, rule in rules:
            depth = check_int(f"depth of {label!r} for n={n}", rule(n), minimum=0)
            ansatz = ansatz_builder(n, depth)
            if not isinstance(ansatz, Ansatz):
                raise TypeError(f"ansatz_builder must return a qmlkit.ansatz.Ansatz, got "
                                f"{type(ansatz).__name__}")
            if len(ansatz.qubits) != n:
                raise ValueError(f"ansatz_builder({n}, {depth}) returned an ansatz on "
                                 f"{len(ansatz.qubits)} qubits")
            k = _parameter_column("parameter_index", parameter_index, ansatz.n_parameters)
            values = _draw(ansatz, initialization, n_samples, rng)
            specs = [_resolve_cost("cost", c, ansatz.qubits, hamiltonian) for c in costs]
            omega = None
            if backend == "numpy":
                probe = CircuitExpectation(ansatz.circuit, ansatz.symbols,
                                           cirq.Z(ansatz.qubits[0]))
                try:
                    omega = float(probe.shift_frequencies()[k])
                except ValueError as exc:
                    raise ValueError(f"backend='numpy' differentiates by the two-term "
                                     f"parameter-shift rule, which does not cover this ansatz "
                                     f"({exc}); use backend='tfq'") from None
            for p in levels:
                for spec, c in zip(specs, costs, strict=True):
                    if backend == "tfq":
                        g = ExactCost(ansatz, c, hamiltonian=hamiltonian).batch(values)[1][:, k]
                    else:
                        g = _numpy_derivatives(ansatz, spec, values, k, p, omega)
                    mean, mean_square, var, sem = _variance_stats(g)
                    rows.append({
                        "n_qubits": n, "depth_label": label, "depth": depth,
                        "cost": spec.label, "initialization": init_label, "noise": p,
                        "parameter": ansatz.symbol_names[k], "parameter_index": k,
                        "n_parameters": ansatz.n_parameters, "n_samples": n_samples,
                        "mean": mean, "mean_square": mean_square, "variance": var, "variance_sem": sem, "backend": backend,
                    })
    return pd.DataFrame(rows)


_GROUP_COLUMNS = ("cost", "depth_label", "n_qubits", "initialization", "noise")


def fit_variance_decay(df: pd.DataFrame, *, x: str = "n_qubits", min_x: float | None = None,
                       max_x: float | None = None) -> pd.DataFrame:
    """Fit ``log₂ Var = intercept + slope · x`` per curve of a :func:`gradient_variance` table.

    A curve is a group of rows that differ only in ``x``: for ``x="n_qubits"`` the groups are
    (``cost``, ``depth_label``, ``initialization``, ``noise``); for ``x="depth"`` they are
    (``cost``, ``n_qubits``, ``initialization``, ``noise``). The slope's standard error comes
    from :func:`scipy.stats.linregress`. An exponential decay ``Var ∝ 2^(slope·x)`` is a
    straight line here; for comparison the power law ``Var ∝ x^exponent`` is fitted too (log-log,
    ``x > 0``), so the two models' ``r²`` can be compared (Cerezo et al. 2021: global costs
    decay exponentially, local costs of shallow circuits polynomially).

    Args:
        df: a table with the columns of :func:`gradient_variance` (at least ``x``,
            ``variance`` and the grouping columns it has).
        x: ``"n_qubits"`` or ``"depth"``.
        min_x: drop rows with ``x < min_x`` first.
        max_x: drop rows with ``x > max_x`` first.

    Returns:
        One row per curve: the grouping columns, ``n_points``, ``x_min``, ``x_max``,
        ``slope``, ``slope_stderr``, ``intercept``, ``r_squared``, ``power_exponent``,
        ``power_exponent_stderr``, ``power_r_squared``. Curves with fewer than 3 points are
        left out.

    Raises:
        TypeError: if ``df`` is not a DataFrame.
        ValueError: for a missing column, an unknown ``x`` or non-positive variances.

    Example:
        >>> table = pd.DataFrame({"n_qubits": [2, 4, 6, 8], "cost": "toy",
        ...                       "variance": [2.0**-2, 2.0**-4, 2.0**-6, 2.0**-8]})
        >>> fit = fit_variance_decay(table)
        >>> float(fit["slope"].iloc[0]), float(fit["slope_stderr"].iloc[0])
        (-1.0, 0.0)
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a pandas.DataFrame, got {type(df).__name__}")
    x = check_choice("x", x, ("n_qubits", "depth"))
    for col in (x, "variance"):
        if col not in df.columns:
            raise ValueError(f"df must have a {col!r} column")
    data = df
    if min_x is not None:
        data = data[data[x] >= check_float("min_x", min_x)]
    if max_x is not None:
        data = data[data[x] <= check_float("max_x", max_x)]
    if (data["variance"] <= 0).any():
        raise ValueError("df has non-positive variances; log-fits need positive values")
    excluded = {x, "depth_label"} if x == "depth" else {x}
    keys = [c for c in _GROUP_COLUMNS if c in data.columns and c not in excluded]
    groups = data.groupby(keys, sort=False) if keys else [((), data)]
    rows = []
    for key, group in groups:
        group = group.sort_values(x)
        if len(group) < 3:
            continue
        xs = group[x].to_numpy(dtype=float)
        ys = np.log2(group["variance"].to_numpy(dtype=float))
        lin = stats.linregress(xs, ys)
        row = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
        row.update(n_points=len(group), x_min=xs.min(), x_max=xs.max(), slope=float(lin.slope),
                   slope_stderr=float(lin.stderr), intercept=float(lin.intercept),
                   r_squared=float(lin.rvalue**2))
        if np.all(xs > 0):
            power = stats.linregress(np.log2(xs), ys)
            row.update(power_exponent=float(power.slope),
                       power_exponent_stderr=float(power.stderr),
                       power_r_squared=float(power.rvalue**2))
        else:
            row.update(power_exponent=np.nan, power_exponent_stderr=np.nan,
                       power_r_squared=np.nan)
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# Layerwise training (Skolik et al. 2021)
# --------------------------------------------------------------------------------------------

def train_layerwise(builder: Callable[[int], Ansatz], *, layers: int, steps_per_layer: int,
                    final_steps: int = 0, cost: CostSpec = "energy",
                    hamiltonian: cirq.PauliSum | ObservableBuilder | None = None,
                    learning_rate: float = 0.05, start_layers: int = 1,
                    init_scale: float = 0.0,
                    rng: np.random.Generator | None = None) -> OptimizationResult:
    """Layerwise learning (Skolik et al. 2021): grow the circuit, training the newest layer.

    Stage ``l = start_layers, ..., layers`` trains ``builder(l)`` for ``steps_per_layer``
    Adam steps (:func:`qmlkit.gradients.adam_minimize` with exact adjoint gradients,
    :class:`ExactCost`), updating only the parameters that are new in this stage (their names
    are not in the previous stage's ansatz) and starting them at zero (or, with
    ``init_scale > 0``, at small normal angles ``N(0, init_scale²)`` from ``rng``, which breaks
    the symmetry of an all-zero start); earlier parameters keep their trained values, frozen. A final stage then trains every parameter of
    ``builder(layers)`` for ``final_steps`` steps. The builder must name parameters
    consistently across depths, as :func:`qmlkit.ansatz.hardware_efficient_ansatz` does.

    Args:
        builder: ``layers -> Ansatz``.
        layers: the final number of layers (>= ``start_layers``).
        steps_per_layer: Adam steps per growing stage (>= 1).
        final_steps: Adam steps on all parameters at the end (>= 0).
        cost: as in :class:`ExactCost`.
        hamiltonian: as in :class:`ExactCost`.
        learning_rate: Adam's step size (> 0).
        start_layers: the number of layers of the first stage (>= 0).
        init_scale: standard deviation of the new parameters' starting angles (>= 0).
        rng: the source of those angles; required when ``init_scale > 0``.

    Returns:
        An :class:`~qmlkit.gradients.OptimizationResult` for the final ansatz whose history has
        the columns ``iteration`` and ``evaluations`` (cumulative over the stages), ``loss``,
        ``layers`` and ``stage``.

    Example:
        >>> from qmlkit.ansatz import hardware_efficient_ansatz
        >>> res = train_layerwise(lambda l: hardware_efficient_ansatz(2, layers=l), layers=2,
        ...                       steps_per_layer=5, cost="local")  # doctest: +SKIP
        >>> res.history["layers"].unique().tolist()  # doctest: +SKIP
        [1, 2]
    """
    if not callable(builder):
        raise TypeError(f"builder must be callable, got {type(builder).__name__}")
    start_layers = check_int("start_layers", start_layers, minimum=0)
    layers = check_int("layers", layers, minimum=start_layers)
    steps_per_layer = check_int("steps_per_layer", steps_per_layer, minimum=1)
    final_steps = check_int("final_steps", final_steps, minimum=0)
    learning_rate = check_float("learning_rate", learning_rate)
    if learning_rate <= 0:
        raise ValueError(f"learning_rate must be > 0, got {learning_rate}")
    init_scale = check_float("init_scale", init_scale, minimum=0.0)
    if init_scale > 0:
        rng = check_rng("rng", rng)
    values: dict[str, float] = {}
    histories: list[pd.DataFrame] = []
    iteration = evaluations = 0
    ansatz: Ansatz | None = None
    result: OptimizationResult | None = None

    def run(stage: str, depth: int, ans: Ansatz, trainable: list[str] | None,
            steps: int) -> OptimizationResult:
        nonlocal iteration, evaluations
        f = ExactCost(ans, cost, hamiltonian=hamiltonian, trainable=trainable)
        theta0 = np.array([values.get(s, 0.0) for s in ans.symbol_names])
        res = adam_minimize(f, f.gradient, theta0, iterations=steps, learning_rate=learning_rate)
        hist = res.history.copy()
        if histories:
            hist = hist.iloc[1:]  # the start of a stage is the end of the previous one
        hist["iteration"] += iteration
        hist["evaluations"] += evaluations
        hist["layers"] = depth
        hist["stage"] = stage
        histories.append(hist)
        iteration += steps
        evaluations += res.evaluations
        values.update(zip(ans.symbol_names, res.x.tolist(), strict=True))
        return res

    for depth in range(start_layers, layers + 1):
        new = builder(depth)
        if not isinstance(new, Ansatz):
            raise TypeError(f"builder must return a qmlkit.ansatz.Ansatz, got "
                            f"{type(new).__name__}")
        fresh = [s for s in new.symbol_names if s not in values]
        if not fresh:
            raise ValueError(f"builder({depth}) adds no new parameters")
        if init_scale > 0:
            values.update(zip(fresh, rng.normal(0.0, init_scale, len(fresh)).tolist(),
                              strict=True))
        ansatz = new
        result = run(f"layer {depth}", depth, new, fresh, steps_per_layer)
    assert ansatz is not None and result is not None
    if final_steps:
        result = run("all layers", layers, ansatz, None, final_steps)
    history = pd.concat(histories, ignore_index=True)
    x = np.array([values[s] for s in ansatz.symbol_names])
    return OptimizationResult(x, float(history["loss"].iloc[-1]), history, evaluations,
                              iteration, "layerwise", True,
                              f"{layers - start_layers + 1} growing stages"
                              + (f" and {final_steps} steps on all layers" if final_steps
                                 else ""))
