"""Data encodings: angle, amplitude, basis, ZZ (IQP) and Hamiltonian encodings (review §6.1, Table 2).

Every encoding returns a :class:`cirq.Circuit` that prepares the encoded state from ``|0...0>``;
:func:`encoding_resources` reports what it costs (qubits, depth, one- and two-qubit gates after
decomposing to one- and two-qubit gates), which is the comparison of the review's Table 2:

* **basis** -- ``n`` bits on ``n`` qubits, at most ``n`` X gates, depth 1;
* **angle** -- ``n`` features on ``n`` qubits, ``n`` rotations, depth 1 (per re-upload);
* **amplitude** -- ``2**n`` features on ``n`` qubits, but ``O(2**n)`` CNOTs and depth;
* **ZZ / IQP** -- ``n`` features on ``n`` qubits, ``O(n**2)`` two-qubit gates per repetition for
  full entanglement; conjectured hard to simulate classically (Havlíček et al. 2019);
* **Hamiltonian** -- ``n`` features as couplings or fields of ``H(x)``, Trotterised
  ``exp(-i t H(x))``, depth growing with the number of Trotter steps.

Angle and ZZ encodings also accept :mod:`sympy` symbols instead of numbers: the symbolic circuit
is built once and resolved per sample (Cirq's ``cirq.resolve_parameters``, or TensorFlow Quantum's
batched ops, which feed one value per symbol). Qubit ``0`` is the most significant bit of a
state vector, as in :mod:`qmlkit.circuits`. Importing this module does not import TensorFlow.

Example:
    >>> import numpy as np
    >>> from qmlkit.circuits import state_vector
    >>> psi = state_vector(amplitude_encoding([0.6, 0.0, 0.0, 0.8]))
    >>> np.round(np.abs(psi), 6)
    array([0.6, 0. , 0. , 0.8])
    >>> encoding_resources(basis_encoding([1, 0, 1]))
    EncodingResources(n_qubits=3, depth=1, single_qubit_gates=2, two_qubit_gates=0, total_gates=2)
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import cirq
import numpy as np
import sympy

from qmlkit._validation import (
    check_bool,
    check_choice,
    check_finite_array,
    check_float,
    check_identifier,
    check_int,
)

__all__ = [
    "EncodingResources",
    "amplitude_encoding",
    "angle_encoding",
    "angle_encoding_symbols",
    "basis_encoding",
    "encoding_resources",
    "hamiltonian_encoding",
    "ising_feature_hamiltonian",
    "pauli_exponential",
    "zz_feature_map",
    "zz_pair_symbols",
    "zz_pair_values",
    "zz_pairs",
]

#: A feature: a real number, or a sympy expression to be resolved later.
Feature = float | sympy.Expr

_ROTATIONS = ("X", "Y", "Z")
_ENTANGLEMENTS = ("full", "linear", "circular")
_ATOL = 1e-12
#: Probabilities below this are treated as exact zeros by amplitude_encoding.
_WEIGHT_EPS = 1e-30

# --------------------------------------------------------------------------------------------
# argument helpers (shared with qmlkit.ansatz)
# --------------------------------------------------------------------------------------------


def _check_qubits(name: str, qubits: Any, n: int | None = None) -> list[cirq.Qid]:
    """Return ``qubits`` as a list of distinct :class:`cirq.Qid`, of length ``n`` if given."""
    if isinstance(qubits, (str, bytes)) or not isinstance(qubits, (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a sequence of cirq.Qid, got {type(qubits).__name__}")
    out = list(qubits)
    for i, q in enumerate(out):
        if not isinstance(q, cirq.Qid):
            raise TypeError(f"{name}[{i}] must be a cirq.Qid, got {type(q).__name__} {q!r}")
    if len(set(out)) != len(out):
        raise ValueError(f"{name} must hold distinct qubits, got {out}")
    if n is not None and len(out) != n:
        raise ValueError(f"{name} must hold exactly {n} qubits (one per feature), got {len(out)}")
    if not out:
        raise ValueError(f"{name} must not be empty")
    return out


def _default_qubits(name: str, qubits: Any, n: int) -> list[cirq.Qid]:
    return cirq.LineQubit.range(n) if qubits is None else _check_qubits(name, qubits, n)


def _check_features(name: str, features: Any, *, symbolic: bool = True) -> list[Feature]:
    """Return a 1-D list of finite floats and (if ``symbolic``) sympy expressions."""
    if isinstance(features, (str, bytes)) or not isinstance(features, (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a 1-D sequence of numbers, got {type(features).__name__}")
    if isinstance(features, np.ndarray) and features.ndim != 1:
        raise ValueError(f"{name} must have 1 dimension(s), got shape {features.shape}")
    if len(features) == 0:
        raise ValueError(f"{name} must not be empty")
    out: list[Feature] = []
    for i, v in enumerate(features):
        if isinstance(v, sympy.Basic) and v.free_symbols:
            if not symbolic:
                raise TypeError(f"{name}[{i}] must be a number here, got the sympy expression {v}")
            if not isinstance(v, sympy.Expr):
                raise TypeError(f"{name}[{i}] must be a sympy expression, got {type(v).__name__}")
            out.append(v)
            continue
        if isinstance(v, sympy.Basic):
            if not v.is_real:
                raise ValueError(f"{name}[{i}] must be real, got {v}")
            v = float(v)
        out.append(check_float(f"{name}[{i}]", v))
    return out


def _is_zero(value: Feature) -> bool:
    return isinstance(value, float) and abs(value) < _ATOL


# --------------------------------------------------------------------------------------------
# resources
# --------------------------------------------------------------------------------------------

_TWO_QUBIT_GATES = (
    cirq.CZPowGate,
    cirq.CXPowGate,
    cirq.SwapPowGate,
    cirq.ISwapPowGate,
    cirq.XXPowGate,
    cirq.YYPowGate,
    cirq.ZZPowGate,
    cirq.FSimGate,
    cirq.PhasedISwapPowGate,
    cirq.PhasedFSimGate,
)


@dataclass(frozen=True)
class EncodingResources:
    """What a circuit costs once decomposed into one- and two-qubit gates.

    Attributes:
        n_qubits: qubits the circuit acts on.
        depth: number of moments of the decomposed circuit (gates packed as early as possible).
        single_qubit_gates: one-qubit gates (identities excluded).
        two_qubit_gates: two-qubit gates.
        total_gates: all counted gates.

    Example:
        >>> EncodingResources(2, 2, 2, 1, 3).two_qubit_gates
        1
    """

    n_qubits: int
    depth: int
    single_qubit_gates: int
    two_qubit_gates: int
    total_gates: int


def _keep(op: cirq.Operation) -> bool:
    n = cirq.num_qubits(op)
    if n <= 1:
        return True
    return n == 2 and isinstance(op.gate, _TWO_QUBIT_GATES)


def encoding_resources(circuit: cirq.AbstractCircuit) -> EncodingResources:
    """Qubits, depth and gate counts of ``circuit`` after decomposing it to 1- and 2-qubit gates.

    Operations on three or more qubits, and two-qubit operations other than the standard
    two-qubit gates (CZ, CNOT, SWAP, iSWAP, XX/YY/ZZ, fSim; e.g. a two-qubit
    ``cirq.PauliStringPhasor``), are decomposed with :func:`cirq.decompose`. Identity gates and
    global phases are not counted, and the depth is that of the remaining gates re-inserted as
    early as possible. ``n_qubits`` counts every qubit of the circuit, identities included.

    Args:
        circuit: any Cirq circuit, symbolic or resolved.

    Raises:
        TypeError: if ``circuit`` is not a Cirq circuit.

    Example:
        >>> import cirq
        >>> q = cirq.LineQubit.range(3)
        >>> encoding_resources(cirq.Circuit(cirq.CCZ(*q))).two_qubit_gates > 0
        True
    """
    if not isinstance(circuit, cirq.AbstractCircuit):
        raise TypeError(f"circuit must be a cirq.Circuit, got {type(circuit).__name__}")
    ops = cirq.decompose(circuit, keep=_keep, on_stuck_raise=None)
    counted = [
        op for op in ops
        if cirq.num_qubits(op) > 0 and not isinstance(op.gate, cirq.IdentityGate)
    ]
    one = sum(1 for op in counted if cirq.num_qubits(op) == 1)
    two = sum(1 for op in counted if cirq.num_qubits(op) == 2)
    return EncodingResources(
        n_qubits=len(circuit.all_qubits()),
        depth=len(cirq.Circuit(counted)),
        single_qubit_gates=one,
        two_qubit_gates=two,
        total_gates=len(counted),
    )


def _pad_identities(circuit: cirq.Circuit, qubits: Sequence[cirq.Qid]) -> cirq.Circuit:
    """Add identity gates on untouched qubits, so the circuit spans the whole register."""
    idle = [q for q in qubits if q not in circuit.all_qubits()]
    if idle:
        circuit.insert(0, [cirq.I(q) for q in idle])
    return circuit


# --------------------------------------------------------------------------------------------
# angle encoding
# --------------------------------------------------------------------------------------------


def angle_encoding_symbols(n_features: int, *, prefix: str = "x") -> list[sympy.Symbol]:
    """Symbols ``prefix_0, ..., prefix_{n-1}`` for a symbolic angle (or ZZ) encoding.

    Build the circuit once with these symbols and resolve it per sample, e.g. by feeding the
    feature values as TensorFlow Quantum symbol values in this order.

    Args:
        n_features: number of features (>= 1).
        prefix: the symbols' common name.

    Example:
        >>> angle_encoding_symbols(3)
        [x_0, x_1, x_2]
    """
    n = check_int("n_features", n_features, minimum=1)
    prefix = check_identifier("prefix", prefix)
    return [sympy.Symbol(f"{prefix}_{i}") for i in range(n)]


def angle_encoding(features: Sequence[Feature] | np.ndarray, *, rotation: str = "X",
                   qubits: Sequence[cirq.Qid] | None = None,
                   reuploads: int = 1) -> cirq.Circuit:
    """Angle (rotation) encoding: feature ``x_i`` rotates qubit ``i`` by ``R_a(x_i)``.

    ``R_a(x) = exp(-i x σ_a / 2)`` with ``a`` = ``rotation``. A Z rotation of ``|0>`` only
    changes a global phase, so for ``rotation="Z"`` each qubit first gets a Hadamard and the
    encoded state is ``(|0> + e^{i x}|1>)/√2`` up to global phase. The encoding is ``4π``-periodic
    as a unitary and ``2π``-periodic as a state (up to global phase).

    ``reuploads`` repeats the encoding block (for ``"Z"`` the Hadamard is part of the block).
    Without trainable gates in between, X and Y re-uploads just add the angles
    (``R_X(x)^r = R_X(r x)``); data re-uploading models interleave trainable layers between
    ``reuploads=1`` blocks instead.

    Args:
        features: one real number or sympy expression per qubit.
        rotation: ``"X"``, ``"Y"`` or ``"Z"``.
        qubits: the qubits, one per feature; ``cirq.LineQubit.range(len(features))`` by default.
        reuploads: number of repetitions of the encoding block (>= 1).

    Raises:
        TypeError: for a non-sequence or non-numeric feature.
        ValueError: for NaN/inf features, an unknown rotation, ``reuploads < 1`` or a number of
            qubits different from the number of features.

    Example:
        >>> print(angle_encoding([0.5, 1.0], rotation="Y"))
        0: ───Ry(0.159π)───
        <BLANKLINE>
        1: ───Ry(0.318π)───
    """
    values = _check_features("features", features)
    rotation = check_choice("rotation", rotation, _ROTATIONS)
    reps = check_int("reuploads", reuploads, minimum=1)
    q = _default_qubits("qubits", qubits, len(values))
    gate = {"X": cirq.rx, "Y": cirq.ry, "Z": cirq.rz}[rotation]
    circuit = cirq.Circuit()
    for _ in range(reps):
        if rotation == "Z":
            circuit.append(cirq.Moment(cirq.H.on_each(q)))
        circuit.append(cirq.Moment(gate(x)(qi) for qi, x in zip(q, values, strict=True)))
    return circuit


# --------------------------------------------------------------------------------------------
# basis encoding
# --------------------------------------------------------------------------------------------


def basis_encoding(bits: Sequence[int] | str | int, *, n_qubits: int | None = None,
                   qubits: Sequence[cirq.Qid] | None = None) -> cirq.Circuit:
    """Basis encoding: the bitstring ``b`` becomes the basis state ``|b>`` (X on every 1).

    Qubit ``0`` carries the first bit (the most significant bit of an integer), so the state
    vector of the result is the basis vector at index ``int(bits, 2)``. Qubits whose bit is 0
    get an identity gate, so the circuit spans the whole register (identities are free in
    :func:`encoding_resources`).

    Args:
        bits: a sequence of 0/1, a string such as ``"0110"``, or a non-negative integer (then
            ``n_qubits`` or ``qubits`` gives the width).
        n_qubits: width for an integer ``bits``; must match the length of a sequence.
        qubits: the qubits, one per bit; ``cirq.LineQubit.range(n)`` by default.

    Raises:
        TypeError: for bits that are neither a sequence nor an integer.
        ValueError: for entries other than 0/1, an integer that does not fit, or mismatched
            widths.

    Example:
        >>> from qmlkit.circuits import state_vector
        >>> int(np.argmax(np.abs(state_vector(basis_encoding(5, n_qubits=3)))))
        5
    """
    width = None if n_qubits is None else check_int("n_qubits", n_qubits, minimum=1)
    if qubits is not None:
        qs = _check_qubits("qubits", qubits)
        if width is not None and width != len(qs):
            raise ValueError(f"n_qubits={width} does not match the {len(qs)} qubits given")
        width = len(qs)
    if isinstance(bits, numbers.Integral) and not isinstance(bits, (bool, np.bool_)):
        value = check_int("bits", bits, minimum=0)
        if width is None:
            raise ValueError("bits is an integer: give its width with n_qubits or qubits")
        if value >= 2**width:
            raise ValueError(f"bits={value} does not fit in {width} qubits (n_qubits)")
        vec = [(value >> (width - 1 - k)) & 1 for k in range(width)]
    elif isinstance(bits, str):
        if not bits or set(bits) - {"0", "1"}:
            raise ValueError(f"bits must be a non-empty string of 0s and 1s, got {bits!r}")
        vec = [int(c) for c in bits]
    elif isinstance(bits, (Sequence, np.ndarray)):
        vec = []
        for i, b in enumerate(bits):
            if isinstance(b, (bool, np.bool_)):
                b = int(b)
            b = check_int(f"bits[{i}]", b, minimum=0, maximum=1)
            vec.append(b)
        if not vec:
            raise ValueError("bits must not be empty")
    else:
        raise TypeError(f"bits must be a sequence of 0/1, a string or an int, got "
                        f"{type(bits).__name__}")
    if width is not None and width != len(vec):
        raise ValueError(f"bits has {len(vec)} bits but n_qubits/qubits give {width} qubits")
    q = cirq.LineQubit.range(len(vec)) if qubits is None else qs
    return cirq.Circuit(cirq.Moment(cirq.X(qi) if b else cirq.I(qi) for qi, b in zip(q, vec,
                                                                                   strict=True)))


# --------------------------------------------------------------------------------------------
# amplitude encoding (Möttönen et al. 2004)
# --------------------------------------------------------------------------------------------


def _gray(i: int) -> int:
    return i ^ (i >> 1)


def _fill_free_angles(angles: np.ndarray, defined: np.ndarray) -> np.ndarray:
    """Choose the angles that do not matter (zero-weight branches) to save gates.

    If all angles that matter are equal, the free ones take that value too (the rotation then
    needs no CNOT); otherwise they are set to 0.
    """
    out = np.asarray(angles, dtype=float).copy()
    fixed = out[defined]
    fill = fixed[0] if fixed.size and np.allclose(fixed, fixed[0], atol=_ATOL, rtol=0.0) else 0.0
    out[~defined] = fill
    return out


def _uniformly_controlled_rotation(axis: str, angles: np.ndarray, controls: Sequence[cirq.Qid],
                                   target: cirq.Qid) -> list[cirq.Operation]:
    """``R_axis(angles[c])`` on ``target`` for each value ``c`` of ``controls`` (first = MSB).

    Möttönen et al. (2004): ``2**k`` rotations interleaved with ``2**k`` CNOTs whose controls
    follow a Gray code; the rotation angles solve ``angles = M θ`` with
    ``M[c, i] = (-1)**popcount(c & gray(i))``, whose inverse is ``M.T / 2**k``.
    """
    rot = cirq.ry if axis == "Y" else cirq.rz
    if np.all(np.abs(angles) < _ATOL):
        return []
    k = len(controls)
    if k == 0 or np.allclose(angles, angles[0], atol=_ATOL, rtol=0.0):
        return [rot(float(angles[0]))(target)]
    size = 2**k
    idx = np.arange(size)
    gray = idx ^ (idx >> 1)
    parity = np.array([[bin(c & g).count("1") & 1 for g in gray] for c in idx])
    m = 1 - 2 * parity
    theta = m.T @ angles / size
    ops: list[cirq.Operation] = []
    for i in range(size):
        ops.append(rot(float(theta[i]))(target))
        bit = (_gray(i) ^ _gray((i + 1) % size)).bit_length() - 1
        ops.append(cirq.CNOT(controls[k - 1 - bit], target))
    return ops


def amplitude_encoding(vector: Sequence[complex] | np.ndarray, *, normalize: bool = False,
                       pad: bool = True, qubits: Sequence[cirq.Qid] | None = None,
                       global_phase: bool = False, atol: float = 1e-8) -> cirq.Circuit:
    """Amplitude encoding: a circuit preparing ``Σ_i v_i |i>`` exactly, from ``|0...0>``.

    Uses the Möttönen et al. (2004) construction: a tree of uniformly controlled ``R_y``
    rotations sets the magnitudes, qubit by qubit, and uniformly controlled ``R_z`` rotations
    set the phases; each uniformly controlled rotation is decomposed into ``R_y``/``R_z`` and
    CNOT gates (at most ``2**n - 2`` CNOTs for the magnitudes and as many for the phases).
    A real vector (every imaginary part exactly zero), signed or not, needs no ``R_z`` at all:
    the last ``R_y`` rotations take signed angles ``2 atan2(v_{2i+1}, v_{2i})``, which set the
    signs, so it costs at most ``2**n - 2`` CNOTs and its state is exactly ``v``.
    Rotations whose angles all vanish are skipped and those with a single common angle need no
    CNOT; angles of branches with zero amplitude are free and chosen to allow that (a basis
    vector costs at most ``n`` rotations). The state equals ``v`` up to a global phase, or
    exactly with ``global_phase=True`` (adds a ``cirq.GlobalPhaseGate`` where one is needed).

    Args:
        vector: ``2**n`` real or complex amplitudes (shorter vectors are zero-padded).
        normalize: divide ``vector`` by its norm instead of requiring a unit vector.
        pad: zero-pad to the next power of two (or to ``2**len(qubits)``); if False the length
            must already be a power of two (matching ``qubits`` if given).
        qubits: the ``n`` qubits; ``cirq.LineQubit.range(n)`` by default.
        global_phase: append the global phase so the state is exactly ``v``.
        atol: tolerance on the squared norm when ``normalize`` is False.

    Raises:
        TypeError: for a non-numeric vector.
        ValueError: for NaN/inf entries, the zero vector, a non-normalised vector without
            ``normalize=True``, or a length that does not fit the qubits.

    Example:
        >>> from qmlkit.circuits import state_vector
        >>> v = np.array([1, 1j, -1, 0]) / np.sqrt(3)
        >>> psi = state_vector(amplitude_encoding(v))
        >>> round(float(abs(np.vdot(v, psi))), 10)
        1.0
    """
    v = check_finite_array("vector", vector, ndim=1, dtype=np.complex128)
    normalize = check_bool("normalize", normalize)
    pad = check_bool("pad", pad)
    global_phase = check_bool("global_phase", global_phase)
    atol = check_float("atol", atol, minimum=0.0)
    if v.size == 0:
        raise ValueError("vector must not be empty")
    if qubits is not None:
        q = _check_qubits("qubits", qubits)
        n = len(q)
        if v.size > 2**n:
            raise ValueError(f"vector has {v.size} entries, more than 2**{n} for {n} qubits")
    else:
        n = max(1, int(np.ceil(np.log2(v.size))))
        q = cirq.LineQubit.range(n)
    if v.size != 2**n:
        if not pad:
            raise ValueError(f"vector length {v.size} must be 2**{n} = {2**n} when pad=False")
        v = np.concatenate([v, np.zeros(2**n - v.size, dtype=np.complex128)])
    norm2 = float(np.vdot(v, v).real)
    if norm2 < 1e-300 or not np.any(np.abs(v) > 0):
        raise ValueError("vector must not be the zero vector")
    if not normalize and abs(norm2 - 1.0) > atol:
        raise ValueError(f"vector must be normalised (squared norm {norm2:.6g}); "
                         "pass normalize=True to rescale it")
    v = v / np.sqrt(norm2)

    ops: list[cirq.Operation] = []
    p = np.abs(v) ** 2
    real = not np.any(v.imag)
    for k in range(n):
        halves = p.reshape(2**k, 2, 2 ** (n - k - 1)).sum(axis=2)
        if real and k == n - 1:
            # signed leaves: cos(θ/2) = v_{2i}/r and sin(θ/2) = v_{2i+1}/r set the signs too
            leaves = v.real.reshape(2**k, 2)
            angles = 2.0 * np.arctan2(leaves[:, 1], leaves[:, 0])
        else:
            angles = 2.0 * np.arctan2(np.sqrt(halves[:, 1]), np.sqrt(halves[:, 0]))
        angles = _fill_free_angles(angles, halves.sum(axis=1) > _WEIGHT_EPS)
        ops += _uniformly_controlled_rotation("Y", angles, q[:k], q[k])
    if real:  # the R_y tree alone prepares v exactly, signs and global phase included
        return _pad_identities(cirq.Circuit(ops), q)
    omega = np.where(p > _WEIGHT_EPS, np.angle(v), 0.0)
    weight = p
    for k in range(n - 1, -1, -1):
        w = weight.reshape(2**k, 2) > _WEIGHT_EPS
        pairs = omega.reshape(2**k, 2)
        alpha = _fill_free_angles(pairs[:, 1] - pairs[:, 0], w.all(axis=1))
        ops += _uniformly_controlled_rotation("Z", alpha, q[:k], q[k])
        # diag(e^{iω0}, e^{iω1}) = e^{i(ω0+ω1)/2} Rz(ω1 - ω0); where one half carries no weight
        # its phase is free, and the common phase follows the other half.
        omega = np.where(w.all(axis=1), pairs.mean(axis=1),
                         np.where(w[:, 1], pairs[:, 1] - alpha / 2, pairs[:, 0] + alpha / 2))
        weight = weight.reshape(2**k, 2).sum(axis=1)
    circuit = _pad_identities(cirq.Circuit(ops), q)
    if global_phase and abs(omega[0]) > _ATOL:
        circuit.append(cirq.global_phase_operation(np.exp(1j * omega[0])))
    return circuit


# --------------------------------------------------------------------------------------------
# ZZ feature map (Havlíček et al. 2019)
# --------------------------------------------------------------------------------------------


def zz_pairs(n_qubits: int, *, entanglement: str = "full") -> list[tuple[int, int]]:
    """Qubit pairs coupled by :func:`zz_feature_map`, in qiskit's order.

    ``"full"``: all ``i < j``; ``"linear"``: ``(i, i+1)``; ``"circular"``: ``(n-1, 0)`` followed
    by the linear pairs (for ``n > 2``; equal to linear otherwise).

    Example:
        >>> zz_pairs(3, entanglement="circular")
        [(2, 0), (0, 1), (1, 2)]
    """
    n = check_int("n_qubits", n_qubits, minimum=1)
    entanglement = check_choice("entanglement", entanglement, _ENTANGLEMENTS)
    linear = [(i, i + 1) for i in range(n - 1)]
    if entanglement == "full":
        return [(i, j) for i in range(n) for j in range(i + 1, n)]
    if entanglement == "circular" and n > 2:
        return [(n - 1, 0), *linear]
    return linear


def _pair_map(a: Feature, b: Feature) -> Feature:
    return (np.pi - a) * (np.pi - b)


def zz_pair_values(features: Sequence[float] | np.ndarray, *,
                   entanglement: str = "full") -> np.ndarray:
    """``φ(x_i, x_j) = (π - x_i)(π - x_j)`` for each pair of :func:`zz_pairs`.

    TensorFlow Quantum resolves only gate parameters of the form ``number · symbol``, so a
    TFQ-batched ZZ feature map uses one symbol per pair (:func:`zz_pair_symbols`, passed as
    ``pair_features``) and feeds these values next to the features.

    Example:
        >>> zz_pair_values([np.pi, 0.0, 0.0], entanglement="linear").round(4)
        array([0.    , 9.8696])
    """
    x = _check_features("features", features, symbolic=False)
    pairs = zz_pairs(len(x), entanglement=entanglement)
    return np.array([_pair_map(x[i], x[j]) for i, j in pairs], dtype=float)


def zz_pair_symbols(n_qubits: int, *, entanglement: str = "full",
                    prefix: str = "phi") -> list[sympy.Symbol]:
    """One symbol ``prefix_i_j`` per pair of :func:`zz_pairs` (see :func:`zz_pair_values`).

    Example:
        >>> zz_pair_symbols(3, entanglement="linear")
        [phi_0_1, phi_1_2]
    """
    prefix = check_identifier("prefix", prefix)
    return [sympy.Symbol(f"{prefix}_{i}_{j}")
            for i, j in zz_pairs(n_qubits, entanglement=entanglement)]


def _phase(angle: Feature) -> cirq.ZPowGate:
    """The phase gate ``P(λ) = diag(1, e^{iλ})``."""
    return cirq.ZPowGate(exponent=angle / np.pi)


def zz_feature_map(features: Sequence[Feature] | np.ndarray, *, reps: int = 2,
                   entanglement: str = "full", qubits: Sequence[cirq.Qid] | None = None,
                   pair_features: Sequence[Feature] | np.ndarray | None = None) -> cirq.Circuit:
    """The ZZ (IQP-type) feature map of Havlíček et al. (2019), as qiskit's ``zz_feature_map``.

    Each of the ``reps`` repetitions applies ``H`` on every qubit, ``P(2 x_i)`` on qubit ``i``,
    and for each pair ``(i, j)`` of :func:`zz_pairs` the sequence
    ``CX(i, j) · P(2 φ_ij)`` on ``j`` ``· CX(i, j)``, i.e. ``exp(i φ_ij ...)`` diagonal in the
    computational basis, with ``φ_ij = (π - x_i)(π - x_j)``. Here ``P(λ) = diag(1, e^{iλ})``
    (``cirq.ZPowGate(exponent=λ/π)``), as qiskit's ``PhaseGate``.

    With sympy symbols as features the pair angles are polynomials, which Cirq resolves but
    TensorFlow Quantum cannot serialise; pass ``pair_features`` (e.g. :func:`zz_pair_symbols`)
    to use one value or symbol per pair instead of ``(π - x_i)(π - x_j)``.

    Args:
        features: one real number or sympy expression per qubit.
        reps: number of repetitions (>= 1).
        entanglement: ``"full"``, ``"linear"`` or ``"circular"``.
        qubits: the qubits; ``cirq.LineQubit.range(len(features))`` by default.
        pair_features: optional ``φ_ij`` values, one per pair of :func:`zz_pairs`.

    Raises:
        ValueError: for NaN/inf features, ``reps < 1``, an unknown entanglement, mismatched
            qubits or a wrong number of pair features.

    Example:
        >>> c = zz_feature_map([0.1, 0.2, 0.3], reps=1, entanglement="linear")
        >>> encoding_resources(c).two_qubit_gates
        4
    """
    x = _check_features("features", features)
    reps = check_int("reps", reps, minimum=1)
    pairs = zz_pairs(len(x), entanglement=entanglement)
    q = _default_qubits("qubits", qubits, len(x))
    if pair_features is None:
        phis = [_pair_map(x[i], x[j]) for i, j in pairs]
    else:
        if isinstance(pair_features, (Sequence, np.ndarray)) and len(pair_features) == 0:
            phis = []
        else:
            phis = _check_features("pair_features", pair_features)
        if len(phis) != len(pairs):
            raise ValueError(f"pair_features must hold {len(pairs)} values (one per pair of "
                             f"entanglement={entanglement!r}), got {len(phis)}")
    circuit = cirq.Circuit()
    for _ in range(reps):
        circuit.append(cirq.Moment(cirq.H.on_each(q)))
        circuit.append(cirq.Moment(_phase(2 * xi)(qi) for qi, xi in zip(q, x, strict=True)))
        for (i, j), phi in zip(pairs, phis, strict=True):
            circuit.append([cirq.CNOT(q[i], q[j]), _phase(2 * phi)(q[j]), cirq.CNOT(q[i], q[j])])
    return circuit


# --------------------------------------------------------------------------------------------
# Hamiltonian encoding
# --------------------------------------------------------------------------------------------


def pauli_exponential(pauli_string: cirq.PauliString, theta: Feature) -> list[cirq.Operation]:
    """Elementary gates implementing ``exp(-i θ P)`` for a Pauli string ``P`` (coefficient ±1).

    Each factor is rotated to Z (``H`` for X, ``R_x(π/2)`` for Y), a CNOT ladder over the
    qubits in sorted order collects the parity on the last one, which gets ``R_z(2θ)``, and
    everything is undone. The identity
    string gives no gates (only a global phase ``e^{-iθ}``). ``θ`` may be a sympy expression.

    Example:
        >>> q = cirq.LineQubit.range(2)
        >>> ops = pauli_exponential(cirq.Z(q[0]) * cirq.Z(q[1]), 0.3)
        >>> np.allclose(cirq.unitary(cirq.Circuit(ops)),
        ...             np.diag(np.exp(-0.3j * np.array([1, -1, -1, 1]))))
        True
    """
    if not isinstance(pauli_string, cirq.PauliString):
        raise TypeError(f"pauli_string must be a cirq.PauliString, got "
                        f"{type(pauli_string).__name__}")
    coeff = complex(pauli_string.coefficient)
    if abs(abs(coeff) - 1.0) > 1e-12 or abs(coeff.imag) > 1e-12:
        raise ValueError(f"pauli_string must have coefficient ±1, got {coeff}")
    if not (isinstance(theta, sympy.Expr) and theta.free_symbols):
        theta = check_float("theta", theta)
    theta = theta * coeff.real
    # sorted by qubit: the item order of a PauliString taken out of a PauliSum depends on
    # hashing and changes from process to process; the circuit must not
    items = sorted(pauli_string.items(), key=lambda item: item[0])
    if not items:
        return []
    before: list[cirq.Operation] = []
    after: list[cirq.Operation] = []
    for q, p in items:
        if p == cirq.X:
            before.append(cirq.H(q))
            after.append(cirq.H(q))
        elif p == cirq.Y:
            before.append(cirq.rx(np.pi / 2)(q))
            after.append(cirq.rx(-np.pi / 2)(q))
    qs = [q for q, _ in items]
    ladder = [cirq.CNOT(qs[i], qs[i + 1]) for i in range(len(qs) - 1)]
    return [*before, *ladder, cirq.rz(2 * theta)(qs[-1]), *reversed(ladder), *after]


def ising_feature_hamiltonian(features: Sequence[float] | np.ndarray, *,
                              qubits: Sequence[cirq.Qid] | None = None, coupling: float = 1.0,
                              periodic: bool = False) -> cirq.PauliSum:
    """``H(x) = J Σ_i Z_i Z_{i+1} + Σ_i x_i X_i``: an Ising chain with the features as fields.

    The default Hamiltonian of :func:`hamiltonian_encoding`: the transverse field on qubit ``i``
    is the feature ``x_i``, the ZZ coupling ``J`` (``coupling``) is fixed. ``periodic`` adds the
    bond ``Z_{n-1} Z_0`` for ``n > 2``.

    Example:
        >>> len(ising_feature_hamiltonian([0.1, 0.2, 0.3]))
        5
    """
    x = np.asarray(_check_features("features", features, symbolic=False), dtype=float)
    coupling = check_float("coupling", coupling)
    periodic = check_bool("periodic", periodic)
    q = _default_qubits("qubits", qubits, x.size)
    n = x.size
    bonds = [(i, i + 1) for i in range(n - 1)] + ([(n - 1, 0)] if periodic and n > 2 else [])
    terms = [coupling * cirq.Z(q[i]) * cirq.Z(q[j]) for i, j in bonds]
    terms += [float(xi) * cirq.X(qi) for qi, xi in zip(q, x, strict=True)]
    return cirq.PauliSum.from_pauli_strings(terms)


HamiltonianSpec = (
    cirq.PauliSum | Sequence[cirq.PauliString] | Callable[[np.ndarray], cirq.PauliSum] | None
)


def _hamiltonian_terms(x: np.ndarray, hamiltonian: HamiltonianSpec,
                       qubits: Sequence[cirq.Qid] | None) -> list[cirq.PauliString]:
    """The Pauli strings of ``H(x)``, coefficients included."""
    if hamiltonian is None:
        return list(ising_feature_hamiltonian(x, qubits=qubits))
    if qubits is not None:
        raise ValueError("qubits is only used with the default Hamiltonian (hamiltonian=None); "
                         "the given hamiltonian fixes the qubits")
    if isinstance(hamiltonian, (cirq.PauliSum, cirq.PauliString)) or (
            isinstance(hamiltonian, Sequence) and not isinstance(hamiltonian, str)):
        generators = ([hamiltonian] if isinstance(hamiltonian, cirq.PauliString)
                      else list(hamiltonian))
        for i, g in enumerate(generators):
            if not isinstance(g, cirq.PauliString):
                raise TypeError(f"hamiltonian[{i}] must be a cirq.PauliString, got "
                                f"{type(g).__name__}")
        if len(generators) != x.size:
            raise ValueError(f"hamiltonian has {len(generators)} terms but features has "
                             f"{x.size} entries; H(x) = Σ_k x_k P_k needs one term per feature")
        return [float(xk) * g for xk, g in zip(x, generators, strict=True)]
    if callable(hamiltonian):
        h = hamiltonian(x.copy())
        if isinstance(h, cirq.PauliString):
            h = cirq.PauliSum.from_pauli_strings([h])
        if not isinstance(h, cirq.PauliSum):
            raise TypeError(f"hamiltonian(features) must return a cirq.PauliSum, got "
                            f"{type(h).__name__}")
        return list(h)
    raise TypeError(f"hamiltonian must be None, a cirq.PauliSum, a sequence of "
                    f"cirq.PauliString or a callable, got {type(hamiltonian).__name__}")


def hamiltonian_encoding(features: Sequence[float] | np.ndarray,
                         hamiltonian: HamiltonianSpec = None, *, time: float = 1.0,
                         trotter_steps: int = 1, order: int = 1,
                         qubits: Sequence[cirq.Qid] | None = None,
                         use_phasors: bool = False) -> cirq.Circuit:
    """Hamiltonian encoding: a Trotterised ``exp(-i t H(x))`` applied to ``|0...0>``.

    ``H(x)`` is given by ``hamiltonian``:

    * ``None``: :func:`ising_feature_hamiltonian` (ZZ chain, features as transverse fields);
    * a callable ``features -> cirq.PauliSum``, the Hamiltonian builder;
    * a ``cirq.PauliSum`` or a sequence of ``cirq.PauliString`` ``P_k``, one per feature:
      ``H(x) = Σ_k x_k P_k`` (a PauliSum's terms in its iteration order; pass a list to fix it).

    With ``H = Σ_m c_m P_m`` and ``s`` = ``trotter_steps``, first order is
    ``(Π_m exp(-i c_m P_m t/s))^s`` (error ``O(t²/s)``); second order (Strang) is
    ``(Π_m exp(-i c_m P_m t/2s) Π_{m reversed} exp(-i c_m P_m t/2s))^s`` (error ``O(t³/s²)``).
    Each exponential is built with :func:`pauli_exponential` (elementary H, R_x, R_z and CNOT
    gates, TFQ-compatible) or, with ``use_phasors=True``, as a ``cirq.PauliStringPhasor``.
    Identity terms of ``H`` only give a global phase and are dropped.

    Args:
        features: real feature values (symbols are not supported here).
        hamiltonian: see above.
        time: evolution time ``t``.
        trotter_steps: number of Trotter steps ``s`` (>= 1).
        order: Trotter-Suzuki order, 1 or 2.
        qubits: qubits of the default Hamiltonian; ``cirq.LineQubit.range(len(features))``.
        use_phasors: build ``cirq.PauliStringPhasor`` operations instead of elementary gates.

    Raises:
        TypeError: for symbolic features or a malformed ``hamiltonian``.
        ValueError: for NaN/inf features or time, ``trotter_steps < 1``, an order other than
            1 or 2, a non-Hermitian (complex-coefficient) Hamiltonian, or mismatched widths.

    Example:
        >>> import scipy.linalg
        >>> from qmlkit.circuits import state_vector
        >>> x = [0.4, 0.9]
        >>> c = hamiltonian_encoding(x, time=0.5, trotter_steps=20, order=2)
        >>> h = ising_feature_hamiltonian(x).matrix()
        >>> exact = scipy.linalg.expm(-0.5j * h)[:, 0]
        >>> bool(abs(np.vdot(exact, state_vector(c))) > 1 - 1e-6)
        True
    """
    x = np.asarray(_check_features("features", features, symbolic=False), dtype=float)
    t = check_float("time", time)
    steps = check_int("trotter_steps", trotter_steps, minimum=1)
    order = check_int("order", order, minimum=1, maximum=2)
    use_phasors = check_bool("use_phasors", use_phasors)
    terms = []
    for term in _hamiltonian_terms(x, hamiltonian, qubits):
        c = complex(term.coefficient)
        if abs(c.imag) > 1e-12:
            raise ValueError(f"hamiltonian must be Hermitian: term {term} has a complex "
                             "coefficient")
        if len(term) and abs(c.real) > _ATOL:
            terms.append((term.with_coefficient(1), c.real))
    if not terms:
        raise ValueError("hamiltonian has no non-identity terms with non-zero coefficients")

    def exponential(p: cirq.PauliString, angle: float) -> list[cirq.Operation]:
        if use_phasors:
            return [cirq.PauliStringPhasor(p, exponent_neg=angle / np.pi,
                                           exponent_pos=-angle / np.pi)]
        return pauli_exponential(p, angle)

    dt = t / steps
    step_ops: list[cirq.Operation] = []
    if order == 1:
        for p, c in terms:
            step_ops += exponential(p, c * dt)
    else:
        for p, c in [*terms, *reversed(terms)]:
            step_ops += exponential(p, c * dt / 2)
    qs = sorted({q for p, _ in terms for q in p.qubits})
    if hamiltonian is None:
        qs = _default_qubits("qubits", qubits, x.size)
    return _pad_identities(cirq.Circuit(step_ops * steps), qs)
