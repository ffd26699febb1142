"""Data sets: quantum data from spin chains (review §8), stored as regenerable derived data.

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
    "TFIMDataset",
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
