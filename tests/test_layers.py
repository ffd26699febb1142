"""Tests of qmlkit.layers: the TFQ QuantumLayer, hybrid and classical models (§5, §6).

Outputs are checked against independent Cirq state-vector calculations (the circuit rebuilt
from numbers with qmlkit.encodings / qmlkit.ansatz, not resolved from the layer's symbols);
gradients across TFQ's three differentiators and against central differences of those
calculations. Circuits are tiny (1-3 qubits) so the file runs in well under a minute, most of
it TensorFlow's import.
"""

from __future__ import annotations

import json

import cirq
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("tensorflow_quantum")

from qmlkit.ansatz import (  # noqa: I001
    hamiltonian_variational_ansatz,
    hardware_efficient_ansatz,
    initial_parameters,
    qcnn_ansatz,
)
from qmlkit.encodings import angle_encoding, encoding_resources, zz_feature_map
from qmlkit.layers import (
    QuantumLayer,
    classical_mlp,
    count_parameters,
    hybrid_model,
    mlp_parameter_count,
    mlp_width_for_budget,
    observable_from_spec,
    observable_to_spec,
)
from qmlkit.measurement import exact_expectation

# after qmlkit.layers, which imports TensorFlow through qmlkit (Keras 2 for tf.keras)
import tensorflow as tf
import tf_keras

Q = cirq.LineQubit.range(3)
#: Observables given as Cirq objects (the layer converts them to strings).
OBSERVABLES = [cirq.Z(Q[0]), cirq.Z(Q[0]) * cirq.Z(Q[1]), 0.5 * cirq.X(Q[1]) - cirq.Y(Q[0])]
ATOL = 1e-5


def expectations(circuit: cirq.Circuit, observables) -> np.ndarray:
    """Exact expectation values (complex128 Cirq simulation) of Pauli strings or sums."""
    out = []
    for obs in observables:
        terms = [obs] if isinstance(obs, cirq.PauliString) else list(obs)
        out.append(sum(exact_expectation(circuit, t) for t in terms))
    return np.array(out)


def reference_circuit(kind: str, x: np.ndarray, w: np.ndarray, *, layers: int) -> cirq.Circuit:
    """The model circuit built from numbers, independently of the layer's symbols."""
    n = len(x)
    q = cirq.LineQubit.range(n)
    if kind == "angle":
        hea = hardware_efficient_ansatz(q, layers=layers)
        return angle_encoding(x, rotation="Y") + hea.resolve(w)
    if kind == "zz":
        hea = hardware_efficient_ansatz(q, layers=layers)
        return zz_feature_map(x, reps=2, entanglement="linear") + hea.resolve(w)
    if kind == "angle_reupload":
        circuit = cirq.Circuit()
        size = len(w) // 2
        for b in range(2):
            hea = hardware_efficient_ansatz(q, layers=layers, prefix=f"theta_b{b}")
            circuit += angle_encoding(x) + hea.resolve(w[b * size:(b + 1) * size])
        return circuit
    if kind == "hamiltonian_variational":
        return angle_encoding(x) + hamiltonian_variational_ansatz(q, layers=layers).resolve(w)
    return angle_encoding(x) + qcnn_ansatz(q).resolve(w)


LAYER_KWARGS = {
    "angle": {"encoding": "angle", "rotation": "Y", "layers": 2},
    "zz": {"encoding": "zz", "zz_reps": 2, "zz_entanglement": "linear", "layers": 1},
    "angle_reupload": {"encoding": "angle_reupload", "reuploads": 2, "layers": 1},
    "hamiltonian_variational": {"ansatz": "hamiltonian_variational", "layers": 2},
    "qcnn": {"ansatz": "qcnn"},
}


def weights(layer: QuantumLayer) -> np.ndarray:
    return layer.quantum_weights.numpy().astype(float)


