"""Data sets: quantum data from spin chains (review §8), stored as regenerable derived data,
and the ad hoc data set of Havlíček et al. (2019) for quantum kernel methods (review §5,
:func:`ad_hoc_data`).

The transverse-field Ising chain ``H = −J Σ_i Z_i Z_{i+1} − h Σ_i X_i`` (open or periodic) has a
ferromagnetic (ordered) phase for ``h < J`` and a paramagnetic one for ``h > J``, with the
quantum critical point at ``h = J``. Its ground states, labelled by phase, are the standard
"quantum data" of quantum machine learning (phase classification, classical shadows).

The Hamiltonian is built directly as a ``scipy.sparse`` matrix with bit operations (Cirq's
big-endian convention, qubit 0 the most significant bit) and the ground state comes from
``eigsh`` (dense ``eigh`` for ``2^n <= 64``). For ``h > 0`` the ground state is unique and, by
the Perron–Frobenius theorem, has strictly positive amplitudes in the computational basis; we
return it real with that sign, so results are reproducible across runs and machines. ``eigsh``
starts from the uniform vector, which lies in the spin-flip-symmetric sector of the ground state,
so the exponentially small ferromagnetic gap does not slow it down.

Derived data are written by :func:`write_derived` as ``.npz`` with a SHA-256 checksum file next
to it (``sha256sum`` format); :func:`load_derived` verifies the checksum before loading.

Example:
    >>> energy, psi = tfim_ground_state(4, 0.0)
    >>> round(energy, 12)  # -J (n - 1) for the open chain at h = 0
    -3.0
    >>> np.round(psi[[0, 15]], 6)  # the cat state (|0000> + |1111>)/√2
    array([0.707107, 0.707107])
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from qmlkit._validation import (
    check_bool,
    check_finite_array,
    check_float,
    check_int,
    check_n_qubits,
)

__all__ = [
    "PHASE_NAMES",
    "AdHocDataset",
    "TFIMDataset",
    "ad_hoc_data",
    "ad_hoc_expectations",
    "ad_hoc_states",
    "load_derived",
    "tfim_ground_state",
    "tfim_ground_states",
    "tfim_hamiltonian",
    "verify_checksum",
    "write_derived",
]

#: Names of the phase labels of :func:`tfim_ground_states`.
PHASE_NAMES = ("ferromagnetic", "paramagnetic")

#: Hilbert-space dimension up to which the ground state is found by dense diagonalisation.
_DENSE_MAX_DIM = 64

_REPO_DERIVED = Path(__file__).resolve().parent.parent / "data" / "derived"


def _check_chain(n_qubits: Any, h: Any, j: Any, periodic: Any) -> tuple[int, float, float, bool]:
    n = check_int("n_qubits", n_qubits, minimum=1)
    h = check_float("h", h, minimum=0.0)
    j = check_float("j", j)
    if j <= 0:
        raise ValueError(f"j must be positive (ferromagnetic coupling), got {j}")
    periodic = check_bool("periodic", periodic)
    if periodic and n < 3:
        raise ValueError(f"periodic=True needs n_qubits >= 3 (a ring), got {n}")
    return n, h, j, periodic


def _bonds(n: int, periodic: bool) -> list[tuple[int, int]]:
    return [(i, i + 1) for i in range(n - 1)] + ([(n - 1, 0)] if periodic else [])


def _zz_diagonal(n: int, j: float, periodic: bool) -> np.ndarray:
    """Diagonal ``−J Σ Z_a Z_b`` on every basis state: ``−J Σ (1 − 2 (bit_a XOR bit_b))``."""
    idx = np.arange(2**n, dtype=np.int64)
    diag = np.zeros(2**n)
    for a, b in _bonds(n, periodic):
        parity = ((idx >> (n - 1 - a)) ^ (idx >> (n - 1 - b))) & 1
        diag -= j * (1.0 - 2.0 * parity)
    return diag


def tfim_hamiltonian(n_qubits: int, h: float, *, j: float = 1.0,
                     periodic: bool = False) -> sp.csr_matrix:
    """Sparse ``H = −J Σ Z_i Z_{i+1} − h Σ X_i`` on ``n_qubits`` (qubit 0 most significant).

    ``(n + 1) 2^n`` stored entries: the ZZ diagonal and, for each qubit, the bit flip
    ``k → k XOR 2^(n−1−i)`` with amplitude ``−h``.

    Example:
        >>> tfim_hamiltonian(2, 0.5).toarray()
        array([[-1. , -0.5, -0.5,  0. ],
               [-0.5,  1. ,  0. , -0.5],
               [-0.5,  0. ,  1. , -0.5],
               [ 0. , -0.5, -0.5, -1. ]])
    """
    n, h, j, periodic = _check_chain(n_qubits, h, j, periodic)
    check_n_qubits("n_qubits", n, copies=2 * (n + 2))
    dim = 2**n
    idx = np.arange(dim, dtype=np.int64)
    rows = [idx]
    cols = [idx]
    data = [_zz_diagonal(n, j, periodic)]
    if h != 0.0:
        for i in range(n):
            rows.append(idx)
            cols.append(idx ^ (1 << (n - 1 - i)))
            data.append(np.full(dim, -h))
    mat = sp.csr_matrix((np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))),
                        shape=(dim, dim))
    mat.sum_duplicates()
    return mat


def tfim_ground_state(n_qubits: int, h: float, *, j: float = 1.0,
                      periodic: bool = False) -> tuple[float, np.ndarray]:
    """Ground-state energy and (real, normalised, sign-fixed) ground state of the TFIM chain.

    For ``h > 0`` the ground state is unique with positive amplitudes; it is returned with
    ``Σ_k ψ_k > 0``. At ``h = 0`` the ground space is degenerate (the two ferromagnetic states);
    the function returns the ``h → 0⁺`` limit, the cat state ``(|0…0> + |1…1>)/√2``, with energy
    ``−J(n − 1)`` (open) or ``−J n`` (periodic).

    Raises:
        ValueError: for ``h < 0``, ``j <= 0``, a ring of fewer than 3 sites, or a chain too
            large for memory.

    Example:
        >>> e, psi = tfim_ground_state(3, 1.0, periodic=True)
        >>> round(e, 10)  # free fermions: -Σ_k sqrt(J² + h² - 2Jh cos k), k = π/3, π, 5π/3
        -4.0
        >>> bool(np.all(psi > 0))
        True
    """
    n, h, j, periodic = _check_chain(n_qubits, h, j, periodic)
    dim = 2**n
    if h == 0.0:
        diag = _zz_diagonal(n, j, periodic)
        psi = np.zeros(dim)
        psi[[0, dim - 1]] = 1 / np.sqrt(2)  # for n = 1 this is |+>, also the h → 0⁺ limit
        return float(diag[0]), psi
    ham = tfim_hamiltonian(n, h, j=j, periodic=periodic)
    if dim <= _DENSE_MAX_DIM:
        evals, evecs = np.linalg.eigh(ham.toarray())
        energy, psi = float(evals[0]), evecs[:, 0]
    else:
        v0 = np.full(dim, 1 / np.sqrt(dim))
        evals, evecs = spla.eigsh(ham, k=1, which="SA", v0=v0, tol=0.0)
        energy, psi = float(evals[0]), evecs[:, 0]
    psi = np.real(psi)
    if psi.sum() < 0:
        psi = -psi
    psi = psi / np.linalg.norm(psi)
    return energy, psi


@dataclass(frozen=True)
class TFIMDataset:
    """Ground states of the TFIM chain over a range of transverse fields.

    Attributes:
        n_qubits: chain length.
        j: coupling ``J``.
        periodic: ring (True) or open chain.
        fields: the transverse fields ``h``, shape ``(m,)``.
        energies: ground-state energies, shape ``(m,)``.
        states: real ground states, shape ``(m, 2^n)`` (qubit 0 most significant).
        labels: phase labels, ``0`` ferromagnetic (``h < J``), ``1`` paramagnetic (``h >= J``;
            the critical point ``h = J`` is put on the paramagnetic side), see
            :data:`PHASE_NAMES`.
    """

    n_qubits: int
    j: float
    periodic: bool
    fields: np.ndarray
    energies: np.ndarray
    states: np.ndarray
    labels: np.ndarray
    metadata: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.fields)

    def default_filename(self) -> str:
        """A file name that names the generator and its parameters.

        Example:
            >>> tfim_ground_states(3, [0.5, 1.5]).default_filename()
            'tfim_ground_states_n3_open_j1_h0.5-1.5_m2.npz'
        """
        bc = "periodic" if self.periodic else "open"
        lo, hi = float(np.min(self.fields)), float(np.max(self.fields))
        return (f"tfim_ground_states_n{self.n_qubits}_{bc}_j{self.j:g}_h{lo:g}-{hi:g}"
                f"_m{len(self)}.npz")


def tfim_ground_states(n_qubits: int, fields: Sequence[float], *, j: float = 1.0,
                       periodic: bool = False) -> TFIMDataset:
    """Ground states of the TFIM chain for each field in ``fields``, with phase labels.

    Example:
        >>> ds = tfim_ground_states(4, [0.2, 0.8, 1.2, 3.0])
        >>> ds.states.shape, ds.labels.tolist()
        ((4, 16), [0, 0, 1, 1])
    """
    n, _, j, periodic = _check_chain(n_qubits, 0.0, j, periodic)
    hs = check_finite_array("fields", fields, ndim=1)
    if hs.size == 0:
        raise ValueError("fields must not be empty")
    if np.any(hs < 0):
        raise ValueError(f"fields must be >= 0, got min {hs.min()}")
    energies = np.empty(hs.size)
    states = np.empty((hs.size, 2**n))
    for i, h in enumerate(hs):
        energies[i], states[i] = tfim_ground_state(n, float(h), j=j, periodic=periodic)
    labels = (hs >= j).astype(np.int64)
    meta = {"generator": "qmlkit.datasets.tfim_ground_states",
            "hamiltonian": "H = -J sum Z_i Z_{i+1} - h sum X_i",
            "parameters": {"n_qubits": n, "j": j, "periodic": periodic,
                           "fields": hs.tolist()},
            "phase_names": list(PHASE_NAMES)}
    return TFIMDataset(n, j, periodic, hs, energies, states, labels, meta)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def _checksum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def write_derived(dataset: TFIMDataset, path: str | os.PathLike | None = None) -> Path:
    """Store ``dataset`` as ``.npz`` with a SHA-256 checksum file ``<name>.npz.sha256``.

    Args:
        dataset: the data set to write.
        path: the target file, or a directory to put :meth:`TFIMDataset.default_filename` in;
            ``None`` means the repository's ``data/derived``. Written atomically.

    Returns:
        The path of the ``.npz`` file.

    Example:
        >>> import tempfile
        >>> p = write_derived(tfim_ground_states(2, [0.5]), tempfile.mkdtemp())
        >>> p.name, verify_checksum(p)
        ('tfim_ground_states_n2_open_j1_h0.5-0.5_m1.npz', True)
    """
    if not isinstance(dataset, TFIMDataset):
        raise TypeError(f"dataset must be a TFIMDataset, got {type(dataset).__name__}")
    target = _REPO_DERIVED if path is None else Path(path)
    if target.suffix != ".npz":
        target = target / dataset.default_filename()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with open(tmp, "wb") as fh:
            np.savez_compressed(
                fh, n_qubits=dataset.n_qubits, j=dataset.j, periodic=dataset.periodic,
                fields=dataset.fields, energies=dataset.energies, states=dataset.states,
                labels=dataset.labels, metadata=json.dumps(dataset.metadata, sort_keys=True))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _checksum_path(target).write_text(f"{_sha256(target)}  {target.name}\n")
    return target


def verify_checksum(path: str | os.PathLike) -> bool:
    """Whether ``path`` matches the SHA-256 in its ``<name>.sha256`` file.

    Raises:
        FileNotFoundError: if the file or its checksum file is missing.
        ValueError: if the checksum file is malformed.
    """
    target = Path(path)
    text = _checksum_path(target).read_text().split()
    if not target.is_file():
        raise FileNotFoundError(target)
    if len(text) != 2 or len(text[0]) != 64:
        raise ValueError(f"malformed checksum file {_checksum_path(target)}")
    return text[0] == _sha256(target)


def load_derived(path: str | os.PathLike) -> TFIMDataset:
    """Load a data set written by :func:`write_derived`, after checking its checksum.

    Raises:
        ValueError: if the file does not match its checksum (regenerate it).

    Example:
        >>> import tempfile
        >>> ds = tfim_ground_states(2, [0.5, 2.0])
        >>> bool(np.array_equal(load_derived(write_derived(ds, tempfile.mkdtemp())).states,
        ...                     ds.states))
        True
    """
    target = Path(path)
    if not verify_checksum(target):
        raise ValueError(f"{target} does not match its SHA-256 checksum; regenerate it")
    with np.load(target, allow_pickle=False) as z:
        return TFIMDataset(int(z["n_qubits"]), float(z["j"]), bool(z["periodic"]),
                           z["fields"], z["energies"], z["states"], z["labels"],
                           json.loads(str(z["metadata"])))


# --------------------------------------------------------------------------------------------
# Havlíček et al. (2019) ad hoc data set
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AdHocDataset:
    """The ad hoc classification data set of Havlíček et al. (2019), :func:`ad_hoc_data`.

    Attributes:
        x_train, y_train, x_test, y_test: features in ``[0, 2π)^n`` and labels ``0``/``1``
            (``1`` where ``<Φ(x)|O|Φ(x)> > Δ``, ``0`` where it is ``< -Δ``).
        values_train, values_test: the expectation values ``<Φ(x)|O|Φ(x)>``.
        unitary: the random unitary ``V`` of the observable ``O = V† Z^{⊗n} V``.
        gap: the gap ``Δ``.
        n_qubits: the number of qubits (features).
        acceptance: the fraction of candidate points outside the gap.
    """

    x_train: np.ndarray = field(repr=False)
    y_train: np.ndarray = field(repr=False)
    x_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    values_train: np.ndarray = field(repr=False)
    values_test: np.ndarray = field(repr=False)
    unitary: np.ndarray = field(repr=False)
    gap: float
    n_qubits: int
    acceptance: float


def ad_hoc_states(x: Any) -> np.ndarray:
    """States ``|Φ(x)> = U_Φ(x) H^{⊗n} U_Φ(x) H^{⊗n} |0>`` of the ad hoc data set.

    ``U_Φ(x) = exp(i Σ_i x_i Z_i + i Σ_{i<j} (π - x_i)(π - x_j) Z_i Z_j)`` (Havlíček et al.
    2019, all pairs). This is the complex conjugate, up to a global phase, of the state of
    :func:`qmlkit.encodings.zz_feature_map` (``reps=2``, full entanglement), which writes the
    same diagonal with phase gates ``P(2·)`` (``e^{iλ b}``, ``b = (1 - Z)/2``): the two have the
    same fidelity kernel.

    Example:
        >>> ad_hoc_states(np.zeros((1, 2))).shape
        (1, 4)
    """
    from qmlkit.kernels import zz_states

    xa = check_finite_array("x", x, ndim=2)
    return np.conj(zz_states(xa, reps=2, entanglement="full"))


def ad_hoc_expectations(x: Any, unitary: Any) -> np.ndarray:
    """``<Φ(x)|V† Z^{⊗n} V|Φ(x)>`` for every row of ``x`` (vectorised).

    Example:
        >>> ad_hoc_expectations(np.zeros((1, 1)), np.eye(2)).round(6)
        array([1.])
    """
    states = ad_hoc_states(x)
    v = check_finite_array("unitary", unitary, ndim=2, dtype=np.complex128)
    if v.shape != (states.shape[1], states.shape[1]):
        raise ValueError(f"unitary must be {states.shape[1]}x{states.shape[1]} for x with "
                         f"{np.asarray(x).shape[1]} features, got shape {v.shape}")
    n = int(np.asarray(x).shape[1])
    parity = np.array([(-1) ** bin(k).count("1") for k in range(2**n)], dtype=float)
    rotated = states @ v.T  # rows V|Φ(x)>
    return np.abs(rotated) ** 2 @ parity


def ad_hoc_data(n_train: int, n_test: int, *, n_qubits: int = 2, gap: float = 0.3,
                rng: np.random.Generator, max_candidates: int = 10_000_000) -> AdHocDataset:
    """The ad hoc data set of Havlíček et al. (2019), separable by the ZZ-kernel model.

    Each label is ``sign(<Φ(x)|O|Φ(x)>)`` with ``O = V† Z^{⊗n} V`` (``V`` a Haar-random unitary
    drawn with ``rng``) and :func:`ad_hoc_states`; points with ``|<O>| <= gap`` are rejected.
    Candidates are drawn uniformly in ``[0, 2π)^n`` in vectorised batches (rejection sampling;
    qiskit-machine-learning's ``ad_hoc_data`` draws them from a grid instead) until each class
    has ``n_train + n_test`` points, so both splits are balanced; the classes are then split
    into train and test and shuffled.

    Args:
        n_train: training points *per class* (as qiskit's ``training_size``).
        n_test: test points per class (>= 0).
        n_qubits: number of qubits = features (1 to 10).
        gap: the gap ``Δ`` in ``[0, 1)``.
        rng: the source of randomness (the unitary and the points).
        max_candidates: give up after this many candidate points.

    Raises:
        TypeError: for a ``rng`` that is not a Generator or non-integer sizes.
        ValueError: for out-of-range arguments, or if a class stays too rare.

    Example:
        >>> data = ad_hoc_data(10, 5, rng=np.random.default_rng(0))
        >>> data.x_train.shape, int(data.y_train.sum()), data.x_test.shape
        ((20, 2), 10, (10, 2))
        >>> bool(np.all(np.abs(data.values_train) > 0.3))
        True
    """
    n_train = check_int("n_train", n_train, minimum=1)
    n_test = check_int("n_test", n_test, minimum=0)
    n = check_int("n_qubits", n_qubits, minimum=1, maximum=10)
    gap = check_float("gap", gap, minimum=0.0)
    if gap >= 1.0:
        raise ValueError(f"gap must be < 1 (|<O>| <= 1), got {gap}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    max_candidates = check_int("max_candidates", max_candidates, minimum=1)
    from scipy.stats import unitary_group

    unitary = unitary_group.rvs(2**n, random_state=rng)
    need = n_train + n_test
    batch = max(1024, 8 * need)
    kept: dict[int, list[np.ndarray]] = {0: [], 1: []}
    vals: dict[int, list[np.ndarray]] = {0: [], 1: []}
    counts = {0: 0, 1: 0}
    drawn = accepted = 0
    while min(counts.values()) < need:
        if drawn >= max_candidates:
            raise ValueError(f"after {drawn} candidates only {counts} points per class lie "
                             f"outside gap={gap}; lower the gap or the sizes")
        x = rng.uniform(0.0, 2 * np.pi, size=(batch, n))
        v = ad_hoc_expectations(x, unitary)
        drawn += batch
        for label, mask in ((1, v > gap), (0, v < -gap)):
            accepted += int(mask.sum())
            if counts[label] < need:
                kept[label].append(x[mask])
                vals[label].append(v[mask])
                counts[label] += int(mask.sum())
    xs = {c: np.concatenate(kept[c])[:need] for c in (0, 1)}
    vs = {c: np.concatenate(vals[c])[:need] for c in (0, 1)}

    def split(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x = np.concatenate([xs[0][lo:hi], xs[1][lo:hi]])
        y = np.repeat([0, 1], hi - lo)
        v = np.concatenate([vs[0][lo:hi], vs[1][lo:hi]])
        order = rng.permutation(len(y))
        return x[order], y[order], v[order]

    x_tr, y_tr, v_tr = split(0, n_train)
    x_te, y_te, v_te = split(n_train, need)
    return AdHocDataset(x_tr, y_tr, x_te, y_te, v_tr, v_te, unitary, gap, n,
                        accepted / drawn)
