"""One hybrid model, built and evaluated in several quantum software toolkits (review §6.3).

The review lists the toolkits a QML project chooses between: PennyLane, TensorFlow Quantum,
Qiskit Machine Learning, Cirq, the Amazon Braket SDK and QuASK. This module builds *the same*
model in each toolkit that runs locally, so that their numbers, cost and ergonomics can be
compared on equal terms:

* :class:`HybridModelSpec` -- a toolkit-neutral description: an angle encoding of ``n_qubits``
  features (:func:`qmlkit.encodings.angle_encoding`), a hardware-efficient ansatz with
  ``layers`` entangling layers (:func:`qmlkit.ansatz.hardware_efficient_ansatz`) and one
  observable, a real combination of Pauli words. Its Cirq circuit (:meth:`HybridModelSpec.circuit`)
  is the source of truth; :meth:`HybridModelSpec.gates` reads it back as a flat list of
  :class:`Gate` records from which the other toolkits' circuits are written.
* adapters that build the model natively and evaluate it through one interface,
  :class:`Backend` (``forward(features, weights)`` and ``gradient(features, weights)``):
  :func:`to_cirq` (Cirq simulator, :func:`qmlkit.gradients.parameter_shift_gradient`),
  :func:`to_tfq` (a :class:`qmlkit.layers.QuantumLayer` in a Keras model; float32),
  :func:`to_pennylane` (a QNode on ``default.qubit`` or ``lightning.qubit``, autograd
  interface) and :func:`to_qiskit` (an ``EstimatorQNN`` of Qiskit Machine Learning on
  Qiskit's exact ``StatevectorEstimator``; only where ``qiskit`` and
  ``qiskit-machine-learning`` are installed, e.g. ``pip install qmlkit[interop]``: they are
  not part of the locked environment).
* :func:`available_backends` and :func:`make_backend`, a registry by name, and
  :func:`adapter_line_count`, the size of each adapter's toolkit-specific code.

The model's output for features ``x`` and weights ``θ`` is ``f(x, θ) = <ψ(x, θ)|O|ψ(x, θ)>``.
``forward`` returns ``f`` for a batch, shape ``(batch,)``; ``gradient`` returns
:class:`ModelGradient`, the per-sample derivatives with respect to the features,
``(batch, n_qubits)``, and the weights, ``(batch, n_weights)``. Everything is computed in
float64 / complex128 except TensorFlow Quantum, whose simulator is float32 (values agree to
about ``1e-7``, parameter-shift gradients to about ``1e-6``; its Adjoint differentiator also
carries a finite-difference error of up to ``~5e-5``, see :mod:`qmlkit.gradients`).

Importing this module imports Cirq but neither TensorFlow nor PennyLane nor Qiskit: each
adapter imports its toolkit when it is called.

Example:
    >>> import numpy as np
    >>> spec = HybridModelSpec(n_qubits=2, layers=1, observable="ZZ")
    >>> spec.n_weights, [g.name for g in spec.gates()][:3]
    (8, ['RX', 'RX', 'RY'])
    >>> model = to_cirq(spec)
    >>> x, w = np.array([[0.1, 0.2]]), np.linspace(0.0, 1.0, 8)
    >>> model.forward(x, w).round(6)
    array([0.300539])
    >>> model.gradient(x, w).weights.shape
    (1, 8)
"""

from __future__ import annotations

import abc
import importlib.util
import inspect
import io
import textwrap
import tokenize
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import cirq
import numpy as np
import sympy

from qmlkit._validation import (
    check_choice,
    check_finite_array,
    check_float,
    check_int,
    check_n_qubits,
)
from qmlkit.ansatz import Ansatz, hardware_efficient_ansatz
from qmlkit.encodings import angle_encoding, angle_encoding_symbols
from qmlkit.gradients import CircuitExpectation, parameter_shift_gradient

__all__ = [
    "BACKENDS",
    "Backend",
    "CirqBackend",
    "Gate",
    "HybridModelSpec",
    "ModelGradient",
    "PennyLaneBackend",
    "QiskitBackend",
    "TFQBackend",
    "adapter_line_count",
    "available_backends",
    "make_backend",
    "source_line_count",
    "to_cirq",
    "to_pennylane",
    "to_qiskit",
    "to_tfq",
]