# --------------------------------------------------------------------------------------------
# outputs and gradients against Cirq
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(LAYER_KWARGS))
def test_output_matches_cirq_statevector(kind, rng):
    n = 2 if kind != "zz" else 3
    obs = OBSERVABLES
    layer = QuantumLayer(n, observables=obs, seed=7, **LAYER_KWARGS[kind])
    # the layer computes in float32: give the reference the features it actually sees
    x = rng.uniform(-np.pi, np.pi, (3, n)).astype(np.float32).astype(float)
    out = layer(x).numpy()
    assert out.shape == (3, len(obs)) and out.dtype == np.float32
    w = weights(layer)
    layers = LAYER_KWARGS[kind].get("layers", 0)
    for k in range(3):
        ref = expectations(reference_circuit(kind, x[k], w, layers=layers), obs)
        np.testing.assert_allclose(out[k], ref, atol=ATOL, rtol=0)
        # resolved_circuit is the same circuit
        np.testing.assert_allclose(expectations(layer.resolved_circuit(x[k]), obs), ref,
                                   atol=1e-10)


def test_default_observables_are_per_qubit_z_and_qcnn_readout(rng):
    layer = QuantumLayer(3, layers=1, seed=0)
    assert layer.observable_specs == ["Z0", "Z1", "Z2"]
    x = rng.uniform(-1, 1, (2, 3))
    out = layer(x).numpy()
    ref = expectations(angle_encoding(x[0]) + layer.ansatz.resolve(weights(layer)),
                       [cirq.Z(q) for q in Q])
    np.testing.assert_allclose(out[0], ref, atol=ATOL)
    qcnn = QuantumLayer(4, ansatz="qcnn", seed=0)
    assert qcnn.observable_specs == [f"Z{qcnn.ansatz.readout.x}"]
    assert QuantumLayer(3, observables="ZZ").observable_specs == ["Z0*Z1", "Z1*Z2"]


