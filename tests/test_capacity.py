"""Tests of qmlkit.capacity: Fisher information, normalisation, effective dimension, Jacobians.

The effective dimension is checked against closed forms (constant ``F̂`` with known eigenvalues),
a brute-force determinant computation and its limits; the quantum Jacobian against
:func:`qmlkit.gradients.parameter_shift_gradient` on the equivalent Cirq circuit and the
probabilities against Cirq's simulator; the classical Jacobian against central differences.
"""

from __future__ import annotations

import math

import cirq
import numpy as np
import pytest
import sympy

from qmlkit import capacity
from qmlkit.ansatz import Ansatz, hardware_efficient_ansatz
from qmlkit.capacity import (
    FeedforwardNetwork,
    ParityQNN,
    abbas_qnn,
    effective_dimension,
    fisher_information,
    fisher_spectrum,
    kappa,
    normalised_fisher,
    sample_fisher,
    z_feature_map,
)
from qmlkit.circuits import state_vector
from qmlkit.gradients import CircuitExpectation, parameter_shift_gradient


def _closed_form(eigenvalues: np.ndarray, n: int) -> float:
    k = n / (2 * math.pi * math.log(n))
    return float(np.sum(np.log1p(k * eigenvalues)) / math.log(k))


# --------------------------------------------------------------------------------------------
# Fisher information and its normalisation
# --------------------------------------------------------------------------------------------

def test_fisher_of_a_logistic_model_is_mean_x2_p_1_minus_p(rng):
    theta, x = 0.7, rng.normal(size=50)
    p1 = 1.0 / (1.0 + np.exp(-theta * x))
    probs = np.stack([1 - p1, p1], axis=1)
    dp1 = (p1 * (1 - p1) * x)[:, None]
    jac = np.stack([-dp1, dp1], axis=1)
    f = fisher_information(probs, jac)
    assert f.shape == (1, 1)
    assert f[0, 0] == pytest.approx(np.mean(x**2 * p1 * (1 - p1)), rel=1e-12)


def test_fisher_is_symmetric_psd_and_keeps_leading_axes(rng):
    net = FeedforwardNetwork([3, 4, 2])
    p, jac = net.probabilities_and_jacobian(rng.uniform(size=(6, net.n_parameters)),
                                            rng.normal(size=(7, 3)))
    f = fisher_information(p, jac)
    assert f.shape == (6, 20, 20)
    np.testing.assert_allclose(f, np.swapaxes(f, 1, 2), atol=1e-14)
    assert np.linalg.eigvalsh(f).min() > -1e-12


def test_zero_probability_classes_are_left_out():
    p = np.array([[1.0, 0.0]])
    jac = np.array([[[0.0, 0.0], [0.0, 0.0]]])
    np.testing.assert_array_equal(fisher_information(p, jac), np.zeros((2, 2)))


def test_normalisation_makes_the_mean_trace_d(rng):
    for model in (FeedforwardNetwork([2, 3, 2]), abbas_qnn(n_qubits=2, reps=1)):
        s = sample_fisher(model, n_thetas=9, n_inputs=11, rng=rng)
        assert np.trace(s.fhat, axis1=1, axis2=2).mean() == pytest.approx(model.n_parameters)
        assert s.mean_trace == pytest.approx(np.trace(s.fishers, axis1=1, axis2=2).mean())
        np.testing.assert_allclose(s.fhat * s.mean_trace / model.n_parameters, s.fishers)
        assert s.thetas.min() >= 0 and s.thetas.max() <= 1 and s.n_parameters == model.n_parameters


def test_sample_fisher_is_reproducible_from_the_seed():
    net = FeedforwardNetwork([2, 2, 2])
    a = sample_fisher(net, n_thetas=3, n_inputs=4, rng=np.random.default_rng(5))
    b = sample_fisher(net, n_thetas=3, n_inputs=4, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a.fhat, b.fhat)


