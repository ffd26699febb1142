"""Noise models and noisy executors: what a NISQ device does to an expectation value (review §6.2).

Hardware gates are imperfect and read-out is unreliable, so the expectation value ``<O>`` a device
returns is biased towards the value of the maximally mixed state, and it is only *estimated* from
a finite number of shots. This module provides both ingredients on Cirq:

* **noise models** (:class:`cirq.NoiseModel` subclasses) -- :class:`DepolarizingNoise` (separate
  one- and two-qubit strengths), :class:`AmplitudeDampingNoise`, :class:`PhaseDampingNoise`,
  :class:`ReadoutNoise` (an asymmetric bit flip just before each measurement), their
  composition (:func:`compose_noise`), and :func:`rainbow_noise_model`, built from the real,
  median calibration of Google's *Rainbow* processor shipped with ``cirq-google`` (gate Pauli
  errors, T1/Tphi idling, coherent fSim angle errors, read-out errors). :func:`map_to_device`
  places, routes and compiles a circuit onto that processor's qubits and native gates
  (``PhasedXZ`` + ``√iSWAP``) so the calibrated model applies;
* **executors**, callables ``circuit -> float`` for a fixed observable that count the
  executions and shots they spend: :class:`DensityMatrixExecutor` (the exact noisy value),
  :class:`SamplingExecutor` (``shots`` measurements drawn from the exact noisy distribution with an
  explicit :class:`numpy.random.Generator`, reproducible bit for bit) and
  :class:`TFQNoisyExecutor` (TensorFlow Quantum's noisy Monte-Carlo-trajectory backend; not
  seed-reproducible).

Read-out noise is handled the way a device has it: every executor appends a measurement of all
qubits, lets the noise model act on the whole circuit (so a model that puts channels *before* a
measurement -- read-out error -- is honoured) and then removes that measurement and everything
after it (idling during read-out cannot change the result). On the computational-basis
distribution a read-out channel is exactly a classical confusion matrix
(:func:`readout_confusion_matrices`).

This module deliberately does not use ``from __future__ import annotations``: Mitiq reads an
executor's return annotation at run time, and for a callable *instance* it sees a string
``'float'`` and fails (see :mod:`qmlkit.mitigation`). The executors here carry real
annotations.

Example:
    >>> q0, q1 = cirq.LineQubit.range(2)
    >>> bell = cirq.Circuit(cirq.H(q0), cirq.CNOT(q0, q1))
    >>> ideal = DensityMatrixExecutor(cirq.Z(q0) * cirq.Z(q1))
    >>> noisy = DensityMatrixExecutor(cirq.Z(q0) * cirq.Z(q1), DepolarizingNoise(p1=0.0, p2=0.03))
    >>> round(ideal(bell), 6), round(noisy(bell), 6)     # (1 - 4p/3)**2 for two local channels
    (1.0, 0.9216)
    >>> noisy.executions, noisy.shots
    (1, 0)
"""

import abc
import functools
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import cirq
import numpy as np

from qmlkit._validation import check_bool, check_choice, check_float, check_int, check_rng
from qmlkit.measurement import pauli_eigenvalues

if TYPE_CHECKING:  # pragma: no cover
    from mitiq import MeasurementResult

__all__ = [
    "DEVICES",
    "AmplitudeDampingNoise",
    "DensityMatrixExecutor",
    "DepolarizingNoise",
    "DeviceMapping",
    "PhaseDampingNoise",
    "ReadoutNoise",
    "SamplingExecutor",
    "TFQNoisyExecutor",
    "calibrated_noise_level",
    "calibration_summary",
    "compose_noise",
    "device_noise_model",
    "map_to_device",
    "noisy_circuit",
    "noisy_probabilities",
    "rainbow_noise_model",
    "readout_confusion_matrices",
]

#: Google processors whose median calibration ships with cirq-google.
DEVICES = ("rainbow", "weber")

#: Measurement key of the probe measurement the executors append (and remove again).
_PROBE_KEY = "qmlkit_probe"

#: Largest register the exact density-matrix path accepts (a 4**n complex matrix).
_MAX_DENSITY_MATRIX_QUBITS = 12

#: Duration given to ``cirq.I`` on calibrated devices, so that identity insertion idles the qubits
#: for one single-qubit gate time (cirq-google's default gate times leave it at zero).
_IDENTITY_NS = 25.0


# --------------------------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------------------------

def _check_probability(name: str, value: Any) -> float:
    return check_float(name, value, minimum=0.0, maximum=1.0)


def _check_circuit(name: str, circuit: Any, *, allow_measurements: bool = False) -> cirq.Circuit:
    if not isinstance(circuit, cirq.AbstractCircuit):
        raise TypeError(f"{name} must be a cirq.Circuit, got {type(circuit).__name__}")
    if cirq.is_parameterized(circuit):
        raise ValueError(f"{name} has unresolved symbols; resolve them with "
                         "cirq.resolve_parameters")
    if not allow_measurements and circuit.has_measurements():
        raise ValueError(f"{name} must not contain measurements: the executor measures the "
                         "observable itself")
    return circuit.unfreeze(copy=False) if isinstance(circuit, cirq.FrozenCircuit) else circuit


def _check_noise_model(name: str, value: Any) -> cirq.NoiseModel | None:
    if value is None or isinstance(value, cirq.NoiseModel):
        return value
    raise TypeError(f"{name} must be a cirq.NoiseModel or None, got {type(value).__name__}")


# --------------------------------------------------------------------------------------------
# Noise models
# --------------------------------------------------------------------------------------------

def _is_noisy_gate(op: cirq.Operation) -> bool:
    """Whether a gate-noise model acts after ``op``: unitary, physical, not a measurement."""
    if not op.qubits or cirq.is_measurement(op) or isinstance(op.gate, cirq.GlobalPhaseGate):
        return False
    if any(isinstance(tag, cirq.VirtualTag) for tag in op.tags):
        return False
    return cirq.has_unitary(op)  # channels inserted by another model get no extra noise


