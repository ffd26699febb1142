"""Error mitigation with Mitiq, and what it costs (review §6.2).

The review lists zero-noise extrapolation (ZNE), probabilistic error cancellation (PEC) and
read-out calibration as the ways to reduce the bias noise puts on expectation values, "but
[they] add overhead". This module runs each of them through Mitiq (it re-implements none of
Mitiq's algorithms) behind small keyword-only entry points that check their arguments and
return the mitigated value together with its cost (:class:`MitigationResult`):

* :func:`zne_expectation` -- noise scaled by unitary folding (``"global"``,
  ``"gates_at_random"``, ``"all"``, ``"layer"``) or identity insertion (``"identity"``), then
  extrapolated to zero noise by a ``"linear"``, ``"richardson"``, ``"poly"``, ``"exp"`` or
  adaptive ``"adaexp"`` factory; for the linear-combination factories the cost record holds
  the extrapolation coefficients ``γ_i`` (the estimate is ``Σ γ_i E(λ_i)``) and the variance
  amplification ``Σ γ_i²``;
* :func:`pec_expectation` -- quasi-probability representations of every gate under the local
  depolarizing model (:func:`pec_representations`), sampled; cost: the one-norm ``γ`` (the
  standard error grows by about ``γ``, the sample count by ``γ²``);
* :func:`rem_expectation` -- read-out error mitigation: read-outs corrected by the inverse of a
  confusion matrix (:class:`ReadoutCalibration`, measured by :func:`calibrate_readout` or exact
  from a noise model); ``zne_expectation(..., readout=calibration)`` combines it with ZNE;
* :func:`mitigated_expectation_fn` -- a cost function ``θ -> mitigated <O>(θ)`` for a
  parameterised model, for the optimisers and gradients of :mod:`qmlkit.gradients`.

The executors are those of :mod:`qmlkit.noise` (or any callable ``circuit -> float``).

**Mitiq and annotations.** Mitiq decides what an executor returns from its return annotation,
read at run time. A callable *instance* defined in a module with ``from __future__ import
annotations`` carries the *string* ``'float'`` and Mitiq fails with "Could not parse executed
results from executor with type float". This module therefore does not use that import, and
hands Mitiq only plain functions with real annotations (:func:`as_mitiq_executor`).

**Mitiq on Cirq 1.5.** Mitiq 1.1.0 declares ``cirq-core>=1.6``; the compendium installs it
against cirq-core 1.5.0 on purpose (see the README), and every Mitiq feature used here has its
own test.

Example:
    >>> import numpy as np
    >>> from qmlkit.noise import DensityMatrixExecutor, DepolarizingNoise
    >>> q = cirq.LineQubit.range(2)
    >>> circuit = cirq.Circuit([cirq.CNOT(q[0], q[1])] * 10)   # the identity
    >>> ex = DensityMatrixExecutor(cirq.Z(q[0]) * cirq.Z(q[1]), DepolarizingNoise(p2=0.01))
    >>> res = zne_expectation(circuit, ex, scale_factors=[1, 2, 3], factory="richardson")
    >>> round(res.noisy_values[0], 4), round(res.value, 4)    # unmitigated, mitigated; ideal 1
    (0.8176, 0.9939)
    >>> res.executions, res.coefficients, round(res.variance_amplification, 6)
    (3, (3.0, -3.0, 1.0), 19.0)
"""

import contextlib
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import cirq
import mitiq
import numpy as np
import sympy
from mitiq import MeasurementResult
from mitiq.pec import NoisyOperation, OperationRepresentation
from mitiq.pec import represent_operation_with_local_depolarizing_noise as _local_representation
from mitiq.zne import inference as _inference
from mitiq.zne import scaling as _scaling

from qmlkit._validation import (
    check_choice,
    check_finite_array,
    check_float,
    check_int,
    check_rng,
)

__all__ = [
    "FACTORIES",
    "METHODS",
    "SCALINGS",
    "MitigatedExpectation",
    "MitigationResult",
    "ReadoutCalibration",
    "as_mitiq_executor",
    "calibrate_readout",
    "extrapolation_coefficients",
    "make_factory",
    "make_scaling",
    "mitigated_expectation_fn",
    "pec_expectation",
    "pec_representations",
    "rem_expectation",
    "unmitigated_expectation",
    "zne_expectation",
]

#: Extrapolation factories (``mitiq.zne.inference``) by name.
FACTORIES = ("linear", "richardson", "poly", "exp", "adaexp")

#: Noise-scaling methods (``mitiq.zne.scaling``) by name.
SCALINGS = ("global", "gates_at_random", "all", "layer", "identity")

#: Methods of :func:`mitigated_expectation_fn`.
METHODS = ("none", "zne", "pec", "rem")

#: Factories whose estimate is a fixed linear combination ``Σ γ_i E(λ_i)`` of the noisy values.
_LINEAR_FACTORIES = ("linear", "richardson", "poly")

#: Scalings that only realise odd integer scale factors (each fold adds 2 to the scale).
_ODD_INTEGER_SCALINGS = ("all", "layer")

