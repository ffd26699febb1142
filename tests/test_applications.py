"""Tests of qmlkit.applications: the TFQ-MNIST data pipeline, input circuits, classifiers.

Circuits are checked against Cirq's state-vector simulator, the Keras classifier's outputs
against exact expectation values of the resolved circuits.
"""

from __future__ import annotations

import cirq
import numpy as np
import pytest

from qmlkit.ansatz import initial_parameters, qcnn_ansatz
from qmlkit.applications import (
    basis_state_circuits,
    binarize,
    circuit_classifier,
    hinge_accuracy,
    readout_ansatz,
    remove_contradicting,
    state_preparation_circuits,
)


def _expectation_z(circuit: cirq.Circuit, qubits, readout, initial=None) -> float:
    psi = cirq.final_state_vector(circuit, qubit_order=qubits, initial_state=initial,
                                  dtype=np.complex128)
    return float(np.real(cirq.Z(readout).expectation_from_state_vector(
        psi, {q: i for i, q in enumerate(qubits)})))


# ----------------------------------------------------------------------------- data pipeline


def test_binarize_is_strict_threshold():
    assert binarize(np.array([[0.5, 0.51], [0.0, 1.0]])).tolist() == [[0, 1], [0, 1]]
    assert binarize([0.2, 0.4], threshold=0.3).dtype == np.int64


def test_binarize_rejects_nan():
    with pytest.raises(ValueError, match="x"):
        binarize([0.1, np.nan])


def test_remove_contradicting_keeps_order_duplicates_and_counts():
    bits = np.array([[0, 1], [1, 1], [0, 1], [1, 0], [1, 0], [0, 0]])
    labels = np.array([0, 1, 1, 0, 0, 1])  # [0, 1] carries both labels
    x, y, counts = remove_contradicting(bits, labels)
    assert x.tolist() == [[1, 1], [1, 0], [1, 0], [0, 0]]
    assert y.tolist() == [1, 0, 0, 1]
    assert counts == {"samples": 6, "unique images": 4, "contradicting images": 1,
                      "removed samples": 2, "kept samples": 4}


@pytest.mark.parametrize("bits, labels, match", [
    ([[0, 2]], [0], "only 0 and 1"),
    ([0, 1], [0], "bits"),
    ([[0, 1], [1, 1]], [0], "one entry per row"),
])
def test_remove_contradicting_rejects_bad_input(bits, labels, match):
    with pytest.raises(ValueError, match=match):
        remove_contradicting(bits, labels)


# ----------------------------------------------------------------------------- input circuits


def test_basis_state_circuits_prepare_the_bit_strings():
    bits = np.array([[1, 0, 1], [0, 0, 0], [0, 1, 1]])
    qubits = cirq.LineQubit.range(3)
    for row, circuit in zip(bits, basis_state_circuits(bits), strict=True):
        psi = cirq.final_state_vector(circuit, qubit_order=qubits)
        index = int("".join(map(str, row)), 2)
        assert abs(psi[index]) == pytest.approx(1.0)


def test_basis_state_circuits_checks_qubits_and_values():
    with pytest.raises(ValueError, match="qubits must hold 2"):
        basis_state_circuits([[1, 0]], qubits=cirq.LineQubit.range(3))
    with pytest.raises(TypeError, match="qubits"):
        basis_state_circuits([[1, 0]], qubits="ab")
    with pytest.raises(ValueError, match="only 0 and 1"):
        basis_state_circuits([[1, 3]])


def test_state_preparation_circuits_are_exact(rng):
    states = rng.normal(size=(3, 8)) + 1j * rng.normal(size=(3, 8))
    states /= np.linalg.norm(states, axis=1, keepdims=True)
    qubits = cirq.LineQubit.range(3)
    for s, circuit in zip(states, state_preparation_circuits(states), strict=True):
        psi = cirq.final_state_vector(circuit, qubit_order=qubits, dtype=np.complex128)
        assert abs(np.vdot(psi, s)) == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("states, match", [
    (np.ones((2, 3)) / np.sqrt(3), "2\\^n columns"),
    (np.ones(4) / 2, "2-D"),
    (np.ones((1, 4)), "norm"),
])
def test_state_preparation_circuits_reject_bad_states(states, match):
    with pytest.raises(ValueError, match=match):
        state_preparation_circuits(states)