class _GateNoise(cirq.NoiseModel):
    """Base class: a channel on every qubit of every gate, in a moment right after it."""

    @abc.abstractmethod
    def _channels(self, op: cirq.Operation) -> list[cirq.Operation]:
        """The noise channels to apply right after ``op``."""

    def noisy_moment(self, moment: cirq.Moment, system_qubits: Sequence[cirq.Qid]
                     ) -> cirq.OP_TREE:
        noise = [ch for op in moment if _is_noisy_gate(op) for ch in self._channels(op)]
        return [moment, cirq.Moment(noise)] if noise else [moment]


class DepolarizingNoise(_GateNoise):
    """Local depolarizing noise: ``cirq.depolarize(p1)`` after each one-qubit gate and
    ``cirq.depolarize(p2)`` on *each* qubit of a gate on two or more qubits.

    ``cirq.depolarize(p)`` is ``ρ -> (1 - p) ρ + p/3 (XρX + YρY + ZρZ)``, Mitiq's ``noise_level``
    convention, so this model is exactly the one Mitiq's
    ``represent_operation_with_local_depolarizing_noise`` inverts (PEC is unbiased under it).
    Identity gates count as one-qubit gates (idling), so identity insertion scales the noise.

    Args:
        p1: depolarizing probability after one-qubit gates, in ``[0, 1]``.
        p2: depolarizing probability per qubit after multi-qubit gates, in ``[0, 1]``.

    Example:
        >>> q = cirq.LineQubit(0)
        >>> print(cirq.Circuit(cirq.X(q)).with_noise(DepolarizingNoise(p1=0.01, p2=0.02)))
        0: ───X───D(0.01)───
    """

    def __init__(self, p1: float = 1e-3, p2: float = 1e-2) -> None:
        self.p1 = _check_probability("p1", p1)
        self.p2 = _check_probability("p2", p2)

    def _channels(self, op: cirq.Operation) -> list[cirq.Operation]:
        p = self.p1 if len(op.qubits) == 1 else self.p2
        return [cirq.depolarize(p).on(q) for q in op.qubits] if p > 0 else []

    def noise_level(self, op: cirq.Operation) -> float:
        """The depolarizing probability this model applies after ``op`` (per qubit)."""
        return self.p1 if len(op.qubits) == 1 else self.p2

    def __repr__(self) -> str:
        return f"qmlkit.noise.DepolarizingNoise(p1={self.p1!r}, p2={self.p2!r})"


class AmplitudeDampingNoise(_GateNoise):
    """``cirq.amplitude_damp(gamma)`` (energy relaxation, ``|1> -> |0>``) after every gate, on
    each of its qubits.

    Example:
        >>> q = cirq.LineQubit(0)
        >>> ex = DensityMatrixExecutor(cirq.Z(q), AmplitudeDampingNoise(gamma=0.1))
        >>> round(ex(cirq.Circuit(cirq.X(q))), 6)    # P(1) = 0.9
        -0.8
    """

    def __init__(self, gamma: float) -> None:
        self.gamma = _check_probability("gamma", gamma)

    def _channels(self, op: cirq.Operation) -> list[cirq.Operation]:
        return [cirq.amplitude_damp(self.gamma).on(q) for q in op.qubits] if self.gamma else []

    def __repr__(self) -> str:
        return f"qmlkit.noise.AmplitudeDampingNoise(gamma={self.gamma!r})"


class PhaseDampingNoise(_GateNoise):
    """``cirq.phase_damp(gamma)`` (dephasing: coherences shrink by ``sqrt(1 - gamma)``) after every
    gate, on each of its qubits.

    Example:
        >>> q = cirq.LineQubit(0)
        >>> ex = DensityMatrixExecutor(cirq.X(q), PhaseDampingNoise(gamma=0.36))
        >>> round(ex(cirq.Circuit(cirq.H(q))), 6)    # <X> = sqrt(1 - 0.36)
        0.8
    """

    def __init__(self, gamma: float) -> None:
        self.gamma = _check_probability("gamma", gamma)

    def _channels(self, op: cirq.Operation) -> list[cirq.Operation]:
        return [cirq.phase_damp(self.gamma).on(q) for q in op.qubits] if self.gamma else []

    def __repr__(self) -> str:
        return f"qmlkit.noise.PhaseDampingNoise(gamma={self.gamma!r})"


class ReadoutNoise(cirq.NoiseModel):
    """Read-out error: each measured qubit reads 1 instead of 0 with probability ``p0`` and 0
    instead of 1 with probability ``p1``.

    It is a channel inserted just *before* each measurement, a generalized amplitude damping
    ``GAD(p=p1/(p0+p1), γ=p0+p1)`` (the way cirq-google models calibrated read-out error); on the
    measured distribution it is exactly the classical confusion matrix
    ``[[1 - p0, p1], [p0, 1 - p1]]`` (columns: prepared state, rows: read-out).

    Args:
        p0: ``P(read 1 | prepared 0)``, in ``[0, 1]``.
        p1: ``P(read 0 | prepared 1)``, in ``[0, 1]``; ``p0`` if omitted (a symmetric bit flip).
            ``p0 + p1 <= 1`` is required.

    Example:
        >>> ReadoutNoise(0.02, 0.05).confusion_matrix()
        array([[0.98, 0.05],
               [0.02, 0.95]])
    """

    def __init__(self, p0: float, p1: float | None = None) -> None:
        self.p0 = _check_probability("p0", p0)
        self.p1 = self.p0 if p1 is None else _check_probability("p1", p1)
        if self.p0 + self.p1 > 1.0:
            raise ValueError(f"p0 + p1 must be <= 1, got p0={self.p0}, p1={self.p1}")

    def confusion_matrix(self) -> np.ndarray:
        """The single-qubit confusion matrix ``C[read, prepared]``."""
        return np.array([[1.0 - self.p0, self.p1], [self.p0, 1.0 - self.p1]])

    def _channel(self) -> cirq.Gate | None:
        gamma = self.p0 + self.p1
        if gamma == 0.0:
            return None
        return cirq.generalized_amplitude_damp(p=self.p1 / gamma, gamma=gamma)

    def noisy_moment(self, moment: cirq.Moment, system_qubits: Sequence[cirq.Qid]
                     ) -> cirq.OP_TREE:
        channel = self._channel()
        measured = [q for op in moment if cirq.is_measurement(op) for q in op.qubits]
        if channel is None or not measured:
            return [moment]
        return [cirq.Moment(channel.on(q) for q in measured), moment]

    def __repr__(self) -> str:
        return f"qmlkit.noise.ReadoutNoise(p0={self.p0!r}, p1={self.p1!r})"


