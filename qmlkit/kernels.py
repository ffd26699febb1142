"""Quantum kernels: fidelity kernels of feature maps, and kernel-target alignment (review §3, §5).

A quantum feature map ``x -> |φ(x)>`` defines the *fidelity kernel*
``K(x, x') = |<φ(x)|φ(x')>|²`` (Havlíček et al. 2019; Schuld & Killoran 2019), which a
classical kernel machine such as an SVM uses like any other kernel. On hardware each entry is an
overlap estimated from shots (:mod:`qmlkit.subroutines`); here it is computed exactly: each
data point's state vector is simulated once (complex128) and the whole matrix is
``|S_a S_b†|²`` from the stacked state vectors. Importing this module does not import
TensorFlow.

Example:
    >>> import numpy as np
    >>> x = np.array([[0.1, 0.2], [0.4, 1.3], [2.0, 0.5]])
    >>> k = fidelity_kernel(x)
    >>> k.shape, bool(np.allclose(np.diag(k), 1.0)), bool(np.allclose(k, k.T))
    ((3, 3), True, True)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cirq
import numpy as np

from qmlkit._validation import check_bool, check_finite_array, check_n_qubits
from qmlkit.circuits import state_vector
from qmlkit.encodings import zz_feature_map

__all__ = [
    "default_feature_map",
    "feature_states",
    "fidelity_kernel",
    "kernel_target_alignment",
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


def _check_feature_map(feature_map: Any) -> FeatureMap:
    if feature_map is None:
        return default_feature_map
    if not callable(feature_map):
        raise TypeError(f"feature_map must be a callable features -> cirq.Circuit, got "
                        f"{type(feature_map).__name__}")
    return feature_map


def feature_states(x: Any, *, feature_map: FeatureMap | None = None) -> np.ndarray:
    """State vectors ``|φ(x_i)>`` of every sample, stacked as the rows of a matrix.

    Qubits are ordered as in :func:`qmlkit.circuits.state_vector` (sorted; qubit 0 is the most
    significant bit); every state spans the qubits of all samples' circuits together.

    Args:
        x: samples, shape ``(n_samples, n_features)``.
        feature_map: ``features -> cirq.Circuit``; :func:`default_feature_map` by default.

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
    circuits = _circuits("x", xa, feature_map)
    qubits = _register(circuits)
    check_n_qubits("feature_map qubits", len(qubits), copies=len(circuits) + 1)
    return _states(circuits, qubits)


def fidelity_kernel(x_a: Any, x_b: Any = None, *,
                    feature_map: FeatureMap | None = None) -> np.ndarray:
    """Exact fidelity kernel ``K_ij = |<φ(a_i)|φ(b_j)>|²`` of a quantum feature map.

    Each sample's state vector is simulated once; the kernel is the elementwise squared
    modulus of the matrix of inner products of the stacked states. With ``x_b=None`` the
    Gram matrix of ``x_a`` is returned, symmetrised (``(K + Kᵀ)/2``, a change at rounding
    level); it is positive semi-definite with unit diagonal. Entries are clipped to ``[0, 1]``.

    Args:
        x_a: samples, shape ``(n_a, n_features)``.
        x_b: other samples, shape ``(n_b, n_features)``, or ``None`` for ``x_a`` itself.
        feature_map: ``features -> cirq.Circuit`` preparing ``|φ(x)>`` from ``|0...0>``;
            :func:`default_feature_map` (the ZZ feature map with ``reps=2``) by default.

    Returns:
        A float array of shape ``(n_a, n_b)`` (``(n_a, n_a)`` without ``x_b``).

    Raises:
        TypeError: for non-numeric samples or a feature map that is not callable or does not
            return a circuit.
        ValueError: for NaN/inf, empty or non-2-D sample sets, sample sets of different
            widths, or too many qubits for memory.

    Example:
        >>> from qmlkit.encodings import angle_encoding
        >>> k = fidelity_kernel([[0.0]], [[np.pi / 2], [np.pi]], feature_map=angle_encoding)
        >>> k.round(6)
        array([[0.5, 0. ]])
    """
    feature_map = _check_feature_map(feature_map)
    xa = _check_samples("x_a", x_a)
    xb = None if x_b is None else _check_samples("x_b", x_b)
    if xb is not None and xb.shape[1] != xa.shape[1]:
        raise ValueError(f"x_a and x_b must have the same number of features, got "
                         f"{xa.shape[1]} and {xb.shape[1]}")
    circuits_a = _circuits("x_a", xa, feature_map)
    circuits_b = [] if xb is None else _circuits("x_b", xb, feature_map)
    qubits = _register(circuits_a, circuits_b)
    check_n_qubits("feature_map qubits", len(qubits),
                   copies=len(circuits_a) + len(circuits_b) + 1)
    states_a = _states(circuits_a, qubits)
    states_b = states_a if xb is None else _states(circuits_b, qubits)
    kernel = np.abs(states_a.conj() @ states_b.T) ** 2
    if xb is None:
        kernel = (kernel + kernel.T) / 2
    return np.clip(kernel, 0.0, 1.0)


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
