"""qmlkit.circuits: states, gates, entanglement."""

from __future__ import annotations

import cirq
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from qmlkit import circuits as c


@pytest.mark.parametrize("kind,expected", [
    ("phi+", [1, 0, 0, 1]), ("phi-", [1, 0, 0, -1]),
    ("psi+", [0, 1, 1, 0]), ("psi-", [0, 1, -1, 0]),
])
def test_bell_states(kind, expected):
    psi = c.state_vector(c.bell_circuit(kind))
    np.testing.assert_allclose(psi, np.array(expected) / np.sqrt(2), atol=1e-12)
    assert c.entanglement_entropy(psi, [0]) == pytest.approx(1.0, abs=1e-12)


def test_bell_bad_input():
    with pytest.raises(ValueError, match="kind"):
        c.bell_circuit("phi")
    with pytest.raises(ValueError, match="qubits"):
        c.bell_circuit(qubits=cirq.LineQubit.range(3))


@pytest.mark.parametrize("n", [1, 2, 5])
def test_ghz(n):
    psi = c.state_vector(c.ghz_circuit(n))
    assert psi.size == 2**n
    assert abs(psi[0]) ** 2 == pytest.approx(0.5)
    assert abs(psi[-1]) ** 2 == pytest.approx(0.5)
    if n > 1:
        assert c.entanglement_entropy(psi, [0]) == pytest.approx(1.0)


@settings(max_examples=25, deadline=None)
@given(theta=st.floats(-10, 10), phi=st.floats(-10, 10))
def test_bloch_state_matches_formula(theta, phi):
    psi = c.state_vector(c.bloch_state_circuit(theta, phi))
    expected = np.array([np.cos(theta / 2), np.exp(1j * phi) * np.sin(theta / 2)])
    overlap = abs(np.vdot(expected, psi))
    assert overlap == pytest.approx(1.0, abs=1e-10)


def test_bloch_rejects_nan():
    with pytest.raises(ValueError, match="theta must be finite"):
        c.bloch_state_circuit(float("nan"))


def test_state_vector_qubit_order_and_errors():
    q0, q1 = cirq.LineQubit.range(2)
    circuit = cirq.Circuit(cirq.X(q0))
    np.testing.assert_allclose(c.state_vector(circuit, [q0, q1]), [0, 0, 1, 0])
    np.testing.assert_allclose(c.state_vector(circuit, [q1, q0]), [0, 1, 0, 0])
    with pytest.raises(ValueError, match="missing"):
        c.state_vector(cirq.Circuit(cirq.CNOT(q0, q1)), [q0])
    with pytest.raises(ValueError, match="symbols"):
        c.state_vector(cirq.Circuit(cirq.rx(sympy.Symbol("a"))(q0)))
    with pytest.raises(TypeError, match="circuit"):
        c.state_vector([cirq.X(q0)])
    with pytest.raises(ValueError, match="no qubits"):
        c.state_vector(cirq.Circuit())


def test_is_unitary():
    assert c.is_unitary(cirq.unitary(cirq.CNOT))
    assert not c.is_unitary(np.array([[1, 1], [0, 1]]))
    assert not c.is_unitary(np.ones((2, 3)))


def test_reduced_density_matrix_and_purity(rng):
    psi = rng.normal(size=8) + 1j * rng.normal(size=8)
    psi /= np.linalg.norm(psi)
    rho = c.reduced_density_matrix(psi, [2, 0])
    assert rho.shape == (4, 4)
    assert np.trace(rho).real == pytest.approx(1.0)
    np.testing.assert_allclose(rho, rho.conj().T, atol=1e-12)
    assert 0.25 - 1e-12 <= c.purity(rho) <= 1 + 1e-12
    # Product state: pure reduced states.
    prod = np.kron([1, 0], np.kron([0.6, 0.8], [1, 0]))
    assert c.purity(c.reduced_density_matrix(prod, [1])) == pytest.approx(1.0)
    assert c.entanglement_entropy(prod, [1]) == pytest.approx(0.0, abs=1e-12)


def test_entropy_is_symmetric_across_a_cut(rng):
    psi = rng.normal(size=16) + 1j * rng.normal(size=16)
    psi /= np.linalg.norm(psi)
    assert c.entanglement_entropy(psi, [0]) == pytest.approx(c.entanglement_entropy(psi, [1, 2, 3]))


def test_reduced_density_matrix_bad_input():
    bell = c.state_vector(c.bell_circuit())
    with pytest.raises(ValueError, match="normalised"):
        c.reduced_density_matrix(2 * bell, [0])
    with pytest.raises(ValueError, match="length 2"):
        c.reduced_density_matrix(np.ones(3) / np.sqrt(3), [0])
    with pytest.raises(ValueError, match="keep"):
        c.reduced_density_matrix(bell, [0, 0])
    with pytest.raises(ValueError, match="keep"):
        c.reduced_density_matrix(bell, [2])