class _NoiseChain(cirq.NoiseModel):
    """Several noise models applied one after the other."""

    def __init__(self, models: Sequence[cirq.NoiseModel]) -> None:
        self.models = tuple(models)

    def noisy_moments(self, moments: Sequence[cirq.Moment], system_qubits: Sequence[cirq.Qid]
                      ) -> Sequence[cirq.OP_TREE]:
        circuit = cirq.Circuit(moments)
        for model in self.models:
            out = cirq.Circuit()
            for tree in model.noisy_moments(circuit, system_qubits):
                out += cirq.Circuit(tree)
            circuit = out
        return list(circuit)

    def __repr__(self) -> str:
        return f"qmlkit.noise.compose_noise{self.models!r}"


def compose_noise(*models: cirq.NoiseModel) -> cirq.NoiseModel:
    """A noise model that applies ``models`` in turn (gate noise, then read-out, say).

    Channels one model inserts are not given further gate noise by the next one.

    Example:
        >>> q = cirq.LineQubit(0)
        >>> model = compose_noise(DepolarizingNoise(p1=0.01), ReadoutNoise(0.1))
        >>> print(cirq.Circuit(cirq.X(q), cirq.measure(q, key="m")).with_noise(model))
        0: ───X───D(0.01)───GAD(0.5,0.2)───M('m')───
    """
    if not models:
        raise ValueError("models must not be empty")
    for i, m in enumerate(models):
        if not isinstance(m, cirq.NoiseModel):
            raise TypeError(f"models[{i}] must be a cirq.NoiseModel, got {type(m).__name__}")
    return models[0] if len(models) == 1 else _NoiseChain(models)


# --------------------------------------------------------------------------------------------
# Calibrated device: Google's Rainbow (and Weber)
# --------------------------------------------------------------------------------------------

