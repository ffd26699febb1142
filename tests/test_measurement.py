"""qmlkit.measurement: sampling, estimates, shot-noise scaling, power-law fits."""

from __future__ import annotations

import cirq
import numpy as np
import pytest

from qmlkit import measurement as m
from qmlkit.circuits import bell_circuit, bloch_state_circuit, state_vector

Q0, Q1 = cirq.LineQubit.range(2)


def test_probabilities_checks_normalisation():
    np.testing.assert_allclose(m.probabilities(np.array([0.6, 0.8j])), [0.36, 0.64])
    with pytest.raises(ValueError, match="normalised"):
        m.probabilities(np.array([1.0, 1.0]))
    with pytest.raises(ValueError, match="NaN"):
        m.probabilities(np.array([np.nan, 1.0]))


def test_sampling_is_reproducible_with_the_same_seed():
    psi = state_vector(bell_circuit())
    a = m.sample_bitstrings(psi, shots=50, rng=np.random.default_rng(3))
    b = m.sample_bitstrings(psi, shots=50, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    assert set(map(tuple, a)) <= {(0, 0), (1, 1)}


def test_sample_bitstrings_bit_order(rng):
    psi = np.zeros(8)
    psi[0b100] = 1.0  # qubit 0 is the most significant bit
    np.testing.assert_array_equal(m.sample_bitstrings(psi, shots=3, rng=rng), [[1, 0, 0]] * 3)


def test_sample_counts_total(rng):
    counts = m.sample_counts(np.ones(4) / 2, shots=1000, rng=rng)
    assert counts.sum() == 1000 and counts.shape == (4,)


@pytest.mark.parametrize("shots", [0, -5])
def test_bad_shots(shots, rng):
    with pytest.raises(ValueError, match="shots must be >= 1"):
        m.sample_counts(np.array([1.0, 0.0]), shots=shots, rng=rng)
    with pytest.raises(ValueError, match="shots"):
        m.estimate_expectation(bell_circuit(), cirq.Z(Q0), shots=shots, rng=rng)


def test_estimate_requires_generator():
    with pytest.raises(TypeError, match="rng"):
        m.estimate_expectation(bell_circuit(), cirq.Z(Q0), shots=10, rng=1)


def test_pauli_eigenvalues():
    np.testing.assert_array_equal(m.pauli_eigenvalues(2, [1]), [1, -1, 1, -1])
    np.testing.assert_array_equal(m.pauli_eigenvalues(2, []), [1, 1, 1, 1])


@pytest.mark.parametrize("observable", [
    cirq.Z(Q0), cirq.X(Q0), cirq.Y(Q0), cirq.X(Q0) * cirq.X(Q1), cirq.Y(Q0) * cirq.Y(Q1),
    0.5 * cirq.Z(Q0) * cirq.X(Q1), -2.0 * cirq.Y(Q1),
])
def test_estimates_are_unbiased_for_every_pauli(observable, rng):
    circuit = cirq.Circuit(cirq.ry(0.7)(Q0), cirq.rx(0.4)(Q1), cirq.CNOT(Q0, Q1),
                           cirq.rz(0.3)(Q1), cirq.ry(1.1)(Q1))
    exact = m.exact_expectation(circuit, observable)
    shots, reps = 2000, 200
    est = m.estimate_expectation(circuit, observable, shots=shots, rng=rng, repetitions=reps)
    scale = abs(complex(observable.coefficient))
    sigma = np.sqrt((scale**2 - exact**2) / shots / reps)
    assert abs(est.mean() - exact) < 5 * sigma + 1e-12


def test_exact_expectation_known_values():
    assert m.exact_expectation(bloch_state_circuit(np.pi / 3), cirq.Z(Q0)) == pytest.approx(0.5)
    assert m.exact_expectation(bloch_state_circuit(np.pi / 2), cirq.X(Q0)) == pytest.approx(1.0)
    # Observable on a qubit the circuit does not touch: |0>, so <Z> = 1.
    assert m.exact_expectation(bloch_state_circuit(1.0), cirq.Z(Q1)) == pytest.approx(1.0)


def test_observable_must_be_hermitian_pauli_string():
    with pytest.raises(ValueError, match="Hermitian"):
        m.exact_expectation(bell_circuit(), 1j * cirq.Z(Q0))
    with pytest.raises(TypeError, match="PauliString"):
        m.exact_expectation(bell_circuit(), cirq.Z(Q0) + cirq.X(Q1))


def test_shot_noise_follows_inverse_square_root(rng):
    theta = 1.0
    table = m.shot_noise_scaling(bloch_state_circuit(theta), cirq.Z(Q0),
                                 shots_grid=[16, 64, 256, 1024, 4096], repetitions=600, rng=rng)
    fit = m.fit_power_law(table["shots"], table["std_error"])
    assert abs(fit.exponent + 0.5) < 4 * fit.exponent_stderr + 0.02
    assert fit.prefactor == pytest.approx(abs(np.sin(theta)), rel=0.1)
    np.testing.assert_allclose(table["std_error"], table["predicted_std_error"], rtol=0.2)


def test_shot_noise_scaling_bad_input(rng):
    with pytest.raises(ValueError, match="repetitions must be >= 2"):
        m.shot_noise_scaling(bell_circuit(), cirq.Z(Q0), shots_grid=[10], repetitions=1, rng=rng)
    with pytest.raises(TypeError, match="shots_grid"):
        m.shot_noise_scaling(bell_circuit(), cirq.Z(Q0), shots_grid=10, repetitions=5, rng=rng)
    with pytest.raises(ValueError, match=r"shots_grid\[0\]"):
        m.shot_noise_scaling(bell_circuit(), cirq.Z(Q0), shots_grid=[0], repetitions=5, rng=rng)


def test_fit_power_law_recovers_exponent_and_errors():
    x = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    fit = m.fit_power_law(x, 3.0 * x**-0.5)
    assert fit.exponent == pytest.approx(-0.5)
    assert fit.prefactor == pytest.approx(3.0)
    assert fit.exponent_stderr == pytest.approx(0.0, abs=1e-12)
    assert fit.r_squared == pytest.approx(1.0)
    np.testing.assert_allclose(fit.predict(x), 3.0 * x**-0.5)


def test_fit_power_law_bad_input():
    with pytest.raises(ValueError, match="at least 3"):
        m.fit_power_law([1, 2], [1, 2])
    with pytest.raises(ValueError, match="positive"):
        m.fit_power_law([1, 2, 3], [1, 0, 2])
    with pytest.raises(ValueError, match="same length"):
        m.fit_power_law([1, 2, 3], [1, 2])