def test_spectrum_is_ascending_eigenvalues(rng):
    a = rng.normal(size=(4, 5, 5))
    f = a @ np.swapaxes(a, 1, 2)
    ev = fisher_spectrum(f)
    assert ev.shape == (4, 5) and np.all(np.diff(ev, axis=1) >= 0)
    np.testing.assert_allclose(ev.sum(axis=1), np.trace(f, axis1=1, axis2=2))


# --------------------------------------------------------------------------------------------
# Effective dimension
# --------------------------------------------------------------------------------------------

def test_identity_fisher_gives_the_full_dimension():
    for n in (100, 10**4, 10**8):
        assert effective_dimension(np.eye(6), n=n) == pytest.approx(
            6 * math.log1p(kappa(n)) / math.log(kappa(n)), rel=1e-12)
    assert effective_dimension(np.eye(6), n=10**12) == pytest.approx(6.0, abs=1e-6)


def test_rank_deficient_fisher_tends_to_its_rank():
    d, r = 8, 3
    fhat = np.diag([d / r] * r + [0.0] * (d - r))
    ns = [10**3, 10**6, 10**9, 10**12, 10**15]
    ed = effective_dimension(fhat, n=ns)
    np.testing.assert_allclose(ed, [_closed_form(np.diag(fhat), n) for n in ns], rtol=1e-12)
    assert np.all(np.diff(ed) < 0) and np.all(ed > r)   # from above, since λ = d/r > 1
    assert ed[-1] < r * 1.05 and ed[-1] < d


def test_small_eigenvalues_make_it_grow_with_n_and_stay_below_d(rng):
    fhat = np.stack([np.diag(rng.uniform(0.0, 1.0, size=10)) for _ in range(20)])
    ed = effective_dimension(fhat, n=[10**k for k in range(3, 13)])
    assert np.all(np.diff(ed) > 0) and np.all(ed < 10)


def test_agrees_with_a_brute_force_determinant(rng):
    a = rng.normal(size=(7, 3, 3))
    fhat, _ = normalised_fisher(a @ np.swapaxes(a, 1, 2))
    for n in (50, 1000, 10**5):
        k = n / (2 * math.pi * math.log(n))
        brute = 2 * math.log(np.mean(np.sqrt(np.linalg.det(np.eye(3) + k * fhat)))) / math.log(k)
        assert effective_dimension(fhat, n=n) == pytest.approx(brute, rel=1e-10)


def test_gamma_scales_kappa_and_a_sequence_gives_an_array():
    fhat = np.diag([1.5, 0.5])
    assert effective_dimension(fhat, n=1000, gamma=0.5) == pytest.approx(
        float(np.sum(np.log1p(kappa(1000, gamma=0.5) * np.diag(fhat))))
        / math.log(kappa(1000, gamma=0.5)))
    out = effective_dimension(fhat, n=np.array([100, 1000]))
    assert isinstance(out, np.ndarray) and out.shape == (2,)


def test_no_overflow_for_large_kappa():
    value = effective_dimension(40.0 * np.eye(40), n=10**15)   # det(I + κF̂) ~ 1e550
    assert value == pytest.approx(_closed_form(np.full(40, 40.0), 10**15), rel=1e-12)


# --------------------------------------------------------------------------------------------
# The quantum model
# --------------------------------------------------------------------------------------------

def _full_circuit(model: ParityQNN, x: np.ndarray) -> cirq.Circuit:
    return model.encoder(x) + model.ansatz.circuit