def _cirq_google() -> Any:
    """``cirq_google``, imported without google-api-core's Python-support notice."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="You are using a Python version",
                                category=FutureWarning)
        import cirq_google

    return cirq_google


@functools.cache
def _noise_properties(processor_id: str) -> Any:
    cg = _cirq_google()
    from cirq_google.engine.calibration_to_noise_properties import DEFAULT_GATE_NS

    cal = cg.engine.load_median_device_calibration(processor_id)
    gate_times = {**DEFAULT_GATE_NS, cirq.IdentityGate: _IDENTITY_NS}
    return cg.engine.noise_properties_from_calibration(cal, gate_times_ns=gate_times)


@functools.cache
def _device(processor_id: str) -> Any:
    cg = _cirq_google()

    return cg.engine.create_device_from_processor_id(processor_id)


def _restricted(props: Any, qubits: frozenset[cirq.Qid]) -> Any:
    """``props`` with the data of ``qubits`` only (a much faster noise model on few qubits)."""
    import dataclasses

    unknown = qubits - set(props.qubits)
    if unknown:
        raise ValueError(f"qubits not on the device: {sorted(unknown)}")

    def keep(op_id: Any) -> bool:
        return set(op_id.qubits) <= qubits

    return dataclasses.replace(
        props,
        t1_ns={q: v for q, v in props.t1_ns.items() if q in qubits},
        tphi_ns={q: v for q, v in props.tphi_ns.items() if q in qubits},
        readout_errors={q: v for q, v in props.readout_errors.items() if q in qubits},
        gate_pauli_errors={k: v for k, v in props.gate_pauli_errors.items() if keep(k)},
        fsim_errors={k: v for k, v in props.fsim_errors.items() if keep(k)},
    )


def device_noise_model(processor_id: str = "rainbow", *,
                       qubits: Sequence[cirq.Qid] | None = None) -> cirq.NoiseModel:
    """The noise model of a Google processor from its real median calibration (offline).

    ``cirq_google.NoiseModelFromGoogleNoiseProperties`` over
    ``noise_properties_from_calibration(load_median_device_calibration(processor_id))``: per-qubit
    and per-pair depolarizing (the calibrated Pauli error less its T1/Tphi part), T1/Tphi
    thermal relaxation during every moment (moment duration = its slowest gate), coherent
    fSim angle errors on two-qubit gates and per-qubit read-out error before measurements. It
    applies only to circuits on the processor's ``GridQubit`` s in its native gates (see
    :func:`map_to_device`); ``cirq.I`` is given one single-qubit gate time (25 ns) of idling.

    Args:
        processor_id: one of :data:`DEVICES`.
        qubits: keep only these qubits' calibration data (the model is then much faster to
            apply; operations on other qubits get no noise). All qubits if None.

    Example:
        >>> model = device_noise_model("rainbow")
        >>> type(model).__name__
        'NoiseModelFromGoogleNoiseProperties'
    """
    cg = _cirq_google()

    processor_id = check_choice("processor_id", processor_id, DEVICES)
    props = _noise_properties(processor_id)
    if qubits is not None:
        props = _restricted(props, frozenset(qubits))
    return cg.NoiseModelFromGoogleNoiseProperties(props)


def rainbow_noise_model(*, qubits: Sequence[cirq.Qid] | None = None) -> cirq.NoiseModel:
    """:func:`device_noise_model` of Google's 23-qubit Rainbow processor.

    Example:
        >>> isinstance(rainbow_noise_model(), cirq.NoiseModel)
        True
    """
    return device_noise_model("rainbow", qubits=qubits)


def calibration_summary(processor_id: str = "rainbow") -> dict[str, float]:
    """Medians of a processor's calibration: what "realistic noise" means in numbers.

    Returns:
        ``qubits``, ``single_qubit_pauli_error``, ``sqrt_iswap_pauli_error`` (per two-qubit
        gate), ``readout_p0`` (``P(1|0)``), ``readout_p1`` (``P(0|1)``), ``t1_us``.

    Example:
        >>> s = calibration_summary("rainbow")
        >>> s["qubits"], round(s["sqrt_iswap_pauli_error"], 4)
        (23, 0.0137)
    """
    processor_id = check_choice("processor_id", processor_id, DEVICES)
    props = _noise_properties(processor_id)
    one = [v for k, v in props.gate_pauli_errors.items()
           if k.gate_type is cirq.PhasedXZGate]
    two = [v for k, v in props.gate_pauli_errors.items()
           if k.gate_type is cirq.ISwapPowGate]
    readout = np.array(list(props.readout_errors.values()), dtype=float)
    return {
        "qubits": len(props.qubits),
        "single_qubit_pauli_error": float(np.median(one)),
        "sqrt_iswap_pauli_error": float(np.median(two)),
        "readout_p0": float(np.median(readout[:, 0])),
        "readout_p1": float(np.median(readout[:, 1])),
        "t1_us": float(np.median(list(props.t1_ns.values())) / 1000.0),
    }


def calibrated_noise_level(processor_id: str = "rainbow") -> Callable[[cirq.Operation], float]:
    """Per-gate local depolarizing probability matching a processor's calibrated Pauli errors.

    For PEC representations (:func:`qmlkit.mitigation.pec_representations`): a ``PhasedXZ`` on
    qubit ``q`` gets its single-qubit Pauli error ``e``; a two-qubit gate on ``(a, b)`` with
    Pauli error ``e`` gets ``1 - sqrt(1 - e)`` per qubit (two local channels of that strength
    have Pauli error ``e``); virtual Z gates and uncalibrated operations get 0. It ignores the
    structure of the real noise (T1 relaxation is not Pauli, fSim errors are coherent, read-out
    error is not a gate error), so PEC with it is only approximately unbiased.

    Example:
        >>> level = calibrated_noise_level("rainbow")
        >>> a, b = cirq.GridQubit(5, 3), cirq.GridQubit(5, 4)
        >>> 0 < level(cirq.PhasedXZGate(x_exponent=0.5, z_exponent=0, axis_phase_exponent=0)(a))
        True
        >>> round(level((cirq.ISWAP ** 0.5)(a, b)), 4) > 0, level(cirq.Z(a))
        (True, 0.0)
    """
    from cirq.devices.noise_utils import OpIdentifier

    processor_id = check_choice("processor_id", processor_id, DEVICES)
    errors = _noise_properties(processor_id).gate_pauli_errors

    def level(op: cirq.Operation) -> float:
        gate = op.gate
        if gate is None or isinstance(gate, cirq.ZPowGate) or not op.qubits:
            return 0.0
        # any physical one-qubit gate runs as a PhasedXZ on the device
        gate_type = cirq.PhasedXZGate if len(op.qubits) == 1 else type(gate)
        e = errors.get(OpIdentifier(gate_type, *op.qubits))
        if e is None:
            return 0.0
        e = float(min(max(e, 0.0), 0.5))
        return e if len(op.qubits) == 1 else 1.0 - float(np.sqrt(1.0 - e))

    return level


@dataclass(frozen=True)
class DeviceMapping:
    """A circuit placed, routed and compiled onto a device.

    Attributes:
        circuit: the compiled circuit on the device's qubits, in its native gates.
        initial_mapping: logical qubit -> physical qubit at the start.
        final_mapping: logical qubit -> physical qubit at the end (after routing swaps); use it
            for observables measured at the end (:meth:`map_observable`).
        swaps: number of SWAPs routing inserted (0 when the circuit's interaction graph embeds).
    """

    circuit: cirq.Circuit
    initial_mapping: dict[cirq.Qid, cirq.Qid]
    final_mapping: dict[cirq.Qid, cirq.Qid]
    swaps: int = 0

    def map_observable(self, observable: cirq.PauliString | cirq.PauliSum
                       ) -> cirq.PauliString | cirq.PauliSum:
        """``observable`` on the physical qubits that hold its logical qubits at the end."""
        missing = set(observable.qubits) - set(self.final_mapping)
        if missing:
            raise ValueError(f"observable acts on qubits the circuit does not use: {missing}")
        return observable.with_qubits(*[self.final_mapping[q] for q in observable.qubits])


def _interaction_graph(circuit: cirq.AbstractCircuit) -> Any:
    import networkx as nx

    g = nx.Graph()
    g.add_nodes_from(sorted(circuit.all_qubits()))
    for op in circuit.all_operations():
        if len(op.qubits) == 2:
            g.add_edge(*op.qubits)
        elif len(op.qubits) > 2:
            raise ValueError("circuit must contain only one- and two-qubit gates to be mapped; "
                             "decompose it first (cirq.decompose)")
    return g


def _embedding(circuit_graph: Any, device_graph: Any) -> dict[cirq.Qid, cirq.Qid] | None:
    """A placement of the circuit's qubits on device qubits with every interaction an edge."""
    from networkx.algorithms import isomorphism

    matcher = isomorphism.GraphMatcher(device_graph, circuit_graph)
    for device_to_circuit in matcher.subgraph_monomorphisms_iter():
        return {c: d for d, c in device_to_circuit.items()}
    return None


def _translate(circuit: cirq.Circuit, gateset: cirq.CompilationTargetGateset) -> cirq.Circuit:
    """Gate-by-gate translation to ``gateset``: every two-qubit gate is kept (no block merging)."""
    def decompose(op: cirq.Operation, moment: int) -> cirq.OP_TREE:
        if op in gateset:
            return op
        out = gateset.decompose_to_target_gateset(op, moment)
        if out is None or out is NotImplemented:
            raise ValueError(f"cannot translate {op} to the device's gates")
        return out

    with warnings.catch_warnings():  # cirq 1.5's own merging trips its 1.6 deprecation notice
        warnings.filterwarnings("ignore", message=".*use_repetition_ids", category=FutureWarning)
        translated = cirq.map_operations_and_unroll(circuit, decompose)
        merged = cirq.merge_single_qubit_gates_to_phxz(translated)
    return cirq.drop_empty_moments(cirq.drop_negligible_operations(merged))


def map_to_device(circuit: cirq.AbstractCircuit, device: str = "rainbow", *,
                  gateset: str = "sqrt_iswap", optimize: bool = False) -> DeviceMapping:
    """Place, route and compile ``circuit`` for a Google processor so its calibrated noise applies.

    Placement embeds the circuit's interaction graph in the device's coupling graph when it can
    (no SWAPs; e.g. a line of qubits); otherwise ``cirq.RouteCQC`` chooses the placement and
    inserts SWAPs. The routed circuit is then compiled to ``PhasedXZ`` + ``√iSWAP``
    (``gateset="sqrt_iswap"``, the gate Rainbow's calibration characterises) and validated
    against the device.

    By default the compilation is gate by gate (each two-qubit gate becomes its own √iSWAP
    sequence, runs of one-qubit gates merge into one ``PhasedXZ``), so a benchmark circuit keeps
    its depth: a mirror circuit, which is the identity up to Paulis, would otherwise be
    optimised away. ``optimize=True`` runs ``cirq.optimize_for_target_gateset`` instead.

    Args:
        circuit: a circuit of one- and two-qubit gates without measurements.
        device: a processor id, one of :data:`DEVICES`.
        gateset: ``"sqrt_iswap"`` or ``"cz"`` (``cirq.CZTargetGateset``; note the shipped
            calibrations characterise √iSWAP and Sycamore gates, not CZ, so CZ gets no
            calibrated gate error).
        optimize: merge and simplify (True) or translate gate by gate (False).

    Example:
        >>> a, b = cirq.LineQubit.range(2)
        >>> m = map_to_device(cirq.Circuit(cirq.H(a), cirq.CNOT(a, b)))
        >>> sorted({type(op.gate).__name__ for op in m.circuit.all_operations()})
        ['ISwapPowGate', 'PhasedXZGate']
        >>> m.swaps, all(isinstance(q, cirq.GridQubit) for q in m.circuit.all_qubits())
        (0, True)
    """
    circuit = _check_circuit("circuit", circuit)
    device = check_choice("device", device, DEVICES)
    gateset = check_choice("gateset", gateset, ("sqrt_iswap", "cz"))
    optimize = check_bool("optimize", optimize)
    dev = _device(device)
    graph = dev.metadata.nx_graph
    circuit_graph = _interaction_graph(circuit)
    if circuit_graph.number_of_nodes() > graph.number_of_nodes():
        raise ValueError(f"circuit has {circuit_graph.number_of_nodes()} qubits, the device "
                         f"{device!r} only {graph.number_of_nodes()}")
    placement = _embedding(circuit_graph, graph)
    router = cirq.RouteCQC(graph)
    mapper = cirq.HardCodedInitialMapper(placement) if placement is not None else None
    routed, initial, swap_map = router.route_circuit(circuit, initial_mapper=mapper,
                                                     tag_inserted_swaps=True)
    target = (cirq.SqrtIswapTargetGateset() if gateset == "sqrt_iswap"
              else cirq.CZTargetGateset())
    if optimize:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*use_repetition_ids",
                                    category=FutureWarning)
            compiled = cirq.drop_empty_moments(
                cirq.optimize_for_target_gateset(routed, gateset=target))
    else:
        compiled = _translate(cirq.Circuit(routed), target)
    dev.validate_circuit(compiled)
    initial = {q: initial[q] for q in circuit.all_qubits()}
    final = {q: swap_map.get(p, p) for q, p in initial.items()}
    swaps = sum(1 for op in routed.all_operations() if cirq.RoutingSwapTag() in op.tags)
    return DeviceMapping(circuit=compiled, initial_mapping=initial, final_mapping=final,
                         swaps=swaps)