def _grads(layer: QuantumLayer, x: np.ndarray, coeffs: np.ndarray):
    xt = tf.constant(x, dtype=tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        loss = tf.reduce_sum(layer(xt) * coeffs)
    gw, gx = tape.gradient(loss, [layer.quantum_weights, xt])
    return gw.numpy(), gx.numpy()


@pytest.mark.parametrize("kind", ["angle", "zz"])
def test_gradients_agree_across_differentiators_and_with_cirq(kind, rng):
    n = 2
    obs = ["Z0", "0.5*X1 - Z0*Z1"]
    x = rng.uniform(-np.pi, np.pi, (2, n)).astype(np.float32).astype(float)
    coeffs = np.array([1.0, -0.7], dtype=np.float32)
    grads = {d: _grads(QuantumLayer(n, observables=obs, differentiator=d, seed=3,
                                    **LAYER_KWARGS[kind]), x, coeffs)
             for d in ("adjoint", "parameter_shift", "finite_difference")}
    gx_tol = 1e-4  # TFQ simulates in float32
    np.testing.assert_allclose(grads["adjoint"][0], grads["parameter_shift"][0], atol=1e-4)
    np.testing.assert_allclose(grads["adjoint"][1], grads["parameter_shift"][1], atol=gx_tol)
    np.testing.assert_allclose(grads["finite_difference"][0], grads["adjoint"][0], atol=2e-2)
    np.testing.assert_allclose(grads["finite_difference"][1], grads["adjoint"][1], atol=2e-2)

    # central differences of the float64 Cirq reference, w.r.t. weights and features
    layer = QuantumLayer(n, observables=obs, seed=3, **LAYER_KWARGS[kind])
    layer.build((None, n))
    w = weights(layer)
    ops = layer.observables
    layers = LAYER_KWARGS[kind]["layers"]

    def loss(xv, wv):
        return sum(float(coeffs @ expectations(reference_circuit(kind, xk, wv, layers=layers),
                                                ops)) for xk in xv)

    h = 1e-5
    gw = np.array([(loss(x, w + h * e) - loss(x, w - h * e)) / (2 * h) for e in np.eye(w.size)])
    np.testing.assert_allclose(grads["adjoint"][0], gw, atol=1e-4)
    np.testing.assert_allclose(grads["parameter_shift"][0], gw, atol=1e-4)
    gx = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = h
        gx[idx] = (loss(x + e, w) - loss(x - e, w)) / (2 * h)
    np.testing.assert_allclose(grads["adjoint"][1], gx, atol=gx_tol)
    np.testing.assert_allclose(grads["parameter_shift"][1], gx, atol=gx_tol)


def test_identity_block_initialisation_leaves_only_the_encoding(rng):
    layer = QuantumLayer(2, layers=2, mirrored=True, initializer="identity_blocks", seed=5)
    x = rng.uniform(-np.pi, np.pi, (4, 2))
    np.testing.assert_allclose(layer(x).numpy(), np.cos(x), atol=ATOL)  # <Z_i> of Rx(x_i)|0>


def test_seeded_initialisation_is_initial_parameters(rng):
    for strategy, scale in (("uniform", None), ("small", 0.3)):
        layer = QuantumLayer(2, layers=1, initializer=strategy, initializer_scale=scale, seed=11)
        layer.build((None, 2))
        expected = initial_parameters(layer.ansatz, strategy=strategy, scale=scale,
                                      rng=np.random.default_rng(11))
        np.testing.assert_allclose(weights(layer), expected, rtol=1e-6)
    keras_init = QuantumLayer(2, layers=1, initializer=tf_keras.initializers.Zeros())
    keras_init.build((None, 2))
    assert not weights(keras_init).any()


def test_inspection():
    layer = QuantumLayer(3, encoding="zz", zz_reps=1, zz_entanglement="linear", layers=1)
    assert [s.name for s in layer.feature_symbols] == ["x_0", "x_1", "x_2"]
    assert [s.name for s in layer.pair_symbols] == ["phi_0_1", "phi_1_2"]
    assert layer.symbols == layer.feature_symbols + layer.pair_symbols + layer.weight_symbols
    assert layer.n_parameters == len(layer.weight_symbols) == 12
    assert set(layer.circuit.all_qubits()) == set(Q) and layer.n_features == 3
    assert layer.resources == encoding_resources(layer.circuit)
    assert layer.encoding_resources.two_qubit_gates == 4
    assert layer.noisy_circuit == layer.circuit and "QuantumLayer(n_qubits=3" in repr(layer)
    np.testing.assert_allclose(layer.symbol_values([[0.0, 0.0, 0.0]], np.zeros(12))[0, 3:5],
                               [np.pi**2, np.pi**2])


# --------------------------------------------------------------------------------------------
# Keras integration
# --------------------------------------------------------------------------------------------


def test_sequential_and_functional_give_the_layer_output(rng):
    x = rng.uniform(-1, 1, (5, 2)).astype(np.float32)
    layer = QuantumLayer(2, layers=1, seed=2)
    direct = layer(x).numpy()
    seq = tf_keras.Sequential([tf_keras.Input(shape=(2,)), layer])
    np.testing.assert_allclose(seq.predict(x, verbose=0), direct, atol=1e-6)
    inputs = tf_keras.Input(shape=(2,))
    functional = tf_keras.Model(inputs, layer(inputs))
    np.testing.assert_allclose(functional.predict(x, verbose=0), direct, atol=1e-6)
    assert functional.output_shape == (None, 2)


def _fit(x, y, *, verbose=0):
    tf_keras.utils.set_random_seed(2024)
    model = hybrid_model(3, n_qubits=2, preprocessing_units=(4,), output_activation="sigmoid",
                         quantum_kwargs={"layers": 1, "encoding": "zz", "zz_reps": 1})
    model.compile(optimizer=tf_keras.optimizers.Adam(0.05), loss="binary_crossentropy")
    return model, model.fit(x, y, epochs=6, batch_size=8, verbose=verbose).history["loss"]


def test_fit_reduces_the_loss_reproducibly(rng, capsys):
    x = rng.normal(size=(32, 3)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.float32)
    _, first = _fit(x, y, verbose=1)
    assert "loss" in capsys.readouterr().out  # the progress bar
    assert first[-1] < first[0]
    _, second = _fit(x, y)  # a fresh model: the seed fixes its initial weights too
    assert first == second  # bit for bit under set_random_seed (exact expectations)


def test_get_config_round_trip(rng):
    layer = QuantumLayer(2, encoding="zz", zz_reps=1, layers=1, observables=OBSERVABLES[1:],
                         differentiator="parameter_shift", initializer="small", name="q")
    x = rng.uniform(-1, 1, (3, 2))
    out = layer(x).numpy()
    config = layer.get_config()
    assert config["observables"] == ["Z0*Z1", "0.5*X1 - Y0"]
    json.dumps(config)
    clone = QuantumLayer.from_config(json.loads(json.dumps(config)))
    clone.build((None, 2))
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone(x).numpy(), out, atol=1e-7)
    assert clone.get_config() == config
    keras_init = QuantumLayer(2, layers=0, initializer=tf_keras.initializers.RandomNormal(0, 0.1))
    assert isinstance(QuantumLayer.from_config(keras_init.get_config()).get_config()
                      ["initializer"], dict)


