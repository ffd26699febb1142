"""Classical shadows: many observables from few randomised measurements (review §8).

A *classical shadow* (Huang, Kueng and Preskill, Nat. Phys. 16, 1050 (2020)) is a list of
``T`` snapshots: each time the state is rotated by a random unitary ``U`` and measured in the
computational basis, giving bits ``b``, and ``ρ̂ = M⁻¹(U†|b><b|U)`` is an unbiased estimate of
the state. Two ensembles are implemented:

* ``"pauli"`` -- a uniformly random Pauli basis (X, Y or Z) for every qubit; the inverse channel
  factorises, ``ρ̂ = ⊗_i (3 U_i†|b_i><b_i|U_i − I)``, so a Pauli string of weight ``w`` is
  estimated by ``3^w`` times its ±1 parity on snapshots whose bases match it, and 0 otherwise.
* ``"clifford"`` -- a uniformly random ``n``-qubit Clifford (small ``n``, at most
  :data:`MAX_CLIFFORD_QUBITS`); ``ρ̂ = (2^n + 1) U†|b><b|U − I``. Good for fidelities with pure
  states (variance O(1) instead of exponential in ``n`` for Pauli shadows).

Conventions are PennyLane's (``qml.ClassicalShadow``): ``bits`` and ``recipes`` are ``(T, n)``
integer arrays, basis codes ``0 = X``, ``1 = Y``, ``2 = Z``, bit 0 is the +1 eigenvalue, and
column ``i`` is qubit ``i`` (qubit 0 first, Cirq's big-endian order). On the same snapshots
:meth:`ClassicalShadow.expval` equals PennyLane's ``ClassicalShadow.expval`` and Mitiq's
``classical_post_processing`` (up to their median-of-means group split, see
:func:`median_of_means`).

**Sampling.** All snapshots come from one state vector. Pauli snapshots are drawn qubit by qubit
from conditional marginals: the snapshots are processed as a prefix tree, and snapshots whose
first ``k`` (basis, outcome) pairs agree share one collapsed ``(n − k)``-qubit state, so the cost
is ``Σ_k min(6^k, T) · 2^(n−k)`` instead of ``T · n · 2^n``, and working memory is bounded by
``memory_limit_bytes`` (snapshots are split into batches when the tree would not fit). The
uniform random numbers are drawn up front, so the result does not depend on the batching.

**Random Cliffords** are exactly uniform: a uniformly random symplectic matrix over GF(2) by the
algorithm of Koenig and Smolin (J. Math. Phys. 55, 122202 (2014)), times a uniformly random
Pauli (the tableau's signs); the unitary is built from the tableau (up to a global phase, which no
snapshot depends on).

Example:
    >>> import numpy as np
    >>> from qmlkit.circuits import ghz_circuit
    >>> shadow = ClassicalShadow.from_circuit(ghz_circuit(3), n_snapshots=2000,
    ...                                       rng=np.random.default_rng(0))
    >>> est = shadow.expval(["ZZI", "IZZ", "XXX"], n_groups=5)
    >>> bool(np.all(np.abs(est - 1.0) < 0.3))
    True
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Iterator, Sequence
from itertools import combinations, product
from typing import Any

import cirq
import numpy as np

from qmlkit._validation import (
    check_choice,
    check_finite_array,
    check_float,
    check_int,
    check_n_qubits,
    check_rng,
)

__all__ = [
    "BASIS_CODES",
    "MAX_CLIFFORD_QUBITS",
    "MAX_EXACT_VARIANCE_QUBITS",
    "MAX_SUBSYSTEM_QUBITS",
    "ClassicalShadow",
    "derandomized_bases",
    "fidelity_variance",
    "local_pauli_strings",
    "median_of_means",
    "pauli_expectations",
    "random_clifford_tableau",
    "random_clifford_unitary",
    "random_symplectic",
]

#: Basis codes of ``recipes`` (PennyLane's convention).
BASIS_CODES = {"X": 0, "Y": 1, "Z": 2}

#: Largest system for random global Clifford shadows (the unitary is a dense ``2^n × 2^n``).
MAX_CLIFFORD_QUBITS = 8

#: Largest subsystem for reduced states, purities and entropies (``4^k`` matrix entries).
MAX_SUBSYSTEM_QUBITS = 10

_SPLITS = ("balanced", "pennylane", "mitiq")
_ENSEMBLES = ("pauli", "clifford")
_PAULI_CODE = {"I": -1, "X": 0, "Y": 1, "Z": 2}
_CIRQ_CODE = {cirq.X: 0, cirq.Y: 1, cirq.Z: 2}
_CHUNK_BYTES = 64 * 2**20
_SQ2 = 1 / math.sqrt(2)

# _BASIS_VECTORS[c, b] = the eigenvector |s> of Pauli c with eigenvalue (-1)^b.
_BASIS_VECTORS = np.array([
    [[_SQ2, _SQ2], [_SQ2, -_SQ2]],
    [[_SQ2, 1j * _SQ2], [_SQ2, -1j * _SQ2]],
    [[1, 0], [0, 1]],
], dtype=np.complex128)
# _LOCAL_SNAPSHOTS[c, b] = 3 |s><s| - I, the single-qubit inverse-channel snapshot.
_LOCAL_SNAPSHOTS = (3 * np.einsum("cbi,cbj->cbij", _BASIS_VECTORS, _BASIS_VECTORS.conj())
                    - np.eye(2)[None, None])


# --------------------------------------------------------------------------------------------
# median of means
# --------------------------------------------------------------------------------------------

def _group_bounds(n_values: int, n_groups: int, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Start and end index of each median-of-means group of ``n_values`` ordered values."""
    if n_groups > n_values:
        raise ValueError(
            f"n_groups={n_groups} exceeds the number of snapshots T={n_values}; "
            "every median-of-means group needs at least one snapshot")
    k = np.arange(n_groups)
    if split == "balanced":
        sizes = n_values // n_groups + (k < n_values % n_groups)
        ends = np.cumsum(sizes)
        return ends - sizes, ends
    if split == "pennylane":
        size = -(-n_values // n_groups)
        starts, ends = k * size, np.minimum((k + 1) * size, n_values)
        if np.any(ends <= starts):
            raise ValueError(
                f"split='pennylane' leaves a group empty for T={n_values}, n_groups={n_groups} "
                f"(groups of ceil(T/n_groups)={size}); use split='balanced'")
        return starts, ends
    size = n_values // n_groups  # "mitiq": equal groups, the remainder is dropped
    return k * size, (k + 1) * size


def median_of_means(values: Any, n_groups: int, *, split: str = "balanced") -> np.ndarray:
    """Median over ``n_groups`` contiguous groups of the group means of ``values`` (axis 0).

    ``split`` says how ``T = len(values)`` values are cut into groups:

    * ``"balanced"`` (default): sizes differ by at most one, every value is used;
    * ``"pennylane"``: groups of ``ceil(T / n_groups)``, the last one shorter (PennyLane);
    * ``"mitiq"``: groups of ``floor(T / n_groups)``, the remainder dropped (Mitiq).

    All three agree when ``n_groups`` divides ``T``.

    Raises:
        ValueError: if ``n_groups`` exceeds ``T`` (or a ``"pennylane"`` group would be empty).

    Example:
        >>> float(median_of_means([1.0, 3.0, 2.0, 2.0, 100.0, 100.0], 3))
        2.0
    """
    arr = check_finite_array("values", values)
    if arr.ndim == 0:
        raise ValueError("values must have at least one dimension (the snapshots)")
    n_groups = check_int("n_groups", n_groups, minimum=1)
    split = check_choice("split", split, _SPLITS)
    starts, ends = _group_bounds(arr.shape[0], n_groups, split)
    sums = np.add.reduceat(arr[: ends[-1]], starts, axis=0)
    means = sums / (ends - starts).reshape((-1,) + (1,) * (arr.ndim - 1))
    return np.median(means, axis=0)


# --------------------------------------------------------------------------------------------
# random Cliffords
# --------------------------------------------------------------------------------------------

def _inner(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Symplectic inner product (mod 2) over interleaved coordinates ``(x0, z0, x1, z1, ...)``;
    ``a`` may be a matrix of row vectors."""
    return (a[..., 0::2] @ b[1::2] + a[..., 1::2] @ b[0::2]) % 2


def _transvect(h: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The transvection ``Z_h(v) = v + <v, h> h`` applied to a vector or to each row."""
    return (v + np.multiply.outer(_inner(v, h), h)) % 2


def _find_transvection(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``h1, h2`` with ``y = Z_h2(Z_h1(x))`` (Koenig & Smolin, Lemma 2); x, y non-zero."""
    zero = np.zeros_like(x)
    if np.array_equal(x, y):
        return zero, zero
    if _inner(x, y) == 1:
        return (x + y) % 2, zero
    z = np.zeros_like(x)
    pairs = range(x.size // 2)
    for i in pairs:
        ii = 2 * i
        if (x[ii] or x[ii + 1]) and (y[ii] or y[ii + 1]):
            z[ii], z[ii + 1] = (x[ii] + y[ii]) % 2, (x[ii + 1] + y[ii + 1]) % 2
            if z[ii] + z[ii + 1] == 0:
                z[ii + 1] = 1
                if x[ii] != x[ii + 1]:
                    z[ii] = 1
            return (x + z) % 2, (y + z) % 2
    for i in pairs:
        ii = 2 * i
        if (x[ii] or x[ii + 1]) and not (y[ii] or y[ii + 1]):
            if x[ii] == x[ii + 1]:
                z[ii + 1] = 1
            else:
                z[ii + 1], z[ii] = x[ii], x[ii + 1]
            break
    for i in pairs:
        ii = 2 * i
        if not (x[ii] or x[ii + 1]) and (y[ii] or y[ii + 1]):
            if y[ii] == y[ii + 1]:
                z[ii + 1] = 1
            else:
                z[ii + 1], z[ii] = y[ii], y[ii + 1]
            break
    return (x + z) % 2, (y + z) % 2


def _symplectic_from_choices(n: int, choices: Sequence[tuple[np.ndarray, np.ndarray]]
                             ) -> np.ndarray:
    """Koenig-Smolin's canonical symplectic matrix for explicit choices.

    ``choices[l]`` belongs to the level acting on ``m = n - l`` qubits: a non-zero ``f1`` of
    length ``2m`` and ``bits`` of length ``2m - 1``; the map from choices to matrices is a
    bijection onto Sp(2n, 2), so uniform choices give a uniform matrix. Rows ``2j`` and
    ``2j + 1`` are the images of ``X_j`` and ``Z_j`` in interleaved coordinates.
    """
    f1, bits = (np.asarray(c, dtype=np.int64) for c in choices[0])
    nn = 2 * n
    e1 = np.zeros(nn, dtype=np.int64)
    e1[0] = 1
    t1, t2 = _find_transvection(e1, f1)
    eprime = e1.copy()
    eprime[2:] = bits[1:]
    h0 = _transvect(t2, _transvect(t1, eprime))
    if bits[0] == 1:
        f1 = np.zeros_like(f1)
    g = np.zeros((nn, nn), dtype=np.int64)
    g[0, 0] = g[1, 1] = 1
    if n > 1:
        g[2:, 2:] = _symplectic_from_choices(n - 1, choices[1:])
    for h in (t1, t2, h0, f1):
        g = _transvect(h, g)
    return g


def random_symplectic(n_qubits: int, *, rng: np.random.Generator) -> np.ndarray:
    """A uniformly random ``2n × 2n`` symplectic matrix over GF(2) (Koenig & Smolin 2014).

    Rows ``2j`` and ``2j + 1`` are the images of ``X_j`` and ``Z_j`` in interleaved coordinates
    ``(x_0, z_0, x_1, z_1, ...)``.

    Example:
        >>> g = random_symplectic(2, rng=np.random.default_rng(0))
        >>> omega = np.kron(np.eye(2, dtype=int), [[0, 1], [1, 0]])
        >>> bool(np.array_equal(g @ omega @ g.T % 2, omega))
        True
    """
    n = check_int("n_qubits", n_qubits, minimum=1)
    rng = check_rng("rng", rng)
    choices = []
    for m in range(n, 0, -1):
        f1 = np.zeros(2 * m, dtype=np.int64)
        while not f1.any():
            f1 = rng.integers(0, 2, size=2 * m)
        choices.append((f1, rng.integers(0, 2, size=2 * m - 1)))
    return _symplectic_from_choices(n, choices)


def random_clifford_tableau(n_qubits: int, *, rng: np.random.Generator) -> cirq.CliffordTableau:
    """A uniformly random ``n``-qubit Clifford (modulo global phase) as a ``cirq.CliffordTableau``.

    A uniform symplectic matrix (:func:`random_symplectic`) and uniform signs: every element
    of the Clifford group modulo phases is equally likely.

    Example:
        >>> t = random_clifford_tableau(2, rng=np.random.default_rng(1))
        >>> gate = cirq.CliffordGate.from_clifford_tableau(t)
        >>> cirq.num_qubits(gate)
        2
    """
    n = check_int("n_qubits", n_qubits, minimum=1)
    g = random_symplectic(n, rng=rng)
    signs = rng.integers(0, 2, size=2 * n).astype(bool)
    tableau = cirq.CliffordTableau(n)
    # cirq: rows 0..n-1 are the images of X_j, rows n..2n-1 those of Z_j.
    tableau.xs = np.concatenate([g[0::2, 0::2], g[1::2, 0::2]]).astype(bool)
    tableau.zs = np.concatenate([g[0::2, 1::2], g[1::2, 1::2]]).astype(bool)
    tableau.rs = np.concatenate([signs[0::2], signs[1::2]])
    return tableau


def _pauli_from_bits(x: np.ndarray, z: np.ndarray, n: int) -> tuple[int, int, complex]:
    """Bit masks (qubit 0 = most significant) and phase ``i^(#Y)`` of ``i^(x·z) X^x Z^z``."""
    weights = 1 << np.arange(n - 1, -1, -1)
    return int(x @ weights), int(z @ weights), 1j ** int(np.sum(x & z))


def _apply_pauli(xmask: int, zmask: int, phase: complex, v: np.ndarray) -> np.ndarray:
    """``P v`` for ``P = phase · X^x Z^z`` acting on axis 0 of ``v``."""
    k = np.arange(v.shape[0])
    sign = phase * (1 - 2 * (np.bitwise_count(k & zmask).astype(np.int64) & 1))
    out = np.empty_like(v)
    out[k ^ xmask] = sign.reshape((-1,) + (1,) * (v.ndim - 1)) * v
    return out


def _tableau_unitary(xs: np.ndarray, zs: np.ndarray, rs: np.ndarray) -> np.ndarray:
    """The unitary (up to global phase) with ``U X_j U† = ±row j``, ``U Z_j U† = ±row n + j``."""
    n = xs.shape[1]
    d = 2**n
    images = [(*_pauli_from_bits(xs[r].astype(np.int64), zs[r].astype(np.int64), n),
               -1.0 if rs[r] else 1.0) for r in range(2 * n)]
    # U|0...0> spans the joint +1 eigenspace of the images of Z_j: project the identity.
    proj = np.eye(d, dtype=np.complex128)
    for xm, zm, ph, sg in images[n:]:
        proj = 0.5 * (proj + _apply_pauli(xm, zm, sg * ph, proj))
    col = int(np.argmax(np.einsum("ij,ij->j", proj.real, proj.real)
                        + np.einsum("ij,ij->j", proj.imag, proj.imag)))
    cols = (proj[:, col] / np.linalg.norm(proj[:, col]))[:, None]
    # U|b> = Π_j (U X_j U†)^{b_j} U|0>; column index b has qubit 0 as its most significant bit.
    for xm, zm, ph, sg in images[:n]:
        cols = np.stack([cols, _apply_pauli(xm, zm, sg * ph, cols)], axis=2).reshape(d, -1)
    return cols


def random_clifford_unitary(n_qubits: int, *, rng: np.random.Generator) -> np.ndarray:
    """The ``2^n × 2^n`` matrix of a uniformly random Clifford (up to a global phase).

    Example:
        >>> u = random_clifford_unitary(2, rng=np.random.default_rng(0))
        >>> bool(np.allclose(u.conj().T @ u, np.eye(4)))
        True
    """
    n = check_int("n_qubits", n_qubits, minimum=1, maximum=MAX_CLIFFORD_QUBITS)
    t = random_clifford_tableau(n, rng=rng)
    return _tableau_unitary(t.xs, t.zs, t.rs)


# --------------------------------------------------------------------------------------------
# observables
# --------------------------------------------------------------------------------------------

def local_pauli_strings(n_qubits: int, *, max_weight: int = 2,
                        same_axis: bool = False) -> list[str]:
    """All Pauli strings of weight 1 to ``max_weight`` on ``n_qubits`` qubits, as ``"XIZ"``.

    With ``same_axis=True`` only strings whose non-identity factors are all the same Pauli
    (``X_i``, ``X_i X_j``, ``Y_i Y_j``, ...): for ``n = 16``, ``max_weight = 2`` these are the
    48 one-local Paulis and the 360 two-point correlators, 408 in all (``same_axis=False``:
    48 + 1080 = 1128).

    Example:
        >>> local_pauli_strings(2, max_weight=2, same_axis=True)
        ['XI', 'YI', 'ZI', 'IX', 'IY', 'IZ', 'XX', 'YY', 'ZZ']
        >>> len(local_pauli_strings(16, same_axis=True)), len(local_pauli_strings(16))
        (408, 1128)
    """
    n = check_int("n_qubits", n_qubits, minimum=1)
    wmax = check_int("max_weight", max_weight, minimum=1, maximum=n)
    out = []
    for w in range(1, wmax + 1):
        for support in combinations(range(n), w):
            labels = [p * w for p in "XYZ"] if same_axis else ["".join(t)
                                                              for t in product("XYZ", repeat=w)]
            for label in labels:
                word = ["I"] * n
                for q, p in zip(support, label, strict=True):
                    word[q] = p
                out.append("".join(word))
    return out


def _real_coefficient(coeff: Any, where: str) -> float:
    c = complex(coeff)
    if abs(c.imag) > 1e-12:
        raise ValueError(f"{where} must be Hermitian (real coefficient), got coefficient {c}")
    return c.real


class _Terms:
    """Pauli terms of a list of observables: codes ``(M, n)`` (-1 = I), coefficients, owner."""

    def __init__(self, codes: np.ndarray, coeffs: np.ndarray, owner: np.ndarray,
                 n_observables: int, single: bool) -> None:
        self.codes, self.coeffs, self.owner = codes, coeffs, owner
        self.n_observables, self.single = n_observables, single

    def combine(self, values: np.ndarray, axis: int) -> np.ndarray:
        """Sum coefficient-weighted term values (along ``axis``) into observable values."""
        shape = [1] * values.ndim
        shape[axis] = -1
        weighted = values * self.coeffs.reshape(shape)
        if len(self.owner) == self.n_observables:  # one term per observable
            return weighted
        starts = np.flatnonzero(np.diff(self.owner, prepend=-1))  # owner is non-decreasing
        return np.add.reduceat(weighted, starts, axis=axis)


def _parse_observables(observables: Any, qubits: tuple[cirq.Qid, ...]) -> _Terms:
    n = len(qubits)
    index = {q: i for i, q in enumerate(qubits)}
    single = isinstance(observables, (str, cirq.PauliString, cirq.PauliSum))
    items = [observables] if single else observables
    if not isinstance(items, (Sequence, np.ndarray)) or isinstance(items, bytes):
        raise TypeError("observables must be a Pauli string like 'XZI', a cirq.PauliString, a "
                        f"cirq.PauliSum, or a sequence of them; got {type(observables).__name__}")
    if len(items) == 0:
        raise ValueError("observables must not be empty")
    codes, coeffs, owner = [], [], []

    def add_pauli_string(ps: cirq.PauliString, k: int, where: str) -> None:
        word = np.full(n, -1, dtype=np.int8)
        for q, p in ps.items():
            if q not in index:
                raise ValueError(f"{where} acts on {q}, which the shadow did not measure "
                                 f"(measured: {list(qubits)})")
            word[index[q]] = _CIRQ_CODE[p]
        codes.append(word)
        coeffs.append(_real_coefficient(ps.coefficient, where))
        owner.append(k)

    for k, obs in enumerate(items):
        where = "observables" if single else f"observables[{k}]"
        if isinstance(obs, str):
            if len(obs) != n or any(ch not in _PAULI_CODE for ch in obs.upper()):
                raise ValueError(f"{where} must be a string of {n} characters from 'IXYZ' "
                                 f"(one per measured qubit), got {obs!r}")
            codes.append(np.array([_PAULI_CODE[ch] for ch in obs.upper()], dtype=np.int8))
            coeffs.append(1.0)
            owner.append(k)
        elif isinstance(obs, cirq.PauliString):
            add_pauli_string(obs, k, where)
        elif isinstance(obs, cirq.PauliSum):
            terms = list(obs)
            if not terms:  # the zero operator
                codes.append(np.full(n, -1, dtype=np.int8))
                coeffs.append(0.0)
                owner.append(k)
            for ps in terms:
                add_pauli_string(ps, k, where)
        else:
            raise TypeError(f"{where} must be a Pauli string like 'XZI', a cirq.PauliString or "
                            f"a cirq.PauliSum, got {type(obs).__name__}")
    return _Terms(np.array(codes, dtype=np.int8).reshape(-1, n), np.array(coeffs),
                  np.array(owner), len(items), single)


# --------------------------------------------------------------------------------------------
# sampling
# --------------------------------------------------------------------------------------------

def _check_state(state: Any) -> tuple[np.ndarray, int]:
    psi = check_finite_array("state", state, ndim=1, dtype=np.complex128)
    n = round(math.log2(psi.size)) if psi.size > 0 else 0
    if psi.size < 2 or 2**n != psi.size:
        raise ValueError(f"state must have length 2**n with n >= 1, got length {psi.size}")
    norm = float(np.vdot(psi, psi).real)
    if abs(norm - 1.0) > 1e-8:
        raise ValueError(f"state must be normalised, got squared norm {norm:.6g}")
    return psi, n


def _tree_bytes(n: int, n_snapshots: int) -> int:
    """Peak bytes of the prefix-tree sampler for one batch of ``n_snapshots``."""
    return max(16 * 2 ** (n - k) * (min(6**k, n_snapshots) + min(6 ** (k + 1), n_snapshots))
               for k in range(n))


def _pauli_batch_size(n: int, n_snapshots: int, memory_limit_bytes: int) -> int:
    lo, hi = 1, n_snapshots
    if _tree_bytes(n, hi) <= memory_limit_bytes:
        return hi
    while lo < hi - 1:
        mid = (lo + hi) // 2
        if _tree_bytes(n, mid) <= memory_limit_bytes:
            lo = mid
        else:
            hi = mid
    return lo


def _sample_pauli_batch(psi: np.ndarray, n: int, recipes: np.ndarray,
                        uniforms: np.ndarray) -> np.ndarray:
    """Bits of snapshots with the given bases: qubit by qubit, from conditional marginals,
    with snapshots sharing a (basis, outcome) prefix sharing their collapsed state."""
    t = recipes.shape[0]
    bits = np.empty((t, n), dtype=np.uint8)
    states = psi.reshape(1, -1)
    branch = np.zeros(t, dtype=np.int64)
    for k in range(n):
        m = states.shape[0]
        s = states.reshape(m, 2, -1)
        a0, a1 = s[:, 0], s[:, 1]
        ar, ai, br, bi = a0.real, a0.imag, a1.real, a1.imag
        r00 = np.einsum("ij,ij->i", ar, ar) + np.einsum("ij,ij->i", ai, ai)
        r11 = np.einsum("ij,ij->i", br, br) + np.einsum("ij,ij->i", bi, bi)
        re01 = np.einsum("ij,ij->i", ar, br) + np.einsum("ij,ij->i", ai, bi)
        im01 = np.einsum("ij,ij->i", ai, br) - np.einsum("ij,ij->i", ar, bi)
        norm = r00 + r11
        # <X>, <Y>, <Z> of qubit k in each branch (rho_01 = sum a0 conj(a1)).
        expect = np.stack([2 * re01, -2 * im01, r00 - r11], axis=1) / norm[:, None]
        c = recipes[:, k]
        p0 = 0.5 * (1.0 + expect[branch, c])
        bit = (uniforms[:, k] >= p0).astype(np.uint8)
        bits[:, k] = bit
        if k == n - 1:
            break
        key = (branch * 3 + c) * 2 + bit
        uniq, inv = np.unique(key, return_inverse=True)
        ub, uc, ubit = uniq // 6, (uniq // 2) % 3, uniq % 2
        p = 0.5 * (1.0 + (1 - 2 * ubit) * expect[ub, uc])
        scale = 1.0 / np.sqrt(np.maximum(p * norm[ub], 1e-300))
        vec = _BASIS_VECTORS[uc, ubit].conj() * scale[:, None]
        new = a0[ub]
        new *= vec[:, 0:1]
        tmp = a1[ub]
        tmp *= vec[:, 1:2]
        new += tmp
        del tmp
        states, branch = new, inv
    return bits


def _check_bits(bits: Any, name: str = "bits") -> np.ndarray:
    arr = np.asarray(bits)
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{name} must be a (T, n) array with T, n >= 1, got shape {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool):
        raise TypeError(f"{name} must hold integers 0 or 1, got dtype {arr.dtype}")
    if np.any((arr != 0) & (arr != 1)):
        raise ValueError(f"{name} must hold only 0 and 1")
    return arr.astype(np.uint8)


def _check_recipes(recipes: Any, name: str = "recipes") -> np.ndarray:
    arr = np.asarray(recipes)
    if arr.ndim == 2 and arr.dtype.kind in "US":
        raise TypeError(f"{name} must hold integer basis codes, not strings")
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"{name} must be a (T, n) array with T, n >= 1, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must hold integer basis codes, got dtype {arr.dtype}")
    bad = np.setdiff1d(np.unique(arr), [0, 1, 2])
    if bad.size:
        raise ValueError(f"{name} must hold basis codes 0 (X), 1 (Y), 2 (Z); got unknown "
                         f"code(s) {bad.tolist()}")
    return arr.astype(np.uint8)


def _bases_to_codes(bases: Any, n: int) -> np.ndarray:
    if isinstance(bases, str):
        raise TypeError("bases must be a sequence of basis strings like ['XZ', 'ZZ'] or a "
                        "(T, n) array of codes")
    if isinstance(bases, Sequence) and len(bases) > 0 and all(isinstance(b, str) for b in bases):
        for i, b in enumerate(bases):
            if len(b) != n or any(ch not in BASIS_CODES for ch in b.upper()):
                raise ValueError(f"bases[{i}] must be {n} characters from 'XYZ', got {b!r}")
        return np.array([[BASIS_CODES[ch] for ch in b.upper()] for b in bases], dtype=np.uint8)
    codes = _check_recipes(bases, "bases")
    if codes.shape[1] != n:
        raise ValueError(f"bases must have one column per qubit ({n}), got shape {codes.shape}")
    return codes


def _check_qubits(qubits: Any, n: int) -> tuple[cirq.Qid, ...]:
    if qubits is None:
        return tuple(cirq.LineQubit.range(n))
    qs = tuple(qubits)
    if len(qs) != n or len(set(qs)) != n or not all(isinstance(q, cirq.Qid) for q in qs):
        raise ValueError(f"qubits must be {n} distinct cirq qubits, got {qubits!r}")
    return qs


# --------------------------------------------------------------------------------------------
# the shadow
# --------------------------------------------------------------------------------------------

class ClassicalShadow:
    """A classical shadow: ``T`` snapshots of an ``n``-qubit state.

    The constructor takes Pauli-basis measurements as PennyLane records them; use
    :meth:`from_state` or :meth:`from_circuit` to simulate them, :meth:`from_clifford` for
    measurements after given Clifford unitaries, and :meth:`from_mitiq` for Mitiq's output.

    Args:
        bits: ``(T, n)`` outcomes, 0 for the +1 eigenvalue of the measured Pauli.
        recipes: ``(T, n)`` basis codes, 0 = X, 1 = Y, 2 = Z.
        qubits: the qubit of each column; ``cirq.LineQubit.range(n)`` by default.

    Raises:
        ValueError: for shapes that disagree, bits other than 0/1 or unknown basis codes.

    Example:
        >>> shadow = ClassicalShadow([[0, 1], [1, 1]], [[2, 0], [2, 2]])
        >>> shadow.expval("ZI")  # (3 * 1 + 3 * (-1)) / 2
        0.0
        >>> shadow.expval("ZZ")  # (0 + 9 * 1) / 2
        4.5
    """

    def __init__(self, bits: Any, recipes: Any, *, qubits: Sequence[cirq.Qid] | None = None
                 ) -> None:
        b = _check_bits(bits)
        r = _check_recipes(recipes)
        if b.shape != r.shape:
            raise ValueError(f"bits and recipes must have the same shape, got {b.shape} and "
                             f"{r.shape}")
        self._init(b, r, None, "pauli", _check_qubits(qubits, b.shape[1]))

    def _init(self, bits: np.ndarray, recipes: np.ndarray | None,
              clifford_states: np.ndarray | None, ensemble: str,
              qubits: tuple[cirq.Qid, ...]) -> None:
        self._bits = bits
        self._recipes = recipes
        self._clifford_states = clifford_states
        self._ensemble = ensemble
        self._qubits = qubits
        for arr in (bits, recipes, clifford_states):
            if arr is not None:
                arr.setflags(write=False)

    # ---- construction -------------------------------------------------------------------

    @classmethod
    def _new(cls, bits: np.ndarray, recipes: np.ndarray | None,
             clifford_states: np.ndarray | None, ensemble: str,
             qubits: tuple[cirq.Qid, ...]) -> ClassicalShadow:
        obj = cls.__new__(cls)
        obj._init(bits, recipes, clifford_states, ensemble, qubits)
        return obj

    @classmethod
    def from_state(cls, state: Any, *, n_snapshots: int | None = None,
                   rng: np.random.Generator, ensemble: str = "pauli", bases: Any = None,
                   qubits: Sequence[cirq.Qid] | None = None,
                   memory_limit_bytes: int = 512 * 2**20) -> ClassicalShadow:
        """Simulate ``n_snapshots`` randomised measurements of a state vector.

        Args:
            state: normalised state vector of ``n`` qubits (qubit 0 most significant).
            n_snapshots: number of snapshots ``T``; may be omitted when ``bases`` is given.
            rng: the source of all randomness (bases, Cliffords and outcomes).
            ensemble: ``"pauli"`` (random local Pauli bases) or ``"clifford"`` (random global
                Cliffords, ``n <= MAX_CLIFFORD_QUBITS``).
            bases: Pauli ensemble only: fixed measurement bases instead of random ones, as
                strings (``["XZ", "ZZ"]``) or a ``(T, n)`` array of codes (e.g. from
                :func:`derandomized_bases`).
            qubits: the qubits of the columns; ``cirq.LineQubit.range(n)`` by default.
            memory_limit_bytes: bound on the Pauli sampler's working arrays; snapshots are
                processed in batches when the prefix tree would exceed it.

        Raises:
            ValueError: for a state that is not normalised, a non-positive ``n_snapshots``, or
                ``bases`` that do not fit.

        Example:
            >>> shadow = ClassicalShadow.from_state(np.array([1, 0, 0, 0]), n_snapshots=3,
            ...                                     rng=np.random.default_rng(0))
            >>> shadow.n_snapshots, shadow.n_qubits
            (3, 2)
        """
        psi, n = _check_state(state)
        rng = check_rng("rng", rng)
        ensemble = check_choice("ensemble", ensemble, _ENSEMBLES)
        qs = _check_qubits(qubits, n)
        limit = check_int("memory_limit_bytes", memory_limit_bytes, minimum=1)
        if bases is not None:
            if ensemble != "pauli":
                raise ValueError("bases can only be given for ensemble='pauli'")
            recipes = _bases_to_codes(bases, n)
            if n_snapshots is not None and check_int("n_snapshots", n_snapshots,
                                                     minimum=1) != recipes.shape[0]:
                raise ValueError(f"n_snapshots={n_snapshots} disagrees with the "
                                 f"{recipes.shape[0]} rows of bases")
            t = recipes.shape[0]
        else:
            if n_snapshots is None:
                raise TypeError("n_snapshots is required unless bases are given")
            t = check_int("n_snapshots", n_snapshots, minimum=1)
            recipes = None
        if ensemble == "clifford":
            check_int("number of qubits (clifford ensemble)", n, maximum=MAX_CLIFFORD_QUBITS)
            return cls._sample_clifford(psi, n, t, rng, qs)
        check_n_qubits("number of qubits", n, copies=2)
        if recipes is None:
            recipes = rng.integers(0, 3, size=(t, n), dtype=np.uint8)
        uniforms = rng.random((t, n))
        batch = _pauli_batch_size(n, t, limit)
        bits = np.empty((t, n), dtype=np.uint8)
        for start in range(0, t, batch):
            sl = slice(start, start + batch)
            bits[sl] = _sample_pauli_batch(psi, n, recipes[sl], uniforms[sl])
        return cls._new(bits, recipes, None, "pauli", qs)

    @classmethod
    def _sample_clifford(cls, psi: np.ndarray, n: int, t: int, rng: np.random.Generator,
                         qubits: tuple[cirq.Qid, ...]) -> ClassicalShadow:
        d = 2**n
        states = np.empty((t, d), dtype=np.complex128)
        outcomes = np.empty(t, dtype=np.int64)
        for i in range(t):
            tab = random_clifford_tableau(n, rng=rng)
            u = _tableau_unitary(tab.xs, tab.zs, tab.rs)
            # einsum, not u @ psi: a multi-threaded BLAS matvec per snapshot costs
            # milliseconds of thread wake-ups on a loaded machine (~1000x the arithmetic)
            p = np.abs(np.einsum("ij,j->i", u, psi)) ** 2
            cdf = np.cumsum(p)
            b = min(int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right")), d - 1)
            outcomes[i] = b
            states[i] = u[b].conj()  # U†|b>
        bits = ((outcomes[:, None] >> np.arange(n - 1, -1, -1)) & 1).astype(np.uint8)
        return cls._new(bits, None, states, "clifford", qubits)

    @classmethod
    def from_circuit(cls, circuit: cirq.AbstractCircuit, *, n_snapshots: int | None = None,
                     rng: np.random.Generator, ensemble: str = "pauli", bases: Any = None,
                     qubits: Sequence[cirq.Qid] | None = None,
                     memory_limit_bytes: int = 512 * 2**20) -> ClassicalShadow:
        """Simulate the circuit once (:func:`qmlkit.circuits.state_vector`), then
        :meth:`from_state`; the columns are ``qubits`` (default: the circuit's, sorted).

        Example:
            >>> from qmlkit.circuits import bell_circuit
            >>> s = ClassicalShadow.from_circuit(bell_circuit(), n_snapshots=10,
            ...                                  rng=np.random.default_rng(0))
            >>> s.qubits
            (cirq.LineQubit(0), cirq.LineQubit(1))
        """
        from qmlkit.circuits import state_vector

        order = sorted(circuit.all_qubits()) if qubits is None else list(qubits)
        psi = state_vector(circuit, order if order else None)
        return cls.from_state(psi, n_snapshots=n_snapshots, rng=rng, ensemble=ensemble,
                              bases=bases, qubits=order, memory_limit_bytes=memory_limit_bytes)

    @classmethod
    def from_clifford(cls, bits: Any, unitaries: Any, *,
                      qubits: Sequence[cirq.Qid] | None = None) -> ClassicalShadow:
        """Clifford-ensemble shadow from measured ``bits`` ``(T, n)`` after ``unitaries``
        ``(T, 2^n, 2^n)`` (each ``U_t`` applied before the computational-basis measurement).

        The unitaries are assumed to be uniform random Cliffords (or any unitary 3-design):
        the inverse channel ``(2^n + 1) U†|b><b|U − I`` is only unbiased then.

        Example:
            >>> s = ClassicalShadow.from_clifford([[0]], [np.eye(2)])
            >>> s.expval("Z")  # (2 + 1) <0|Z|0>
            3.0
        """
        b = _check_bits(bits)
        t, n = b.shape
        check_int("number of qubits (clifford ensemble)", n, maximum=MAX_CLIFFORD_QUBITS)
        d = 2**n
        u = check_finite_array("unitaries", unitaries, ndim=3, dtype=np.complex128)
        if u.shape != (t, d, d):
            raise ValueError(f"unitaries must have shape {(t, d, d)} for bits of shape "
                             f"{b.shape}, got {u.shape}")
        index = b.astype(np.int64) @ (1 << np.arange(n - 1, -1, -1))
        states = u[np.arange(t), index].conj()
        norms = np.einsum("ij,ij->i", states.conj(), states).real
        if np.any(np.abs(norms - 1) > 1e-8):
            raise ValueError("unitaries must be unitary (a row of U_t is not normalised)")
        return cls._new(b, None, states, "clifford", _check_qubits(qubits, n))

    @classmethod
    def from_mitiq(cls, outcomes: tuple[Sequence[str], Sequence[str]], *,
                   qubits: Sequence[cirq.Qid] | None = None) -> ClassicalShadow:
        """From Mitiq's ``(bitstrings, pauli_strings)``, e.g. ``(["01"], ["XZ"])``.

        Example:
            >>> ClassicalShadow.from_mitiq((["01"], ["XZ"])).recipes.tolist()
            [[0, 2]]
        """
        if not isinstance(outcomes, (tuple, list)) or len(outcomes) != 2:
            raise TypeError("outcomes must be a pair (bitstrings, pauli_strings)")
        bitstrings, paulis = outcomes
        if len(bitstrings) != len(paulis) or not bitstrings:
            raise ValueError("outcomes must hold as many bitstrings as Pauli strings (>= 1)")
        n = len(bitstrings[0])
        for i, bs in enumerate(bitstrings):
            if len(bs) != n or set(bs) - {"0", "1"}:
                raise ValueError(f"outcomes[0][{i}] must be {n} characters '0'/'1', got {bs!r}")
        bits = np.array([[int(ch) for ch in bs] for bs in bitstrings], dtype=np.uint8)
        return cls(bits, _bases_to_codes(list(paulis), n), qubits=qubits)

    def to_mitiq(self) -> tuple[list[str], list[str]]:
        """The Pauli shadow as Mitiq's ``(bitstrings, pauli_strings)``.

        Example:
            >>> ClassicalShadow([[0, 1]], [[0, 2]]).to_mitiq()
            (['01'], ['XZ'])
        """
        recipes = self._require_pauli("to_mitiq")
        return (["".join(map(str, row)) for row in self._bits.tolist()],
                ["".join("XYZ"[c] for c in row) for row in recipes.tolist()])

    def to_pennylane(self) -> tuple[np.ndarray, np.ndarray]:
        """``(bits, recipes)`` as int64 arrays for ``qml.ClassicalShadow(bits, recipes)``.

        (PennyLane computes ``1 - 2 * bits`` in the input's dtype, so unsigned bits would
        overflow there.)

        Example:
            >>> bits, recipes = ClassicalShadow([[1, 0]], [[2, 1]]).to_pennylane()
            >>> bits.dtype, recipes.tolist()
            (dtype('int64'), [[2, 1]])
        """
        recipes = self._require_pauli("to_pennylane")
        return self._bits.astype(np.int64), recipes.astype(np.int64)

    # ---- properties -----------------------------------------------------------------------

    @property
    def bits(self) -> np.ndarray:
        """``(T, n)`` measured bits (read-only)."""
        return self._bits

    @property
    def recipes(self) -> np.ndarray | None:
        """``(T, n)`` Pauli basis codes (0 = X, 1 = Y, 2 = Z); ``None`` for Clifford shadows."""
        return self._recipes

    @property
    def clifford_states(self) -> np.ndarray | None:
        """``(T, 2^n)`` states ``U_t†|b_t>`` of a Clifford shadow; ``None`` for Pauli shadows."""
        return self._clifford_states

    @property
    def ensemble(self) -> str:
        """``"pauli"`` or ``"clifford"``."""
        return self._ensemble

    @property
    def qubits(self) -> tuple[cirq.Qid, ...]:
        """The qubit of each column."""
        return self._qubits

    @property
    def n_qubits(self) -> int:
        """Number of measured qubits ``n``."""
        return self._bits.shape[1]

    @property
    def n_snapshots(self) -> int:
        """Number of snapshots ``T``."""
        return self._bits.shape[0]

    def __len__(self) -> int:
        return self.n_snapshots

    def __repr__(self) -> str:
        return (f"ClassicalShadow(ensemble={self._ensemble!r}, n_qubits={self.n_qubits}, "
                f"n_snapshots={self.n_snapshots})")

    def _require_pauli(self, what: str) -> np.ndarray:
        if self._recipes is None:
            raise ValueError(f"{what} needs a Pauli-ensemble shadow, this one is "
                             f"{self._ensemble!r}")
        return self._recipes

    # ---- estimators ---------------------------------------------------------------------

    def _term_chunks(self, codes: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(rows, values)``: single-snapshot estimates ``tr(P_m ρ̂_t)`` of the Pauli
        terms ``codes[rows]``, as ``(len(rows), T)`` arrays of bounded size."""
        t, n = self._bits.shape
        chunk = max(1, _CHUNK_BYTES // (8 * t))
        if self._ensemble == "clifford":
            phi = self._clifford_states
            d = phi.shape[1]
            for m, word in enumerate(codes):
                x = np.isin(word, (0, 1)).astype(np.int64)
                z = np.isin(word, (1, 2)).astype(np.int64)
                if not x.any() and not z.any():
                    yield np.array([m]), np.ones((1, t))
                    continue
                xm, zm, ph = _pauli_from_bits(x, z, n)
                pphi = _apply_pauli(xm, zm, ph, phi.T).T
                yield np.array([m]), (d + 1) * np.einsum("ij,ij->i", phi.conj(), pphi).real[None]
            return
        # a[3i + c, t] = 3 (-1)^b_ti δ(recipe_ti == c): a weight-w Pauli's snapshot value is the
        # product of w rows of a (rows gathered from a C-ordered (3n, T) array are contiguous).
        a = np.zeros((n, 3, t))
        np.put_along_axis(a, self._recipes.T[:, None, :].astype(np.intp),
                          (3.0 * (1 - 2 * self._bits.T.astype(np.int8)))[:, None, :], axis=1)
        a = a.reshape(3 * n, t)
        weights = np.count_nonzero(codes >= 0, axis=1)
        for w in np.unique(weights):
            rows = np.flatnonzero(weights == w)
            if w == 0:
                for s in range(0, len(rows), chunk):
                    yield rows[s:s + chunk], np.ones((len(rows[s:s + chunk]), t))
                continue
            qubit = np.nonzero(codes[rows] >= 0)[1].reshape(len(rows), w)
            cols = 3 * qubit + np.take_along_axis(codes[rows], qubit, axis=1)
            for s in range(0, len(rows), chunk):
                c = cols[s:s + chunk]
                v = a[c[:, 0]]
                for j in range(1, w):
                    v *= a[c[:, j]]
                yield rows[s:s + chunk], v

    def _term_values(self, codes: np.ndarray) -> np.ndarray:
        """``(T, M)`` single-snapshot estimates of Pauli terms."""
        out = np.empty((self.n_snapshots, codes.shape[0]))
        for rows, v in self._term_chunks(codes):
            out[:, rows] = v.T
        return out

    def _term_group_sums(self, codes: np.ndarray, starts: np.ndarray, end: int) -> np.ndarray:
        """``(M, K)`` sums of the terms' snapshot values over the groups ``[starts, ...)``."""
        out = np.empty((codes.shape[0], len(starts)))
        for rows, v in self._term_chunks(codes):
            out[rows] = np.add.reduceat(v[:, :end], starts, axis=1)
        return out

    def snapshot_values(self, observables: Any) -> np.ndarray:
        """Single-snapshot estimates ``tr(O ρ̂_t)``: shape ``(T,)`` for one observable,
        ``(T, M)`` for a sequence of ``M``; their mean is the shadow estimate.

        Example:
            >>> ClassicalShadow([[0], [1], [0]], [[2], [2], [0]]).snapshot_values("Z")
            array([ 3., -3.,  0.])
        """
        terms = _parse_observables(observables, self._qubits)
        values = terms.combine(self._term_values(terms.codes), axis=1)
        return values[:, 0] if terms.single else values

    def expval(self, observables: Any, *, n_groups: int = 1, split: str = "balanced",
               estimator: str = "shadow") -> float | np.ndarray:
        """Estimate expectation values, vectorised over snapshots and observables.

        Args:
            observables: a Pauli string like ``"XZIY"`` (one character per measured qubit), a
                ``cirq.PauliString`` or ``cirq.PauliSum`` on the shadow's qubits, or a sequence
                of them.
            n_groups: median-of-means groups (1: the plain mean). The median is taken of
                each observable's group means (for a ``PauliSum``, of the whole sum; PennyLane
                takes it per term, which agrees for ``n_groups=1`` and for Pauli strings).
            split: how snapshots are cut into groups, see :func:`median_of_means`.
            estimator: ``"shadow"`` (the classical-shadow estimate, unbiased for random
                bases) or ``"hits"`` (Pauli ensemble: the mean ±1 parity over the snapshots
                whose bases match the observable, the estimator for derandomised bases of
                :func:`derandomized_bases`; ``n_groups`` must be 1).

        Returns:
            A float for one observable, an array for a sequence.

        Raises:
            ValueError: for observables on unmeasured qubits or malformed strings, complex
                coefficients, ``n_groups > T``, or a ``"hits"`` observable no snapshot matches.

        Example:
            >>> s = ClassicalShadow([[0, 0], [0, 1], [1, 1], [0, 0]],
            ...                     [[2, 2], [2, 2], [0, 2], [2, 0]])
            >>> s.expval(["ZZ", "IZ"]).tolist()  # (9 - 9) / 4 and (3 - 3 - 3) / 4
            [0.0, -0.75]
            >>> s.expval(["ZZ", "IZ"], estimator="hits").tolist()  # (1 - 1) / 2, (1 - 1 - 1) / 3
            [0.0, -0.3333333333333333]
        """
        estimator = check_choice("estimator", estimator, ("shadow", "hits"))
        n_groups = check_int("n_groups", n_groups, minimum=1)
        split = check_choice("split", split, _SPLITS)
        terms = _parse_observables(observables, self._qubits)
        if estimator == "hits":
            if n_groups != 1:
                raise ValueError("estimator='hits' takes no median of means: use n_groups=1")
            result = self._hits_expval(terms)
        else:
            starts, ends = _group_bounds(self.n_snapshots, n_groups, split)
            sums = terms.combine(self._term_group_sums(terms.codes, starts, ends[-1]), axis=0)
            result = np.median(sums / (ends - starts), axis=1)
        return float(result[0]) if terms.single else np.asarray(result)

    def _hits_expval(self, terms: _Terms) -> np.ndarray:
        recipes = self._require_pauli("estimator='hits'")
        values = self._term_values(terms.codes)
        weights = np.count_nonzero(terms.codes >= 0, axis=1)
        match = np.ones(values.shape, dtype=bool)
        for m, word in enumerate(terms.codes):
            support = word >= 0
            match[:, m] = np.all(recipes[:, support] == word[support], axis=1)
        hits = match.sum(axis=0)
        if np.any(hits == 0):
            first = int(np.flatnonzero(hits == 0)[0])
            raise ValueError(f"no snapshot measures term {first} of observables in its basis; "
                             "estimator='hits' needs at least one matching snapshot")
        means = values.sum(axis=0) / hits / 3.0**weights
        return terms.combine(means, axis=0)

    def fidelity(self, target: Any, *, n_groups: int = 1, split: str = "balanced") -> float:
        """Estimate ``<ψ|ρ|ψ>`` for a pure target state vector ``ψ`` (median of means).

        Clifford shadows: ``(2^n + 1)|<ψ|U†|b>|² − 1`` per snapshot, variance O(1). Pauli
        shadows: ``<ψ|⊗_i(3U_i†|b_i><b_i|U_i − I)|ψ>`` per snapshot, unbiased too but with a
        variance that grows exponentially with ``n`` for entangled targets; cost
        ``O(T n 2^n)``.

        Example:
            >>> from qmlkit.circuits import ghz_circuit, state_vector
            >>> psi = state_vector(ghz_circuit(3))
            >>> s = ClassicalShadow.from_state(psi, n_snapshots=500, ensemble="clifford",
            ...                                rng=np.random.default_rng(0))
            >>> abs(s.fidelity(psi) - 1) < 0.15
            True
        """
        psi, n = _check_state(target)
        if n != self.n_qubits:
            raise ValueError(f"target must be a state of the shadow's {self.n_qubits} qubits, "
                             f"got one of {n}")
        _group_bounds(self.n_snapshots, check_int("n_groups", n_groups, minimum=1),
                      check_choice("split", split, _SPLITS))
        return float(median_of_means(self._fidelity_values(psi), n_groups, split=split))

    def fidelity_values(self, target: Any) -> np.ndarray:
        """Single-snapshot fidelity estimates ``<ψ|ρ̂_t|ψ>``, shape ``(T,)``, for a pure
        target ``ψ``; their mean is ``fidelity(target)`` and their variance the
        single-snapshot variance (compare :func:`fidelity_variance`).

        Example:
            >>> s = ClassicalShadow([[0], [1], [0]], [[2], [2], [0]])
            >>> np.round(s.fidelity_values(np.array([1.0, 0.0])), 12)  # 3|<0|b>|² - 1; 1/2 on X
            array([ 2. , -1. ,  0.5])
        """
        psi, n = _check_state(target)
        if n != self.n_qubits:
            raise ValueError(f"target must be a state of the shadow's {self.n_qubits} qubits, "
                             f"got one of {n}")
        return self._fidelity_values(psi)

    def _fidelity_values(self, psi: np.ndarray) -> np.ndarray:
        t, n = self._bits.shape
        d = 2**n
        if self._ensemble == "clifford":
            return (d + 1) * np.abs(self._clifford_states @ psi.conj()) ** 2 - 1
        mats = _LOCAL_SNAPSHOTS[self._recipes, self._bits]  # (T, n, 2, 2)
        out = np.empty(t)
        chunk = max(1, _CHUNK_BYTES // (3 * 16 * d))
        for s in range(0, t, chunk):
            m = mats[s:s + chunk]
            v = np.broadcast_to(psi, (m.shape[0], d))
            for i in range(n):
                v = np.einsum("bij,bljr->blir", m[:, i],
                              v.reshape(m.shape[0], 2**i, 2, 2 ** (n - i - 1)))
            out[s:s + chunk] = np.einsum("j,bj->b", psi.conj(),
                                         v.reshape(m.shape[0], d)).real
        return out

    def _subsystem(self, subsystem: Any) -> list[int]:
        index = {q: i for i, q in enumerate(self._qubits)}
        if isinstance(subsystem, (str, bytes)) or not isinstance(subsystem,
                                                                  (Sequence, np.ndarray)):
            raise TypeError("subsystem must be a sequence of qubit indices or cirq qubits")
        out = []
        for i, q in enumerate(subsystem):
            if isinstance(q, cirq.Qid):
                if q not in index:
                    raise ValueError(f"subsystem[{i}] = {q} was not measured")
                out.append(index[q])
            elif isinstance(q, numbers.Integral) and not isinstance(q, bool):
                out.append(check_int(f"subsystem[{i}]", q, minimum=0, maximum=self.n_qubits - 1))
            else:
                raise TypeError(f"subsystem[{i}] must be a qubit index or a cirq qubit, got {q!r}")
        if not out or len(set(out)) != len(out):
            raise ValueError(f"subsystem must list distinct qubits, got {list(subsystem)}")
        if len(out) > MAX_SUBSYSTEM_QUBITS:
            raise ValueError(f"subsystem has {len(out)} qubits, more than "
                             f"{MAX_SUBSYSTEM_QUBITS} (its 4^k-entry reduced state)")
        return out

    def _snapshot_sum(self, keep: list[int]) -> tuple[np.ndarray, float]:
        """``Σ_t ρ̂_t,A`` and ``Σ_t tr(ρ̂_t,A²)`` for the subsystem ``keep`` (in that order)."""
        t, n = self._bits.shape
        a = len(keep)
        da = 2**a
        if self._ensemble == "pauli":
            codes = (2 * self._recipes[:, keep] + self._bits[:, keep]).astype(np.int64)
            pattern = codes @ (6 ** np.arange(a - 1, -1, -1))
            uniq, counts = np.unique(pattern, return_counts=True)
            ucodes = (uniq[:, None] // (6 ** np.arange(a - 1, -1, -1))) % 6
            local = _LOCAL_SNAPSHOTS.reshape(6, 2, 2)
            total = np.zeros((da, da), dtype=np.complex128)
            chunk = max(1, _CHUNK_BYTES // (2 * 16 * da * da))
            for s in range(0, len(uniq), chunk):
                c = ucodes[s:s + chunk]
                r = np.ones((len(c), 1, 1), dtype=np.complex128)
                for i in range(a):
                    r = np.einsum("bij,bkl->bikjl", r, local[c[:, i]]).reshape(
                        len(c), 2 * r.shape[1], 2 * r.shape[1])
                total += np.einsum("b,bij->ij", counts[s:s + chunk], r)
            return total, float(t) * 5.0**a
        d = 2**n
        db = d // da
        rest = [q for q in range(n) if q not in keep]
        phi = self._clifford_states.reshape((t,) + (2,) * n).transpose(
            [0] + [1 + q for q in keep + rest]).reshape(t, da, db)
        gram = np.einsum("tab,tcb->ac", phi, phi.conj())
        total = (d + 1) * gram - t * db * np.eye(da)
        small = (np.einsum("tab,tcb->tac", phi, phi.conj()) if da <= db
                 else np.einsum("tab,tac->tbc", phi.conj(), phi))
        tr_sigma2 = np.einsum("tij,tij->t", small, small.conj()).real
        squares = (d + 1) ** 2 * tr_sigma2 - 2 * (d + 1) * db + db**2 * da
        return total, float(np.sum(squares))

    def reduced_state(self, subsystem: Any) -> np.ndarray:
        """The shadow estimate ``(1/T) Σ_t ρ̂_t`` of the reduced state of ``subsystem``.

        Not a physical state in general (it can have negative eigenvalues); qubit order as in
        ``subsystem`` (first listed = most significant).

        Example:
            >>> s = ClassicalShadow([[0, 0], [1, 0]], [[2, 2], [2, 0]])
            >>> s.reduced_state([0]).real  # (diag(2, -1) + diag(-1, 2)) / 2
            array([[0.5, 0. ],
                   [0. , 0.5]])
        """
        total, _ = self._snapshot_sum(self._subsystem(subsystem))
        return total / self.n_snapshots

    def purity(self, subsystem: Any) -> float:
        """Unbiased estimate of ``tr(ρ_A²)``: the U-statistic
        ``(1/(T(T−1))) Σ_{t≠t'} tr(ρ̂_t,A ρ̂_t',A)`` (Huang et al. 2020; Elben, Brydges et al.).

        Computed without the ``T²`` pairs as ``(‖Σ_t ρ̂_t‖² − Σ_t ‖ρ̂_t‖²)/(T(T−1))``; for Pauli
        shadows ``tr(ρ̂_t,i ρ̂_t',i)`` is 5 (same basis and outcome), −4 (same basis, other
        outcome) or 1/2 (other basis).

        Raises:
            ValueError: with fewer than 2 snapshots.

        Example:
            >>> from qmlkit.circuits import bell_circuit, state_vector
            >>> s = ClassicalShadow.from_state(state_vector(bell_circuit()), n_snapshots=4000,
            ...                                rng=np.random.default_rng(1))
            >>> abs(s.purity([0]) - 0.5) < 0.05, abs(s.purity([0, 1]) - 1) < 0.15
            (True, True)
        """
        keep = self._subsystem(subsystem)
        t = self.n_snapshots
        if t < 2:
            raise ValueError("purity needs at least 2 snapshots")
        total, squares = self._snapshot_sum(keep)
        frob = float(np.sum(total.real**2 + total.imag**2))
        return (frob - squares) / (t * (t - 1))

    def renyi2_entropy(self, subsystem: Any, *, base: float = 2.0) -> float:
        """Rényi-2 entropy ``−log(tr ρ_A²)`` (in bits by default) from :meth:`purity`.

        The purity estimate is unbiased; its logarithm is not exactly. If the estimate is not
        positive (possible with few snapshots) the result is ``inf``, with a warning.

        Example:
            >>> from qmlkit.circuits import bell_circuit, state_vector
            >>> s = ClassicalShadow.from_state(state_vector(bell_circuit()), n_snapshots=4000,
            ...                                rng=np.random.default_rng(1))
            >>> abs(s.renyi2_entropy([0]) - 1.0) < 0.15
            True
        """
        base = check_float("base", base, minimum=0.0)
        if base <= 0 or base == 1:
            raise ValueError(f"base must be positive and not 1, got {base}")
        p = self.purity(subsystem)
        if p <= 0:
            warnings.warn(f"purity estimate {p:.3g} is not positive; Rényi-2 entropy is inf "
                          "(take more snapshots)", RuntimeWarning, stacklevel=2)
            return math.inf
        return -math.log(p) / math.log(base)


# --------------------------------------------------------------------------------------------
# exact reference values
# --------------------------------------------------------------------------------------------

#: Largest system for the exact Pauli-ensemble fidelity variance (``6^n`` basis-outcome pairs).
MAX_EXACT_VARIANCE_QUBITS = 10


def pauli_expectations(state: Any, observables: Any) -> float | np.ndarray:
    """Exact ``<ψ|O|ψ>`` of Pauli observables on a state vector (the reference values of a
    shadow's estimates); ``observables`` as in :meth:`ClassicalShadow.expval`, on the qubits
    ``cirq.LineQubit.range(n)``.

    Example:
        >>> from qmlkit.circuits import ghz_circuit, state_vector
        >>> np.round(pauli_expectations(state_vector(ghz_circuit(3)), ["ZZI", "XXX", "ZII"]), 12)
        array([1., 1., 0.])
    """
    psi, n = _check_state(state)
    terms = _parse_observables(observables, tuple(cirq.LineQubit.range(n)))
    values = np.empty(len(terms.codes))
    for m, word in enumerate(terms.codes):
        x = np.isin(word, (0, 1)).astype(np.int64)
        z = np.isin(word, (1, 2)).astype(np.int64)
        xm, zm, ph = _pauli_from_bits(x, z, n)
        values[m] = np.vdot(psi, _apply_pauli(xm, zm, ph, psi)).real
    result = terms.combine(values, axis=0)
    return float(result[0]) if terms.single else result


def fidelity_variance(state: Any, *, ensemble: str = "pauli") -> float:
    """Exact single-snapshot variance of the fidelity estimate of a pure state with itself.

    The variance of ``<ψ|ρ̂_t|ψ>`` when the shadow is taken of ``ψ``, so ``T`` snapshots
    estimate the fidelity 1 with standard error ``sqrt(variance / T)``:

    * ``"clifford"``: ``2 (d − 1) / (d + 2)`` with ``d = 2^n``, for every pure state (the
      Clifford group is a unitary 3-design), below 2 for all ``n``;
    * ``"pauli"``: by enumeration of all ``3^n`` bases and ``2^n`` outcomes. In basis ``c``
      with rotated amplitudes ``φ_c``, a snapshot with outcome ``b`` has probability
      ``p_c(b) = |φ_c(b)|²`` and value ``Σ_b' p_c(b') Π_i (3 δ(b_i, b'_i) − 1)``, the
      convolution of ``p_c`` with ``⊗ [[2, −1], [−1, 2]]``. At most
      :data:`MAX_EXACT_VARIANCE_QUBITS` qubits.

    Example:
        >>> from qmlkit.circuits import ghz_circuit, state_vector
        >>> psi = state_vector(ghz_circuit(2))
        >>> round(fidelity_variance(psi, ensemble="clifford"), 12)  # 2 (4 - 1) / (4 + 2)
        1.0
        >>> round(fidelity_variance(psi, ensemble="pauli"), 12)
        1.125
    """
    psi, n = _check_state(state)
    ensemble = check_choice("ensemble", ensemble, _ENSEMBLES)
    if ensemble == "clifford":
        return 2.0 * (2**n - 1) / (2**n + 2)
    check_int("number of qubits (exact Pauli variance)", n, maximum=MAX_EXACT_VARIANCE_QUBITS)
    first, second = _pauli_fidelity_moments(psi, n)
    return second - first**2


def _pauli_fidelity_moments(psi: np.ndarray, n: int, vectorised: int = 8) -> tuple[float, float]:
    """First and second moments of the Pauli-ensemble fidelity snapshot (see
    :func:`fidelity_variance`); the bases of all but the last ``vectorised`` qubits are looped
    over, which bounds memory at ``3^vectorised · 2^n`` amplitudes."""
    d = 2**n
    rot = _BASIS_VECTORS.conj()  # rot[c, b, k] = <s_cb|k>
    m = max(0, n - vectorised)
    first = second = 0.0
    for prefix in product(range(3), repeat=m):
        a = psi.reshape(1, d)
        for q in range(n):  # a[B, 2^n]: amplitudes in the B product bases chosen so far
            blk = a.reshape(a.shape[0], 2**q, 2, 2 ** (n - q - 1))
            bases = [prefix[q]] if q < m else [0, 1, 2]
            out = np.empty((a.shape[0], len(bases), 2**q, 2, 2 ** (n - q - 1)), np.complex128)
            for i, c in enumerate(bases):
                for b in range(2):
                    np.multiply(blk[:, :, 0], rot[c, b, 0], out=out[:, i, :, b])
                    out[:, i, :, b] += rot[c, b, 1] * blk[:, :, 1]
            a = out.reshape(-1, d)
        p = a.real**2 + a.imag**2
        v = p.copy()
        for q in range(n):  # convolve each outcome bit with [[2, -1], [-1, 2]]
            blk = v.reshape(v.shape[0], 2**q, 2, 2 ** (n - q - 1))
            v0 = blk[:, :, 0].copy()
            blk[:, :, 0] *= 2
            blk[:, :, 0] -= blk[:, :, 1]
            blk[:, :, 1] *= 2
            blk[:, :, 1] -= v0
        pv = p * v
        first += float(np.sum(pv))
        second += float(np.sum(pv * v))
    first, second = first / 3.0**n, second / 3.0**n
    return first, second


# --------------------------------------------------------------------------------------------
# derandomisation
# --------------------------------------------------------------------------------------------

def derandomized_bases(observables: Sequence[str], *, measurements_per_observable: int,
                       weights: Sequence[float] | None = None, eta: float = 0.9
                       ) -> np.ndarray:
    """Derandomised Pauli measurement bases for a set of Pauli observables.

    The greedy algorithm of Huang, Kueng and Preskill (PRL 127, 030503 (2021)), following the
    authors' reference implementation: basis by basis and qubit by qubit, choose the Pauli that
    minimises the conditional expectation of the confidence bound
    ``Σ_l exp(−(η/2) · hits_l / w_l)`` (unassigned qubits counted as random, matching with
    probability 1/3), until every observable ``l`` has been measured
    ``floor(w_l · measurements_per_observable)`` times. Estimate with
    ``ClassicalShadow.from_state(psi, bases=..., rng=rng).expval(obs, estimator="hits")``.

    Args:
        observables: Pauli strings like ``"XXI"``, all of the same length ``n``.
        measurements_per_observable: target number of matching measurements per observable.
        weights: relative importance ``w_l`` of each observable (default 1).
        eta: the bound's hyperparameter (0.9 as in the reference implementation).

    Returns:
        A ``(M, n)`` array of basis codes (0 = X, 1 = Y, 2 = Z).

    Example:
        >>> bases = derandomized_bases(["ZZI", "IZZ", "XXX"], measurements_per_observable=2)
        >>> ["".join("XYZ"[c] for c in row) for row in bases]
        ['ZZZ', 'ZZZ', 'XXX', 'XXX']
    """
    if isinstance(observables, str) or not isinstance(observables, Sequence) or not observables:
        raise TypeError("observables must be a non-empty sequence of Pauli strings")
    n = len(observables[0])
    for i, o in enumerate(observables):
        if not isinstance(o, str) or len(o) != n or any(ch not in _PAULI_CODE for ch in o.upper()):
            raise ValueError(f"observables[{i}] must be {n} characters from 'IXYZ', got {o!r}")
    codes = np.array([[_PAULI_CODE[ch] for ch in o.upper()] for o in observables])
    if np.any(np.all(codes < 0, axis=1)):
        raise ValueError("observables must not contain the identity string")
    per = check_int("measurements_per_observable", measurements_per_observable, minimum=1)
    eta = check_float("eta", eta, minimum=0.0)
    if eta <= 0:
        raise ValueError(f"eta must be positive, got {eta}")
    w = (np.ones(len(codes)) if weights is None
         else check_finite_array("weights", weights, ndim=1))
    if w.shape != (len(codes),) or np.any(w <= 0):
        raise ValueError("weights must hold one positive weight per observable")
    nu = 1 - math.exp(-eta / 2)
    target = np.floor(w * per)
    so_far = np.zeros(len(codes))
    weight = np.count_nonzero(codes >= 0, axis=1)
    impossible = 100 * (n + 10)

    def cost(needed: np.ndarray) -> float:
        active = so_far < target
        v = eta / 2 * so_far
        possible = needed <= n
        v = np.where(possible, v - np.log(1 - nu / 3.0 ** np.minimum(needed, n)), v)
        return float(np.sum(np.exp(-v[active] / w[active])))

    bases = []
    for _ in range(int(per * len(codes))):
        needed = weight.astype(np.float64).copy()
        row = []
        for q in range(n):
            on_q = codes[:, q]
            candidates = []
            for p in range(3):
                delta = np.where(on_q < 0, 0, np.where(on_q == p, -1, impossible))
                candidates.append(cost(needed + delta))
            best = int(np.argmin(candidates))
            needed += np.where(on_q < 0, 0, np.where(on_q == best, -1, impossible))
            row.append(best)
        bases.append(row)
        so_far += needed == 0
        if np.all(so_far >= target):
            break
    return np.array(bases, dtype=np.uint8)