# --------------------------------------------------------------------------------------------
# Noisy circuits and their exact measured distributions
# --------------------------------------------------------------------------------------------

def noisy_circuit(circuit: cirq.AbstractCircuit, noise_model: cirq.NoiseModel | None, *,
                  measured_qubits: Sequence[cirq.Qid] | None = None) -> cirq.Circuit:
    """``circuit`` with the channels of ``noise_model`` inserted, read-out error included.

    A measurement of ``measured_qubits`` (all qubits by default) is appended, the model is
    applied to the whole circuit, and that measurement and everything after it are removed: the
    channels the model places before a measurement (read-out error) stay, those after it go.

    Example:
        >>> q = cirq.LineQubit(0)
        >>> print(noisy_circuit(cirq.Circuit(cirq.X(q)), ReadoutNoise(0.1, 0.1)))
        0: ───X───GAD(0.5,0.2)───
    """
    circuit = _check_circuit("circuit", circuit)
    noise_model = _check_noise_model("noise_model", noise_model)
    if noise_model is None:
        return cirq.Circuit(circuit)
    qubits = sorted(circuit.all_qubits()) if measured_qubits is None else list(measured_qubits)
    if not qubits:
        return cirq.Circuit(circuit).with_noise(noise_model)
    probe = cirq.Circuit(circuit) + cirq.Circuit(cirq.measure(*qubits, key=_PROBE_KEY))
    noisy = probe.with_noise(noise_model)
    for i in range(len(noisy) - 1, -1, -1):
        if any(cirq.is_measurement(op) and cirq.measurement_key_name(op) == _PROBE_KEY
               for op in noisy[i]):
            return noisy[:i]
    raise RuntimeError("noise_model removed the probe measurement")  # pragma: no cover


def _check_register(qubits: Sequence[cirq.Qid]) -> None:
    if not qubits:
        raise ValueError("circuit and observable act on no qubits")
    check_int("number of qubits", len(qubits), maximum=_MAX_DENSITY_MATRIX_QUBITS)


_KRAUS_CACHE: dict[cirq.Gate, tuple[np.ndarray, ...]] = {}
_KRAUS_CACHE_SIZE = 4096


