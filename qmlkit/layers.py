"""Hybrid quantum-classical Keras models on TensorFlow Quantum (review §5, §6).

:class:`QuantumLayer` is a Keras 2 (``tf_keras``) layer that takes plain float features of shape
``(batch, n_features)`` and returns expectation values of shape ``(batch, n_observables)``. It
builds, once, a symbolic circuit: a data encoding whose angles are *feature symbols*
(:mod:`qmlkit.encodings`) followed by a trainable ansatz (:mod:`qmlkit.ansatz`); in ``call`` it
tiles the circuit to the batch, concatenates the features (and, for the ZZ feature map, the pair
angles ``(π - x_i)(π - x_j)``, computed in TensorFlow) with its trainable weights into TFQ's
``symbol_values``, and evaluates the observables with TFQ's expectation op (exact) or its sampled
expectation op (``shots`` measurements), made differentiable by a TFQ differentiator. Gradients reach both the weights and
the features, so classical layers before it train too.

* :func:`hybrid_model` -- classical preprocessing, a ``tanh · π`` map to angles, a
  :class:`QuantumLayer` and a classical head, as one functional ``tf_keras.Model``;
* :func:`classical_mlp` -- the classical baseline, with :func:`count_parameters`,
  :func:`mlp_parameter_count` and :func:`mlp_width_for_budget` to match parameter budgets.

Observables are written as strings, which is also how :meth:`QuantumLayer.get_config` stores
them: ``"Z0"``, ``"Z0*Z1"``, ``"0.5*X0 - Z1"`` (Pauli factors ``X/Y/Z`` followed by the index of
a ``cirq.LineQubit``); the shorthands ``"Z"``, ``"X"``, ``"Y"`` mean one single-qubit observable
per qubit and ``"ZZ"`` the neighbouring products ``Z_i Z_{i+1}``. ``cirq.PauliString`` and
``cirq.PauliSum`` objects on line qubits are accepted too and converted to strings.

Importing this module imports TensorFlow (through :func:`qmlkit._environment.import_tensorflow`,
so ``tf.keras`` is Keras 2) and TensorFlow Quantum; ``import qmlkit`` alone does not.

Example:
    >>> import numpy as np
    >>> layer = QuantumLayer(2, encoding="angle", layers=1, seed=0)
    >>> layer(np.array([[0.1, 0.2], [0.3, 0.4]])).shape
    TensorShape([2, 2])
    >>> layer.feature_symbols, layer.n_parameters
    ([x_0, x_1], 8)
"""

from __future__ import annotations

import itertools
import numbers
import re
from collections.abc import Mapping, Sequence
from typing import Any

import cirq
import numpy as np
import sympy

from qmlkit._environment import import_tensorflow
from qmlkit._validation import (
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_int_sequence,
    check_n_qubits,
)
from qmlkit.ansatz import (
    Ansatz,
    hamiltonian_variational_ansatz,
    hardware_efficient_ansatz,
    initial_parameters,
    qcnn_ansatz,
)
from qmlkit.encodings import (
    EncodingResources,
    angle_encoding,
    angle_encoding_symbols,
    encoding_resources,
    zz_feature_map,
    zz_pair_symbols,
    zz_pair_values,
    zz_pairs,
)

tf = import_tensorflow()
import tensorflow_quantum as tfq  # noqa: E402
import tf_keras  # noqa: E402

__all__ = [
    "ANSATZE",
    "BACKENDS",
    "DIFFERENTIATORS",
    "ENCODINGS",
    "INITIALIZERS",
    "QuantumLayer",
    "classical_mlp",
    "count_parameters",
    "hybrid_model",
    "mlp_parameter_count",
    "mlp_width_for_budget",
    "observable_from_spec",
    "observable_to_spec",
]

#: Data encodings of :class:`QuantumLayer`.
ENCODINGS = ("angle", "zz", "angle_reupload")
#: Trainable circuits of :class:`QuantumLayer`.
ANSATZE = ("hardware_efficient", "hamiltonian_variational", "qcnn")
#: Gradient methods (TensorFlow Quantum differentiators).
DIFFERENTIATORS = ("adjoint", "parameter_shift", "finite_difference")
#: Named weight initialisations (:func:`qmlkit.ansatz.initial_parameters` strategies).
INITIALIZERS = ("uniform", "small", "identity_blocks")
#: Simulators: exact state vectors, or TFQ's noisy (Monte-Carlo trajectory) simulator.
BACKENDS = ("noiseless", "noisy")
_SHORTHANDS = ("X", "Y", "Z", "ZZ")
_INPUT_SCALINGS = ("dense", "tanh", "none")

_FEATURE_PREFIX = "x"
_PAIR_PREFIX = "phi"
_WEIGHT_PREFIX = "theta"
_DEFAULT_LAYERS = 2
_DEFAULT_REUPLOADS = 2
_COEFF_ATOL = 1e-12

# --------------------------------------------------------------------------------------------
# observables as strings
# --------------------------------------------------------------------------------------------

_NUMBER = r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_TERM_RE = re.compile(
    rf"\s*(?P<sign>[+-])?\s*(?:(?P<coef>[+-]?{_NUMBER})\s*\*\s*)?"
    r"(?P<paulis>[XYZ]\d+(?:\s*\*\s*[XYZ]\d+)*)\s*"
)
_FACTOR_RE = re.compile(r"([XYZ])(\d+)")
_PAULI = {"X": cirq.X, "Y": cirq.Y, "Z": cirq.Z}