# ----------------------------------------------------------------------------- readout ansatz


def test_readout_ansatz_structure_and_identity_point():
    a = readout_ansatz(4, couplings=["XX", "ZZ"])
    assert a.n_parameters == 8 and a.readout == cirq.LineQubit(4)
    assert a.symbol_names[:2] == ["w_xx0", "w_xx1"]
    # all exponents 0: X, H, H on the readout -> |1>, <Z> = -1 whatever the data
    qubits = a.qubits
    for bits in ([0, 0, 0, 0], [1, 0, 1, 1]):
        data = basis_state_circuits([bits], qubits=qubits[:4])[0]
        assert _expectation_z(data + a.resolve(np.zeros(8)), qubits, a.readout) == \
            pytest.approx(-1.0)


def test_readout_ansatz_is_the_farhi_neven_circuit():
    a = readout_ansatz(2, couplings=["XX", "ZZ"])
    d0, d1, r = a.qubits
    w = [0.3, 0.7, 0.2, 0.9]
    expected = cirq.Circuit([cirq.X(r), cirq.H(r), cirq.XX(d0, r) ** w[0], cirq.XX(d1, r) ** w[1],
                             cirq.ZZ(d0, r) ** w[2], cirq.ZZ(d1, r) ** w[3], cirq.H(r)])
    np.testing.assert_allclose(cirq.unitary(a.resolve(w)),
                               cirq.unitary(expected.transform_qubits(lambda q: q)), atol=1e-12)


def test_zz_coupling_alone_cannot_read_a_bit():
    # ZZ^w rotates the readout about Z by +-pi w, and <X> of |-> after either rotation is the
    # same, so without the XX coupling the prediction ignores the data.
    a = readout_ansatz(1, couplings=["ZZ"])
    values = [_expectation_z(basis_state_circuits([[bit]], qubits=a.qubits[:1])[0] +
                             a.resolve([0.37]), a.qubits, a.readout) for bit in (0, 1)]
    assert values[0] == pytest.approx(values[1], abs=1e-9)
    b = readout_ansatz(2, couplings=["XX", "ZZ"])
    values = [_expectation_z(basis_state_circuits([bits], qubits=b.qubits[:2])[0] +
                             b.resolve([0.37, 0.21, 0.5, 0.3]), b.qubits, b.readout)
              for bits in ([0, 0], [1, 0])]
    assert abs(values[0] - values[1]) > 0.1


def test_readout_qnn_is_blind_to_complementing_every_bit(rng):
    # <Z> is an even function of the spins (-1)^b_i: flipping every bit changes nothing.
    a = readout_ansatz(4)
    w = rng.uniform(0, 2, a.n_parameters)
    for bits in rng.integers(0, 2, size=(5, 4)):
        out = [_expectation_z(basis_state_circuits([b], qubits=a.qubits[:4])[0] + a.resolve(w),
                              a.qubits, a.readout) for b in (bits, 1 - bits)]
        assert out[0] == pytest.approx(out[1], abs=1e-9)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"n_data": 0}, ValueError, "n_data"),
    ({"n_data": 2, "couplings": "XX"}, TypeError, "couplings"),
    ({"n_data": 2, "couplings": ["XY"]}, ValueError, "couplings"),
    ({"n_data": 2, "couplings": []}, TypeError, "couplings"),
    ({"n_data": 2, "prefix": "1w"}, ValueError, "prefix"),
])
def test_readout_ansatz_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        readout_ansatz(**kwargs)


# ----------------------------------------------------------------------------- Keras classifier


@pytest.fixture(scope="module")
def tfq():
    from qmlkit._environment import import_tensorflow

    import_tensorflow()
    import tensorflow_quantum

    return tensorflow_quantum