@pytest.mark.parametrize("fmt", ["keras", "savedmodel"])
def test_model_save_and_load(fmt, tmp_path, rng):
    x = rng.normal(size=(4, 3)).astype(np.float32)
    model = hybrid_model(3, n_qubits=2, head_units=(2,), quantum_kwargs={"layers": 1, "seed": 1})
    path = tmp_path / ("m.keras" if fmt == "keras" else "m_savedmodel")
    model.save(path) if fmt == "keras" else model.save(path, save_format="tf")
    loaded = tf_keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-6)


# --------------------------------------------------------------------------------------------
# sampled and noisy modes (statistical: TFQ's sampler is not reproducible run to run)
# --------------------------------------------------------------------------------------------


def test_sampled_outputs_are_within_standard_errors_of_exact(rng):
    shots = 4000
    x = rng.uniform(-np.pi, np.pi, (4, 2))
    exact = QuantumLayer(2, layers=1, observables=["Z0", "Z0*Z1"], seed=4)
    sampled = QuantumLayer(2, layers=1, observables=["Z0", "Z0*Z1"], seed=4, shots=shots)
    e = exact(x).numpy()
    xt = tf.constant(x, dtype=tf.float32)
    with tf.GradientTape() as tape:
        s = sampled(xt)
        loss = tf.reduce_sum(s)
    se = np.sqrt((1 - e**2) / shots)
    assert np.all(np.abs(s.numpy() - e) <= 5 * se + 1e-3)
    grad = tape.gradient(loss, sampled.quantum_weights).numpy()
    assert grad.shape == (sampled.n_parameters,) and np.all(np.isfinite(grad))


def test_noisy_backend_damps_expectations():
    x = np.zeros((2, 1))
    kw = {"layers": 0, "ansatz_rotations": ("Y",), "initializer": tf_keras.initializers.Zeros()}
    clean = QuantumLayer(1, backend="noisy", shots=2000, **kw)(x).numpy()
    noisy_layer = QuantumLayer(1, backend="noisy", shots=2000, noise=0.3, **kw)
    noisy = noisy_layer(x).numpy()
    assert np.all(clean > 0.95)  # <Z> = 1 exactly without noise
    # two moments of depolarising noise: <Z> = (1 - 4p/3)^2 = 0.36
    assert np.all(np.abs(noisy - 0.36) < 0.1)
    assert len(noisy_layer.noisy_circuit) > len(noisy_layer.circuit)


# --------------------------------------------------------------------------------------------
# observables as strings
# --------------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-3, 3, allow_nan=False).filter(lambda c: abs(c) > 1e-3),
                          st.dictionaries(st.integers(0, 2), st.sampled_from("XYZ"),
                                          min_size=1)),
                min_size=1, max_size=3))
def test_observable_strings_round_trip(terms):
    obs = cirq.PauliSum.from_pauli_strings(
        [cirq.PauliString({Q[k]: getattr(cirq, p) for k, p in f.items()}, coefficient=c)
         for c, f in terms])
    if not list(obs):  # all terms cancelled
        return
    spec = observable_to_spec(obs)
    assert observable_from_spec(spec, 3) == obs
    assert observable_to_spec(observable_from_spec(spec, 3)) == spec


@pytest.mark.parametrize("spec, message", [
    ("Z3", "qubit 3"), ("Z0*Z0", "repeats"), ("Z0 Z1", "parse"), ("", "empty"),
    ("W0", "parse"), ("2*", "parse"),
])
def test_bad_observable_strings(spec, message):
    with pytest.raises(ValueError, match=message):
        observable_from_spec(spec, 3)