def observable_from_spec(spec: str, n_qubits: int, *, name: str = "observables"
                         ) -> cirq.PauliSum:
    """Parse one observable string, such as ``"Z0*Z1"`` or ``"0.5*X0 - Z1"``, to a PauliSum.

    A term is an optional real coefficient and ``*``, then Pauli factors ``X``/``Y``/``Z``
    followed by the index of a ``cirq.LineQubit`` below ``n_qubits``, joined by ``*``; terms are
    joined by ``+`` or ``-``. A qubit may appear once per term; identity (constant) terms are
    not supported.

    Raises:
        TypeError: if ``spec`` is not a string.
        ValueError: for a malformed string, a qubit index ``>= n_qubits`` or a repeated qubit.

    Example:
        >>> q = cirq.LineQubit.range(2)
        >>> observable_from_spec("0.5*X0 - Z0*Z1", 2) == 0.5 * cirq.X(q[0]) - cirq.Z(q[0]) * cirq.Z(q[1])
        True
    """
    if not isinstance(spec, str):
        raise TypeError(f"{name} entries must be strings such as 'Z0*Z1', got "
                        f"{type(spec).__name__}")
    n = check_int("n_qubits", n_qubits, minimum=1)
    terms: list[cirq.PauliString] = []
    pos = 0
    text = spec.strip()
    if not text:
        raise ValueError(f"{name}: empty observable string")
    while pos < len(text):
        m = _TERM_RE.match(text, pos)
        if m is None or m.end() == pos or (terms and m.group("sign") is None):
            raise ValueError(f"{name}: cannot parse {spec!r} at position {pos} (expected terms "
                             f"like 'Z0', '0.5*X0*Y1', joined by + or -)")
        coef = float(m.group("coef")) if m.group("coef") else 1.0
        if m.group("sign") == "-":
            coef = -coef
        factors = {}
        for letter, index in _FACTOR_RE.findall(m.group("paulis")):
            k = int(index)
            if k >= n:
                raise ValueError(f"{name}: {spec!r} acts on qubit {k}, but the layer has "
                                 f"{n} qubits (0..{n - 1})")
            if k in factors:
                raise ValueError(f"{name}: {spec!r} repeats qubit {k} within one term")
            factors[k] = _PAULI[letter]
        terms.append(cirq.PauliString({cirq.LineQubit(k): p for k, p in factors.items()},
                                      coefficient=coef))
        pos = m.end()
    return cirq.PauliSum.from_pauli_strings(terms)


def _format_coefficient(c: float) -> str:
    return repr(float(c))


def observable_to_spec(observable: cirq.PauliString | cirq.PauliSum, *,
                       name: str = "observables") -> str:
    """The string form of a Pauli string or sum on line qubits (see :func:`observable_from_spec`).

    Raises:
        TypeError: for anything but a ``cirq.PauliString`` or ``cirq.PauliSum``.
        ValueError: for complex coefficients, identity terms or qubits other than line qubits.

    Example:
        >>> q = cirq.LineQubit.range(2)
        >>> observable_to_spec(cirq.Z(q[0]) * cirq.Z(q[1]) - 0.5 * cirq.X(q[1]))
        'Z0*Z1 - 0.5*X1'
    """
    if isinstance(observable, cirq.PauliString):
        strings = [observable]
    elif isinstance(observable, cirq.PauliSum):
        strings = list(observable)
    else:
        raise TypeError(f"{name} entries must be strings, cirq.PauliString or cirq.PauliSum, "
                        f"got {type(observable).__name__}")
    if not strings:
        raise ValueError(f"{name}: the observable {observable!r} is zero")
    parts = []
    for ps in strings:
        coeff = complex(ps.coefficient)
        if abs(coeff.imag) > _COEFF_ATOL:
            raise ValueError(f"{name} must be Hermitian (real coefficients), got {coeff}")
        items = sorted(ps.items(), key=lambda kv: kv[0])
        if not items:
            raise ValueError(f"{name}: identity (constant) terms are not supported, got {ps}")
        factors = []
        for q, p in items:
            if not isinstance(q, cirq.LineQubit):
                raise ValueError(f"{name} must act on cirq.LineQubit qubits, got {q!r}")
            factors.append(f"{p}{q.x}")
        c = coeff.real
        sign = "-" if c < 0 else "+"
        mag = abs(c)
        body = "*".join(factors) if mag == 1.0 else f"{_format_coefficient(mag)}*" + "*".join(
            factors)
        if not parts:
            parts.append(body if sign == "+" else f"-{body}")
        else:
            parts.append(f" {sign} {body}")
    return "".join(parts)


def _shorthand(spec: str, n: int) -> list[str]:
    if spec == "ZZ":
        if n < 2:
            raise ValueError("observables='ZZ' needs at least 2 qubits")
        return [f"Z{i}*Z{i + 1}" for i in range(n - 1)]
    return [f"{spec}{i}" for i in range(n)]


def _observable_specs(observables: Any, n: int) -> list[str]:
    """Canonical observable strings for the ``observables`` argument."""
    if isinstance(observables, str):
        if observables in _SHORTHANDS:
            return _shorthand(observables, n)
        observables = [observables]
    elif isinstance(observables, (cirq.PauliString, cirq.PauliSum)):
        observables = [observables]
    if not isinstance(observables, (Sequence, np.ndarray)):
        raise TypeError(f"observables must be a string such as 'Z' or a list of observables, "
                        f"got {type(observables).__name__}")
    if len(observables) == 0:
        raise ValueError("observables must not be empty")
    specs = []
    for i, obs in enumerate(observables):
        label = f"observables[{i}]"
        if isinstance(obs, str):
            parsed = observable_from_spec(obs, n, name=label)
        else:
            spec = observable_to_spec(obs, name=label)
            parsed = observable_from_spec(spec, n, name=label)
        specs.append(observable_to_spec(parsed, name=label))
    return specs


# --------------------------------------------------------------------------------------------
# the layer
# --------------------------------------------------------------------------------------------


def _unused(name: str, value: Any, reason: str) -> None:
    if value is not None:
        raise ValueError(f"{name} does not apply {reason}; leave it None (got {value!r})")