#: Largest local depolarizing probability whose channel is invertible (ε = 4p/3 < 1).
_MAX_PEC_NOISE = 0.75


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MitigationResult:
    """A mitigated expectation value and what it cost.

    Attributes:
        value: the mitigated estimate of the noiseless ``<O>``.
        method: what produced it, e.g. ``"zne/richardson/global"``, ``"pec"``, ``"rem"``.
        executions: circuits executed (each at the executor's shots, if it samples).
        shots: read-outs spent (0 for exact executors).
        scale_factors: ZNE noise scale factors at which the circuit was run.
        noisy_values: ZNE expectation values at those scale factors (averaged over
            ``num_to_average``); ``noisy_values[0]`` is the unmitigated value when
            ``scale_factors[0] == 1``.
        coefficients: ZNE extrapolation coefficients ``γ_i`` of the linear-combination factories
            (the estimate is ``Σ γ_i noisy_values[i]``); None otherwise.
        variance_amplification: how much mitigation multiplies the variance of the estimate,
            relative to one execution at the same shots: ``Σ γ_i² / num_to_average`` for the
            linear ZNE factories (``Σ γ_i²`` with ``num_to_average=1``); ``γ²`` for PEC (per
            sampled circuit: ``num_samples`` circuits give ``γ² σ² / num_samples``); None where
            there is no closed form (exponential fits, REM).
        one_norm: PEC: the one-norm ``γ`` of the circuit's quasi-probability representation.
        std_error: PEC: Mitiq's estimate of the statistical error of ``value``.
    """

    value: float
    method: str
    executions: int
    shots: int
    scale_factors: tuple[float, ...] = ()
    noisy_values: tuple[float, ...] = ()
    coefficients: tuple[float, ...] | None = None
    variance_amplification: float | None = None
    one_norm: float | None = None
    std_error: float | None = None


# --------------------------------------------------------------------------------------------
# Executors for Mitiq
# --------------------------------------------------------------------------------------------

def as_mitiq_executor(executor: Callable[..., Any], *, returns: str = "float") -> mitiq.Executor:
    """Wrap ``executor`` as a ``mitiq.Executor`` whose return type Mitiq can read.

    Mitiq inspects the wrapped function's return annotation; the wrapper is a plain function
    annotated ``-> float`` (``returns="float"``) or ``-> mitiq.MeasurementResult``
    (``returns="measurements"``: it calls ``executor.measure``, which
    :class:`qmlkit.noise.SamplingExecutor` has), whatever ``executor``'s own annotations are --
    so executors from modules with ``from __future__ import annotations`` work too.

    Example:
        >>> ex = as_mitiq_executor(lambda circuit: 1.0)
        >>> ex._executor_return_type is float, ex.can_batch
        (True, False)
    """
    if not callable(executor):
        raise TypeError(f"executor must be callable, got {type(executor).__name__}")
    returns = check_choice("returns", returns, ("float", "measurements"))
    if returns == "float":
        def run(circuit: cirq.Circuit) -> float:
            return float(executor(circuit))
    else:
        measure = getattr(executor, "measure", None)
        if not callable(measure):
            raise TypeError("executor must have a measure(circuit) -> mitiq.MeasurementResult "
                            "method for read-out mitigation (e.g. qmlkit.noise.SamplingExecutor)")

        def run(circuit: cirq.Circuit) -> MeasurementResult:  # type: ignore[misc]
            result = measure(circuit)
            if not isinstance(result, MeasurementResult):
                raise TypeError("executor must return a mitiq.MeasurementResult for "
                                f"read-out mitigation, got {type(result).__name__}")
            return result
    return mitiq.Executor(run)


def _shots(executor: Any) -> int:
    value = getattr(executor, "shots", 0)
    return int(value) if isinstance(value, (int, np.integer)) else 0


def _check_executor(executor: Any) -> Any:
    if not callable(executor):
        raise TypeError(f"executor must be callable (circuit -> float), "
                        f"got {type(executor).__name__}")
    return executor


def _check_circuit(circuit: Any) -> cirq.Circuit:
    if not isinstance(circuit, cirq.AbstractCircuit):
        raise TypeError(f"circuit must be a cirq.Circuit, got {type(circuit).__name__}")
    if cirq.is_parameterized(circuit):
        raise ValueError("circuit has unresolved symbols; resolve them with "
                         "cirq.resolve_parameters")
    if circuit.has_measurements():
        raise ValueError("circuit must not contain measurements (the executor measures)")
    if not any(True for _ in circuit.all_operations()):
        raise ValueError("circuit must contain at least one operation")
    return cirq.Circuit(circuit)


@contextlib.contextmanager
def _seeded_global_numpy(rng: np.random.Generator) -> Iterator[None]:
    """Seed NumPy's global generator from ``rng`` for the duration (Mitiq's REM resamples with
    ``np.random.choice``), then restore its state."""
    state = np.random.get_state()  # noqa: NPY002 - Mitiq uses the legacy global generator
    np.random.seed(int(rng.integers(2**32)))  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


def unmitigated_expectation(circuit: cirq.AbstractCircuit, executor: Callable[..., float]
                            ) -> MitigationResult:
    """The executor's plain (noisy) value, as a :class:`MitigationResult` with its cost.

    Example:
        >>> q = cirq.LineQubit(0)
        >>> unmitigated_expectation(cirq.Circuit(cirq.X(q)), lambda c: -1.0).executions
        1
    """
    circuit = _check_circuit(circuit)
    executor = _check_executor(executor)
    shots0 = _shots(executor)
    value = float(executor(circuit))
    return MitigationResult(value=value, method="none", executions=1,
                            shots=_shots(executor) - shots0)


# --------------------------------------------------------------------------------------------
# Zero-noise extrapolation
# --------------------------------------------------------------------------------------------