# --------------------------------------------------------------------------------------------
# models and parameter budgets
# --------------------------------------------------------------------------------------------


def test_parameter_budgets():
    hybrid = hybrid_model(4, n_qubits=2, preprocessing_units=(3,), head_units=(2,),
                          quantum_kwargs={"layers": 1})
    # Dense 4->3 (15), Dense 3->2 (8), quantum (8), Dense 2->2 (6), Dense 2->1 (3)
    assert count_parameters(hybrid) == 40
    width = mlp_width_for_budget(4, 40)
    mlp = classical_mlp(4, (width,))
    assert count_parameters(mlp) == mlp_parameter_count(4, (width,)) == 37
    assert count_parameters(mlp, trainable_only=False) == 37
    assert mlp_parameter_count(4, (8, 8), n_outputs=2) == 130
    raw = hybrid_model(2, n_qubits=2, input_scaling="none", n_outputs=None,
                       quantum_kwargs={"layers": 0, "ansatz_rotations": ("Y",)})
    assert raw.output_shape == (None, 2) and count_parameters(raw) == 2


# --------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"n_qubits": 0}, ValueError, "n_qubits"),
    ({"n_qubits": 2.0}, TypeError, "n_qubits"),
    ({"n_qubits": 62}, ValueError, "n_qubits"),
    ({"encoding": "amplitude"}, ValueError, "encoding"),
    ({"ansatz": "qaoa"}, ValueError, "ansatz"),
    ({"differentiator": "spsa"}, ValueError, "differentiator"),
    ({"differentiator": 1}, TypeError, "differentiator"),
    ({"shots": 0}, ValueError, "shots"),
    ({"shots": -5}, ValueError, "shots"),
    ({"shots": 10.0}, TypeError, "shots"),
    ({"shots": 100, "differentiator": "adjoint"}, ValueError, "differentiator"),
    ({"backend": "noisy"}, ValueError, "shots"),
    ({"backend": "gpu"}, ValueError, "backend"),
    ({"noise": 0.1}, ValueError, "noise"),
    ({"noise": 1.5, "backend": "noisy", "shots": 10}, ValueError, "noise"),
    ({"rotation": "W"}, ValueError, "rotation"),
    ({"encoding": "zz", "rotation": "X"}, ValueError, "rotation"),
    ({"encoding": "zz", "zz_reps": 0}, ValueError, "zz_reps"),
    ({"encoding": "zz", "zz_entanglement": "star"}, ValueError, "zz_entanglement"),
    ({"zz_reps": 2}, ValueError, "zz_reps"),
    ({"reuploads": 2}, ValueError, "reuploads"),
    ({"encoding": "angle_reupload", "reuploads": 0}, ValueError, "reuploads"),
    ({"encoding": "angle_reupload", "ansatz": "qcnn"}, ValueError, "ansatz"),
    ({"layers": -1}, ValueError, "layers"),
    ({"ansatz": "qcnn", "layers": 2}, ValueError, "layers"),
    ({"ansatz": "hamiltonian_variational", "entangler": "CZ"}, ValueError, "entangler"),
    ({"connectivity": "star"}, ValueError, "connectivity"),
    ({"entangler": "SWAP"}, ValueError, "entangler"),
    ({"ansatz_rotations": ("Q",)}, ValueError, "rotations"),
    ({"mirrored": True, "layers": 1}, ValueError, "layers"),
    ({"mirrored": 1}, TypeError, "mirrored"),
    ({"observables": "Z5"}, ValueError, "observables"),
    ({"observables": []}, ValueError, "observables"),
    ({"observables": [1.0]}, TypeError, "observables"),
    ({"observables": 3}, TypeError, "observables"),
    ({"observables": [cirq.Z(cirq.GridQubit(0, 0))]}, ValueError, "observables"),
    ({"observables": [1j * cirq.Z(Q[0])]}, ValueError, "observables"),
    ({"initializer": "glorot"}, ValueError, "initializer"),
    ({"initializer": 0.5}, TypeError, "initializer"),
    ({"initializer": "identity_blocks"}, ValueError, "initializer"),
    ({"initializer": tf_keras.initializers.Zeros(), "seed": 1}, ValueError, "seed"),
    ({"initializer_scale": 0.0}, ValueError, "initializer_scale"),
    ({"seed": -1}, ValueError, "seed"),
])
def test_bad_constructor_arguments(kwargs, exc, match):
    kwargs = {"n_qubits": 2, **kwargs}
    with pytest.raises(exc, match=match):
        QuantumLayer(kwargs.pop("n_qubits"), **kwargs)