def _differentiator(name: str) -> Any:
    if name == "adjoint":
        return tfq.differentiators.Adjoint()
    if name == "parameter_shift":
        return tfq.differentiators.ParameterShift()
    return tfq.differentiators.CentralDifference(error_order=2, grid_spacing=1e-3)


@tf_keras.utils.register_keras_serializable(package="qmlkit")
class QuantumLayer(tf_keras.layers.Layer):
    """A parameterised quantum circuit as a Keras layer: features in, expectation values out.

    The circuit on ``cirq.LineQubit.range(n_qubits)`` is the encoding of the ``n_qubits``
    features (feature ``i`` on qubit ``i``; the features are used as angles, so scale them,
    e.g. to ``(-π, π)``, before this layer) followed by the ansatz:

    * ``encoding="angle"``: :func:`~qmlkit.encodings.angle_encoding` with ``rotation``
      (default ``"X"``), then the ansatz;
    * ``encoding="zz"``: :func:`~qmlkit.encodings.zz_feature_map` with ``zz_reps`` (default 2)
      and ``zz_entanglement`` (default ``"full"``), then the ansatz. TFQ resolves only
      ``number · symbol`` exponents, so each pair angle ``(π - x_i)(π - x_j)`` is a symbol of
      its own, fed with values computed from the features in TensorFlow (in float64, reduced
      modulo π, the period of its gate ``P(2φ)``, before TFQ's float32 simulation);
    * ``encoding="angle_reupload"`` (data re-uploading, Pérez-Salinas et al. 2020):
      ``reuploads`` (default 2) blocks, each the angle encoding followed by its own
      hardware-efficient block with ``layers`` entangling layers.

    The ansatz is :func:`~qmlkit.ansatz.hardware_efficient_ansatz` (``layers``, default 2;
    ``ansatz_rotations`` default ``("Y", "Z")``, ``entangler`` default ``"CZ"``,
    ``connectivity`` default ``"line"``, ``mirrored`` default False),
    :func:`~qmlkit.ansatz.hamiltonian_variational_ansatz` (``layers``, default 2) or
    :func:`~qmlkit.ansatz.qcnn_ansatz`. Options default to None, which means "the default of
    the chosen encoding/ansatz"; setting an option that the chosen encoding or ansatz does not
    use is an error rather than silently ignored.

    Observables default to ``"Z"`` (``<Z_i>`` on every qubit; for the QCNN ``<Z>`` on its
    readout qubit). With ``shots=None`` the expectations are exact (as ``tfq.layers.Expectation``)
    and differentiated with ``differentiator`` (default ``"adjoint"``). With ``shots`` an
    integer each expectation is estimated from that many measurements
    (as ``tfq.layers.SampledExpectation``; default differentiator ``"parameter_shift"``; the
    adjoint method needs exact expectations). ``backend="noisy"`` runs TFQ's noisy
    (trajectory) simulator on the circuit with a depolarising channel of probability ``noise``
    on every qubit after every moment (:meth:`cirq.Circuit.with_noise`); it needs ``shots``.
    TFQ's sampling is seeded by qsim itself, so sampled outputs are not reproducible run to
    run; exact outputs are, bit for bit, under :func:`tf_keras.utils.set_random_seed`.

    The trainable weights (one per ansatz symbol, in the order of :attr:`weight_symbols`) are
    the Keras weight :attr:`quantum_weights`, initialised by ``initializer``: ``"uniform"``
    (``[0, scale)``, scale ``2π``), ``"small"`` (``N(0, scale²)``, scale 0.1) or
    ``"identity_blocks"`` (needs ``mirrored=True``; the circuit's trainable part starts as the
    identity), drawn by :func:`qmlkit.ansatz.initial_parameters` from
    ``numpy.random.default_rng(seed)``. Without ``seed`` the generator's seed is drawn from
    TensorFlow's global random state, so :func:`tf_keras.utils.set_random_seed` fixes it. A
    ``tf_keras`` initializer instance may be given instead (then ``seed`` must be None).

    :meth:`get_config` is JSON-serialisable (observables as strings) and the class is
    registered with Keras (``"qmlkit>QuantumLayer"``), so models holding it save and load with
    ``model.save("model.keras")`` or the SavedModel format, and ``from_config`` followed by
    ``set_weights`` reproduces a layer's outputs.

    Args:
        n_qubits: number of qubits, equal to the number of features.
        encoding: ``"angle"``, ``"zz"`` or ``"angle_reupload"``.
        rotation: rotation axis of the angle encodings.
        zz_reps: repetitions of the ZZ feature map.
        zz_entanglement: pairs of the ZZ feature map (``"full"``, ``"linear"``, ``"circular"``).
        reuploads: encoding blocks of ``"angle_reupload"``.
        ansatz: ``"hardware_efficient"``, ``"hamiltonian_variational"`` or ``"qcnn"``.
        layers: entangling layers of the ansatz (per block for ``"angle_reupload"``).
        ansatz_rotations: rotation axes per qubit and layer of the hardware-efficient ansatz.
        entangler: ``"CZ"`` or ``"CNOT"`` (hardware-efficient ansatz).
        connectivity: ``"line"``, ``"ring"`` or ``"all"`` (hardware-efficient ansatz).
        mirrored: the identity-capable mirrored hardware-efficient ansatz.
        observables: a shorthand (``"Z"``, ``"X"``, ``"Y"``, ``"ZZ"``), one observable string
            or Pauli object, or a list of them (see the module docstring).
        differentiator: ``"adjoint"``, ``"parameter_shift"`` or ``"finite_difference"``
            (central differences, step ``1e-3``).
        shots: None for exact expectations, or measurements per expectation (>= 1).
        backend: ``"noiseless"`` or ``"noisy"``.
        noise: depolarising probability in ``[0, 1]`` (``backend="noisy"`` only).
        initializer: ``"uniform"``, ``"small"``, ``"identity_blocks"`` or a
            ``tf_keras.initializers.Initializer``.
        initializer_scale: the ``scale`` of :func:`~qmlkit.ansatz.initial_parameters`.
        seed: seed of the weight initialisation (>= 0), or None.
        **kwargs: ``tf_keras.layers.Layer`` arguments (``name``, ``trainable``, ...).

    Raises:
        TypeError: for arguments of the wrong type.
        ValueError: for unknown names, out-of-range numbers, options that do not apply to the
            chosen encoding/ansatz, too many qubits to simulate, and (at build or call time)
            features of the wrong width or holding NaN/inf.

    Example:
        >>> layer = QuantumLayer(2, encoding="zz", zz_reps=1, observables=["Z0*Z1"], seed=1)
        >>> layer.pair_symbols, layer.output_dim
        ([phi_0_1], 1)
    """

    def __init__(self, n_qubits: int, *, encoding: str = "angle", rotation: str | None = None,
                 zz_reps: int | None = None, zz_entanglement: str | None = None,
                 reuploads: int | None = None, ansatz: str = "hardware_efficient",
                 layers: int | None = None, ansatz_rotations: Sequence[str] | None = None,
                 entangler: str | None = None, connectivity: str | None = None,
                 mirrored: bool | None = None, observables: Any = None,
                 differentiator: str | None = None, shots: int | None = None,
                 backend: str = "noiseless", noise: float = 0.0, initializer: Any = "uniform",
                 initializer_scale: float | None = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        n = check_n_qubits("n_qubits", n_qubits)
        encoding = check_choice("encoding", encoding, ENCODINGS)
        ansatz = check_choice("ansatz", ansatz, ANSATZE)
        backend = check_choice("backend", backend, BACKENDS)
        noise = check_float("noise", noise, minimum=0.0, maximum=1.0)
        if shots is not None:
            shots = check_int("shots", shots, minimum=1)
        if backend == "noisy" and shots is None:
            raise ValueError("shots must be given (an integer >= 1) with backend='noisy': TFQ's "
                             "noisy simulator estimates expectations from measurements")
        if noise > 0 and backend != "noisy":
            raise ValueError(f"noise={noise} needs backend='noisy'")
        if differentiator is None:
            differentiator = "adjoint" if shots is None else "parameter_shift"
        differentiator = check_choice("differentiator", differentiator, DIFFERENTIATORS)
        if differentiator == "adjoint" and shots is not None:
            raise ValueError("differentiator='adjoint' needs exact expectations (shots=None); "
                             "use 'parameter_shift' with shots")
        if seed is not None:
            seed = check_int("seed", seed, minimum=0)
        if initializer_scale is not None:
            initializer_scale = check_float("initializer_scale", initializer_scale,
                                            minimum=0.0)
            if initializer_scale == 0.0:
                raise ValueError("initializer_scale must be > 0, got 0.0")
        if isinstance(initializer, Mapping):
            initializer = tf_keras.initializers.deserialize(dict(initializer))
        if isinstance(initializer, str):
            initializer = check_choice("initializer", initializer, INITIALIZERS)
        elif isinstance(initializer, tf_keras.initializers.Initializer):
            if seed is not None or initializer_scale is not None:
                raise ValueError("seed and initializer_scale apply to the named initializers "
                                 f"{INITIALIZERS}, not to a Keras initializer")
        else:
            raise TypeError(f"initializer must be one of {INITIALIZERS} or a "
                            f"tf_keras.initializers.Initializer, got {type(initializer).__name__}")

        qubits = cirq.LineQubit.range(n)
        x = angle_encoding_symbols(n, prefix=_FEATURE_PREFIX)
        pair_symbols: list[sympy.Symbol] = []
        pairs: list[tuple[int, int]] = []

        # encoding options
        if encoding in ("angle", "angle_reupload"):
            rotation = check_choice("rotation", "X" if rotation is None else rotation,
                                    ("X", "Y", "Z"))
            _unused("zz_reps", zz_reps, f"to encoding={encoding!r}")
            _unused("zz_entanglement", zz_entanglement, f"to encoding={encoding!r}")
            enc = angle_encoding(x, rotation=rotation, qubits=qubits)
        else:
            _unused("rotation", rotation, "to encoding='zz'")
            zz_reps = check_int("zz_reps", 2 if zz_reps is None else zz_reps, minimum=1)
            ent = check_choice("zz_entanglement",
                               "full" if zz_entanglement is None else zz_entanglement,
                               ("full", "linear", "circular"))
            pairs = zz_pairs(n, entanglement=ent)
            pair_symbols = zz_pair_symbols(n, entanglement=ent, prefix=_PAIR_PREFIX)
            enc = zz_feature_map(x, reps=zz_reps, entanglement=ent, qubits=qubits,
                                 pair_features=pair_symbols)
            zz_entanglement = ent
        if encoding == "angle_reupload":
            reuploads = check_int("reuploads", _DEFAULT_REUPLOADS if reuploads is None
                                  else reuploads, minimum=1)
            if ansatz != "hardware_efficient":
                raise ValueError(f"encoding='angle_reupload' interleaves hardware-efficient "
                                 f"blocks; ansatz must be 'hardware_efficient', got {ansatz!r}")
        else:
            _unused("reuploads", reuploads, f"to encoding={encoding!r}")

        # ansatz options
        if ansatz == "hardware_efficient":
            layers = check_int("layers", _DEFAULT_LAYERS if layers is None else layers,
                               minimum=0)
            hea = {
                "rotations": ("Y", "Z") if ansatz_rotations is None else ansatz_rotations,
                "entangler": "CZ" if entangler is None else entangler,
                "connectivity": "line" if connectivity is None else connectivity,
                "mirrored": False if mirrored is None else check_bool("mirrored", mirrored),
            }
            if isinstance(hea["rotations"], str):
                hea["rotations"] = tuple(hea["rotations"])
            if ansatz_rotations is not None:
                ansatz_rotations = list(hea["rotations"])
        else:
            for opt, value in (("ansatz_rotations", ansatz_rotations),
                               ("entangler", entangler), ("connectivity", connectivity),
                               ("mirrored", mirrored)):
                _unused(opt, value, f"to ansatz={ansatz!r}")
            if ansatz == "qcnn":
                _unused("layers", layers, "to ansatz='qcnn' (its depth follows n_qubits)")
                if n < 2:
                    raise ValueError(f"n_qubits must be >= 2 for ansatz='qcnn', got {n}")
            else:
                layers = check_int("layers", _DEFAULT_LAYERS if layers is None else layers,
                                   minimum=1)

        if encoding == "angle_reupload":
            blocks = [hardware_efficient_ansatz(qubits, layers=layers,
                                                prefix=f"{_WEIGHT_PREFIX}_b{b}", **hea)
                      for b in range(reuploads)]
            circuit = cirq.Circuit()
            trainable = cirq.Circuit()
            symbols: list[sympy.Symbol] = []
            mirror_pairs: list[tuple[int, int]] = []
            for block in blocks:
                circuit += enc
                circuit += block.circuit
                trainable += block.circuit
                off = len(symbols)
                mirror_pairs += [(i + off, j + off) for i, j in block.mirror_pairs]
                symbols += block.symbols
            trained = Ansatz(circuit=trainable, symbols=symbols, qubits=list(qubits),
                             mirror_pairs=tuple(mirror_pairs),
                             name=f"{reuploads} re-upload blocks of {blocks[0].name}")
        else:
            if ansatz == "hardware_efficient":
                trained = hardware_efficient_ansatz(qubits, layers=layers,
                                                    prefix=_WEIGHT_PREFIX, **hea)
            elif ansatz == "hamiltonian_variational":
                trained = hamiltonian_variational_ansatz(qubits, layers=layers)
            else:
                trained = qcnn_ansatz(qubits, prefix=_WEIGHT_PREFIX)
            circuit = enc + trained.circuit
        if initializer == "identity_blocks" and not trained.mirror_pairs:
            raise ValueError("initializer='identity_blocks' needs a mirrored ansatz "
                             "(ansatz='hardware_efficient', mirrored=True, even layers)")

        if observables is None:
            observables = ([f"Z{trained.readout.x}"] if trained.readout is not None else "Z")
        specs = _observable_specs(observables, n)

        self._config = {
            "n_qubits": n, "encoding": encoding, "rotation": rotation, "zz_reps": zz_reps,
            "zz_entanglement": zz_entanglement, "reuploads": reuploads, "ansatz": ansatz,
            "layers": layers, "ansatz_rotations": ansatz_rotations, "entangler": entangler,
            "connectivity": connectivity, "mirrored": mirrored, "observables": specs,
            "differentiator": differentiator, "shots": shots, "backend": backend,
            "noise": noise, "initializer": initializer,
            "initializer_scale": initializer_scale, "seed": seed,
        }
        self._n = n
        self._qubits = qubits
        self._feature_symbols = x
        self._pair_symbols = pair_symbols
        self._pairs = pairs
        self._encoding_circuit = enc
        self._ansatz = trained
        self._circuit = circuit
        self._noisy_circuit = (circuit.with_noise(cirq.depolarize(noise)) if noise > 0
                               else circuit)
        self._observables = [observable_from_spec(s, n) for s in specs]
        self._symbols = [*x, *pair_symbols, *trained.symbols]
        names = [s.name for s in self._symbols]
        if len(set(names)) != len(names):  # pragma: no cover - guarded by the fixed prefixes
            raise RuntimeError(f"symbol names clash: {names}")
        # Plain numpy bytes: baked into every traced graph as constants.
        self._circuit_bytes = tfq.convert_to_tensor([self._noisy_circuit]).numpy()
        self._ops_bytes = tfq.convert_to_tensor([self._observables]).numpy()
        self._symbol_names = np.array(names, dtype=object)
        # TFQ's differentiable ops, not tfq.layers: those layers' call signatures carry a
        # Keras initializer default that SavedModel cannot encode.
        diff = _differentiator(differentiator)
        if shots is None:
            self._expectation_op = diff.generate_differentiable_op(
                analytic_op=tfq.get_expectation_op())
        elif backend == "noisy":
            self._expectation_op = diff.generate_differentiable_op(
                sampled_op=tfq.noise.sampled_expectation)
        else:
            self._expectation_op = diff.generate_differentiable_op(
                sampled_op=tfq.get_sampled_expectation_op())
        self.quantum_weights = None

    # ---- inspection -------------------------------------------------------------------------

    @property
    def n_qubits(self) -> int:
        """Number of qubits."""
        return self._n

    @property
    def n_features(self) -> int:
        """Number of input features (the width of ``features``)."""
        return self._n

    @property
    def n_parameters(self) -> int:
        """Number of trainable circuit parameters."""
        return self._ansatz.n_parameters

    @property
    def output_dim(self) -> int:
        """Number of observables, the width of the output."""
        return len(self._observables)

    @property
    def qubits(self) -> list[cirq.LineQubit]:
        """The qubits, ``cirq.LineQubit.range(n_qubits)``."""
        return list(self._qubits)

    @property
    def circuit(self) -> cirq.Circuit:
        """The symbolic model circuit: encoding and ansatz, without noise channels."""
        return self._circuit.copy()

    @property
    def noisy_circuit(self) -> cirq.Circuit:
        """The circuit TFQ runs (with the depolarising channels when ``noise > 0``)."""
        return self._noisy_circuit.copy()

    @property
    def encoding_circuit(self) -> cirq.Circuit:
        """The symbolic encoding (one block for ``"angle_reupload"``)."""
        return self._encoding_circuit.copy()

    @property
    def ansatz(self) -> Ansatz:
        """The trainable part as an :class:`~qmlkit.ansatz.Ansatz` (for ``"angle_reupload"``
        its blocks, each preceded in :attr:`circuit` by the encoding)."""
        return self._ansatz

    @property
    def feature_symbols(self) -> list[sympy.Symbol]:
        """Symbols of the features, ``x_0 ... x_{n-1}``."""
        return list(self._feature_symbols)

    @property
    def pair_symbols(self) -> list[sympy.Symbol]:
        """Symbols of the ZZ pair angles ``(π - x_i)(π - x_j)`` (empty for angle encodings)."""
        return list(self._pair_symbols)

    @property
    def weight_symbols(self) -> list[sympy.Symbol]:
        """Symbols of the trainable weights, in the order of :attr:`quantum_weights`."""
        return list(self._ansatz.symbols)

    @property
    def symbols(self) -> list[sympy.Symbol]:
        """All symbols in the order of TFQ's ``symbol_values``: features, pairs, weights."""
        return list(self._symbols)

    @property
    def observables(self) -> list[cirq.PauliSum]:
        """The measured observables, in output order."""
        return list(self._observables)

    @property
    def observable_specs(self) -> list[str]:
        """The observables as strings (as stored by :meth:`get_config`)."""
        return list(self._config["observables"])

    @property
    def resources(self) -> EncodingResources:
        """Qubits, depth and gate counts of :attr:`circuit`
        (:func:`qmlkit.encodings.encoding_resources`)."""
        return encoding_resources(self._circuit)

    @property
    def encoding_resources(self) -> EncodingResources:
        """Resources of :attr:`encoding_circuit`."""
        return encoding_resources(self._encoding_circuit)

    def symbol_values(self, features: Any, weights: Any = None) -> np.ndarray:
        """The ``(batch, n_symbols)`` values of :attr:`symbols` for ``features`` (numpy).

        ``weights`` defaults to the layer's current weights (it must be built). ZZ pair
        angles are given as ``(π - x_i)(π - x_j)``; the layer itself feeds them modulo π,
        which resolves to the same circuit.

        Example:
            >>> layer = QuantumLayer(2, layers=0, ansatz_rotations=("Y",), seed=0)
            >>> layer.symbol_values([[0.1, 0.2]], weights=[0.3, 0.4]).round(2)
            array([[0.1, 0.2, 0.3, 0.4]])
        """
        x = self._check_numpy_features(features)
        if weights is None:
            if self.quantum_weights is None:
                raise ValueError("weights: the layer has no weights yet; call it (or build it) "
                                 "first, or pass weights")
            w = self.quantum_weights.numpy().astype(float)
        else:
            w = np.asarray(weights, dtype=float)
            if w.shape != (self.n_parameters,) or not np.all(np.isfinite(w)):
                raise ValueError(f"weights must hold {self.n_parameters} finite values, got "
                                 f"shape {w.shape}")
        pair = (np.stack([zz_pair_values(row, entanglement=self._config["zz_entanglement"])
                          for row in x]) if self._pair_symbols else np.zeros((len(x), 0)))
        return np.concatenate([x, pair, np.tile(w, (len(x), 1))], axis=1)

    def resolved_circuit(self, features: Any, weights: Any = None) -> cirq.Circuit:
        """The model circuit for one sample ``features`` (shape ``(n_features,)``), resolved.

        Example:
            >>> layer = QuantumLayer(1, layers=0, ansatz_rotations=("Y",), seed=0)
            >>> print(layer.resolved_circuit([0.5], weights=[0.25]))
            0: ───Rx(0.159π)───Ry(0.08π)───
        """
        x = np.asarray(features, dtype=float)
        if x.ndim != 1:
            raise ValueError(f"features must be one sample of shape ({self._n},), got "
                             f"shape {x.shape}")
        values = self.symbol_values(x[None, :], weights)[0]
        resolver = cirq.ParamResolver({s: float(v)
                                       for s, v in zip(self._symbols, values, strict=True)})
        return cirq.resolve_parameters(self._circuit, resolver)

    # ---- Keras ------------------------------------------------------------------------------

    def _check_width(self, width: Any) -> None:
        if width is None:
            raise ValueError(f"features must have a known last dimension of {self._n} "
                             f"(n_features), got None")
        if int(width) != self._n:
            raise ValueError(f"features must have {self._n} columns (n_features = n_qubits = "
                             f"{self._n}), got {int(width)}")

    def _check_numpy_features(self, features: Any) -> np.ndarray:
        x = np.asarray(features, dtype=float)
        if x.ndim != 2:
            raise ValueError(f"features must have shape (batch, {self._n}), got shape {x.shape}")
        self._check_width(x.shape[1])
        if not np.all(np.isfinite(x)):
            raise ValueError("features contains NaN or infinite values")
        return x

    def build(self, input_shape: Any) -> None:
        shape = tf.TensorShape(input_shape)
        if shape.rank is not None and shape.rank != 2:
            raise ValueError(f"features must have shape (batch, {self._n}), got input shape "
                             f"{shape}")
        if shape.rank is not None:
            self._check_width(shape[-1])
        self.quantum_weights = self.add_weight(
            name="quantum_weights", shape=(self.n_parameters,), dtype=tf.float32,
            initializer=self._initial_values, trainable=True)
        super().build(input_shape)

    def _initial_values(self, shape: Any, dtype: Any = None, **_: Any) -> Any:
        init = self._config["initializer"]
        if isinstance(init, tf_keras.initializers.Initializer):
            return init(shape, dtype=dtype)
        seed = self._config["seed"]
        if seed is None:
            with tf.init_scope():
                seed = int(tf.random.uniform([], 0, 2**31 - 1, dtype=tf.int64).numpy())
        values = initial_parameters(self._ansatz, strategy=init,
                                    rng=np.random.default_rng(seed),
                                    scale=self._config["initializer_scale"])
        return tf.constant(values.reshape(tuple(shape)), dtype=dtype or tf.float32)

    def call(self, inputs: Any) -> Any:
        x = tf.cast(tf.convert_to_tensor(inputs), tf.float32)
        if x.shape.rank is not None and x.shape.rank != 2:
            raise ValueError(f"features must have shape (batch, {self._n}), got shape "
                             f"{x.shape}")
        if x.shape.rank is not None and x.shape[-1] is not None:
            self._check_width(x.shape[-1])
        if tf.executing_eagerly():
            if not np.all(np.isfinite(x.numpy())):
                raise ValueError("features contains NaN or infinite values")
        else:
            x = tf.debugging.assert_all_finite(x, "features contains NaN or infinite values")
        batch = tf.shape(x)[0]
        parts = [x]
        if self._pairs:
            i = [a for a, _ in self._pairs]
            j = [b for _, b in self._pairs]
            # φ_ij enters only as P(2φ_ij) = ZPowGate(2φ_ij/π), which has period π in φ_ij:
            # reduce it (in float64) so TFQ's float32 simulator sees angles below π, not
            # up to 4π² (the rounding of large angles costs ~1e-5 in the expectations).
            x64 = tf.cast(x, tf.float64)
            phi = (np.pi - tf.gather(x64, i, axis=1)) * (np.pi - tf.gather(x64, j, axis=1))
            parts.append(tf.cast(tf.math.floormod(phi, np.pi), tf.float32))
        parts.append(tf.tile(self.quantum_weights[tf.newaxis, :], tf.stack([batch, 1])))
        values = tf.concat(parts, axis=1)
        circuits = tf.tile(tf.constant(self._circuit_bytes), [batch])
        ops = tf.tile(tf.constant(self._ops_bytes), tf.stack([batch, 1]))
        names = tf.constant(self._symbol_names.astype(str))
        if self._config["shots"] is None:
            return self._expectation_op(circuits, names, values, ops)
        reps = tf.fill(tf.shape(ops), tf.constant(self._config["shots"], dtype=tf.int32))
        return self._expectation_op(circuits, names, values, ops, reps)

    def compute_output_shape(self, input_shape: Any) -> Any:
        shape = tf.TensorShape(input_shape)
        return tf.TensorShape([shape[0], self.output_dim])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        # plain lists (Keras wraps tracked attributes' lists in ListWrapper)
        own = {k: list(v) if isinstance(v, (list, tuple)) else v
               for k, v in self._config.items()}
        n_qubits = own.pop("n_qubits")
        if isinstance(own["initializer"], tf_keras.initializers.Initializer):
            own["initializer"] = tf_keras.initializers.serialize(own["initializer"])
        config.update({"n_qubits": n_qubits, **own})
        return config

    def __repr__(self) -> str:
        c = self._config
        return (f"QuantumLayer(n_qubits={self._n}, encoding={c['encoding']!r}, "
                f"ansatz={c['ansatz']!r}, n_parameters={self.n_parameters}, "
                f"observables={c['observables']!r}, shots={c['shots']!r})")


# --------------------------------------------------------------------------------------------
# models
# --------------------------------------------------------------------------------------------


def _check_units(name: str, units: Any) -> list[int]:
    if isinstance(units, numbers.Integral) and not isinstance(units, bool):
        units = [units]
    return check_int_sequence(name, units, minimum=1, nonempty=False)


def _check_activation(name: str, value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{name} must be the name of a Keras activation or None, got "
                        f"{type(value).__name__}")
    try:
        tf_keras.activations.get(value)
    except ValueError:
        raise ValueError(f"{name} must be a Keras activation name, got {value!r}") from None
    return value


def _check_name(name: Any) -> str | None:
    if name is not None and not isinstance(name, str):
        raise TypeError(f"name must be a string or None, got {type(name).__name__}")
    return name


def hybrid_model(n_features: int, *, n_qubits: int, preprocessing_units: Sequence[int] = (),
                 head_units: Sequence[int] = (), n_outputs: int | None = 1,
                 activation: str = "relu", output_activation: str | None = None,
                 input_scaling: str = "dense", quantum_kwargs: Mapping[str, Any] | None = None,
                 name: str | None = "hybrid") -> Any:
    """A functional hybrid model: Dense layers, angles, a :class:`QuantumLayer`, a head.

    ``Input(n_features)`` → ``Dense(u, activation)`` for each ``u`` in ``preprocessing_units``
    → angles → ``QuantumLayer(n_qubits, **quantum_kwargs)`` → ``Dense(u, activation)`` for
    each ``u`` in ``head_units`` → ``Dense(n_outputs, output_activation)``. The angles are
    ``π · tanh(Dense(n_qubits)(h))`` with ``input_scaling="dense"``, ``π · tanh(h)`` with
    ``"tanh"`` and ``h`` itself with ``"none"`` (both need ``h`` to have ``n_qubits``
    columns). With ``n_outputs=None`` there is no final Dense layer: the output is the head
    (or the expectation values), passed through ``output_activation`` if given.

    Raises:
        TypeError: for arguments of the wrong type.
        ValueError: for non-positive sizes, unknown activations or scalings, widths that do
            not match ``n_qubits``, or bad ``quantum_kwargs`` (checked by QuantumLayer).

    Example:
        >>> m = hybrid_model(4, n_qubits=2, quantum_kwargs={"layers": 1, "seed": 0})
        >>> m.output_shape, count_parameters(m)
        ((None, 1), 21)
    """
    n_features = check_int("n_features", n_features, minimum=1)
    n_qubits = check_n_qubits("n_qubits", n_qubits)
    pre = _check_units("preprocessing_units", preprocessing_units)
    head = _check_units("head_units", head_units)
    if n_outputs is not None:
        n_outputs = check_int("n_outputs", n_outputs, minimum=1)
    activation = _check_activation("activation", activation)
    output_activation = _check_activation("output_activation", output_activation)
    input_scaling = check_choice("input_scaling", input_scaling, _INPUT_SCALINGS)
    name = _check_name(name)
    if quantum_kwargs is None:
        quantum_kwargs = {}
    if not isinstance(quantum_kwargs, Mapping):
        raise TypeError(f"quantum_kwargs must be a dict of QuantumLayer options, got "
                        f"{type(quantum_kwargs).__name__}")
    if "n_qubits" in quantum_kwargs:
        raise ValueError("quantum_kwargs must not contain n_qubits (pass it to hybrid_model)")
    width = pre[-1] if pre else n_features
    if input_scaling != "dense" and width != n_qubits:
        raise ValueError(f"input_scaling={input_scaling!r} feeds {width} columns (the last of "
                         f"preprocessing_units, or n_features) straight to {n_qubits} qubits; "
                         f"they must match, or use input_scaling='dense'")
    quantum = QuantumLayer(n_qubits, **{"name": "quantum", **dict(quantum_kwargs)})

    inputs = tf_keras.Input(shape=(n_features,), name="features")
    h = inputs
    for k, units in enumerate(pre):
        h = tf_keras.layers.Dense(units, activation=activation, name=f"pre_{k}")(h)
    if input_scaling == "dense":
        h = tf_keras.layers.Dense(n_qubits, activation="tanh", name="to_angles")(h)
    elif input_scaling == "tanh":
        h = tf_keras.layers.Activation("tanh", name="to_angles")(h)
    if input_scaling != "none":
        h = tf_keras.layers.Rescaling(np.pi, name="angle_scale")(h)
    h = quantum(h)
    for k, units in enumerate(head):
        h = tf_keras.layers.Dense(units, activation=activation, name=f"head_{k}")(h)
    if n_outputs is not None:
        h = tf_keras.layers.Dense(n_outputs, activation=output_activation, name="output")(h)
    elif output_activation is not None:
        h = tf_keras.layers.Activation(output_activation, name="output")(h)
    return tf_keras.Model(inputs, h, name=name)


def classical_mlp(n_features: int, hidden_units: Sequence[int] = (8,), *,
                  n_outputs: int = 1, activation: str = "relu",
                  output_activation: str | None = None, name: str | None = "mlp") -> Any:
    """A classical baseline: ``Dense(u, activation)`` per hidden width, then ``Dense(n_outputs)``.

    Its parameter count is :func:`mlp_parameter_count` (``count_parameters(model)``); use
    :func:`mlp_width_for_budget` to size it like a hybrid model.

    Example:
        >>> m = classical_mlp(4, (3,))
        >>> count_parameters(m) == mlp_parameter_count(4, (3,)) == 19
        True
    """
    n_features = check_int("n_features", n_features, minimum=1)
    hidden = _check_units("hidden_units", hidden_units)
    n_outputs = check_int("n_outputs", n_outputs, minimum=1)
    activation = _check_activation("activation", activation)
    output_activation = _check_activation("output_activation", output_activation)
    name = _check_name(name)
    model = tf_keras.Sequential(name=name)
    model.add(tf_keras.Input(shape=(n_features,), name="features"))
    for k, units in enumerate(hidden):
        model.add(tf_keras.layers.Dense(units, activation=activation, name=f"hidden_{k}"))
    model.add(tf_keras.layers.Dense(n_outputs, activation=output_activation, name="output"))
    return model


def count_parameters(model: Any, *, trainable_only: bool = True) -> int:
    """Number of (trainable) scalar parameters of a built Keras model or layer.

    Raises:
        TypeError: if ``model`` is not a ``tf_keras`` layer or model.
        ValueError: if it has not been built yet (its weights do not exist).

    Example:
        >>> count_parameters(classical_mlp(2, (4,)))
        17
    """
    if not isinstance(model, tf_keras.layers.Layer):
        raise TypeError(f"model must be a tf_keras Model or Layer, got {type(model).__name__}")
    trainable_only = check_bool("trainable_only", trainable_only)
    if not model.built:
        raise ValueError("model has not been built; call it on data or give it an Input first")
    weights = model.trainable_weights if trainable_only else model.weights
    return int(sum(int(np.prod(w.shape)) for w in weights))


def mlp_parameter_count(n_features: int, hidden_units: Sequence[int], *,
                        n_outputs: int = 1) -> int:
    """Parameters (weights and biases) of :func:`classical_mlp` without building it.

    Example:
        >>> mlp_parameter_count(4, (8, 8), n_outputs=2)
        130
    """
    n_features = check_int("n_features", n_features, minimum=1)
    hidden = _check_units("hidden_units", hidden_units)
    n_outputs = check_int("n_outputs", n_outputs, minimum=1)
    widths = [n_features, *hidden, n_outputs]
    return int(sum((a + 1) * b for a, b in itertools.pairwise(widths)))


def mlp_width_for_budget(n_features: int, budget: int, *, depth: int = 1,
                         n_outputs: int = 1) -> int:
    """The hidden width ``w >= 1`` whose ``depth``-layer MLP has the count closest to ``budget``.

    Ties go to the smaller width. Use it to give a classical baseline the parameter budget of a
    hybrid model: ``mlp_width_for_budget(n, count_parameters(hybrid))``.

    Example:
        >>> w = mlp_width_for_budget(4, 40)
        >>> w, mlp_parameter_count(4, (w,))
        (6, 37)
    """
    n_features = check_int("n_features", n_features, minimum=1)
    budget = check_int("budget", budget, minimum=1)
    depth = check_int("depth", depth, minimum=1)
    n_outputs = check_int("n_outputs", n_outputs, minimum=1)
    best, best_gap = 1, None
    w = 1
    while True:
        count = mlp_parameter_count(n_features, [w] * depth, n_outputs=n_outputs)
        gap = abs(count - budget)
        if best_gap is None or gap < best_gap:
            best, best_gap = w, gap
        if count >= budget:
            return best
        w += 1
