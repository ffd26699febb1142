"""Qubits, state vectors, gates and entanglement on Cirq (review §2).

State vectors follow Cirq's convention: qubit 0 is the most significant bit, so the amplitude of
``|q0 q1 ... q(n-1)>`` sits at index ``sum(q_k * 2**(n-1-k))``. Simulation is exact (complex128).

Example:
    >>> import numpy as np
    >>> psi = state_vector(bell_circuit())
    >>> np.round(psi, 3)
    array([0.707+0.j, 0.   +0.j, 0.   +0.j, 0.707+0.j])
"""

from __future__ import annotations

from collections.abc import Sequence

import cirq
import numpy as np

from qmlkit._validation import check_finite_array, check_float, check_int, check_n_qubits

__all__ = [
    "bell_circuit",
    "bloch_state_circuit",
    "entanglement_entropy",
    "ghz_circuit",
    "is_unitary",
    "purity",
    "reduced_density_matrix",
    "state_vector",
]

_BELL_KINDS = ("phi+", "phi-", "psi+", "psi-")


def state_vector(circuit: cirq.AbstractCircuit,
                 qubits: Sequence[cirq.Qid] | None = None) -> np.ndarray:
    """Exact complex128 state vector that ``circuit`` prepares from ``|0...0>``.

    Args:
        circuit: a circuit without measurements or symbols.
        qubits: qubit order of the result; ``sorted(circuit.all_qubits())`` by default.

    Raises:
        TypeError: if ``circuit`` is not a Cirq circuit.
        ValueError: if the circuit has unresolved symbols, or too many qubits for memory.

    Example:
        >>> q = cirq.LineQubit(0)
        >>> state_vector(cirq.Circuit(cirq.X(q)))
        array([0.+0.j, 1.+0.j])
    """
    if not isinstance(circuit, cirq.AbstractCircuit):
        raise TypeError(f"circuit must be a cirq.Circuit, got {type(circuit).__name__}")
    if cirq.is_parameterized(circuit):
        raise ValueError("circuit has unresolved symbols; resolve them with cirq.resolve_parameters")
    order = sorted(circuit.all_qubits()) if qubits is None else list(qubits)
    if not order:
        raise ValueError("circuit acts on no qubits and no qubits were given")
    extra = set(circuit.all_qubits()) - set(order)
    if extra:
        raise ValueError(f"qubits must include every qubit of the circuit; missing {sorted(extra)}")
    check_n_qubits("number of qubits", len(order))
    result = cirq.Simulator(dtype=np.complex128).simulate(circuit, qubit_order=order)
    return np.asarray(result.final_state_vector, dtype=np.complex128)


def bell_circuit(kind: str = "phi+",
                 qubits: Sequence[cirq.Qid] | None = None) -> cirq.Circuit:
    """Circuit preparing one of the four Bell states from ``|00>``.

    ``phi+ = (|00> + |11>)/√2``, ``phi- = (|00> - |11>)/√2``, ``psi+ = (|01> + |10>)/√2``,
    ``psi- = (|01> - |10>)/√2``.

    Args:
        kind: one of ``"phi+"``, ``"phi-"``, ``"psi+"``, ``"psi-"``.
        qubits: two qubits; ``cirq.LineQubit.range(2)`` by default.

    Example:
        >>> print(bell_circuit())
        0: ───H───@───
                  │
        1: ───────X───
    """
    if kind not in _BELL_KINDS:
        raise ValueError(f"kind must be one of {_BELL_KINDS}, got {kind!r}")
    q = cirq.LineQubit.range(2) if qubits is None else list(qubits)
    if len(q) != 2:
        raise ValueError(f"qubits must hold exactly 2 qubits, got {len(q)}")
    ops: list[cirq.Operation] = []
    if kind.startswith("psi"):
        ops.append(cirq.X(q[1]))
    if kind.endswith("-"):
        ops.append(cirq.X(q[0]))
    ops += [cirq.H(q[0]), cirq.CNOT(q[0], q[1])]
    return cirq.Circuit(ops)