#: Backend names of :func:`make_backend`, in the order of the chapter's tables.
BACKENDS = ("cirq", "tfq", "pennylane-default", "pennylane-lightning", "qiskit")
#: The Python modules each backend needs (checked without importing them).
_REQUIRES = {
    "cirq": ("cirq",),
    "tfq": ("tensorflow", "tensorflow_quantum"),
    "pennylane-default": ("pennylane",),
    "pennylane-lightning": ("pennylane", "pennylane_lightning"),
    "qiskit": ("qiskit", "qiskit_machine_learning"),
}
_AXES = ("X", "Y", "Z")
_ENTANGLERS = ("CZ", "CNOT")
_CONNECTIVITIES = ("line", "ring", "all")
_PAULI_LETTERS = frozenset("IXYZ")
_CIRQ_PAULI = {"X": cirq.X, "Y": cirq.Y, "Z": cirq.Z}
_ROTATION = {"X": cirq.rx, "Y": cirq.ry, "Z": cirq.rz}
_FEATURE_PREFIX = "x"  # the names qmlkit.layers.QuantumLayer gives its symbols
_WEIGHT_PREFIX = "theta"
_TFQ_DIFFERENTIATORS = ("parameter_shift", "adjoint")
_PENNYLANE_DEVICES = ("default.qubit", "lightning.qubit")
_PENNYLANE_DIFF_METHODS = ("backprop", "adjoint", "parameter-shift")
_QISKIT_HINT = ("to_qiskit needs qiskit>=2.1 and qiskit-machine-learning>=0.9, which are not "
                "part of the locked environment: pip install 'qmlkit[interop]' in a separate "
                "environment")


# --------------------------------------------------------------------------------------------
# the toolkit-neutral model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gate:
    """One gate of a model circuit, in toolkit-neutral form.

    Attributes:
        name: ``"RX"``, ``"RY"``, ``"RZ"`` (``exp(-iθσ/2)``), ``"CZ"`` or ``"CNOT"``.
        wires: the qubit indices it acts on (control first for ``"CNOT"``).
        source: for rotations, ``"feature"`` or ``"weight"``: where its angle comes from.
        index: for rotations, the index of the angle in the features or the weights.

    Example:
        >>> Gate("RX", (0,), "feature", 0).is_rotation
        True
    """

    name: str
    wires: tuple[int, ...]
    source: str | None = None
    index: int | None = None

    @property
    def is_rotation(self) -> bool:
        """Whether the gate is a parameterised rotation."""
        return self.source is not None