def _kraus(op: cirq.Operation) -> tuple[np.ndarray, ...]:
    """Kraus operators of ``op`` (its unitary for a gate), cached per hashable gate."""
    gate = op.gate
    try:
        cached = _KRAUS_CACHE.get(gate) if gate is not None else None
    except TypeError:  # unhashable gate, e.g. cirq.KrausChannel
        gate, cached = None, None
    if cached is not None:
        return cached
    mats = ((cirq.unitary(op),) if cirq.has_unitary(op)
            else tuple(np.asarray(k) for k in cirq.kraus(op)))
    if gate is not None:
        if len(_KRAUS_CACHE) >= _KRAUS_CACHE_SIZE:
            _KRAUS_CACHE.clear()
        _KRAUS_CACHE[gate] = mats
    return mats


def _density_matrix_diagonal(circuit: cirq.AbstractCircuit, order: Sequence[cirq.Qid],
                             initial_state: int = 0) -> np.ndarray:
    """Diagonal of the final density matrix: Kraus maps applied op by op with ``tensordot``.

    Equal to ``cirq.DensityMatrixSimulator`` (complex128) to rounding, and much faster on the
    small registers of error-mitigation studies (no per-operation protocol dispatch).
    """
    n = len(order)
    index = {q: i for i, q in enumerate(order)}
    rho = np.zeros((2,) * (2 * n), dtype=np.complex128)
    bits = tuple((initial_state >> (n - 1 - i)) & 1 for i in range(n))
    rho[bits + bits] = 1.0
    for op in circuit.all_operations():
        if not op.qubits:
            continue
        if cirq.is_measurement(op):
            raise ValueError("circuit must not contain measurements")
        k = len(op.qubits)
        left = [index[q] for q in op.qubits]
        right = [n + a for a in left]
        new = None
        for mat in _kraus(op):
            t = mat.reshape((2,) * (2 * k))
            r = np.moveaxis(np.tensordot(t, rho, axes=(list(range(k, 2 * k)), left)),
                            list(range(k)), left)
            r = np.moveaxis(np.tensordot(r, t.conj(), axes=(right, list(range(k, 2 * k)))),
                            list(range(2 * n - k, 2 * n)), right)
            new = r if new is None else new + r
        rho = new
    diag = np.real(np.diagonal(rho.reshape(2**n, 2**n)))
    return np.clip(diag, 0.0, None)


def noisy_probabilities(circuit: cirq.AbstractCircuit, noise_model: cirq.NoiseModel | None,
                        qubits: Sequence[cirq.Qid] | None = None, *,
                        initial_state: int = 0) -> np.ndarray:
    """Exact probabilities of the computational-basis read-outs of the noisy ``circuit``.

    The diagonal of the density matrix of :func:`noisy_circuit` (complex128), in ``qubits``
    order (qubit 0 the most significant bit, as in :mod:`qmlkit.circuits`), starting from the
    basis state ``initial_state``.

    Example:
        >>> q = cirq.LineQubit(0)
        >>> noisy_probabilities(cirq.Circuit(cirq.I(q)), ReadoutNoise(0.1, 0.3))
        array([0.9, 0.1])
    """
    order = sorted(circuit.all_qubits()) if qubits is None else list(qubits)
    _check_register(order)
    extra = set(circuit.all_qubits()) - set(order)
    if extra:
        raise ValueError(f"qubits must include every qubit of the circuit; missing {sorted(extra)}")
    initial_state = check_int("initial_state", initial_state, minimum=0,
                              maximum=2 ** len(order) - 1)
    noisy = noisy_circuit(circuit, noise_model, measured_qubits=order)
    p = _density_matrix_diagonal(noisy, order, initial_state)
    return p / p.sum()


def readout_confusion_matrices(noise_model: cirq.NoiseModel | None,
                               qubits: Sequence[cirq.Qid]) -> list[np.ndarray]:
    """The exact single-qubit read-out confusion matrices ``C[read, prepared]`` of a model.

    Prepares ``|0>`` and ``|1>`` without gates (as initial states) and measures each qubit, so
    only the model's read-out error enters. Correlated read-out error is not captured.

    Example:
        >>> q = cirq.LineQubit(0)
        >>> readout_confusion_matrices(ReadoutNoise(0.02, 0.05), [q])[0].round(6)
        array([[0.98, 0.05],
               [0.02, 0.95]])
    """
    noise_model = _check_noise_model("noise_model", noise_model)
    out = []
    for q in qubits:
        readout = noisy_circuit(cirq.Circuit(), noise_model, measured_qubits=[q])
        cols = [_density_matrix_diagonal(readout, [q], prepared) for prepared in (0, 1)]
        out.append(np.array(cols).T)
    return out


# --------------------------------------------------------------------------------------------
# Observables
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Diagonal:
    """A qubit-wise-commuting Pauli observable as basis rotations + a Z-type observable."""

    rotations: tuple[cirq.Operation, ...]
    terms: tuple[tuple[float, tuple[cirq.Qid, ...]], ...]  # (coefficient, Z support)
    qubits: frozenset[cirq.Qid] = field(default_factory=frozenset)

    def eigenvalues(self, order: Sequence[cirq.Qid]) -> np.ndarray:
        index = {q: i for i, q in enumerate(order)}
        eig = np.zeros(2 ** len(order))
        for coeff, support in self.terms:
            eig += coeff * pauli_eigenvalues(len(order), [index[q] for q in support])
        return eig

    def z_form(self) -> cirq.PauliSum:
        """The observable after the basis rotations: a sum of Z strings."""
        return cirq.PauliSum.from_pauli_strings([
            cirq.PauliString({q: cirq.Z for q in support}, coefficient=coeff)
            for coeff, support in self.terms])