def test_bad_features():
    layer = QuantumLayer(2, layers=0, seed=0)
    with pytest.raises(ValueError, match="features"):
        layer(np.zeros((3, 3)))  # build-time width
    layer(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="features"):
        layer(np.zeros((3, 4)))  # call-time width
    with pytest.raises(ValueError, match="features"):
        layer(np.zeros(2))
    for bad in (np.nan, np.inf):
        with pytest.raises(ValueError, match="features"):
            layer(np.array([[0.1, bad]]))
    with pytest.raises(ValueError, match="features"):
        tf_keras.Sequential([tf_keras.Input(shape=(3,)), QuantumLayer(2)])
    model = tf_keras.Sequential([tf_keras.Input(shape=(2,)), QuantumLayer(2, layers=0)])
    with pytest.raises(tf.errors.InvalidArgumentError, match="features"):  # graph mode
        model.predict(np.array([[np.nan, 0.0]]), verbose=0)
    with pytest.raises(ValueError, match="weights"):
        QuantumLayer(2).symbol_values([[0.0, 0.0]])
    with pytest.raises(ValueError, match="weights"):
        layer.symbol_values([[0.0, 0.0]], weights=[1.0])
    with pytest.raises(ValueError, match="features"):
        layer.resolved_circuit([[0.0, 0.0]])


@pytest.mark.parametrize("call, exc, match", [
    (lambda: hybrid_model(0, n_qubits=2), ValueError, "n_features"),
    (lambda: hybrid_model(2, n_qubits=0), ValueError, "n_qubits"),
    (lambda: hybrid_model(2, n_qubits=2, preprocessing_units=(0,)), ValueError,
     "preprocessing_units"),
    (lambda: hybrid_model(2, n_qubits=2, head_units="8"), TypeError, "head_units"),
    (lambda: hybrid_model(2, n_qubits=2, n_outputs=0), ValueError, "n_outputs"),
    (lambda: hybrid_model(2, n_qubits=2, activation="wiggle"), ValueError, "activation"),
    (lambda: hybrid_model(2, n_qubits=2, output_activation=3), TypeError, "output_activation"),
    (lambda: hybrid_model(2, n_qubits=2, input_scaling="sigmoid"), ValueError, "input_scaling"),
    (lambda: hybrid_model(3, n_qubits=2, input_scaling="tanh"), ValueError, "input_scaling"),
    (lambda: hybrid_model(2, n_qubits=2, quantum_kwargs=[1]), TypeError, "quantum_kwargs"),
    (lambda: hybrid_model(2, n_qubits=2, quantum_kwargs={"n_qubits": 2}), ValueError,
     "quantum_kwargs"),
    (lambda: hybrid_model(2, n_qubits=2, quantum_kwargs={"shots": 0}), ValueError, "shots"),
    (lambda: hybrid_model(2, n_qubits=2, name=1), TypeError, "name"),
    (lambda: classical_mlp(2, (-1,)), ValueError, "hidden_units"),
    (lambda: classical_mlp(0), ValueError, "n_features"),
    (lambda: count_parameters("model"), TypeError, "model"),
    (lambda: count_parameters(tf_keras.layers.Dense(2)), ValueError, "model"),
    (lambda: mlp_width_for_budget(2, 0), ValueError, "budget"),
    (lambda: mlp_width_for_budget(2, 10, depth=0), ValueError, "depth"),
    (lambda: mlp_parameter_count(2, (1,), n_outputs=0), ValueError, "n_outputs"),
])
def test_bad_model_arguments(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