def _check_rotations(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = tuple(value)
    if not isinstance(value, (Sequence, np.ndarray)) or len(value) == 0:
        raise TypeError(f"ansatz_rotations must be a non-empty sequence of 'X', 'Y', 'Z', got "
                        f"{value!r}")
    return tuple(check_choice(f"ansatz_rotations[{i}]", a, _AXES) for i, a in enumerate(value))


def _check_word(name: str, word: Any, n: int) -> str:
    if not isinstance(word, str):
        raise TypeError(f"{name} must be a Pauli word such as 'ZZI', got {type(word).__name__}")
    if len(word) != n or not set(word) <= _PAULI_LETTERS:
        raise ValueError(f"{name} must be a string of {n} letters from I, X, Y, Z (one per "
                         f"qubit, qubit 0 first), got {word!r}")
    if set(word) == {"I"}:
        raise ValueError(f"{name}: the identity word {word!r} is a constant, not an observable")
    return word


def _observable_terms(value: Any, n: int) -> tuple[tuple[float, str], ...]:
    """Canonical ``((coefficient, word), ...)`` of the ``observable`` argument."""
    if value is None:
        value = "Z" if n == 1 else "ZZ" + "I" * (n - 2)
    if isinstance(value, str):
        return ((1.0, _check_word("observable", value, n)),)
    if isinstance(value, (cirq.PauliString, cirq.PauliSum)):
        strings = [value] if isinstance(value, cirq.PauliString) else list(value)
        terms = []
        for ps in strings:
            coeff = complex(ps.coefficient)
            if abs(coeff.imag) > 1e-12:
                raise ValueError(f"observable must be Hermitian (real coefficients), got {coeff}")
            letters = ["I"] * n
            for q, p in ps.items():
                if not isinstance(q, cirq.LineQubit) or not 0 <= q.x < n:
                    raise ValueError(f"observable must act on cirq.LineQubit(0..{n - 1}), got "
                                     f"{q!r}")
                letters[q.x] = str(p)
            terms.append((coeff.real, "".join(letters)))
        value = terms
    if not isinstance(value, (Sequence, np.ndarray)) or len(value) == 0:
        raise TypeError("observable must be a Pauli word, a non-empty sequence of (coefficient, "
                        f"word) pairs or a cirq.PauliString/PauliSum, got {value!r}")
    out = []
    for i, term in enumerate(value):
        if not isinstance(term, (tuple, list)) or len(term) != 2:
            raise TypeError(f"observable[{i}] must be a (coefficient, word) pair, got {term!r}")
        coeff = check_float(f"observable[{i}] coefficient", term[0])
        out.append((coeff, _check_word(f"observable[{i}] word", term[1], n)))
    words = [w for _, w in out]
    if len(set(words)) != len(words):
        raise ValueError(f"observable repeats a Pauli word: {words}")
    if all(c == 0.0 for c, _ in out):
        raise ValueError("observable is zero (every coefficient is 0)")
    return tuple(out)


@dataclass(frozen=True)
class HybridModelSpec:
    """A toolkit-neutral hybrid model: angle encoding, hardware-efficient ansatz, observable.

    The circuit on ``cirq.LineQubit.range(n_qubits)`` is
    ``angle_encoding(x, rotation=rotation)`` (feature ``i`` is the angle of a rotation of
    qubit ``i``) followed by ``hardware_efficient_ansatz(n_qubits, layers=layers,
    rotations=ansatz_rotations, entangler=entangler, connectivity=connectivity)``, whose
    ``n_weights`` symbols are the weights. It is the circuit that
    ``qmlkit.layers.QuantumLayer(n_qubits, encoding="angle", ansatz="hardware_efficient", ...)``
    builds, with the same symbol names (``x_i``, ``theta_l{l}_q{q}_{k}``).

    The observable is a real combination of Pauli words, one letter per qubit, qubit 0 first:
    ``"ZZI"`` is ``Z_0 Z_1``; ``[(1.0, "ZZI"), (0.5, "IIX")]`` is ``Z_0 Z_1 + 0.5 X_2``. A
    ``cirq.PauliString`` or ``cirq.PauliSum`` on line qubits is accepted too. The default is
    ``Z_0 Z_1`` (``Z_0`` for one qubit). After construction :attr:`observable` is the
    canonical tuple of ``(coefficient, word)`` pairs and :attr:`ansatz_rotations` a tuple.

    Raises:
        TypeError: for arguments of the wrong type.
        ValueError: for a non-positive ``n_qubits``, negative ``layers``, an unknown axis,
            entangler or connectivity, or a malformed, repeated or zero observable.

    Example:
        >>> spec = HybridModelSpec(n_qubits=3, layers=2, observable=[(1.0, "ZZI"), (0.5, "IIX")])
        >>> spec.n_weights, spec.observable
        (18, ((1.0, 'ZZI'), (0.5, 'IIX')))
        >>> print(spec.cirq_observable())
        1.000*Z(q(0))*Z(q(1))+0.500*X(q(2))
    """

    n_qubits: int
    layers: int
    rotation: str = "X"
    ansatz_rotations: tuple[str, ...] = ("Y", "Z")
    entangler: str = "CZ"
    connectivity: str = "line"
    observable: Any = None
    _ansatz: Ansatz = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = check_n_qubits("n_qubits", self.n_qubits)
        object.__setattr__(self, "n_qubits", n)
        object.__setattr__(self, "layers", check_int("layers", self.layers, minimum=0))
        object.__setattr__(self, "rotation", check_choice("rotation", self.rotation, _AXES))
        object.__setattr__(self, "ansatz_rotations", _check_rotations(self.ansatz_rotations))
        object.__setattr__(self, "entangler",
                           check_choice("entangler", self.entangler, _ENTANGLERS))
        object.__setattr__(self, "connectivity",
                           check_choice("connectivity", self.connectivity, _CONNECTIVITIES))
        object.__setattr__(self, "observable", _observable_terms(self.observable, n))
        object.__setattr__(self, "_ansatz", hardware_efficient_ansatz(
            cirq.LineQubit.range(n), layers=self.layers, rotations=self.ansatz_rotations,
            entangler=self.entangler, connectivity=self.connectivity, prefix=_WEIGHT_PREFIX))

    # ---- sizes and symbols ------------------------------------------------------------------

    @property
    def n_features(self) -> int:
        """Number of input features (one per qubit)."""
        return self.n_qubits

    @property
    def n_weights(self) -> int:
        """Number of trainable weights (symbols of the ansatz)."""
        return self._ansatz.n_parameters

    @property
    def qubits(self) -> list[cirq.LineQubit]:
        """``cirq.LineQubit.range(n_qubits)``."""
        return cirq.LineQubit.range(self.n_qubits)

    @property
    def feature_symbols(self) -> list[sympy.Symbol]:
        """``x_0 ... x_{n-1}``, the angles of the encoding."""
        return angle_encoding_symbols(self.n_qubits, prefix=_FEATURE_PREFIX)

    @property
    def weight_symbols(self) -> list[sympy.Symbol]:
        """The ansatz's symbols, in the order of the weight vector."""
        return list(self._ansatz.symbols)

    # ---- the model in Cirq, and read back ---------------------------------------------------

    def circuit(self) -> cirq.Circuit:
        """The symbolic Cirq circuit: encoding then ansatz (the source of truth).

        Example:
            >>> print(HybridModelSpec(n_qubits=1, layers=0, ansatz_rotations="Y").circuit())
            0: ───Rx(x_0)───Ry(theta_l0_q0_0)───
        """
        encoding = angle_encoding(self.feature_symbols, rotation=self.rotation,
                                  qubits=self.qubits)
        return encoding + self._ansatz.circuit

    def cirq_observable(self) -> cirq.PauliSum:
        """The observable as a :class:`cirq.PauliSum` on :attr:`qubits`."""
        q = self.qubits
        strings = [cirq.PauliString({q[i]: _CIRQ_PAULI[p] for i, p in enumerate(word)
                                     if p != "I"}, coefficient=coeff)
                   for coeff, word in self.observable]
        return cirq.PauliSum.from_pauli_strings(strings)

    def gates(self) -> tuple[Gate, ...]:
        """The Cirq circuit read back gate by gate, in moment order.

        Every other toolkit's circuit is written from this list, so a change of the encoding
        or ansatz in :mod:`qmlkit` reaches every adapter; a gate outside ``RX/RY/RZ`` of one
        symbol, ``CZ`` and ``CNOT`` is refused.

        Raises:
            ValueError: for a gate the adapters cannot translate.

        Example:
            >>> HybridModelSpec(n_qubits=2, layers=1, ansatz_rotations="Y").gates()[2:5]
            (Gate(name='RY', wires=(0,), source='weight', index=0), Gate(name='RY', wires=(1,), source='weight', index=1), Gate(name='CZ', wires=(0, 1), source=None, index=None))
        """
        refs = {s: ("feature", i) for i, s in enumerate(self.feature_symbols)}
        refs.update({s: ("weight", k) for k, s in enumerate(self.weight_symbols)})
        index = {q: i for i, q in enumerate(self.qubits)}
        out = []
        for op in self.circuit().all_operations():
            wires = tuple(index[q] for q in op.qubits)
            if op.gate == cirq.CZ:
                out.append(Gate("CZ", wires))
                continue
            if op.gate == cirq.CNOT:
                out.append(Gate("CNOT", wires))
                continue
            symbols = cirq.parameter_symbols(op)
            if len(symbols) == 1:
                (s,) = symbols
                axis = next((a for a, rot in _ROTATION.items() if op.gate == rot(s)), None)
                if axis is not None and s in refs:
                    out.append(Gate(f"R{axis}", wires, *refs[s]))
                    continue
            raise ValueError(f"gates: cannot translate the operation {op!r}")
        return tuple(out)

    def check_inputs(self, features: Any, weights: Any) -> tuple[np.ndarray, np.ndarray]:
        """Validate a batch: ``features`` ``(batch, n_qubits)``, ``weights`` ``(n_weights,)``.

        Raises:
            TypeError: for non-numeric input.
            ValueError: for wrong shapes, an empty batch, NaN or infinity.

        Example:
            >>> x, w = HybridModelSpec(n_qubits=2, layers=0).check_inputs([[0.1, 0.2]],
            ...                                                           np.zeros(4))
            >>> x.shape, w.dtype
            ((1, 2), dtype('float64'))
        """
        x = check_finite_array("features", features, ndim=2)
        if x.shape[0] == 0 or x.shape[1] != self.n_qubits:
            raise ValueError(f"features must have shape (batch >= 1, {self.n_qubits}), got "
                             f"shape {x.shape}")
        w = check_finite_array("weights", weights, ndim=1)
        if w.size != self.n_weights:
            raise ValueError(f"weights must hold {self.n_weights} values (one per ansatz "
                             f"symbol), got {w.size}")
        return x, w

    def random_inputs(self, *, batch: int, rng: np.random.Generator
                      ) -> tuple[np.ndarray, np.ndarray]:
        """Features uniform in ``[-π, π)`` of shape ``(batch, n_qubits)``, weights in ``[0, 2π)``.

        Example:
            >>> x, w = HybridModelSpec(n_qubits=2, layers=1).random_inputs(
            ...     batch=3, rng=np.random.default_rng(0))
            >>> x.shape, w.shape
            ((3, 2), (8,))
        """
        batch = check_int("batch", batch, minimum=1)
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        x = rng.uniform(-np.pi, np.pi, size=(batch, self.n_qubits))
        w = rng.uniform(0.0, 2 * np.pi, size=self.n_weights)
        return x, w


# --------------------------------------------------------------------------------------------
# the uniform interface
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelGradient:
    """Per-sample derivatives of the model output.

    Attributes:
        inputs: ``∂f(x_b, θ)/∂x_{b,i}``, shape ``(batch, n_qubits)``.
        weights: ``∂f(x_b, θ)/∂θ_k``, shape ``(batch, n_weights)``.
    """

    inputs: np.ndarray
    weights: np.ndarray


class Backend(abc.ABC):
    """The model of a :class:`HybridModelSpec` in one toolkit, behind one interface.

    Subclasses build the toolkit's native object (:attr:`model`) and implement
    :meth:`_forward` and :meth:`_gradient`; the public methods validate the inputs with
    :meth:`HybridModelSpec.check_inputs` and return float64 arrays.

    Attributes:
        name: the registry name (one of :data:`BACKENDS`).
        spec: the model description.
        model: the toolkit's own object (a circuit, a Keras model, a QNode, an EstimatorQNN).
        precision: ``"float64"`` or ``"float32"``, the simulator's real precision.
        gradient_method: how :meth:`gradient` differentiates.
    """

    name: str = ""
    precision: str = "float64"

    def __init__(self, spec: HybridModelSpec) -> None:
        if not isinstance(spec, HybridModelSpec):
            raise TypeError(f"spec must be a HybridModelSpec, got {type(spec).__name__}")
        self.spec = spec
        self.model: Any = None
        self.gradient_method = ""

    def forward(self, features: Any, weights: Any) -> np.ndarray:
        """Model outputs ``f(x_b, θ)`` for a batch of features, shape ``(batch,)``."""
        x, w = self.spec.check_inputs(features, weights)
        return np.asarray(self._forward(x, w), dtype=np.float64).reshape(len(x))

    def gradient(self, features: Any, weights: Any) -> ModelGradient:
        """Per-sample derivatives with respect to the features and the weights."""
        x, w = self.spec.check_inputs(features, weights)
        gx, gw = self._gradient(x, w)
        return ModelGradient(np.asarray(gx, dtype=np.float64).reshape(x.shape),
                             np.asarray(gw, dtype=np.float64).reshape(len(x), w.size))

    @abc.abstractmethod
    def _forward(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        """The toolkit's outputs for checked inputs, shape ``(batch,)``."""

    @abc.abstractmethod
    def _gradient(self, x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The toolkit's per-sample derivatives ``(d/dx, d/dθ)`` for checked inputs."""

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(name={self.name!r}, n_qubits={self.spec.n_qubits}, "
                f"layers={self.spec.layers}, gradient={self.gradient_method!r})")


# ---- Cirq -----------------------------------------------------------------------------------


def _build_cirq_cost(spec: HybridModelSpec) -> CircuitExpectation:
    circuit = spec.circuit()
    symbols = [*spec.feature_symbols, *spec.weight_symbols]
    return CircuitExpectation(circuit, symbols, spec.cirq_observable())


class CirqBackend(Backend):
    """Plain Cirq: exact complex128 state vectors and qmlkit's parameter-shift rule.

    :attr:`model` is a :class:`qmlkit.gradients.CircuitExpectation` of the circuit with
    features and weights as its parameters; its ``evaluations`` count every simulation.
    """

    name = "cirq"

    def __init__(self, spec: HybridModelSpec) -> None:
        super().__init__(spec)
        self.model = _build_cirq_cost(spec)
        self.gradient_method = "parameter shift (qmlkit.gradients)"

    def _forward(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        return np.array([self.model(np.concatenate([row, w])) for row in x])

    def _gradient(self, x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        grads = np.array([parameter_shift_gradient(self.model, np.concatenate([row, w])).gradient
                          for row in x])
        n = self.spec.n_features
        return grads[:, :n], grads[:, n:]


def to_cirq(spec: HybridModelSpec) -> CirqBackend:
    """The model on Cirq's simulator, differentiated by the parameter-shift rule.

    Example:
        >>> b = to_cirq(HybridModelSpec(n_qubits=2, layers=1))
        >>> b.forward([[0.0, 0.0]], np.zeros(8)).round(6)   # |00>: <Z0 Z1> = 1
        array([1.])
    """
    return CirqBackend(spec)


# ---- TensorFlow Quantum ---------------------------------------------------------------------


def _build_tfq_model(spec: HybridModelSpec, differentiator: str) -> tuple[Any, Any, Any]:
    from qmlkit.layers import QuantumLayer, tf, tf_keras, tfq

    layer = QuantumLayer(spec.n_qubits, encoding="angle", rotation=spec.rotation,
                         ansatz="hardware_efficient", layers=spec.layers,
                         ansatz_rotations=spec.ansatz_rotations, entangler=spec.entangler,
                         connectivity=spec.connectivity, observables=[spec.cirq_observable()],
                         differentiator=differentiator, seed=0)
    inputs = tf_keras.Input(shape=(spec.n_qubits,), name="features")
    model = tf_keras.Model(inputs, layer(inputs), name="tfq_hybrid")
    diff = (tfq.differentiators.ParameterShift() if differentiator == "parameter_shift"
            else tfq.differentiators.Adjoint())
    expectation = tfq.layers.Expectation(differentiator=diff)
    return model, layer, (tf, tfq, expectation)


class TFQBackend(Backend):
    """TensorFlow Quantum: a :class:`qmlkit.layers.QuantumLayer` in a ``tf_keras`` model.

    ``forward`` runs the Keras model with the layer's weights set to ``weights``.
    ``gradient`` feeds the layer's symbol values (features and weights, per sample) to
    ``tfq.layers.Expectation`` with the same differentiator and differentiates the sum of
    the outputs with respect to them, which gives every sample's derivatives in one call
    (the layer's own weight gradient is summed over the batch). TFQ simulates in float32.

    Attributes:
        layer: the :class:`~qmlkit.layers.QuantumLayer`.
    """

    name = "tfq"
    precision = "float32"

    def __init__(self, spec: HybridModelSpec, *, differentiator: str = "parameter_shift"
                 ) -> None:
        super().__init__(spec)
        differentiator = check_choice("differentiator", differentiator, _TFQ_DIFFERENTIATORS)
        self.model, self.layer, (self._tf, tfq, self._expectation) = _build_tfq_model(
            spec, differentiator)
        if (self.layer.circuit != spec.circuit()
                or self.layer.symbols != [*spec.feature_symbols, *spec.weight_symbols]):
            raise RuntimeError("QuantumLayer built a different circuit from the spec's")
        self._circuits = tfq.convert_to_tensor([spec.circuit()])
        self._ops = tfq.convert_to_tensor([[spec.cirq_observable()]])
        self._names = [s.name for s in self.layer.symbols]
        self.differentiator = differentiator
        self.gradient_method = ("tfq.differentiators.ParameterShift"
                                if differentiator == "parameter_shift"
                                else "tfq.differentiators.Adjoint")

    def _forward(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        self.layer.quantum_weights.assign(w.astype(np.float32))
        return self.model(x.astype(np.float32)).numpy()[:, 0]

    def _gradient(self, x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        tf = self._tf
        values = tf.constant(self.layer.symbol_values(x, w), dtype=tf.float32)
        batch = len(x)
        with tf.GradientTape() as tape:
            tape.watch(values)
            out = self._expectation(tf.tile(self._circuits, [batch]), symbol_names=self._names,
                                    symbol_values=values,
                                    operators=tf.tile(self._ops, [batch, 1]))
            total = tf.reduce_sum(out)
        grads = tape.gradient(total, values).numpy()
        n = self.spec.n_features
        return grads[:, :n], grads[:, n:]


def to_tfq(spec: HybridModelSpec, *, differentiator: str = "parameter_shift") -> TFQBackend:
    """The model as a Keras model around a :class:`qmlkit.layers.QuantumLayer` (float32).

    Args:
        spec: the model.
        differentiator: ``"parameter_shift"`` (exact up to float32 rounding, ``2P``
            circuits per gradient) or ``"adjoint"`` (one backward pass, but only accurate to
            ``~5e-5``).

    Raises:
        ValueError: for an unknown differentiator.

    Example:
        >>> b = to_tfq(HybridModelSpec(n_qubits=2, layers=1))  # doctest: +SKIP
        >>> b.forward([[0.0, 0.0]], np.zeros(8))  # doctest: +SKIP
        array([1.])
    """
    return TFQBackend(spec, differentiator=differentiator)


# ---- PennyLane ------------------------------------------------------------------------------


def _build_pennylane_qnode(spec: HybridModelSpec, device: str, diff_method: str) -> Any:
    import pennylane as qml

    rotations = {"RX": qml.RX, "RY": qml.RY, "RZ": qml.RZ}
    gates = spec.gates()
    coeffs = [c for c, _ in spec.observable]
    words = [qml.pauli.string_to_pauli_word(w) for _, w in spec.observable]
    observable = qml.Hamiltonian(coeffs, words)

    @qml.qnode(qml.device(device, wires=spec.n_qubits), interface="autograd",
               diff_method=diff_method)
    def circuit(x, w):
        for g in gates:
            if g.name == "CZ":
                qml.CZ(wires=g.wires)
            elif g.name == "CNOT":
                qml.CNOT(wires=g.wires)
            else:
                angle = x[..., g.index] if g.source == "feature" else w[g.index]
                rotations[g.name](angle, wires=g.wires[0])
        return qml.expval(observable)

    return circuit


class PennyLaneBackend(Backend):
    """PennyLane: a QNode on ``default.qubit`` or ``lightning.qubit``, autograd interface.

    ``forward`` evaluates the whole batch at once (parameter broadcasting over the features);
    ``gradient`` calls ``qml.jacobian`` sample by sample, with ``diff_method`` (default
    ``"backprop"`` on ``default.qubit``, ``"adjoint"`` on ``lightning.qubit``).
    """

    def __init__(self, spec: HybridModelSpec, *, device: str = "default.qubit",
                 diff_method: str | None = None) -> None:
        super().__init__(spec)
        device = check_choice("device", device, _PENNYLANE_DEVICES)
        if diff_method is None:
            diff_method = "backprop" if device == "default.qubit" else "adjoint"
        diff_method = check_choice("diff_method", diff_method, _PENNYLANE_DIFF_METHODS)
        if device == "lightning.qubit" and diff_method == "backprop":
            raise ValueError("diff_method='backprop' needs device='default.qubit'")
        import pennylane as qml
        from pennylane import numpy as pnp

        self._qml, self._pnp = qml, pnp
        self.name = "pennylane-default" if device == "default.qubit" else "pennylane-lightning"
        self.device = device
        self.model = _build_pennylane_qnode(spec, device, diff_method)
        self.gradient_method = f"qml.jacobian, diff_method={diff_method!r}"

    def _forward(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        pnp = self._pnp
        out = self.model(pnp.array(x, requires_grad=False), pnp.array(w, requires_grad=False))
        return np.asarray(out, dtype=np.float64)

    def _gradient(self, x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pnp = self._pnp
        jac = self._qml.jacobian(self.model, argnums=[0, 1])
        weights = pnp.array(w, requires_grad=True)
        pairs = [jac(pnp.array(row, requires_grad=True), weights) for row in x]
        return (np.array([gx for gx, _ in pairs], dtype=np.float64),
                np.array([gw for _, gw in pairs], dtype=np.float64))


def to_pennylane(spec: HybridModelSpec, *, device: str = "default.qubit",
                 diff_method: str | None = None) -> PennyLaneBackend:
    """The model as a PennyLane QNode (float64, autograd interface).

    Args:
        spec: the model.
        device: ``"default.qubit"`` or ``"lightning.qubit"``.
        diff_method: ``"backprop"`` (``default.qubit`` only), ``"adjoint"`` or
            ``"parameter-shift"``; None picks ``"backprop"`` / ``"adjoint"`` by device.

    Raises:
        ValueError: for an unknown device or method, or backprop on lightning.

    Example:
        >>> b = to_pennylane(HybridModelSpec(n_qubits=2, layers=1))
        >>> b.forward([[0.0, 0.0]], np.zeros(8)).round(6)
        array([1.])
    """
    return PennyLaneBackend(spec, device=device, diff_method=diff_method)


# ---- Qiskit ---------------------------------------------------------------------------------


def _build_qiskit_qnn(spec: HybridModelSpec) -> Any:
    from qiskit import QuantumCircuit
    from qiskit.circuit import ParameterVector
    from qiskit.primitives import StatevectorEstimator
    from qiskit.quantum_info import SparsePauliOp
    from qiskit_machine_learning.gradients import ParamShiftEstimatorGradient
    from qiskit_machine_learning.neural_networks import EstimatorQNN

    x = ParameterVector("x", spec.n_features)
    w = ParameterVector("theta", spec.n_weights)
    qc = QuantumCircuit(spec.n_qubits)
    for g in spec.gates():
        if g.name == "CZ":
            qc.cz(*g.wires)
        elif g.name == "CNOT":
            qc.cx(*g.wires)
        else:
            angle = x[g.index] if g.source == "feature" else w[g.index]
            getattr(qc, g.name.lower())(angle, g.wires[0])
    observable = SparsePauliOp.from_sparse_list(
        [(word.replace("I", ""), [i for i, p in enumerate(word) if p != "I"], coeff)
         for coeff, word in spec.observable], num_qubits=spec.n_qubits)
    estimator = StatevectorEstimator()
    return EstimatorQNN(circuit=qc, observables=observable, input_params=list(x),
                        weight_params=list(w), estimator=estimator,
                        gradient=ParamShiftEstimatorGradient(estimator),
                        input_gradients=True, default_precision=0.0)


class QiskitBackend(Backend):
    """Qiskit Machine Learning: an ``EstimatorQNN`` on Qiskit's exact ``StatevectorEstimator``.

    ``forward`` and ``gradient`` are the network's ``forward`` and ``backward`` (parameter
    shift, ``ParamShiftEstimatorGradient``), with ``default_precision=0`` (exact values; the
    network's default of ``1/64`` would add Gaussian noise of that size).
    """

    name = "qiskit"

    def __init__(self, spec: HybridModelSpec) -> None:
        super().__init__(spec)
        if not all(importlib.util.find_spec(m) for m in _REQUIRES["qiskit"]):
            raise ImportError(_QISKIT_HINT)
        self.model = _build_qiskit_qnn(spec)
        self.gradient_method = "EstimatorQNN.backward, ParamShiftEstimatorGradient"

    def _forward(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        return self.model.forward(x, w)[:, 0]

    def _gradient(self, x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        gx, gw = self.model.backward(x, w)
        return gx[:, 0, :], gw[:, 0, :]


def to_qiskit(spec: HybridModelSpec) -> QiskitBackend:
    """The model as a Qiskit Machine Learning ``EstimatorQNN`` (float64, exact estimator).

    Raises:
        ImportError: where ``qiskit`` or ``qiskit-machine-learning`` is not installed.

    Example:
        >>> b = to_qiskit(HybridModelSpec(n_qubits=2, layers=1))  # doctest: +SKIP
        >>> b.forward([[0.0, 0.0]], np.zeros(8))  # doctest: +SKIP
        array([1.])
    """
    return QiskitBackend(spec)


# --------------------------------------------------------------------------------------------
# registry
# --------------------------------------------------------------------------------------------

_FACTORIES: dict[str, Callable[..., Backend]] = {
    "cirq": to_cirq,
    "tfq": to_tfq,
    "pennylane-default": lambda spec, **kw: to_pennylane(spec, device="default.qubit", **kw),
    "pennylane-lightning": lambda spec, **kw: to_pennylane(spec, device="lightning.qubit",
                                                           **kw),
    "qiskit": to_qiskit,
}

_BUILDERS: dict[str, Callable[..., Any]] = {
    "cirq": _build_cirq_cost,
    "tfq": _build_tfq_model,
    "pennylane-default": _build_pennylane_qnode,
    "pennylane-lightning": _build_pennylane_qnode,
    "qiskit": _build_qiskit_qnn,
}


def available_backends() -> list[str]:
    """The names in :data:`BACKENDS` whose toolkits are installed (found without importing).

    Example:
        >>> "cirq" in available_backends()
        True
    """
    return [name for name in BACKENDS
            if all(importlib.util.find_spec(m) is not None for m in _REQUIRES[name])]


def make_backend(name: str, spec: HybridModelSpec, **options: Any) -> Backend:
    """Build the backend ``name`` (one of :data:`BACKENDS`) for ``spec``.

    ``options`` go to the adapter (``differentiator`` for ``"tfq"``, ``diff_method`` for the
    PennyLane backends).

    Raises:
        ValueError: for an unknown name.
        ImportError: where the backend's toolkit is not installed.

    Example:
        >>> make_backend("cirq", HybridModelSpec(n_qubits=2, layers=1)).name
        'cirq'
    """
    name = check_choice("name", name, BACKENDS)
    missing = [m for m in _REQUIRES[name] if importlib.util.find_spec(m) is None]
    if missing:
        hint = f"; {_QISKIT_HINT}" if name == "qiskit" else ""
        raise ImportError(f"backend {name!r} needs the modules {missing}{hint}")
    return _FACTORIES[name](spec, **options)


def source_line_count(obj: Any) -> int:
    """Logical lines of code of a function or class, as :func:`inspect.getsource` gives it.

    Counts statements, not physical lines (a call spread over three lines counts once),
    without the ``def``/``class`` line of ``obj`` itself, docstrings, comments and blank lines.

    Raises:
        TypeError: if ``obj`` is not a function, method or class.

    Example:
        >>> source_line_count(to_cirq)   # its docstring and def line are not counted
        1
    """
    if not (inspect.isfunction(obj) or inspect.ismethod(obj) or inspect.isclass(obj)):
        raise TypeError(f"obj must be a function or class, got {type(obj).__name__}")
    source = textwrap.dedent(inspect.getsource(obj))
    lines: set[int] = set()
    new_statement = True
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENCODING, tokenize.ENDMARKER}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in skip:
            continue
        if tok.type == tokenize.NEWLINE:
            new_statement = True
            continue
        if new_statement:
            new_statement = False
            if tok.type != tokenize.STRING:  # a docstring is a bare string statement
                lines.add(tok.start[0])
    return max(len(lines) - 1, 0)  # minus the def/class line


def adapter_line_count(name: str) -> int:
    """:func:`source_line_count` of the toolkit-specific function that builds ``name``'s model.

    The builders (``_build_*``) hold everything that is written in the toolkit's own API; the
    shared parts (the spec, input checks, the :class:`Backend` wrapper) are not counted, nor
    is the qmlkit code a builder calls (:class:`qmlkit.layers.QuantumLayer` for ``"tfq"``,
    :class:`qmlkit.gradients.CircuitExpectation` for ``"cirq"``).

    Raises:
        ValueError: for an unknown name.

    Example:
        >>> adapter_line_count("cirq")
        3
    """
    name = check_choice("name", name, BACKENDS)
    return source_line_count(_BUILDERS[name])