def _diagonalize(name: str, observable: Any) -> _Diagonal:
    if isinstance(observable, cirq.PauliString):
        strings = [observable]
    elif isinstance(observable, cirq.PauliSum):
        strings = list(observable)
    else:
        raise TypeError(f"{name} must be a cirq.PauliString or cirq.PauliSum, "
                        f"got {type(observable).__name__}")
    basis: dict[cirq.Qid, cirq.Pauli] = {}
    terms = []
    for s in strings:
        coeff = complex(s.coefficient)
        if abs(coeff.imag) > 1e-12:
            raise ValueError(f"{name} must be Hermitian (real coefficients), got {coeff}")
        for q, pauli in s.items():
            if basis.setdefault(q, pauli) != pauli:
                raise ValueError(f"{name} must be measurable in one basis: qubit {q} carries "
                                 f"both {basis[q]} and {pauli}")
        terms.append((coeff.real, tuple(sorted(s.qubits))))
    rotations: list[cirq.Operation] = []
    for q in sorted(basis):
        if basis[q] == cirq.X:
            rotations.append(cirq.H(q))
        elif basis[q] == cirq.Y:
            rotations += [cirq.S(q) ** -1, cirq.H(q)]
    return _Diagonal(tuple(rotations), tuple(terms), frozenset(basis))


# --------------------------------------------------------------------------------------------
# Executors
# --------------------------------------------------------------------------------------------

class _Executor:
    """Shared bookkeeping of the executors: the observable, the model and the counters."""

    def __init__(self, observable: cirq.PauliString | cirq.PauliSum,
                 noise_model: cirq.NoiseModel | None = None, *,
                 probability_cache: dict | None = None) -> None:
        self._diagonal = _diagonalize("observable", observable)
        self.observable = observable
        self.noise_model = _check_noise_model("noise_model", noise_model)
        if probability_cache is not None and not isinstance(probability_cache, dict):
            raise TypeError("probability_cache must be a dict or None, "
                            f"got {type(probability_cache).__name__}")
        self.probability_cache = probability_cache
        self.executions = 0
        self.shots = 0

    def reset_counts(self) -> None:
        """Set :attr:`executions` and :attr:`shots` back to zero."""
        self.executions = 0
        self.shots = 0

    def _register(self, circuit: cirq.AbstractCircuit) -> list[cirq.Qid]:
        order = sorted(set(circuit.all_qubits()) | self._diagonal.qubits)
        _check_register(order)
        return order

    def _exact_probabilities(self, circuit: cirq.Circuit, order: list[cirq.Qid]) -> np.ndarray:
        """:func:`noisy_probabilities`, through :attr:`probability_cache` when there is one."""
        if self.probability_cache is None:
            return noisy_probabilities(circuit, self.noise_model, order)
        key = (id(self.noise_model), cirq.FrozenCircuit(circuit), tuple(order))
        p = self.probability_cache.get(key)
        if p is None:
            p = noisy_probabilities(circuit, self.noise_model, order)
            self.probability_cache[key] = p
        return p

    def _probabilities(self, circuit: cirq.AbstractCircuit) -> tuple[np.ndarray, list[cirq.Qid]]:
        circuit = _check_circuit("circuit", circuit)
        order = self._register(circuit)
        rotated = cirq.Circuit(circuit, self._diagonal.rotations)
        return self._exact_probabilities(rotated, order), order


class DensityMatrixExecutor(_Executor):
    """The exact noisy expectation value ``Tr[ρ O]`` of a circuit (``cirq.DensityMatrixSimulator``).

    Args:
        observable: a ``cirq.PauliString`` or a ``cirq.PauliSum`` whose terms share one
            measurement basis (qubit-wise commuting), e.g. ``Σ_i Z_i``.
        noise_model: a ``cirq.NoiseModel`` (read-out error included), or ``None`` for none.

        probability_cache: a dict in which to keep the exact read-out distribution of every
            circuit executed, shared by executors with the same noise model (a
            :class:`SamplingExecutor` too) to skip re-simulating identical circuits; executions
            and shots are counted all the same. None: no cache.

    Attributes:
        executions: circuits executed so far.
        shots: always 0 (exact).

    Example:
        >>> q = cirq.LineQubit(0)
        >>> ex = DensityMatrixExecutor(cirq.Z(q), DepolarizingNoise(p1=0.03))
        >>> round(ex(cirq.Circuit(cirq.X(q))), 6)
        -0.96
    """

    def __call__(self, circuit: cirq.Circuit) -> float:
        p, order = self._probabilities(circuit)
        self.executions += 1
        return float(p @ self._diagonal.eigenvalues(order))

    def __repr__(self) -> str:
        return (f"qmlkit.noise.DensityMatrixExecutor({self.observable!r}, "
                f"noise_model={self.noise_model!r})")