@pytest.mark.parametrize("feature_map", ["zz", "z"])
def test_qnn_jacobian_matches_the_parameter_shift_rule(rng, feature_map):
    model = abbas_qnn(n_qubits=3, reps=2, feature_map=feature_map)
    thetas = rng.uniform(size=(2, model.n_parameters))
    inputs = rng.normal(size=(3, 3))
    p, jac = model.probabilities_and_jacobian(thetas, inputs)
    parity = cirq.Z(cirq.LineQubit(0)) * cirq.Z(cirq.LineQubit(1)) * cirq.Z(cirq.LineQubit(2))
    for t in range(2):
        for i in range(3):
            f = CircuitExpectation(_full_circuit(model, inputs[i]), model.ansatz.symbols, parity)
            zzz = f(thetas[t])
            grad = parameter_shift_gradient(f, thetas[t]).gradient
            assert p[t, i, 0] == pytest.approx((1 + zzz) / 2, abs=1e-12)
            np.testing.assert_allclose(jac[t, i, 0], grad / 2, atol=1e-12)
            np.testing.assert_allclose(jac[t, i, 1], -grad / 2, atol=1e-12)


def test_qnn_probabilities_match_cirq_for_both_propagation_paths(rng, monkeypatch):
    model = abbas_qnn(n_qubits=3, reps=1)
    thetas = rng.uniform(size=(3, model.n_parameters))
    many = rng.normal(size=(10, 3))         # more inputs than 2**3: basis propagated
    p_many, j_many = model.probabilities_and_jacobian(thetas, many)
    p_few, j_few = model.probabilities_and_jacobian(thetas, many[:4])   # states propagated
    np.testing.assert_allclose(p_few, p_many[:, :4], atol=1e-12)
    np.testing.assert_allclose(j_few, j_many[:, :4], atol=1e-12)
    psi = state_vector(model.encoder(many[7]) + model.ansatz.resolve(thetas[1]),
                       model.ansatz.qubits)
    odd = np.array([bin(b).count("1") % 2 for b in range(8)], dtype=bool)
    assert p_many[1, 7, 1] == pytest.approx(np.sum(np.abs(psi[odd]) ** 2), abs=1e-12)
    monkeypatch.setattr(capacity, "_CHUNK_BYTES", 1)    # one parameter row per chunk
    p_chunked, j_chunked = model.probabilities_and_jacobian(thetas, many)
    np.testing.assert_allclose(j_chunked, j_many, atol=1e-12)
    np.testing.assert_allclose(p_chunked, p_many, atol=1e-12)
    np.testing.assert_allclose(model.probabilities(thetas, many), p_many, atol=1e-12)


def test_qnn_with_custom_labels_shared_symbols_and_two_qubit_gates(rng):
    q = cirq.LineQubit.range(2)
    a, b = sympy.symbols("a b")
    circuit = cirq.Circuit(cirq.ry(a)(q[0]), cirq.ZZPowGate(exponent=b / 2)(*q), cirq.rx(a)(q[1]),
                           cirq.CNOT(*q))
    ansatz = Ansatz(circuit=circuit, symbols=[a, b], qubits=q)
    model = ParityQNN(lambda x: cirq.Circuit(cirq.rx(x[0])(q[0]), cirq.H(q[1])), ansatz,
                      n_features=1, labels=[0, 1, 2, 2])
    assert model.n_outputs == 3
    theta, x = np.array([[0.4, 0.9]]), np.array([[0.3], [-1.2]])
    p, jac = model.probabilities_and_jacobian(theta, x)
    step = 1e-6
    for k in range(2):
        e = np.zeros((1, 2))
        e[0, k] = step
        fd = (model.probabilities(theta + e, x) - model.probabilities(theta - e, x)) / (2 * step)
        np.testing.assert_allclose(jac[..., k], fd, atol=1e-8)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0)


def test_abbas_models_have_the_papers_sizes():
    assert abbas_qnn().n_parameters == 40
    assert abbas_qnn(feature_map="z").n_outputs == 2
    assert FeedforwardNetwork([4, 4, 4, 2]).n_parameters == 40


def test_z_feature_map_prepares_a_product_state():
    x = np.array([0.3, -1.1])
    psi = state_vector(z_feature_map(x))
    single = [np.array([1, np.exp(2j * v)]) / np.sqrt(2) for v in x]
    np.testing.assert_allclose(psi, np.kron(*single), atol=1e-12)
    assert len(z_feature_map(x, reps=3)) == 6