def _default_scale_factors(scaling: str) -> tuple[float, ...]:
    return (1.0, 3.0, 5.0) if scaling in _ODD_INTEGER_SCALINGS else (1.0, 2.0, 3.0)


def _check_scale_factors(scale_factors: Any, scaling: str) -> tuple[float, ...]:
    if isinstance(scale_factors, (str, bytes)) or not isinstance(
            scale_factors, (Sequence, np.ndarray)):
        raise TypeError("scale_factors must be a sequence of numbers >= 1, "
                        f"got {type(scale_factors).__name__}")
    values = tuple(check_float(f"scale_factors[{i}]", s, minimum=1.0)
                   for i, s in enumerate(scale_factors))
    if len(values) < 2:
        raise ValueError(f"scale_factors must hold at least 2 values, got {len(values)}")
    if len(set(values)) != len(values):
        raise ValueError(f"scale_factors must be distinct, got {values}")
    if scaling in _ODD_INTEGER_SCALINGS:
        bad = [s for s in values if not (s.is_integer() and int(s) % 2 == 1)]
        if bad:
            raise ValueError(f"scale_factors must be odd integers for scaling={scaling!r} "
                             f"(each fold adds 2), got {bad}")
    if scaling == "identity":
        bad = [s for s in values if not s.is_integer()]
        if bad:
            raise ValueError("scale_factors must be integers for scaling='identity' (Mitiq "
                             f"places fractional identity layers with an unseeded RNG), got {bad}")
    return values


def make_scaling(scaling: str = "global", *, rng: np.random.Generator | None = None
                 ) -> Callable[[cirq.Circuit, float], cirq.Circuit]:
    """A Mitiq noise-scaling function ``(circuit, scale_factor) -> scaled circuit``.

    * ``"global"``: ``mitiq.zne.scaling.fold_global``, ``U -> U (U†U)^k`` plus a partial fold;
    * ``"gates_at_random"``: ``fold_gates_at_random``, ``G -> G G† G`` on random gates, with a
      fresh seed drawn from ``rng`` at every call (reproducible; required);
    * ``"all"``: ``fold_all``, every gate folded ``(λ - 1)/2`` times (odd integer ``λ``);
    * ``"layer"``: ``layer_folding`` with every moment folded ``(λ - 1)/2`` times (odd integer);
    * ``"identity"``: ``insert_id_layers``, ``λ - 1`` layers of ``cirq.I`` after every moment
      (integer ``λ``); it scales only noise that acts on idling (identity) gates.

    Example:
        >>> q = cirq.LineQubit(0)
        >>> fold = make_scaling("global")
        >>> len(list(fold(cirq.Circuit(cirq.X(q)), 3).all_operations()))
        3
    """
    scaling = check_choice("scaling", scaling, SCALINGS)
    if scaling == "gates_at_random":
        if rng is None:
            raise TypeError("rng is required for scaling='gates_at_random' (a "
                            "numpy.random.Generator that seeds each random folding)")
        rng = check_rng("rng", rng)

        def fold_at_random(circuit: cirq.Circuit, scale_factor: float) -> cirq.Circuit:
            return _scaling.fold_gates_at_random(circuit, scale_factor,
                                                 seed=int(rng.integers(2**31 - 1)))
        return fold_at_random
    if scaling == "layer":
        def fold_layers(circuit: cirq.Circuit, scale_factor: float) -> cirq.Circuit:
            folds = round((scale_factor - 1.0) / 2.0)
            return _scaling.layer_folding(circuit, [folds] * len(circuit))
        return fold_layers
    return {"global": _scaling.fold_global, "all": _scaling.fold_all,
            "identity": _scaling.insert_id_layers}[scaling]


def make_factory(factory: str = "richardson", scale_factors: Sequence[float] = (1.0, 2.0, 3.0),
                 *, order: int = 2, asymptote: float | None = None) -> _inference.Factory:
    """A Mitiq extrapolation factory by name.

    * ``"linear"``: least-squares line; ``"richardson"``: the polynomial through all points;
      ``"poly"``: least-squares polynomial of degree ``order``;
    * ``"exp"``: ``a + b e^{-cλ}`` (with ``asymptote`` = the infinite-noise value, if known);
    * ``"adaexp"``: the adaptive exponential factory: ``len(scale_factors)`` steps, the second
      scale factor ``scale_factors[1]``, later ones chosen from the fit (at most
      ``max(scale_factors)``).

    Example:
        >>> type(make_factory("linear", [1, 2])).__name__
        'LinearFactory'
    """
    factory = check_choice("factory", factory, FACTORIES)
    values = [float(s) for s in scale_factors]
    if asymptote is not None:
        asymptote = check_float("asymptote", asymptote)
    if factory == "linear":
        return _inference.LinearFactory(values)
    if factory == "richardson":
        return _inference.RichardsonFactory(values)
    if factory == "poly":
        order = check_int("order", order, minimum=1, maximum=len(values) - 1)
        return _inference.PolyFactory(values, order=order)
    if factory == "exp":
        if asymptote is None and len(values) < 3:
            raise ValueError("factory='exp' without an asymptote needs at least 3 scale_factors")
        return _inference.ExpFactory(values, asymptote=asymptote)
    steps = len(values)
    if steps < 3 + int(asymptote is None):
        raise ValueError("factory='adaexp' needs len(scale_factors) >= 4 (>= 3 with an "
                         f"asymptote): its number of steps; got {steps}")
    return _inference.AdaExpFactory(steps=steps, scale_factor=values[1], asymptote=asymptote,
                                    max_scale_factor=max(values))