def test_circuit_classifier_matches_exact_expectations(tfq, seed):
    a = readout_ansatz(3)
    bits = np.array([[0, 0, 0], [1, 0, 1], [1, 1, 1], [0, 1, 0]])
    circuits = basis_state_circuits(bits, qubits=a.qubits[:3])
    model = circuit_classifier(a, seed=seed)
    out = model(tfq.convert_to_tensor(circuits)).numpy()[:, 0]
    weights = initial_parameters(a, strategy="uniform", rng=np.random.default_rng(seed))
    stored = dict(zip([str(s) for s in model.get_layer("pqc").symbols], model.get_weights()[0],
                      strict=True))
    np.testing.assert_allclose([stored[n] for n in a.symbol_names], weights, rtol=1e-6)
    exact = [_expectation_z(c + a.resolve(weights), a.qubits, a.readout) for c in circuits]
    np.testing.assert_allclose(out, exact, atol=1e-5)
    assert model.count_params() == a.n_parameters


def test_circuit_classifier_on_prepared_states_and_trainable_readout(tfq, rng):
    a = qcnn_ansatz(4)
    states = rng.normal(size=(3, 16))
    states /= np.linalg.norm(states, axis=1, keepdims=True)
    circuits = state_preparation_circuits(states, qubits=a.qubits)
    pure = circuit_classifier(a, seed=3)
    hybrid = circuit_classifier(a, seed=3, trainable_readout=True)
    assert hybrid.count_params() == a.n_parameters + 2
    z = pure(tfq.convert_to_tensor(circuits)).numpy()[:, 0]
    stored = dict(zip([str(s) for s in pure.get_layer("pqc").symbols], pure.get_weights()[0],
                      strict=True))
    weights = np.array([stored[n] for n in a.symbol_names], dtype=np.float64)
    assert a.symbol_names != sorted(a.symbol_names)  # the order matters here
    exact = [_expectation_z(a.resolve(weights), a.qubits, a.readout,
                            initial=s.astype(np.complex64)) for s in states]
    np.testing.assert_allclose(z, exact, atol=1e-5)
    # the read-out starts as tanh(1 * <Z> + 0)
    np.testing.assert_allclose(hybrid(tfq.convert_to_tensor(circuits)).numpy()[:, 0],
                               np.tanh(z), atol=1e-5)


def test_circuit_classifier_is_reproducible_and_trains(tfq):
    import tf_keras

    a = readout_ansatz(2)
    bits = np.array([[0, 0], [1, 1], [0, 1], [1, 0]] * 4)
    y = np.where(bits[:, 0] == bits[:, 1], 1.0, -1.0)  # label: parity (see the symmetry test)
    x = tfq.convert_to_tensor(basis_state_circuits(bits))
    m1, m2 = circuit_classifier(a, seed=5), circuit_classifier(a, seed=5)
    np.testing.assert_array_equal(m1.get_weights()[0], m2.get_weights()[0])
    m1.compile(optimizer=tf_keras.optimizers.Adam(0.1), loss=tf_keras.losses.Hinge())
    before = hinge_accuracy(y, m1(x).numpy())
    m1.fit(x, y, epochs=40, batch_size=16, verbose=0)
    after = hinge_accuracy(y, m1(x).numpy())
    assert after == 1.0 and after >= before


@pytest.mark.parametrize("kwargs, error, match", [
    ({"ansatz": "qcnn", "seed": 1}, TypeError, "ansatz"),
    ({"seed": -1}, ValueError, "seed"),
    ({"seed": 1, "initializer": "identity_blocks"}, ValueError, "initializer"),
    ({"seed": 1, "differentiator": "finite"}, ValueError, "differentiator"),
    ({"seed": 1, "trainable_readout": "yes"}, TypeError, "trainable_readout"),
    ({"seed": 1, "observable": "Z"}, TypeError, "observable"),
])
def test_circuit_classifier_rejects_bad_arguments(kwargs, error, match):
    kwargs = {"ansatz": readout_ansatz(2), **kwargs}
    with pytest.raises(error, match=match):
        circuit_classifier(**kwargs)


def test_circuit_classifier_needs_an_observable_without_readout():
    from qmlkit.ansatz import hardware_efficient_ansatz

    with pytest.raises(ValueError, match="observable"):
        circuit_classifier(hardware_efficient_ansatz(2, layers=1), seed=1)


# ----------------------------------------------------------------------------- scoring


def test_hinge_accuracy():
    assert hinge_accuracy([1, -1, 1, -1], [0.5, -0.1, 0.0, 0.2]) == 0.5
    with pytest.raises(ValueError, match="-1 and \\+1"):
        hinge_accuracy([0, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="same length"):
        hinge_accuracy([1, -1], [0.1])