# --------------------------------------------------------------------------------------------
# The classical model
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("hidden,output", [("leaky_relu", "tanh_softmax"), ("tanh", "softmax"),
                                           ("leaky_relu", "softmax")])
def test_network_jacobian_matches_central_differences(rng, hidden, output):
    net = FeedforwardNetwork([3, 4, 3, 3], hidden_activation=hidden, output=output)
    theta = rng.uniform(-1, 1, size=(2, net.n_parameters))
    x = rng.normal(size=(5, 3))
    p, jac = net.probabilities_and_jacobian(theta, x)
    step = 1e-6
    for k in range(net.n_parameters):
        e = np.zeros_like(theta)
        e[:, k] = step
        fd = (net.probabilities(theta + e, x) - net.probabilities(theta - e, x)) / (2 * step)
        np.testing.assert_allclose(jac[..., k], fd, atol=1e-7)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0)


def test_network_layout_is_row_major_weights():
    net = FeedforwardNetwork([2, 2], output="softmax")
    theta = np.array([[1.0, 0.0, 0.0, 0.0]])     # W = [[1, 0], [0, 0]]: logits (x0, 0)
    p = net.probabilities(theta, [[2.0, 5.0]])
    assert p[0, 0, 0] == pytest.approx(1 / (1 + np.exp(-2.0)))


# --------------------------------------------------------------------------------------------
# Bad inputs
# --------------------------------------------------------------------------------------------