def extrapolation_coefficients(scale_factors: Sequence[float], order: int) -> np.ndarray:
    """``γ`` with ``E(0) ≈ Σ γ_i E(λ_i)`` for a least-squares polynomial fit of degree ``order``.

    ``γ`` is the first row of the pseudo-inverse of the Vandermonde matrix ``V_ij = λ_i^j``; with
    ``order = len - 1`` it gives Richardson's coefficients and, for independent noisy values of
    equal variance ``σ²``, the extrapolated value has variance ``σ² Σ γ_i²``.

    Example:
        >>> extrapolation_coefficients([1, 2, 3], order=2)
        array([ 3., -3.,  1.])
    """
    lam = check_finite_array("scale_factors", scale_factors, ndim=1)
    order = check_int("order", order, minimum=0, maximum=lam.size - 1)
    vander = np.vander(lam, order + 1, increasing=True)
    gamma = np.round(np.linalg.pinv(vander)[0], 12)  # exact rationals stay exact in print
    return gamma + 0.0  # no negative zeros


def _mitiq_observable(observable: cirq.PauliString | cirq.PauliSum,
                      circuit: cirq.AbstractCircuit) -> tuple[mitiq.Observable, float]:
    """``observable`` as a Mitiq observable (qubits numbered in ``sorted(circuit qubits)``) and
    its constant (identity) part, which needs no measurement."""
    order = sorted(circuit.all_qubits())
    index = {q: i for i, q in enumerate(order)}
    strings = [observable] if isinstance(observable, cirq.PauliString) else list(observable)
    paulis = []
    constant = 0.0
    for s in strings:
        missing = set(s.qubits) - set(index)
        if missing:
            raise ValueError(f"observable acts on qubits the circuit does not use: {missing}")
        coeff = complex(s.coefficient).real
        qubits = sorted(s.qubits)
        if not qubits:
            constant += coeff
            continue
        spec = "".join(str(s[q]) for q in qubits)
        paulis.append(mitiq.PauliString(spec, coeff=coeff, support=[index[q] for q in qubits]))
    if not paulis:
        raise ValueError("observable has no non-identity term to measure")
    return mitiq.Observable(*paulis), constant


def _observable_of(executor: Any) -> cirq.PauliString | cirq.PauliSum:
    """The executor's observable, which read-out mitigation measures itself."""
    obs = getattr(executor, "observable", None)
    if not isinstance(obs, (cirq.PauliString, cirq.PauliSum)):
        raise TypeError("executor must have an .observable (cirq.PauliString or cirq.PauliSum) "
                        "for read-out mitigation, e.g. qmlkit.noise.SamplingExecutor")
    return obs


def zne_expectation(circuit: cirq.AbstractCircuit, executor: Callable[..., float], *,
                    scale_factors: Sequence[float] | None = None,
                    factory: str = "richardson", scaling: str = "global", order: int = 2,
                    asymptote: float | None = None, num_to_average: int = 1,
                    rng: np.random.Generator | None = None,
                    readout: "ReadoutCalibration | None" = None) -> MitigationResult:
    """Zero-noise extrapolation of ``<O>`` with ``mitiq.zne.execute_with_zne``.

    The circuit is run at each noise scale factor ``λ_i`` (``num_to_average`` noise-scaled
    copies each, averaged), and the values are extrapolated to ``λ = 0``.

    Args:
        circuit: the circuit, without measurements.
        executor: ``circuit -> float`` (e.g. :class:`qmlkit.noise.DensityMatrixExecutor`).
        scale_factors: the ``λ_i >= 1``; default ``(1, 2, 3)``, or ``(1, 3, 5)`` for the
            odd-integer scalings ``"all"`` and ``"layer"``.
        factory: one of :data:`FACTORIES` (see :func:`make_factory`).
        scaling: one of :data:`SCALINGS` (see :func:`make_scaling`).
        order: the degree of the ``"poly"`` fit.
        asymptote: the infinite-noise value for ``"exp"``/``"adaexp"`` (0 for a traceless
            observable under depolarizing noise), if known.
        num_to_average: noise-scaled circuits per scale factor (>= 1).
        rng: the source of randomness of ``"gates_at_random"`` and of read-out mitigation.
        readout: a :class:`ReadoutCalibration`: the executor's read-outs (its ``measure``
            method, see :class:`qmlkit.noise.SamplingExecutor`) are corrected by its inverse
            confusion matrix before extrapolation (REM + ZNE). The executions of the
            calibration itself are not included here (they are in the calibration's record).

    Returns:
        A :class:`MitigationResult`: ``executions = len(scale_factors) × num_to_average``.

    Raises:
        ValueError: for an unknown ``factory``/``scaling``, ``scale_factors`` below 1, repeated
            or (for the integer scalings) not integer, ``num_to_average < 1``; and
            ``factory="adaexp"`` with a scaling that needs integer scale factors.
    """
    circuit = _check_circuit(circuit)
    executor = _check_executor(executor)
    factory = check_choice("factory", factory, FACTORIES)
    scaling = check_choice("scaling", scaling, SCALINGS)
    if factory == "adaexp" and scaling not in ("global", "gates_at_random"):
        raise ValueError(f"factory='adaexp' chooses fractional scale factors; scaling must be "
                         f"'global' or 'gates_at_random', got {scaling!r}")
    if scale_factors is None:
        scale_factors = ((1.0, 2.0, 4.0, 6.0) if factory == "adaexp"
                         else _default_scale_factors(scaling))
    values = _check_scale_factors(scale_factors, scaling)
    num_to_average = check_int("num_to_average", num_to_average, minimum=1)
    if rng is not None:
        rng = check_rng("rng", rng)
    scale_noise = make_scaling(scaling, rng=rng)
    fac = make_factory(factory, values, order=order, asymptote=asymptote)

    shots0 = _shots(executor)
    if readout is None:
        mexec = as_mitiq_executor(executor)
        observable, constant = None, 0.0
        context: Any = contextlib.nullcontext()
    else:
        if not isinstance(readout, ReadoutCalibration):
            raise TypeError("readout must be a ReadoutCalibration or None, "
                            f"got {type(readout).__name__}")
        if rng is None:
            raise TypeError("rng is required with readout (Mitiq's read-out mitigation "
                            "resamples the corrected distribution)")
        obs = _observable_of(executor)
        observable, constant = _mitiq_observable(obs, circuit)
        mexec = mitiq.rem.mitigate_executor(
            as_mitiq_executor(executor, returns="measurements"),
            inverse_confusion_matrix=readout.inverse_confusion_matrix(sorted(obs.qubits)))
        context = _seeded_global_numpy(rng)
    with context:
        value = constant + mitiq.zne.execute_with_zne(circuit, mexec, observable, factory=fac,
                                                      scale_noise=scale_noise,
                                                      num_to_average=num_to_average)
    used = tuple(float(s) for s in fac.get_scale_factors())
    noisy = tuple(constant + float(np.real(v)) for v in fac.get_expectation_values())
    coefficients = variance = None
    if factory in _LINEAR_FACTORIES:
        degree = {"linear": 1, "richardson": len(used) - 1, "poly": order}[factory]
        gamma = extrapolation_coefficients(used, degree)
        coefficients = tuple(float(g) for g in gamma)
        variance = float(np.sum(gamma**2) / num_to_average)
    method = f"zne/{factory}/{scaling}" + ("+rem" if readout is not None else "")
    return MitigationResult(value=float(np.real(value)), method=method,
                            executions=int(mexec.calls_to_executor),
                            shots=_shots(executor) - shots0, scale_factors=used,
                            noisy_values=noisy, coefficients=coefficients,
                            variance_amplification=variance)