class SamplingExecutor(_Executor):
    """A shot-based estimate of ``<O>``: ``shots`` read-outs drawn from the exact noisy distribution.

    The distribution is that of :class:`DensityMatrixExecutor` (read-out error included, which on
    read-outs is a classical confusion matrix); the shots are drawn with ``rng``, so a seeded
    generator reproduces every estimate bit for bit. :meth:`measure` returns the raw read-outs
    of a circuit with measurements as a ``mitiq.MeasurementResult`` (for read-out error
    mitigation).

    Args:
        observable: a ``cirq.PauliString`` or a qubit-wise-commuting ``cirq.PauliSum``.
        noise_model: a ``cirq.NoiseModel`` or ``None``.
        shots: read-outs per execution (>= 1).
        rng: the source of randomness.
        probability_cache: see :class:`DensityMatrixExecutor`.

    Attributes:
        executions: circuits executed so far.
        shots: read-outs drawn so far (the running total, as for every executor); the number
            per execution is :attr:`shots_per_execution`.

    Example:
        >>> q = cirq.LineQubit(0)
        >>> ex = SamplingExecutor(cirq.Z(q), ReadoutNoise(0.1), shots=1000,
        ...                       rng=np.random.default_rng(0))
        >>> value = ex(cirq.Circuit(cirq.I(q)))
        >>> abs(value - 0.8) < 0.05, ex.executions, ex.shots
        (True, 1, 1000)
    """

    def __init__(self, observable: cirq.PauliString | cirq.PauliSum,
                 noise_model: cirq.NoiseModel | None = None, *, shots: int,
                 rng: np.random.Generator, probability_cache: dict | None = None) -> None:
        super().__init__(observable, noise_model, probability_cache=probability_cache)
        self.shots_per_execution = check_int("shots", shots, minimum=1)
        self.rng = check_rng("rng", rng)

    def __call__(self, circuit: cirq.Circuit) -> float:
        p, order = self._probabilities(circuit)
        counts = self.rng.multinomial(self.shots_per_execution, p)
        self.executions += 1
        self.shots += self.shots_per_execution
        return float(counts @ self._diagonal.eigenvalues(order) / self.shots_per_execution)

    def measure(self, circuit: cirq.Circuit) -> "MeasurementResult":
        """Read-outs of the measured qubits of ``circuit`` (terminal measurements), with noise.

        Returns:
            A ``mitiq.MeasurementResult`` with ``shots`` bitstrings over the measured qubits in
            the order they are measured, and ``qubit_indices`` their positions in
            ``sorted(circuit.all_qubits())`` (Mitiq's convention for its observables).
        """
        from mitiq import MeasurementResult

        circuit = _check_circuit("circuit", circuit, allow_measurements=True)
        if not circuit.are_all_measurements_terminal():
            raise ValueError("circuit must have only terminal measurements")
        measured: list[cirq.Qid] = []
        for op in circuit.all_operations():
            if cirq.is_measurement(op):
                measured += [q for q in op.qubits if q not in measured]
        if not measured:
            raise ValueError("circuit must measure at least one qubit")
        bare = cirq.Circuit(op for op in circuit.all_operations() if not cirq.is_measurement(op))
        order = sorted(circuit.all_qubits())
        _check_register(order)
        p = self._exact_probabilities(bare, order)
        idx = self.rng.choice(p.size, size=self.shots_per_execution, p=p)
        n = len(order)
        positions = [order.index(q) for q in measured]
        bits = (idx[:, None] >> (n - 1 - np.array(positions))[None, :]) & 1
        self.executions += 1
        self.shots += self.shots_per_execution
        return MeasurementResult(bits.astype(np.int64), qubit_indices=tuple(positions))

    def __repr__(self) -> str:
        return (f"qmlkit.noise.SamplingExecutor({self.observable!r}, "
                f"noise_model={self.noise_model!r}, shots={self.shots_per_execution})")


class TFQNoisyExecutor(_Executor):
    """``<O>`` from TensorFlow Quantum's noisy backend (Monte-Carlo trajectories, qsim).

    The circuit with its noise channels (:func:`noisy_circuit`, read-out error included) is run
    ``trajectories`` times by ``tfq.noise.expectation``; each trajectory picks one Kraus branch
    per channel and the analytic expectation values are averaged. With ``shots`` it uses
    ``tfq.noise.sampled_expectation`` instead (one read-out per trajectory).

    TFQ seeds its trajectories itself: results are **not** reproducible from a seed, only
    statistically (standard error about ``1/sqrt(trajectories)``). Only channels TFQ can
    serialise are accepted (depolarizing, amplitude/phase damping, generalized amplitude
    damping, bit/phase flip, reset): :class:`DepolarizingNoise`, :class:`AmplitudeDampingNoise`,
    :class:`PhaseDampingNoise` and :class:`ReadoutNoise` work; the calibrated Google model's
    thermal ``KrausChannel`` does not. TensorFlow is imported on the first call.

    Args:
        observable: a ``cirq.PauliString`` or a qubit-wise-commuting ``cirq.PauliSum``.
        noise_model: a ``cirq.NoiseModel`` or ``None``.
        trajectories: trajectories per execution (>= 1), when ``shots`` is None.
        shots: read-outs per execution for sampled expectation values, or None.

    Example:
        >>> q = cirq.LineQubit(0)
        >>> ex = TFQNoisyExecutor(cirq.Z(q), DepolarizingNoise(p1=0.1), trajectories=2000)
        >>> abs(ex(cirq.Circuit(cirq.X(q))) + 1 - 4 * 0.1 / 3) < 0.1   # doctest: +SKIP
        True
    """

    def __init__(self, observable: cirq.PauliString | cirq.PauliSum,
                 noise_model: cirq.NoiseModel | None = None, *, trajectories: int = 1000,
                 shots: int | None = None) -> None:
        super().__init__(observable, noise_model)
        self.trajectories_per_execution = check_int("trajectories", trajectories, minimum=1)
        self.shots_per_execution = None if shots is None else check_int("shots", shots,
                                                                        minimum=1)
        self.trajectories = 0

    def reset_counts(self) -> None:
        """Set the execution, shot and trajectory counters back to zero."""
        super().reset_counts()
        self.trajectories = 0

    def __call__(self, circuit: cirq.Circuit) -> float:
        from qmlkit._environment import import_tensorflow

        tf = import_tensorflow()
        import tensorflow_quantum as tfq

        circuit = _check_circuit("circuit", circuit)
        order = self._register(circuit)
        rotated = cirq.Circuit(circuit, self._diagonal.rotations)
        noisy = noisy_circuit(rotated, self.noise_model, measured_qubits=order)
        # Idle qubits of the observable must exist in the program.
        idle = [q for q in order if q not in noisy.all_qubits()]
        noisy = cirq.Circuit(noisy, [cirq.I(q) for q in idle])
        try:
            programs = tfq.convert_to_tensor([noisy])
        except (ValueError, TypeError) as exc:
            raise ValueError(f"noise_model inserts operations TFQ cannot simulate: {exc}"
                             ) from None
        ops = tfq.convert_to_tensor([[self._diagonal.z_form()]])
        names = tf.constant([], dtype=tf.string)
        values = tf.zeros([1, 0], dtype=tf.float32)
        n = self.shots_per_execution or self.trajectories_per_execution
        num = tf.constant([[n]], dtype=tf.int32)
        if self.shots_per_execution is None:
            out = tfq.noise.expectation(programs, names, values, ops, num)
        else:
            out = tfq.noise.sampled_expectation(programs, names, values, ops, num)
            self.shots += n
        self.executions += 1
        self.trajectories += n
        return float(out.numpy()[0, 0])

    def __repr__(self) -> str:
        return (f"qmlkit.noise.TFQNoisyExecutor({self.observable!r}, "
                f"noise_model={self.noise_model!r}, "
                f"trajectories={self.trajectories_per_execution})")