def test_fisher_information_rejects_bad_inputs():
    p = np.full((2, 2), 0.5)
    with pytest.raises(ValueError, match="jacobians must have shape"):
        fisher_information(p, np.zeros((2, 3, 1)))
    with pytest.raises(ValueError, match="sum to 1"):
        fisher_information(np.full((2, 2), 0.4), np.zeros((2, 2, 1)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        fisher_information(np.array([[1.5, -0.5]]), np.zeros((1, 2, 1)))
    with pytest.raises(ValueError, match="NaN"):
        fisher_information(np.array([[np.nan, 0.5]]), np.zeros((1, 2, 1)))
    with pytest.raises(ValueError, match="probabilities must have shape"):
        fisher_information(np.array([1.0]), np.zeros((1, 1)))
    with pytest.raises(TypeError, match="probabilities"):
        fisher_information("p", np.zeros((1, 1)))
    with pytest.raises(ValueError, match="atol"):
        fisher_information(p, np.zeros((2, 2, 1)), atol=-1.0)


def test_normalised_fisher_and_spectrum_reject_bad_inputs():
    with pytest.raises(ValueError, match="zero trace"):
        normalised_fisher(np.zeros((3, 2, 2)))
    with pytest.raises(ValueError, match="shape"):
        normalised_fisher(np.zeros((3, 2, 4)))
    with pytest.raises(ValueError, match="symmetric"):
        fisher_spectrum(np.array([[1.0, 2.0], [0.0, 1.0]]))


def test_effective_dimension_rejects_bad_inputs():
    with pytest.raises(ValueError, match="kappa"):
        effective_dimension(np.eye(2), n=10)
    with pytest.raises(ValueError, match="kappa"):
        effective_dimension(np.eye(2), n=[1000, 18])
    with pytest.raises(TypeError, match="n must be an integer"):
        effective_dimension(np.eye(2), n=1000.0)
    with pytest.raises(TypeError, match=r"n\[1\] must be an integer"):
        effective_dimension(np.eye(2), n=[1000, 2.5])
    with pytest.raises(ValueError, match="gamma"):
        effective_dimension(np.eye(2), n=1000, gamma=0.0)
    with pytest.raises(ValueError, match="gamma"):
        effective_dimension(np.eye(2), n=1000, gamma=1.5)
    with pytest.raises(ValueError, match="positive semi-definite"):
        effective_dimension(np.diag([1.0, -1.0]), n=1000)
    with pytest.raises(ValueError, match="n must be >= 2"):
        kappa(1)


def test_sample_fisher_rejects_bad_inputs(rng):
    net = FeedforwardNetwork([2, 2])
    with pytest.raises(TypeError, match="model must have"):
        sample_fisher(object(), n_thetas=2, n_inputs=2, rng=rng)
    with pytest.raises(ValueError, match="n_thetas"):
        sample_fisher(net, n_thetas=0, n_inputs=2, rng=rng)
    with pytest.raises(TypeError, match="n_inputs"):
        sample_fisher(net, n_thetas=2, n_inputs=2.0, rng=rng)
    with pytest.raises(TypeError, match="rng"):
        sample_fisher(net, n_thetas=2, n_inputs=2, rng=0)
    with pytest.raises(ValueError, match="low must be < high"):
        sample_fisher(net, n_thetas=2, n_inputs=2, rng=rng, low=1.0, high=0.0)


def test_models_reject_bad_inputs():
    ans = hardware_efficient_ansatz(2, layers=1, rotations=("Y",))
    with pytest.raises(TypeError, match="encoder must be callable"):
        ParityQNN("zz", ans, n_features=2)
    with pytest.raises(TypeError, match="ansatz"):
        ParityQNN(lambda x: cirq.Circuit(), "ansatz", n_features=2)
    with pytest.raises(ValueError, match="labels"):
        ParityQNN(lambda x: cirq.Circuit(), ans, n_features=2, labels=[0, 1])
    with pytest.raises(ValueError, match="labels"):
        ParityQNN(lambda x: cirq.Circuit(), ans, n_features=2, labels=[0, 0, 0, 0])
    bad_out = ParityQNN(lambda x: "circuit", ans, n_features=2)
    with pytest.raises(TypeError, match="encoder must return"):
        bad_out.probabilities(np.zeros((1, 4)), np.zeros((1, 2)))
    far = ParityQNN(lambda x: cirq.Circuit(cirq.X(cirq.LineQubit(5))), ans, n_features=2)
    with pytest.raises(ValueError, match="qubits the ansatz does not have"):
        far.probabilities(np.zeros((1, 4)), np.zeros((1, 2)))
    model = ParityQNN(lambda x: cirq.Circuit(), ans, n_features=2)
    with pytest.raises(ValueError, match="thetas must have shape"):
        model.probabilities(np.zeros((1, 3)), np.zeros((1, 2)))
    with pytest.raises(ValueError, match="inputs must have shape"):
        model.probabilities(np.zeros((1, 4)), np.zeros((1, 3)))
    q = cirq.LineQubit.range(2)
    s = sympy.Symbol("s")
    fsim = Ansatz(circuit=cirq.Circuit(cirq.FSimGate(theta=s, phi=0.1)(*q)), symbols=[s], qubits=q)
    with pytest.raises(ValueError, match="EigenGate"):
        ParityQNN(lambda x: cirq.Circuit(), fsim, n_features=1)
    with pytest.raises(ValueError, match="feature_map"):
        abbas_qnn(feature_map="amplitude")
    with pytest.raises(ValueError, match="at least"):
        FeedforwardNetwork([4])
    with pytest.raises(ValueError, match="output layer"):
        FeedforwardNetwork([4, 1])
    with pytest.raises(ValueError, match="hidden_activation"):
        FeedforwardNetwork([4, 2], hidden_activation="relu6")
    with pytest.raises(TypeError, match="sizes"):
        FeedforwardNetwork("4,2")
    with pytest.raises(ValueError, match="features"):
        z_feature_map([np.inf])
    with pytest.raises(ValueError, match="qubits"):
        z_feature_map([0.1, 0.2], qubits=cirq.LineQubit.range(3))