# --------------------------------------------------------------------------------------------
# Probabilistic error cancellation
# --------------------------------------------------------------------------------------------

def _noise_level_fn(noise_level: Any) -> Callable[[cirq.Operation], float]:
    if hasattr(noise_level, "noise_level") and callable(noise_level.noise_level):
        return noise_level.noise_level  # qmlkit.noise.DepolarizingNoise
    if isinstance(noise_level, tuple):
        if len(noise_level) != 2:
            raise ValueError("noise_level as a tuple must be (one_qubit, two_qubit), "
                             f"got {noise_level}")
        p1 = check_float("noise_level[0]", noise_level[0], minimum=0.0, maximum=1.0)
        p2 = check_float("noise_level[1]", noise_level[1], minimum=0.0, maximum=1.0)
        return lambda op: p1 if len(op.qubits) == 1 else p2
    if callable(noise_level):
        return noise_level
    p = check_float("noise_level", noise_level, minimum=0.0, maximum=1.0)
    return lambda op: p


def _with_virtual_corrections(rep: OperationRepresentation) -> OperationRepresentation:
    """The representation with its Pauli corrections tagged ``cirq.VirtualTag`` (noise-free)."""
    ideal_ops = list(rep.ideal.all_operations())
    noisy = []
    for nop in rep.noisy_operations:
        ops = list(nop.circuit.all_operations())
        head, tail = ops[:len(ideal_ops)], ops[len(ideal_ops):]
        noisy.append(NoisyOperation(cirq.Circuit(
            head, [op.with_tags(cirq.VirtualTag()) for op in tail])))
    return OperationRepresentation(rep.ideal, noisy, list(rep.coeffs), rep.is_qubit_dependent)


def pec_representations(circuit: cirq.AbstractCircuit, noise_level: Any
                        ) -> list[OperationRepresentation]:
    """Quasi-probability representations of every gate of ``circuit`` under local depolarizing
    noise (``mitiq.pec.represent_operation_with_local_depolarizing_noise``).

    Each ideal gate ``U`` on ``k <= 2`` qubits is written as ``Σ_α η_α D^{⊗k}∘P_α∘U``: the noisy
    gate followed by Pauli corrections ``P_α``, with ``Σ|η_α|`` its one-norm. The corrections are
    tagged ``cirq.VirtualTag``: on hardware they are absorbed into neighbouring single-qubit
    gates (Pauli frame), and qmlkit's noise models leave tagged operations noise-free, so the
    representation is exact under :class:`qmlkit.noise.DepolarizingNoise`.

    Args:
        circuit: the circuit (one- and two-qubit gates).
        noise_level: the depolarizing probability after each gate (per qubit, ``cirq.depolarize``
            convention): a number, a ``(one_qubit, two_qubit)`` pair, a
            :class:`qmlkit.noise.DepolarizingNoise`, or a callable ``operation -> float``. Gates
            at level 0 get no representation (they are left as they are).

    Example:
        >>> q = cirq.LineQubit(0)
        >>> reps = pec_representations(cirq.Circuit(cirq.H(q)), noise_level=0.01)
        >>> len(reps), round(reps[0].norm, 4)
        (1, 1.0203)
    """
    circuit = _check_circuit(circuit)
    level_of = _noise_level_fn(noise_level)
    reps: list[OperationRepresentation] = []
    seen: set[cirq.Operation] = set()
    for op in circuit.all_operations():
        if op in seen:
            continue
        seen.add(op)
        if len(op.qubits) > 2:
            raise ValueError(f"circuit must contain only one- and two-qubit gates, got {op}")
        p = check_float("noise_level", level_of(op), minimum=0.0, maximum=1.0)
        if p == 0.0:
            continue
        if p >= _MAX_PEC_NOISE:
            raise ValueError(f"noise_level must be < {_MAX_PEC_NOISE} (the depolarizing "
                             f"channel is not invertible beyond), got {p}")
        reps.append(_with_virtual_corrections(_local_representation(cirq.Circuit(op), p)))
    return reps