def ghz_circuit(n_qubits: int) -> cirq.Circuit:
    """Circuit preparing the ``n_qubits``-qubit GHZ state ``(|0...0> + |1...1>)/√2``.

    Example:
        >>> len(ghz_circuit(4).all_qubits())
        4
    """
    n = check_int("n_qubits", n_qubits, minimum=1)
    q = cirq.LineQubit.range(n)
    return cirq.Circuit([cirq.H(q[0])] + [cirq.CNOT(q[i], q[i + 1]) for i in range(n - 1)])


def bloch_state_circuit(theta: float, phi: float = 0.0,
                        qubit: cirq.Qid | None = None) -> cirq.Circuit:
    """One qubit in ``cos(θ/2)|0> + e^{iφ} sin(θ/2)|1>`` (up to global phase): ``Rz(φ)·Ry(θ)``.

    Its ``<Z>`` is ``cos θ`` and its ``<X>`` is ``sin θ cos φ``.

    Example:
        >>> np.round(np.abs(state_vector(bloch_state_circuit(np.pi / 2))) ** 2, 3)
        array([0.5, 0.5])
    """
    theta = check_float("theta", theta)
    phi = check_float("phi", phi)
    q = cirq.LineQubit(0) if qubit is None else qubit
    return cirq.Circuit([cirq.ry(theta)(q), cirq.rz(phi)(q)])


def is_unitary(matrix: np.ndarray, *, atol: float = 1e-10) -> bool:
    """Whether ``matrix`` is square and ``U†U = 1`` to ``atol``.

    Example:
        >>> is_unitary(cirq.unitary(cirq.H))
        True
    """
    m = check_finite_array("matrix", matrix, ndim=2, dtype=np.complex128)
    if m.shape[0] != m.shape[1]:
        return False
    return bool(np.allclose(m.conj().T @ m, np.eye(m.shape[0]), atol=atol))


def _check_state(state: np.ndarray, atol: float = 1e-8) -> tuple[np.ndarray, int]:
    psi = check_finite_array("state", state, ndim=1, dtype=np.complex128)
    n = int(np.log2(psi.size)) if psi.size else 0
    if psi.size < 2 or 2**n != psi.size:
        raise ValueError(f"state must have length 2**n with n >= 1, got {psi.size}")
    norm = float(np.vdot(psi, psi).real)
    if abs(norm - 1.0) > atol:
        raise ValueError(f"state must be normalised, got squared norm {norm:.6g}")
    return psi, n


def reduced_density_matrix(state: np.ndarray, keep: Sequence[int]) -> np.ndarray:
    """Density matrix of the qubits ``keep`` (in that order) after tracing out the rest.

    Example:
        >>> rho = reduced_density_matrix(state_vector(bell_circuit()), [0])
        >>> np.round(rho.real, 3)
        array([[0.5, 0. ],
               [0. , 0.5]])
    """
    psi, n = _check_state(state)
    keep = [check_int(f"keep[{i}]", k, minimum=0, maximum=n - 1) for i, k in enumerate(keep)]
    if len(set(keep)) != len(keep) or not keep:
        raise ValueError(f"keep must list distinct qubit indices, got {keep}")
    rest = [k for k in range(n) if k not in keep]
    t = psi.reshape([2] * n).transpose(keep + rest).reshape(2 ** len(keep), 2 ** len(rest))
    return t @ t.conj().T


def purity(rho: np.ndarray) -> float:
    """``Tr(ρ²)``: 1 for a pure state, ``1/d`` for the maximally mixed one.

    Example:
        >>> purity(np.eye(2) / 2)
        0.5
    """
    r = check_finite_array("rho", rho, ndim=2, dtype=np.complex128)
    return float(np.real(np.trace(r @ r)))


def entanglement_entropy(state: np.ndarray, subsystem: Sequence[int]) -> float:
    """Von Neumann entropy (in bits) of ``subsystem`` of a pure ``state``.

    0 for a product state across the cut; 1 for one qubit of a Bell pair.

    Example:
        >>> round(entanglement_entropy(state_vector(bell_circuit()), [0]), 6)
        1.0
    """
    eig = np.linalg.eigvalsh(reduced_density_matrix(state, subsystem))
    eig = eig[eig > 1e-15]
    return float(-np.sum(eig * np.log2(eig)) + 0.0)
