"""Quantum kernels: fidelity kernels of feature maps, and kernel-target alignment (review §3, §5).

A quantum feature map ``x -> |φ(x)>`` defines the *fidelity kernel*
``K(x, x') = |<φ(x)|φ(x')>|²`` (Havlíček et al. 2019; Schuld & Killoran 2019), which a
classical kernel machine such as an SVM uses like any other kernel. On hardware each entry is an
overlap estimated from shots (:mod:`qmlkit.subroutines`); here it is computed exactly: each
data point's state vector is simulated once (complex128) and the whole matrix is
``|S_a S_b†|²`` from the stacked state vectors. Importing this module does not import
TensorFlow.

For the ZZ feature map (:class:`ZZFeatureMap`) the states of all samples are built at once
with numpy: ``U_Φ(x) = Π_reps [D(x) H^{⊗n}]`` with ``D(x)`` diagonal, so an ``(N, 2^n)`` array of
phases and ``n`` fast Walsh–Hadamard passes replace ``N`` Cirq simulations. Kernel matrices
are computed in row chunks within a memory budget (``max_memory_bytes``, ``chunk_size``).
Beyond the exact fidelity kernel the module has a finite-shot estimator
(:func:`shot_fidelity_kernel`, compute–uncompute), the projected quantum kernel of Huang et al.
(2021) (:func:`projected_kernel`), bandwidth training by kernel-target alignment
(:func:`train_bandwidth`) and a scikit-learn classifier (:class:`QuantumKernelClassifier`).

Example:
    >>> import numpy as np
    >>> x = np.array([[0.1, 0.2], [0.4, 1.3], [2.0, 0.5]])
    >>> k = fidelity_kernel(x)
    >>> k.shape, bool(np.allclose(np.diag(k), 1.0)), bool(np.allclose(k, k.T))
    ((3, 3), True, True)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cirq
import numpy as np
import scipy.optimize
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.svm import SVC

from qmlkit._validation import (
    available_memory_bytes,
    check_bool,
    check_choice,
    check_finite_array,
    check_float,
    check_int,
    check_n_qubits,
    check_rng,
)
from qmlkit.circuits import state_vector
from qmlkit.encodings import angle_encoding, zz_feature_map, zz_pairs

__all__ = [
    "FEATURE_MAPS",
    "KERNEL_TYPES",
    "AngleFeatureMap",
    "BandwidthFit",
    "QuantumKernelClassifier",
    "ShotKernelEstimate",
    "ZZFeatureMap",
    "default_feature_map",
    "feature_states",
    "fidelity_kernel",
    "kernel_target_alignment",
    "make_feature_map",
    "one_qubit_reduced_density_matrices",
    "projected_kernel",
    "shot_fidelity_kernel",
    "train_bandwidth",
    "zz_phase_angles",
    "zz_states",
]

#: A feature map: one sample's features (1-D array) -> circuit preparing |φ(x)> from |0...0>.
FeatureMap = Callable[[np.ndarray], cirq.Circuit]


def default_feature_map(features: np.ndarray) -> cirq.Circuit:
    """The default feature map: :func:`qmlkit.encodings.zz_feature_map` with ``reps=2``.

    Example:
        >>> len(default_feature_map(np.array([0.1, 0.2])).all_qubits())
        2
    """
    return zz_feature_map(features, reps=2)


def _check_samples(name: str, x: Any) -> np.ndarray:
    arr = check_finite_array(name, x, dtype=float)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one sample, got shape {arr.shape}")
    if arr.shape[1] == 0:
        raise ValueError(f"{name} must have at least one feature, got shape {arr.shape}")
    return arr


def _circuits(name: str, x: np.ndarray, feature_map: FeatureMap) -> list[cirq.Circuit]:
    out = []
    for i, row in enumerate(x):
        circuit = feature_map(row.copy())
        if not isinstance(circuit, cirq.AbstractCircuit):
            raise TypeError(f"feature_map must return a cirq.Circuit, got "
                            f"{type(circuit).__name__} for {name}[{i}]")
        out.append(circuit)
    return out


def _register(*groups: list[cirq.Circuit]) -> list[cirq.Qid]:
    qubits = sorted(set().union(*(c.all_qubits() for g in groups for c in g)))
    if not qubits:
        raise ValueError("feature_map returned circuits that act on no qubits")
    return qubits


def _states(circuits: list[cirq.Circuit], qubits: list[cirq.Qid]) -> np.ndarray:
    states = np.empty((len(circuits), 2 ** len(qubits)), dtype=np.complex128)
    for i, circuit in enumerate(circuits):
        states[i] = state_vector(circuit, qubits)
    return states


# --------------------------------------------------------------------------------------------
# vectorised feature maps
# --------------------------------------------------------------------------------------------

#: Names accepted by :func:`make_feature_map` (and :class:`QuantumKernelClassifier`).
FEATURE_MAPS = ("zz", "angle")

#: Kernel types of :class:`QuantumKernelClassifier`.
KERNEL_TYPES = ("fidelity", "projected")

_MAX_FAST_QUBITS = 20


def _check_bandwidth(bandwidth: Any) -> float | np.ndarray:
    arr = check_finite_array("bandwidth", bandwidth, dtype=float)
    if arr.ndim > 1:
        raise ValueError(f"bandwidth must be a number or a 1-D array, got shape {arr.shape}")
    if np.any(arr <= 0):
        raise ValueError(f"bandwidth must be > 0, got {arr}")
    return float(arr) if arr.ndim == 0 else arr


def _scaled(x: np.ndarray, bandwidth: float | np.ndarray) -> np.ndarray:
    b = np.asarray(bandwidth, dtype=float)
    if b.ndim == 1 and b.size != x.shape[1]:
        raise ValueError(f"bandwidth must hold one value per feature ({x.shape[1]}), got "
                         f"{b.size}")
    return x * b


def _bits(n: int) -> np.ndarray:
    """``(2^n, n)`` 0/1 matrix, row ``k`` the bits of ``k`` (qubit 0 the most significant)."""
    k = np.arange(2**n)
    return ((k[:, None] >> (n - 1 - np.arange(n))[None, :]) & 1).astype(float)


def _hadamard_all(states: np.ndarray, n: int) -> np.ndarray:
    """``H^{⊗n}`` applied to each row of ``states`` (in-place fast Walsh–Hadamard on a copy)."""
    m = states.shape[0]
    out = np.array(states, dtype=np.complex128, copy=True)
    for q in range(n):
        v = out.reshape(m, 2**q, 2, 2 ** (n - q - 1))
        a = v[:, :, 0, :].copy()
        v[:, :, 0, :] += v[:, :, 1, :]
        a -= v[:, :, 1, :]
        v[:, :, 1, :] = a
    out *= 2.0 ** (-n / 2)
    return out


def zz_phase_angles(x: np.ndarray, *, entanglement: str = "full") -> np.ndarray:
    """Phases ``θ_k(x)`` of the diagonal layer of the ZZ feature map, one row per sample.

    The layer ``Π_i P(2 x_i) Π_(i,j) CX P(2 φ_ij) CX`` is ``diag(e^{i θ_k})`` with
    ``θ_k = Σ_i 2 x_i b_i(k) + Σ_(i,j) 2 φ_ij (b_i(k) ⊕ b_j(k))``, ``b_i(k)`` the bit of qubit
    ``i`` in basis state ``k`` and ``φ_ij = (π - x_i)(π - x_j)``.

    Example:
        >>> zz_phase_angles(np.array([[np.pi / 2]])).round(6)
        array([[0.      , 3.141593]])
    """
    n = x.shape[1]
    bits = _bits(n)
    angles = 2.0 * x @ bits.T
    pairs = zz_pairs(n, entanglement=entanglement)
    if pairs:
        i, j = np.array(pairs).T
        phi = (np.pi - x[:, i]) * (np.pi - x[:, j])
        parity = np.logical_xor(bits[:, i], bits[:, j]).astype(float)
        angles += 2.0 * phi @ parity.T
    return angles


def zz_states(x: Any, *, reps: int = 2, entanglement: str = "full") -> np.ndarray:
    """State vectors of :func:`qmlkit.encodings.zz_feature_map` for every row of ``x`` at once.

    Equal (not only up to a global phase) to ``state_vector(zz_feature_map(x_i, reps=reps,
    entanglement=entanglement))``; qubit ``i`` carries feature ``i`` (qubit 0 most significant).

    Example:
        >>> x = np.array([[0.3, 1.1]])
        >>> ref = state_vector(zz_feature_map(x[0], reps=2))
        >>> bool(np.allclose(zz_states(x), ref, atol=1e-12))
        True
    """
    xa = _check_samples("x", x)
    reps = check_int("reps", reps, minimum=1)
    n = xa.shape[1]
    if n > _MAX_FAST_QUBITS:
        raise ValueError(f"x has {n} features (qubits); the vectorised ZZ path supports at "
                         f"most {_MAX_FAST_QUBITS}")
    check_n_qubits("x features (qubits)", n, copies=3 * xa.shape[0])
    diag = np.exp(1j * zz_phase_angles(xa, entanglement=entanglement))
    states = diag / np.sqrt(2.0**n)  # H^{⊗n}|0> is uniform
    for _ in range(reps - 1):
        states = diag * _hadamard_all(states, n)
    return states


@dataclass(frozen=True)
class ZZFeatureMap:
    """The ZZ feature map ``x -> zz_feature_map(bandwidth * x)`` with a vectorised state path.

    Calling it returns the Cirq circuit (so it works wherever a ``FeatureMap`` does);
    :meth:`batch_states` returns all state vectors at once without Cirq, and the kernel
    functions use it. ``bandwidth`` is one scale or one per feature (Shaydulin & Wild 2022).

    Example:
        >>> fm = ZZFeatureMap(reps=2, bandwidth=0.5)
        >>> x = np.array([[0.2, 0.4], [1.0, 2.0]])
        >>> bool(np.allclose(fm.batch_states(x)[1], state_vector(fm(x[1])), atol=1e-12))
        True
    """

    reps: int = 2
    entanglement: str = "full"
    bandwidth: Any = 1.0

    def __post_init__(self) -> None:
        check_int("reps", self.reps, minimum=1)
        zz_pairs(2, entanglement=self.entanglement)
        object.__setattr__(self, "bandwidth", _check_bandwidth(self.bandwidth))

    def __call__(self, features: np.ndarray) -> cirq.Circuit:
        x = np.asarray(features, dtype=float)
        return zz_feature_map(_scaled(x[None, :], self.bandwidth)[0], reps=self.reps,
                              entanglement=self.entanglement)

    def batch_states(self, x: np.ndarray) -> np.ndarray:
        """``(n_samples, 2^n)`` state vectors of all rows of ``x``."""
        return zz_states(_scaled(x, self.bandwidth), reps=self.reps,
                         entanglement=self.entanglement)


@dataclass(frozen=True)
class AngleFeatureMap:
    """Angle encoding ``R_X(bandwidth * x_i)`` on qubit ``i``, with a vectorised state path.

    Example:
        >>> fm = AngleFeatureMap(bandwidth=2.0)
        >>> x = np.array([[0.2, 0.4]])
        >>> bool(np.allclose(fm.batch_states(x)[0], state_vector(fm(x[0])), atol=1e-12))
        True
    """

    bandwidth: Any = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "bandwidth", _check_bandwidth(self.bandwidth))

    def __call__(self, features: np.ndarray) -> cirq.Circuit:
        x = np.asarray(features, dtype=float)
        return angle_encoding(_scaled(x[None, :], self.bandwidth)[0], rotation="X")

    def batch_states(self, x: np.ndarray) -> np.ndarray:
        """``(n_samples, 2^n)`` product states ``⊗_i (cos(x_i/2), -i sin(x_i/2))``."""
        xs = _scaled(x, self.bandwidth)
        n = xs.shape[1]
        if n > _MAX_FAST_QUBITS:
            raise ValueError(f"x has {n} features; the vectorised path supports at most "
                             f"{_MAX_FAST_QUBITS}")
        check_n_qubits("x features (qubits)", n, copies=2 * xs.shape[0])
        states = np.ones((xs.shape[0], 1), dtype=np.complex128)
        for i in range(n):
            q = np.stack([np.cos(xs[:, i] / 2), -1j * np.sin(xs[:, i] / 2)], axis=1)
            states = (states[:, :, None] * q[:, None, :]).reshape(xs.shape[0], -1)
        return states


def make_feature_map(name: str = "zz", *, reps: int = 2, entanglement: str = "full",
                     bandwidth: Any = 1.0) -> ZZFeatureMap | AngleFeatureMap:
    """A vectorised feature map by name: ``"zz"`` (:class:`ZZFeatureMap`) or ``"angle"``.

    ``reps`` and ``entanglement`` apply to ``"zz"`` only.

    Example:
        >>> make_feature_map("zz", reps=1)
        ZZFeatureMap(reps=1, entanglement='full', bandwidth=1.0)
    """
    name = check_choice("feature_map", name, FEATURE_MAPS)
    if name == "zz":
        return ZZFeatureMap(reps=reps, entanglement=entanglement, bandwidth=bandwidth)
    return AngleFeatureMap(bandwidth=bandwidth)


def _has_batch(feature_map: Any) -> bool:
    return callable(getattr(feature_map, "batch_states", None))


def _check_feature_map(feature_map: Any) -> FeatureMap:
    if feature_map is None:
        return default_feature_map
    if not callable(feature_map):
        raise TypeError(f"feature_map must be a callable features -> cirq.Circuit, got "
                        f"{type(feature_map).__name__}")
    return feature_map


def _sample_states(xa: np.ndarray, xb: np.ndarray | None,
                   feature_map: FeatureMap) -> tuple[np.ndarray, np.ndarray]:
    """States of ``xa`` and ``xb`` (``xb=None``: the same array) on one register."""
    if _has_batch(feature_map):
        sa = np.asarray(feature_map.batch_states(xa), dtype=np.complex128)
        sb = sa if xb is None else np.asarray(feature_map.batch_states(xb), dtype=np.complex128)
        return sa, sb
    circuits_a = _circuits("x_a", xa, feature_map)
    circuits_b = [] if xb is None else _circuits("x_b", xb, feature_map)
    qubits = _register(circuits_a, circuits_b)
    check_n_qubits("feature_map qubits", len(qubits),
                   copies=len(circuits_a) + len(circuits_b) + 1)
    sa = _states(circuits_a, qubits)
    sb = sa if xb is None else _states(circuits_b, qubits)
    return sa, sb


def feature_states(x: Any, *, feature_map: FeatureMap | None = None) -> np.ndarray:
    """State vectors ``|φ(x_i)>`` of every sample, stacked as the rows of a matrix.

    Qubits are ordered as in :func:`qmlkit.circuits.state_vector` (sorted; qubit 0 is the most
    significant bit); every state spans the qubits of all samples' circuits together. A feature
    map with a ``batch_states`` method (:class:`ZZFeatureMap`, :class:`AngleFeatureMap`) is
    evaluated vectorised, without Cirq.

    Args:
        x: samples, shape ``(n_samples, n_features)``.
        feature_map: ``features -> cirq.Circuit`` (or a :class:`ZZFeatureMap` /
            :class:`AngleFeatureMap`), or ``None`` for :func:`default_feature_map`.

    Returns:
        A complex128 array of shape ``(n_samples, 2**n_qubits)``.

    Raises:
        TypeError: for non-numeric samples or a feature map that is not callable or does not
            return a circuit.
        ValueError: for NaN/inf, an empty or non-2-D ``x``, or too many qubits for memory.

    Example:
        >>> feature_states([[0.0, 0.0]]).shape
        (1, 4)
    """
    feature_map = _check_feature_map(feature_map)
    xa = _check_samples("x", x)
    return _sample_states(xa, None, feature_map)[0]


def _check_pair(x_a: Any, x_b: Any) -> tuple[np.ndarray, np.ndarray | None]:
    xa = _check_samples("x_a", x_a)
    xb = None if x_b is None else _check_samples("x_b", x_b)
    if xb is not None and xb.shape[1] != xa.shape[1]:
        raise ValueError(f"x_a and x_b must have the same number of features, got "
                         f"{xa.shape[1]} and {xb.shape[1]}")
    return xa, xb


def _chunk_rows(n_a: int, n_b: int, row_bytes: int, fixed_bytes: int, chunk_size: Any,
                max_memory_bytes: Any) -> int:
    """Rows per chunk so that ``fixed + rows * row_bytes <= max_memory_bytes``."""
    budget = (available_memory_bytes() // 2 if max_memory_bytes is None
              else check_int("max_memory_bytes", max_memory_bytes, minimum=1))
    if fixed_bytes + row_bytes > budget:
        raise ValueError(
            f"a {n_a}x{n_b} kernel needs at least {(fixed_bytes + row_bytes) / 2**20:.4g} MiB "
            f"(the matrix, the states and one row), more than max_memory_bytes="
            f"{budget} ({budget / 2**20:.4g} MiB); use fewer samples or a larger budget")
    if chunk_size is None:
        need = fixed_bytes + n_a * row_bytes
        if need > budget:
            raise ValueError(
                f"x_a with {n_a} samples is too large without chunking: the {n_a}x{n_b} "
                f"kernel needs about {need / 2**20:.4g} MiB in one piece, more than "
                f"max_memory_bytes={budget}; pass chunk_size='auto' or an integer")
        return n_a
    if isinstance(chunk_size, str):
        if chunk_size != "auto":
            raise ValueError(f"chunk_size must be 'auto', None or an integer >= 1, got "
                             f"{chunk_size!r}")
        cap = min(budget - fixed_bytes, 64 * 2**20)  # small chunks stay in cache
        return int(max(1, min(n_a, cap // row_bytes)))
    rows = check_int("chunk_size", chunk_size, minimum=1)
    if fixed_bytes + rows * row_bytes > budget:
        raise ValueError(f"chunk_size={rows} needs more than max_memory_bytes={budget}")
    return min(rows, n_a)


def _overlap_kernel(states_a: np.ndarray, states_b: np.ndarray, *, symmetric: bool,
                    chunk_size: Any, max_memory_bytes: Any) -> np.ndarray:
    n_a, n_b = states_a.shape[0], states_b.shape[0]
    fixed = 8 * n_a * n_b + states_a.nbytes + (0 if symmetric else states_b.nbytes)
    rows = _chunk_rows(n_a, n_b, 24 * n_b, fixed, chunk_size, max_memory_bytes)
    kernel = np.empty((n_a, n_b))
    conj_b = states_b.conj().T
    for start in range(0, n_a, rows):
        block = states_a[start:start + rows] @ conj_b  # conj(<a|b>): same modulus
        kernel[start:start + rows] = block.real**2 + block.imag**2
    if symmetric:
        kernel = (kernel + kernel.T) / 2
    return np.clip(kernel, 0.0, 1.0, out=kernel)


def fidelity_kernel(x_a: Any, x_b: Any = None, *,
                    feature_map: FeatureMap | None = None,
                    chunk_size: int | str | None = "auto",
                    max_memory_bytes: int | None = None) -> np.ndarray:
    """Exact fidelity kernel ``K_ij = |<φ(a_i)|φ(b_j)>|²`` of a quantum feature map.

    Each sample's state vector is computed once (vectorised for feature maps with a
    ``batch_states`` method such as :class:`ZZFeatureMap`, otherwise one Cirq simulation per
    sample); the kernel is the elementwise squared modulus of the matrix of inner products of
    the stacked states, computed in chunks of rows. With ``x_b=None`` the Gram matrix of
    ``x_a`` is returned, symmetrised (``(K + Kᵀ)/2``, a change at rounding level); it is
    positive semi-definite with unit diagonal. Entries are clipped to ``[0, 1]``.

    Args:
        x_a: samples, shape ``(n_a, n_features)``.
        x_b: other samples, shape ``(n_b, n_features)``, or ``None`` for ``x_a`` itself.
        feature_map: ``features -> cirq.Circuit`` preparing ``|φ(x)>`` from ``|0...0>`` (vectorised
            for :class:`ZZFeatureMap` / :class:`AngleFeatureMap`), or ``None`` for :func:`default_feature_map` (the ZZ
            feature map with ``reps=2``, generic Cirq path; ``ZZFeatureMap()`` is the same map,
            vectorised).
        chunk_size: rows of ``K`` computed at once: ``"auto"`` (within ``max_memory_bytes``),
            an integer, or ``None`` for all rows at once (refused if that exceeds the budget).
        max_memory_bytes: memory budget for the matrix, the states and one chunk; half of
            this machine's memory by default.

    Returns:
        A float array of shape ``(n_a, n_b)`` (``(n_a, n_a)`` without ``x_b``).

    Raises:
        TypeError: for non-numeric samples or a feature map that is not callable or does not
            return a circuit.
        ValueError: for NaN/inf, empty or non-2-D sample sets, sample sets of different
            widths, too many qubits for memory, or a kernel that does not fit in
            ``max_memory_bytes`` (without chunking, or at all).

    Example:
        >>> from qmlkit.encodings import angle_encoding
        >>> k = fidelity_kernel([[0.0]], [[np.pi / 2], [np.pi]], feature_map=angle_encoding)
        >>> k.round(6)
        array([[0.5, 0. ]])
    """
    feature_map = _check_feature_map(feature_map)
    xa, xb = _check_pair(x_a, x_b)
    states_a, states_b = _sample_states(xa, xb, feature_map)
    return _overlap_kernel(states_a, states_b, symmetric=xb is None, chunk_size=chunk_size,
                           max_memory_bytes=max_memory_bytes)


def kernel_target_alignment(kernel: Any, y: Any, *, centered: bool = False) -> float:
    """Kernel-target alignment ``<K, yyᵀ>_F / (‖K‖_F ‖yyᵀ‖_F)`` for binary labels.

    The labels are mapped to ``±1`` (the larger of the two label values becomes ``+1``). The
    alignment is 1 for the ideal kernel ``yyᵀ`` and measures how well ``K`` separates the
    classes before any training (Cristianini et al. 2002). With ``centered=True`` both
    matrices are centred first (``HKH`` with ``H = 1 - 11ᵀ/n``, Cortes et al. 2012), which
    removes the contribution of a constant offset of the kernel.

    Args:
        kernel: a square Gram matrix of the samples.
        y: one binary label per sample (any two distinct values).
        centered: centre the kernel and the target first.

    Raises:
        TypeError: for non-numeric input.
        ValueError: for a non-square, non-finite or (after centring) zero kernel, a label vector of the
            wrong length, or labels that do not take exactly two values.

    Example:
        >>> y = np.array([0, 0, 1, 1])
        >>> ideal = np.outer(2 * y - 1, 2 * y - 1)
        >>> kernel_target_alignment(ideal, y)
        1.0
    """
    k = check_finite_array("kernel", kernel, ndim=2)
    if k.shape[0] != k.shape[1] or k.shape[0] == 0:
        raise ValueError(f"kernel must be a non-empty square matrix, got shape {k.shape}")
    labels = np.asarray(y)
    if labels.ndim != 1 or labels.size != k.shape[0]:
        raise ValueError(f"y must hold one label per row of kernel ({k.shape[0]}), got shape "
                         f"{labels.shape}")
    values = np.unique(labels)
    if values.size != 2:
        raise ValueError(f"y must take exactly two values, got {values.size}: {values[:5]}")
    centered = check_bool("centered", centered)
    t = np.where(labels == values[1], 1.0, -1.0)
    target = np.outer(t, t)
    scale = float(np.linalg.norm(k)) or 1.0
    if centered:
        n = k.shape[0]
        h = np.eye(n) - np.ones((n, n)) / n
        k = h @ k @ h
        target = h @ target @ h
    norm_k = float(np.linalg.norm(k))
    norm_t = float(np.linalg.norm(target))
    if norm_k <= 1e-12 * scale or norm_t == 0.0:
        raise ValueError("kernel is zero (after centring, if centered); alignment is undefined")
    return float(np.sum(k * target) / (norm_k * norm_t))


# --------------------------------------------------------------------------------------------
# finite-shot estimation (compute–uncompute)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShotKernelEstimate:
    """A kernel matrix estimated from shots, with its cost and error.

    Attributes:
        kernel: the estimate ``K̂`` (Gram matrices: symmetric with exact unit diagonal).
        exact: the exact kernel it estimates.
        std_error: estimated standard error ``sqrt(K̂(1 - K̂)/shots)`` of each entry (0 where
            nothing was measured).
        shots: shots per estimated entry.
        circuits: number of distinct circuits run (``N(N-1)/2`` for a Gram matrix, whose
            diagonal is 1 by construction; ``n_a n_b`` otherwise).
        total_shots: ``circuits * shots``.
        max_abs_error: ``max |K̂ - K|``.
        rms_error: root mean square of ``K̂ - K`` over the estimated entries.
    """

    kernel: np.ndarray = field(repr=False)
    exact: np.ndarray = field(repr=False)
    std_error: np.ndarray = field(repr=False)
    shots: int
    circuits: int
    total_shots: int
    max_abs_error: float
    rms_error: float


def shot_fidelity_kernel(x_a: Any, x_b: Any = None, *, shots: int, rng: np.random.Generator,
                         feature_map: FeatureMap | None = None,
                         chunk_size: int | str | None = "auto",
                         max_memory_bytes: int | None = None) -> ShotKernelEstimate:
    """Fidelity kernel estimated as on hardware: compute–uncompute, ``shots`` shots per entry.

    Entry ``(i, j)`` is the frequency of ``0...0`` after ``U(b_j)† U(a_i)``
    (:func:`qmlkit.subroutines.compute_uncompute_circuit`), whose exact probability is
    ``K_ij``. The number of ``0...0`` outcomes among ``shots`` is therefore Binomial
    ``(shots, K_ij)`` -- the marginal of the multinomial that
    :func:`qmlkit.subroutines.compute_uncompute_overlap` samples -- and is drawn directly from
    the exact kernel with ``rng``. For a Gram matrix only ``i < j`` is measured (the diagonal is
    1 and the matrix symmetric), so ``N(N-1)/2`` circuits. The estimate need not be PSD.

    Raises:
        TypeError: for a ``rng`` that is not a Generator (and as :func:`fidelity_kernel`).
        ValueError: for ``shots < 1`` (and as :func:`fidelity_kernel`).

    Example:
        >>> est = shot_fidelity_kernel([[0.1, 0.2], [0.3, 0.1], [1.0, 2.0]], shots=1000,
        ...                            rng=np.random.default_rng(0), feature_map=ZZFeatureMap())
        >>> est.circuits, est.total_shots, bool(est.max_abs_error < 0.1)
        (3, 3000, True)
    """
    shots = check_int("shots", shots, minimum=1)
    rng = check_rng("rng", rng)
    exact = fidelity_kernel(x_a, x_b, feature_map=feature_map, chunk_size=chunk_size,
                            max_memory_bytes=max_memory_bytes)
    if x_b is None:
        n = exact.shape[0]
        iu = np.triu_indices(n, k=1)
        est = np.eye(n)
        est[iu] = rng.binomial(shots, exact[iu]) / shots
        est = np.triu(est) + np.triu(est, k=1).T
        measured = np.zeros_like(exact, dtype=bool)
        measured[iu] = True
        measured |= measured.T
        circuits = len(iu[0])
    else:
        est = rng.binomial(shots, exact) / shots
        measured = np.ones_like(exact, dtype=bool)
        circuits = exact.size
    err = np.where(measured, np.sqrt(est * (1 - est) / shots), 0.0)
    diff = (est - exact)[measured]
    rms = float(np.sqrt(np.mean(diff**2))) if diff.size else 0.0
    return ShotKernelEstimate(est, exact, err, shots, int(circuits), int(circuits * shots),
                              float(np.max(np.abs(est - exact))), rms)


# --------------------------------------------------------------------------------------------
# projected quantum kernel (Huang et al. 2021)
# --------------------------------------------------------------------------------------------


def one_qubit_reduced_density_matrices(states: Any) -> np.ndarray:
    """One-qubit reduced density matrices ``ρ_k`` of every state, vectorised.

    Args:
        states: ``(n_samples, 2^n)`` state vectors (qubit 0 the most significant bit).

    Returns:
        A complex array of shape ``(n_samples, n, 2, 2)``.

    Example:
        >>> bell = np.array([[1, 0, 0, 1]]) / np.sqrt(2)
        >>> one_qubit_reduced_density_matrices(bell)[0, 1].real
        array([[0.5, 0. ],
               [0. , 0.5]])
    """
    s = np.asarray(states, dtype=np.complex128)
    if s.ndim != 2 or s.shape[0] == 0:
        raise ValueError(f"states must be a non-empty 2-D array (n_samples, 2^n), got shape "
                         f"{s.shape}")
    n = round(float(np.log2(s.shape[1]))) if s.shape[1] else 0
    if n < 1 or 2**n != s.shape[1]:
        raise ValueError(f"states must have 2^n columns for some n >= 1, got {s.shape[1]}")
    m = s.shape[0]
    out = np.empty((m, n, 2, 2), dtype=np.complex128)
    for k in range(n):
        v = s.reshape(m, 2**k, 2, 2 ** (n - k - 1))
        out[:, k] = np.einsum("mias,mibs->mab", v, v.conj())
    return out


def projected_kernel(x_a: Any, x_b: Any = None, *, gamma: float = 1.0,
                     feature_map: FeatureMap | None = None,
                     chunk_size: int | str | None = "auto",
                     max_memory_bytes: int | None = None) -> np.ndarray:
    """Projected quantum kernel ``k(x, x') = exp(-γ Σ_k ‖ρ_k(x) - ρ_k(x')‖_F²)``.

    ``ρ_k`` are the one-qubit reduced density matrices of ``|φ(x)>`` (Huang et al. 2021): the
    kernel compares local, measurable properties of the states instead of their global overlap,
    which keeps its values spread out where fidelity kernels concentrate. Gram matrices are
    symmetric, PSD (a Gaussian kernel of the vectorised ``ρ_k``) with unit diagonal.

    Args:
        x_a, x_b, feature_map, chunk_size, max_memory_bytes: as :func:`fidelity_kernel`.
        gamma: the bandwidth ``γ > 0``.

    Example:
        >>> k = projected_kernel([[0.1, 0.2], [1.0, 2.0]], feature_map=ZZFeatureMap())
        >>> k.shape, bool(np.allclose(np.diag(k), 1.0))
        ((2, 2), True)
    """
    gamma = check_float("gamma", gamma, minimum=0.0)
    if gamma <= 0:
        raise ValueError(f"gamma must be > 0, got {gamma}")
    feature_map = _check_feature_map(feature_map)
    xa, xb = _check_pair(x_a, x_b)
    states_a, states_b = _sample_states(xa, xb, feature_map)
    ra = one_qubit_reduced_density_matrices(states_a).reshape(states_a.shape[0], -1)
    rb = ra if xb is None else one_qubit_reduced_density_matrices(states_b).reshape(
        states_b.shape[0], -1)
    na, nb = np.sum(np.abs(ra) ** 2, axis=1), np.sum(np.abs(rb) ** 2, axis=1)
    n_a, n_b = ra.shape[0], rb.shape[0]
    fixed = 8 * n_a * n_b + states_a.nbytes + ra.nbytes + (0 if xb is None else rb.nbytes)
    rows = _chunk_rows(n_a, n_b, 24 * n_b, fixed, chunk_size, max_memory_bytes)
    kernel = np.empty((n_a, n_b))
    conj_b = rb.conj().T
    for start in range(0, n_a, rows):
        sl = slice(start, start + rows)
        dist = na[sl, None] + nb[None, :] - 2 * (ra[sl] @ conj_b).real
        kernel[sl] = np.exp(-gamma * np.maximum(dist, 0.0))
    if xb is None:
        kernel = (kernel + kernel.T) / 2
        np.fill_diagonal(kernel, 1.0)
    return kernel


# --------------------------------------------------------------------------------------------
# training the feature map by kernel-target alignment
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BandwidthFit:
    """Result of :func:`train_bandwidth`.

    Attributes:
        bandwidth: the trained scale (a float, or one per feature).
        alignment: kernel-target alignment at the trained bandwidth.
        initial_alignment: alignment at the initial bandwidth.
        evaluations: number of kernel evaluations.
        feature_map: the trained feature map.
    """

    bandwidth: Any
    alignment: float
    initial_alignment: float
    evaluations: int
    feature_map: Any = field(repr=False)


def train_bandwidth(x: Any, y: Any, *, feature_map: str = "zz", reps: int = 2,
                    entanglement: str = "full", per_feature: bool = False,
                    initial: float = 1.0, bounds: tuple[float, float] = (0.01, 2.0),
                    centered: bool = True, kernel: str = "fidelity", gamma: float = 1.0,
                    max_iterations: int = 50) -> BandwidthFit:
    """Train the bandwidth of a feature map to maximise kernel-target alignment.

    The feature map is ``x -> φ(c ⊙ x)``; ``c`` is one scale (bounded scalar search, scipy's
    ``minimize_scalar``) or one per feature (``per_feature=True``: L-BFGS-B with
    finite-difference gradients, in log-space), evaluated on exact kernels.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.uniform(0, 2 * np.pi, size=(20, 2))
        >>> y = (np.sin(x[:, 0]) > 0).astype(int)
        >>> fit = train_bandwidth(x, y)
        >>> bool(fit.alignment >= fit.initial_alignment)
        True
    """
    xa = _check_samples("x", x)
    name = check_choice("feature_map", feature_map, FEATURE_MAPS)
    kernel = check_choice("kernel", kernel, KERNEL_TYPES)
    per_feature = check_bool("per_feature", per_feature)
    centered = check_bool("centered", centered)
    max_iterations = check_int("max_iterations", max_iterations, minimum=1)
    lo, hi = (check_float("bounds[0]", bounds[0]), check_float("bounds[1]", bounds[1]))
    if not 0 < lo < hi:
        raise ValueError(f"bounds must satisfy 0 < low < high, got {bounds}")
    initial = check_float("initial", initial)
    if not lo <= initial <= hi:
        raise ValueError(f"initial must lie within bounds {bounds}, got {initial}")
    evaluations = 0

    def alignment(bw: Any) -> float:
        nonlocal evaluations
        evaluations += 1
        fm = make_feature_map(name, reps=reps, entanglement=entanglement, bandwidth=bw)
        k = (fidelity_kernel(xa, feature_map=fm) if kernel == "fidelity"
             else projected_kernel(xa, feature_map=fm, gamma=gamma))
        return kernel_target_alignment(k, y, centered=centered)

    a0 = alignment(initial)
    if per_feature:
        d = xa.shape[1]
        res = scipy.optimize.minimize(
            lambda t: -alignment(np.exp(t)), np.full(d, np.log(initial)), method="L-BFGS-B",
            bounds=[(np.log(lo), np.log(hi))] * d, options={"maxiter": max_iterations})
        best: Any = np.exp(res.x)
    else:
        res = scipy.optimize.minimize_scalar(
            lambda t: -alignment(np.exp(t)), bounds=(np.log(lo), np.log(hi)), method="bounded",
            options={"maxiter": max_iterations})
        best = float(np.exp(res.x))
    a_best = alignment(best)
    if a_best < a0:  # the optimiser is local; never return something worse than the start
        best, a_best = (np.full(xa.shape[1], initial) if per_feature else initial), a0
    fm = make_feature_map(name, reps=reps, entanglement=entanglement, bandwidth=best)
    return BandwidthFit(best, float(a_best), float(a0), evaluations, fm)


# --------------------------------------------------------------------------------------------
# scikit-learn classifier
# --------------------------------------------------------------------------------------------


class QuantumKernelClassifier(ClassifierMixin, BaseEstimator):
    """Support-vector classifier on an exact quantum kernel (sklearn ``SVC(kernel="precomputed")``).

    A scikit-learn estimator: ``fit``/``predict``/``score``/``decision_function``,
    ``get_params``/``set_params``, usable in ``GridSearchCV`` and ``Pipeline``. The kernel is
    the fidelity kernel or the projected kernel of :func:`make_feature_map` ``(feature_map,
    reps, entanglement, bandwidth)``; the SVM is scikit-learn's.

    Args:
        feature_map: ``"zz"`` or ``"angle"``.
        reps: repetitions of the ZZ feature map.
        entanglement: ZZ pairs, ``"full"``, ``"linear"`` or ``"circular"``.
        bandwidth: feature scale ``c`` (the map encodes ``c x``).
        kernel: ``"fidelity"`` or ``"projected"``.
        gamma: bandwidth of the projected kernel.
        C: SVM regularisation.

    Example:
        >>> rng = np.random.default_rng(1)
        >>> x = rng.uniform(0, 2 * np.pi, size=(30, 2))
        >>> y = (np.cos(x[:, 0]) > 0).astype(int)
        >>> clf = QuantumKernelClassifier(bandwidth=0.1, C=10.0).fit(x, y)
        >>> clf.predict(x[:3]).shape, bool(clf.score(x, y) > 0.8)
        ((3,), True)
    """

    def __init__(self, feature_map: str = "zz", reps: int = 2, entanglement: str = "full",
                 bandwidth: float = 1.0, kernel: str = "fidelity", gamma: float = 1.0,
                 C: float = 1.0) -> None:
        self.feature_map = feature_map
        self.reps = reps
        self.entanglement = entanglement
        self.bandwidth = bandwidth
        self.kernel = kernel
        self.gamma = gamma
        self.C = C

    def _map(self) -> ZZFeatureMap | AngleFeatureMap:
        return make_feature_map(self.feature_map, reps=self.reps,
                                entanglement=self.entanglement, bandwidth=self.bandwidth)

    def _kernel(self, xa: np.ndarray, xb: np.ndarray | None) -> np.ndarray:
        kind = check_choice("kernel", self.kernel, KERNEL_TYPES)
        if kind == "fidelity":
            return fidelity_kernel(xa, xb, feature_map=self._map())
        return projected_kernel(xa, xb, feature_map=self._map(), gamma=self.gamma)

    def fit(self, X: Any, y: Any) -> QuantumKernelClassifier:
        """Fit the SVM on the Gram matrix of ``X``."""
        x = _check_samples("X", X)
        labels = np.asarray(y)
        if labels.ndim != 1 or labels.shape[0] != x.shape[0]:
            raise ValueError(f"y must hold one label per row of X ({x.shape[0]}), got shape "
                             f"{labels.shape}")
        c = check_float("C", self.C)
        if c <= 0:
            raise ValueError(f"C must be > 0, got {c}")
        self.svc_ = SVC(kernel="precomputed", C=c).fit(self._kernel(x, None), labels)
        self.X_train_ = x
        self.classes_ = self.svc_.classes_
        self.n_features_in_ = x.shape[1]
        return self

    def _test_kernel(self, X: Any) -> np.ndarray:
        if not hasattr(self, "svc_"):
            from sklearn.exceptions import NotFittedError
            raise NotFittedError("QuantumKernelClassifier is not fitted; call fit first")
        x = _check_samples("X", X)
        if x.shape[1] != self.n_features_in_:
            raise ValueError(f"X must have {self.n_features_in_} features (as in fit), got "
                             f"{x.shape[1]}")
        return self._kernel(x, self.X_train_)

    def decision_function(self, X: Any) -> np.ndarray:
        """Signed distance to the separating hyperplane (binary problems)."""
        return self.svc_.decision_function(self._test_kernel(X))

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels of ``X``."""
        return self.svc_.predict(self._test_kernel(X))