def _one_norm(circuit: cirq.Circuit, reps: Sequence[OperationRepresentation]) -> float:
    """``γ = Π_ops ‖η(op)‖₁`` over the circuit's operations (1 for unrepresented ones)."""
    norms = {}
    for rep in reps:
        ops = list(rep.ideal.all_operations())
        if len(ops) == 1:
            norms[ops[0]] = rep.norm
    return float(np.prod([norms.get(op, 1.0) for op in circuit.all_operations()]))


def pec_expectation(circuit: cirq.AbstractCircuit, executor: Callable[..., float], *,
                    noise_level: Any, num_samples: int, rng: np.random.Generator,
                    representations: Sequence[OperationRepresentation] | None = None
                    ) -> MitigationResult:
    """Probabilistic error cancellation of ``<O>`` with ``mitiq.pec.execute_with_pec``.

    ``num_samples`` circuits are drawn from the quasi-probability representation of the circuit
    (:func:`pec_representations`), executed, and combined as ``γ · mean(sign_k · E_k)``, an
    unbiased estimate when the representation matches the noise. Its standard error is about
    ``γ / sqrt(num_samples)`` times that of one execution: PEC needs ``γ²`` times the samples.

    Args:
        circuit: the circuit, without measurements.
        executor: ``circuit -> float``.
        noise_level: as for :func:`pec_representations`.
        num_samples: sampled circuits (>= 1), each executed once.
        rng: seeds Mitiq's circuit sampling.
        representations: precomputed representations (``noise_level`` is then ignored).

    Example:
        >>> from qmlkit.noise import DensityMatrixExecutor, DepolarizingNoise
        >>> q = cirq.LineQubit(0)
        >>> ex = DensityMatrixExecutor(cirq.Z(q), DepolarizingNoise(p1=0.05))
        >>> res = pec_expectation(cirq.Circuit(cirq.X(q)), ex, noise_level=0.05,
        ...                       num_samples=200, rng=np.random.default_rng(0))
        >>> round(ex(cirq.Circuit(cirq.X(q))), 4), round(res.value, 4), res.executions
        (-0.9333, -1.0023, 200)
    """
    circuit = _check_circuit(circuit)
    executor = _check_executor(executor)
    num_samples = check_int("num_samples", num_samples, minimum=1)
    rng = check_rng("rng", rng)
    reps = (pec_representations(circuit, noise_level) if representations is None
            else list(representations))
    mexec = as_mitiq_executor(executor)
    shots0 = _shots(executor)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No representation found")
        value, data = mitiq.pec.execute_with_pec(
            circuit, mexec, representations=reps, num_samples=num_samples,
            random_state=int(rng.integers(2**31 - 1)), full_output=True)
    gamma = _one_norm(circuit, reps)
    return MitigationResult(value=float(value), method="pec",
                            executions=int(mexec.calls_to_executor),
                            shots=_shots(executor) - shots0,
                            variance_amplification=gamma**2, one_norm=gamma,
                            std_error=float(data["pec_error"]))


# --------------------------------------------------------------------------------------------
# Read-out error mitigation
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class ReadoutCalibration:
    """Single-qubit read-out confusion matrices ``C[read, prepared]`` of some qubits.

    Attributes:
        qubits: the calibrated qubits.
        confusion_matrices: one 2×2 column-stochastic matrix per qubit.
        executions: circuits the calibration executed (0 if exact).
        shots: read-outs it spent.

    Example:
        >>> from qmlkit.noise import ReadoutNoise
        >>> cal = ReadoutCalibration.from_noise_model(ReadoutNoise(0.1, 0.2), cirq.LineQubit.range(1))
        >>> cal.inverse_confusion_matrix(cirq.LineQubit.range(1)).round(4)
        array([[ 1.1429, -0.2857],
               [-0.1429,  1.2857]])
    """

    qubits: tuple[cirq.Qid, ...]
    confusion_matrices: tuple[np.ndarray, ...]
    executions: int = 0
    shots: int = 0
    _index: dict[cirq.Qid, int] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.qubits) != len(self.confusion_matrices):
            raise ValueError("qubits and confusion_matrices must have the same length")
        for i, c in enumerate(self.confusion_matrices):
            m = check_finite_array(f"confusion_matrices[{i}]", c, ndim=2)
            if m.shape != (2, 2) or np.any(m < -1e-12) or not np.allclose(m.sum(axis=0), 1.0):
                raise ValueError(f"confusion_matrices[{i}] must be a 2x2 column-stochastic "
                                 f"matrix, got {m.tolist()}")
        self._index.update({q: i for i, q in enumerate(self.qubits)})

    @classmethod
    def from_noise_model(cls, noise_model: cirq.NoiseModel | None,
                         qubits: Sequence[cirq.Qid]) -> "ReadoutCalibration":
        """The exact confusion matrices of a noise model
        (:func:`qmlkit.noise.readout_confusion_matrices`), at no execution cost."""
        from qmlkit.noise import readout_confusion_matrices

        qubits = tuple(qubits)
        return cls(qubits, tuple(readout_confusion_matrices(noise_model, qubits)))

    def inverse_confusion_matrix(self, qubits: Sequence[cirq.Qid]) -> np.ndarray:
        """The inverse of the tensor product of the matrices of ``qubits`` (in that order):
        ``mitiq.rem.generate_tensored_inverse_confusion_matrix``."""
        missing = [q for q in qubits if q not in self._index]
        if missing:
            raise ValueError(f"qubits not calibrated: {missing}")
        mats = [self.confusion_matrices[self._index[q]] for q in qubits]
        return mitiq.rem.generate_tensored_inverse_confusion_matrix(len(mats), mats)


def calibrate_readout(executor: Any, qubits: Sequence[cirq.Qid]) -> ReadoutCalibration:
    """Measure the single-qubit confusion matrices: prepare ``|0...0>`` and ``|1...1>``, read out.

    Two executions of the executor's ``measure`` (e.g.
    :class:`qmlkit.noise.SamplingExecutor`): all qubits idle, then all flipped by a native
    ``PhasedXZ`` X gate (its gate error enters the estimate, as on hardware). Assumes
    uncorrelated read-out errors.

    Example:
        >>> from qmlkit.noise import ReadoutNoise, SamplingExecutor
        >>> q = cirq.LineQubit.range(2)
        >>> ex = SamplingExecutor(cirq.Z(q[0]), ReadoutNoise(0.05, 0.1), shots=20000,
        ...                       rng=np.random.default_rng(1))
        >>> cal = calibrate_readout(ex, q)
        >>> np.round(cal.confusion_matrices[0], 2), cal.executions
        (array([[0.95, 0.1 ],
               [0.05, 0.9 ]]), 2)
    """
    measure = getattr(executor, "measure", None)
    if not callable(measure):
        raise TypeError("executor must have a measure(circuit) -> mitiq.MeasurementResult "
                        "method (e.g. qmlkit.noise.SamplingExecutor)")
    qubits = tuple(qubits)
    if not qubits:
        raise ValueError("qubits must not be empty")
    flip = cirq.PhasedXZGate(x_exponent=1.0, z_exponent=0.0, axis_phase_exponent=0.0)
    shots0 = _shots(executor)
    freq = []
    for prepare in ([cirq.I(q) for q in qubits], [flip(q) for q in qubits]):
        result = measure(cirq.Circuit(prepare, cirq.measure(*qubits, key="calibration")))
        freq.append(np.asarray(result.asarray, dtype=float).mean(axis=0))  # P(read 1)
    mats = tuple(np.array([[1 - freq[0][i], 1 - freq[1][i]], [freq[0][i], freq[1][i]]])
                 for i in range(len(qubits)))
    return ReadoutCalibration(qubits, mats, executions=2, shots=_shots(executor) - shots0)


def rem_expectation(circuit: cirq.AbstractCircuit, executor: Any, *,
                    calibration: ReadoutCalibration, rng: np.random.Generator
                    ) -> MitigationResult:
    """Read-out error mitigation with ``mitiq.rem.execute_with_rem``.

    The executor's read-outs of the observable's qubits (``executor.measure``) are turned into
    an empirical distribution, multiplied by the inverse confusion matrix, projected on the
    closest probability distribution and resampled (Mitiq draws the resample from NumPy's
    global generator; it is seeded from ``rng`` here and restored afterwards, and the resample
    adds shot noise of its own).

    Args:
        circuit: the circuit, without measurements.
        executor: an executor with ``measure`` and ``observable`` (e.g.
            :class:`qmlkit.noise.SamplingExecutor`).
        calibration: the :class:`ReadoutCalibration` of (at least) the observable's qubits.
        rng: seeds the resampling.

    Example:
        >>> from qmlkit.noise import ReadoutNoise, SamplingExecutor
        >>> q = cirq.LineQubit.range(2)
        >>> noise = ReadoutNoise(0.05, 0.1)
        >>> ex = SamplingExecutor(cirq.Z(q[0]) * cirq.Z(q[1]), noise, shots=20000,
        ...                       rng=np.random.default_rng(2))
        >>> c = cirq.Circuit(cirq.X(q[0]), cirq.I(q[1]))      # ideal <Z0 Z1> = -1
        >>> cal = ReadoutCalibration.from_noise_model(noise, q)
        >>> round(ex(c), 2), round(rem_expectation(c, ex, calibration=cal,
        ...                                         rng=np.random.default_rng(3)).value, 2)
        (-0.72, -0.99)
    """
    circuit = _check_circuit(circuit)
    if not isinstance(calibration, ReadoutCalibration):
        raise TypeError(f"calibration must be a ReadoutCalibration, "
                        f"got {type(calibration).__name__}")
    rng = check_rng("rng", rng)
    obs = _observable_of(executor)
    observable, constant = _mitiq_observable(obs, circuit)
    # Mitiq measures the observable's qubits in sorted order: the matrix follows that order.
    inverse = calibration.inverse_confusion_matrix(sorted(obs.qubits))
    mexec = as_mitiq_executor(executor, returns="measurements")
    shots0 = _shots(executor)
    with _seeded_global_numpy(rng):
        value = constant + mitiq.rem.execute_with_rem(circuit, mexec, observable,
                                                      inverse_confusion_matrix=inverse)
    return MitigationResult(value=float(np.real(value)), method="rem",
                            executions=int(mexec.calls_to_executor),
                            shots=_shots(executor) - shots0)


# --------------------------------------------------------------------------------------------
# Mitigated cost functions
# --------------------------------------------------------------------------------------------

class MitigatedExpectation:
    """A cost function ``θ -> mitigated <O>(θ)``; see :func:`mitigated_expectation_fn`.

    Attributes:
        evaluations: calls so far.
        executions: circuit executions they spent.
        shots: read-outs they spent.
        last_result: the :class:`MitigationResult` of the last call.
    """

    def __init__(self, build: Callable[[np.ndarray], cirq.Circuit], executor: Any,
                 method: str, options: dict[str, Any], n_params: int | None) -> None:
        self._build = build
        self.executor = executor
        self.method = method
        self.options = options
        self.n_params = n_params
        self.evaluations = 0
        self.executions = 0
        self.shots = 0
        self.last_result: MitigationResult | None = None

    def __call__(self, theta: Sequence[float] | np.ndarray) -> float:
        x = check_finite_array("theta", theta, ndim=1)
        if self.n_params is not None and x.size != self.n_params:
            raise ValueError(f"theta must have length {self.n_params}, got {x.size}")
        circuit = self._build(x)
        if self.method == "zne":
            res = zne_expectation(circuit, self.executor, **self.options)
        elif self.method == "pec":
            res = pec_expectation(circuit, self.executor, **self.options)
        elif self.method == "rem":
            res = rem_expectation(circuit, self.executor, **self.options)
        else:
            res = unmitigated_expectation(circuit, self.executor)
        self.evaluations += 1
        self.executions += res.executions
        self.shots += res.shots
        self.last_result = res
        return res.value


def mitigated_expectation_fn(circuit_builder: cirq.AbstractCircuit | Callable[..., Any],
                             executor: Any, *, method: str = "zne",
                             symbols: Sequence[sympy.Symbol | str] | None = None,
                             **options: Any) -> MitigatedExpectation:
    """Turn a parameterised model into a cost function of its parameters, mitigated.

    Args:
        circuit_builder: either a callable ``theta -> cirq.Circuit``, or a symbolic
            ``cirq.Circuit`` whose ``symbols`` take the values of ``theta``.
        executor: ``circuit -> float`` (any qmlkit executor, TFQ's included).
        method: one of :data:`METHODS`: ``"zne"`` (:func:`zne_expectation`), ``"pec"``,
            ``"rem"`` or ``"none"``.
        symbols: the circuit's symbols in ``theta`` order (symbolic circuits only).
        **options: keyword arguments of the method's function (``scale_factors``, ``rng``...).

    The result is a plain ``f(theta) -> float`` for :mod:`qmlkit.gradients` (counting its
    executions and shots). Note that a parameter-shift gradient of a *folded* circuit's value is
    not exact: folding repeats each parameterised gate (``G G† G``), so the noisy value is no
    longer a single sinusoid in each parameter; finite differences or SPSA are safe.

    Example:
        >>> from qmlkit.noise import DensityMatrixExecutor, DepolarizingNoise
        >>> q = cirq.LineQubit(0)
        >>> a = sympy.Symbol("a")
        >>> ex = DensityMatrixExecutor(cirq.Z(q), DepolarizingNoise(p1=0.02))
        >>> f = mitigated_expectation_fn(cirq.Circuit(cirq.rx(a)(q)), ex, symbols=[a],
        ...                              scale_factors=[1, 3, 5], factory="richardson")
        >>> round(f([np.pi / 3]), 4), f.executions       # ideal cos(π/3) = 0.5
        (0.5, 3)
    """
    method = check_choice("method", method, METHODS)
    executor = _check_executor(executor)
    if isinstance(circuit_builder, cirq.AbstractCircuit):
        circuit = circuit_builder
        if symbols is None:
            raise TypeError("symbols is required with a symbolic circuit")
        syms = [sympy.Symbol(s) if isinstance(s, str) else s for s in symbols]
        if len(set(syms)) != len(syms):
            raise ValueError("symbols must be distinct")
        missing = cirq.parameter_symbols(circuit) - set(syms)
        if missing:
            raise ValueError(f"circuit has symbols missing from symbols: {sorted(map(str, missing))}")

        def build(theta: np.ndarray) -> cirq.Circuit:
            resolver = {s: float(v) for s, v in zip(syms, theta, strict=True)}
            return cirq.resolve_parameters(circuit, resolver)
        return MitigatedExpectation(build, executor, method, options, len(syms))
    if not callable(circuit_builder):
        raise TypeError("circuit_builder must be a cirq.Circuit or a callable theta -> circuit, "
                        f"got {type(circuit_builder).__name__}")
    if symbols is not None:
        raise ValueError("symbols is only for a symbolic circuit_builder")

    def build_with(theta: np.ndarray) -> cirq.Circuit:
        out = circuit_builder(theta)
        if not isinstance(out, cirq.AbstractCircuit):
            raise TypeError(f"circuit_builder must return a cirq.Circuit, "
                            f"got {type(out).__name__}")
        return out
    return MitigatedExpectation(build_with, executor, method, options, None)
