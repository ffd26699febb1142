"""Tests of qmlkit.training: freezable quantum layers, growing models, layerwise fitting and
the gradient-norm monitor.

Freezing is checked by training (frozen weights bit-identical after ``fit``, free ones moved);
growing by the symbol-name map of the weights and, for the Hamiltonian variational ansatz, by
unchanged model outputs; the monitor's gradient norms against a parameter-shift gradient of the
loss computed by hand with Cirq's simulator.
"""

from __future__ import annotations

import warnings

import cirq
import numpy as np
import pytest

from qmlkit._environment import import_tensorflow
from qmlkit.layers import QuantumLayer, count_parameters, hybrid_model
from qmlkit.training import (
    FreezableQuantumLayer,
    GradientNormMonitor,
    PlateauWarning,
    circuit_layer_groups,
    fit_layerwise,
    grow_model,
    quantum_weights_of,
    with_frozen,
)

tf = import_tensorflow()
import tf_keras  # noqa: E402


@pytest.fixture
def data(rng):
    x = rng.uniform(-1.0, 1.0, (24, 2)).astype(np.float32)
    y = (x[:, :1] * x[:, 1:]).astype(np.float32)
    return x, y


def small_model(layers=1, ansatz="hardware_efficient", seed=0, **kw):
    tf_keras.utils.set_random_seed(seed)
    return hybrid_model(2, n_qubits=2, quantum_kwargs={"ansatz": ansatz, "layers": layers,
                                                       "seed": seed, **kw})


def names(layer):
    return [s.name for s in layer.weight_symbols]


# --------------------------------------------------------------------------------------------
# circuit layers and the freezable layer
# --------------------------------------------------------------------------------------------

def test_circuit_layer_groups_follow_the_symbol_names():
    hea = QuantumLayer(2, layers=2, ansatz_rotations=("Y",))
    assert circuit_layer_groups(hea) == {"l0": [0, 1], "l1": [2, 3], "l2": [4, 5]}
    hva = QuantumLayer(3, ansatz="hamiltonian_variational", layers=2)
    assert circuit_layer_groups(hva) == {"l0": [0, 1], "l1": [2, 3]}
    reup = QuantumLayer(2, encoding="angle_reupload", reuploads=2, layers=0,
                        ansatz_rotations=("Y",))
    assert circuit_layer_groups(reup) == {"b0_l0": [0, 1], "b1_l0": [2, 3]}
    qcnn = QuantumLayer(4, ansatz="qcnn")
    groups = circuit_layer_groups(qcnn)
    assert sorted(i for idx in groups.values() for i in idx) == list(range(qcnn.n_parameters))
    with pytest.raises(TypeError, match="layer"):
        circuit_layer_groups("not a layer")


def test_freezable_layer_without_frozen_weights_equals_the_plain_layer(rng):
    x = rng.uniform(-np.pi, np.pi, (5, 2))
    plain = QuantumLayer(2, layers=2, seed=3)
    free = FreezableQuantumLayer(2, layers=2, seed=3)
    np.testing.assert_array_equal(plain(x).numpy(), free(x).numpy())
    np.testing.assert_array_equal(quantum_weights_of(plain), free.full_weights())


def test_freezable_layer_splits_trainable_and_frozen_weights(rng):
    layer = FreezableQuantumLayer(2, layers=1, frozen=[5, 0, 2], seed=1)
    x = rng.uniform(-1, 1, (3, 2))
    reference = QuantumLayer(2, layers=1, seed=1)
    np.testing.assert_allclose(layer(x).numpy(), reference(x).numpy(), atol=1e-7)
    assert layer.frozen == [0, 2, 5]
    assert layer.free == [1, 3, 4, 6, 7]
    assert [w.shape.as_list() for w in layer.trainable_weights] == [[5]]
    assert [w.shape.as_list() for w in layer.non_trainable_weights] == [[3]]
    assert count_parameters(layer) == 5
    assert [s.name for s in layer.frozen_symbols] == [names(layer)[i] for i in (0, 2, 5)]
    values = np.arange(8.0) / 10
    layer.assign_full_weights(values)
    np.testing.assert_allclose(layer.full_weights(), values, atol=1e-7)
    np.testing.assert_allclose(layer.frozen_weights.numpy(), values[[0, 2, 5]], atol=1e-7)
    # gradients reach only the free variable
    with tf.GradientTape() as tape:
        out = tf.reduce_sum(layer(x))
    grads = tape.gradient(out, layer.trainable_weights)
    assert grads[0].shape == (5,)
    assert "frozen=3" in repr(layer)


def test_freezable_layer_config_round_trip_reproduces_outputs(rng):
    layer = FreezableQuantumLayer(2, layers=1, frozen=[1], seed=2)
    x = rng.uniform(-1, 1, (4, 2))
    out = layer(x).numpy()
    config = layer.get_config()
    assert config["frozen"] == [1]
    copy = FreezableQuantumLayer.from_config(config)
    copy(x)
    copy.set_weights(layer.get_weights())
    np.testing.assert_array_equal(copy(x).numpy(), out)


def test_freezable_layer_bad_frozen_raises():
    with pytest.raises(TypeError, match="frozen"):
        FreezableQuantumLayer(2, layers=1, frozen="0")
    with pytest.raises(TypeError, match=r"frozen\[0\]"):
        FreezableQuantumLayer(2, layers=1, frozen=[0.5])
    with pytest.raises(ValueError, match=r"frozen\[0\]"):
        FreezableQuantumLayer(2, layers=1, frozen=[8])
    with pytest.raises(ValueError, match="frozen must not repeat"):
        FreezableQuantumLayer(2, layers=1, frozen=[1, 1])
    layer = FreezableQuantumLayer(2, layers=1)
    with pytest.raises(ValueError, match="no weights yet"):
        layer.full_weights()
    with pytest.raises(ValueError, match="no weights yet"):
        layer.assign_full_weights(np.zeros(8))
    layer(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="values must hold 8"):
        layer.assign_full_weights(np.zeros(7))
    with pytest.raises(AttributeError, match="quantum_weights"):
        layer.quantum_weights = np.zeros(8)


def test_quantum_weights_of_bad_inputs():
    with pytest.raises(TypeError, match="layer"):
        quantum_weights_of(3)
    with pytest.raises(ValueError, match="no weights yet"):
        quantum_weights_of(QuantumLayer(2, layers=1))


# --------------------------------------------------------------------------------------------
# growing and freezing models
# --------------------------------------------------------------------------------------------

def test_grow_model_copies_every_weight_by_name_and_zeros_the_new_ones():
    m1 = small_model(layers=1)
    old_q = m1.get_layer("quantum")
    m2 = grow_model(m1, layers=3)
    new_q = m2.get_layer("quantum")
    assert isinstance(new_q, FreezableQuantumLayer)
    old = dict(zip(names(old_q), quantum_weights_of(old_q), strict=True))
    new = dict(zip(names(new_q), new_q.full_weights(), strict=True))
    assert set(old) < set(new) and len(new) == 2 * 2 * 4
    for name, value in new.items():
        assert value == pytest.approx(old.get(name, 0.0), abs=0.0)
    assert [s.name for s in new_q.frozen_symbols] == names(old_q)
    for layer in m1.layers:
        if layer is old_q or not layer.weights:
            continue
        for a, b in zip(layer.get_weights(), m2.get_layer(layer.name).get_weights(),
                        strict=True):
            np.testing.assert_array_equal(a, b)
    assert count_parameters(m2) == count_parameters(m1) - old_q.n_parameters + 8


def test_grow_model_keeps_a_hamiltonian_variational_model_s_function(rng):
    m1 = small_model(layers=1, ansatz="hamiltonian_variational")
    x = rng.uniform(-1, 1, (6, 2))
    m2 = grow_model(m1, layers=3, freeze="none")
    assert m2.get_layer("quantum").frozen == []
    np.testing.assert_allclose(m2.predict(x, verbose=0), m1.predict(x, verbose=0), atol=1e-6)


def test_grow_model_small_new_weights_come_from_the_generator():
    m1 = small_model(layers=1)
    a = grow_model(m1, layers=2, new_weights="small", scale=0.1,
                   rng=np.random.default_rng(5)).get_layer("quantum").full_weights()
    b = grow_model(m1, layers=2, new_weights="small", scale=0.1,
                   rng=np.random.default_rng(5)).get_layer("quantum").full_weights()
    np.testing.assert_array_equal(a, b)
    fresh = a[8:]
    assert np.all(fresh != 0) and np.max(np.abs(fresh)) < 1.0


def test_grow_model_bad_inputs_raise_naming_the_argument():
    m1 = small_model(layers=2)
    with pytest.raises(TypeError, match="model"):
        grow_model("model", layers=3)
    with pytest.raises(ValueError, match="layers must be >= 3"):
        grow_model(m1, layers=2)
    with pytest.raises(TypeError, match="layers"):
        grow_model(m1, layers=3.0)
    with pytest.raises(ValueError, match="freeze"):
        grow_model(m1, layers=3, freeze="all")
    with pytest.raises(ValueError, match="new_weights"):
        grow_model(m1, layers=3, new_weights="random")
    with pytest.raises(TypeError, match="rng"):
        grow_model(m1, layers=3, new_weights="small")
    with pytest.raises(ValueError, match="scale"):
        grow_model(m1, layers=3, scale=0.0)
    with pytest.raises(ValueError, match="quantum_layer"):
        grow_model(m1, layers=3, quantum_layer="nope")
    with pytest.raises(ValueError, match="quantum_layer"):
        grow_model(m1, layers=3, quantum_layer="output")
    tf_keras.utils.set_random_seed(0)
    qcnn = hybrid_model(4, n_qubits=4, quantum_kwargs={"ansatz": "qcnn", "seed": 0})
    with pytest.raises(ValueError, match="qcnn"):
        grow_model(qcnn, layers=2)
    mirrored = small_model(layers=2, mirrored=True)
    with pytest.raises(ValueError, match="mirrored"):
        grow_model(mirrored, layers=4)


def test_a_model_with_two_quantum_layers_needs_a_name():
    inputs = tf_keras.Input(shape=(2,))
    a = QuantumLayer(2, layers=1, seed=0, name="qa")(inputs)
    b = QuantumLayer(2, layers=1, seed=1, name="qb")(a)
    model = tf_keras.Model(inputs, b)
    with pytest.raises(ValueError, match="exactly one QuantumLayer"):
        grow_model(model, layers=2)
    grown = grow_model(model, layers=2, quantum_layer="qb")
    assert grown.get_layer("qb").n_parameters == 12
    assert grown.get_layer("qa").n_parameters == 8


def test_frozen_weights_do_not_change_during_fit(data):
    x, y = data
    m = grow_model(small_model(layers=1), layers=2, new_weights="small", scale=0.1,
                   rng=np.random.default_rng(0))
    q = m.get_layer("quantum")
    before = q.full_weights()
    dense_before = m.get_layer("to_angles").get_weights()[0].copy()
    m.compile(optimizer=tf_keras.optimizers.Adam(0.1), loss="mse")
    m.fit(x, y, epochs=3, batch_size=8, verbose=0)
    after = q.full_weights()
    np.testing.assert_array_equal(after[q.frozen], before[q.frozen])
    assert np.all(after[q.free] != before[q.free])
    assert not np.array_equal(m.get_layer("to_angles").get_weights()[0], dense_before)


def test_with_frozen_freezes_and_unfreezes_by_name(rng):
    m = small_model(layers=1)
    q = m.get_layer("quantum")
    x = rng.uniform(-1, 1, (3, 2))
    frozen = with_frozen(m, frozen=names(q)[:3])
    fq = frozen.get_layer("quantum")
    assert fq.frozen == [0, 1, 2]
    np.testing.assert_allclose(frozen.predict(x, verbose=0), m.predict(x, verbose=0), atol=1e-7)
    thawed = with_frozen(frozen)
    assert thawed.get_layer("quantum").frozen == []
    assert count_parameters(thawed) == count_parameters(m)
    with pytest.raises(ValueError, match="frozen names"):
        with_frozen(m, frozen=["nope"])
    with pytest.raises(TypeError, match="frozen"):
        with_frozen(m, frozen="theta_l0_q0_0")
    with pytest.raises(TypeError, match=r"frozen\[0\]"):
        with_frozen(m, frozen=[0])
    with pytest.raises(ValueError, match="not been built"):
        with_frozen(tf_keras.Sequential([QuantumLayer(2, layers=1)]))


# --------------------------------------------------------------------------------------------
# layerwise fitting
# --------------------------------------------------------------------------------------------

def test_fit_layerwise_runs_the_stages_and_carries_the_weights(data):
    x, y = data
    m = small_model(layers=1)
    res = fit_layerwise(m, x, y, layers=3, epochs_per_stage=2, final_epochs=2, loss="mse",
                        learning_rate=0.1, metrics=["mae"], batch_size=8)
    h = res.history
    assert h["label"].unique().tolist() == ["1 layer", "2 layers", "3 layers", "all weights"]
    assert h["epoch"].tolist() == list(range(1, 9))
    assert h.groupby("stage")["trainable_circuit_weights"].first().tolist() == [8, 4, 4, 16]
    assert {"loss", "mae"} <= set(h.columns)
    assert [s["epochs"] for s in res.stages] == [2, 2, 2, 2]
    # the weights trained in a stage are frozen, unchanged, through the next growing stage
    for k in (0, 1):
        trained = res.stages[k]["model"].get_layer("quantum")
        nxt = res.stages[k + 1]["model"].get_layer("quantum")
        carried = dict(zip(names(trained), quantum_weights_of(trained), strict=True))
        later = dict(zip(names(nxt), nxt.full_weights(), strict=True))
        assert res.stages[k + 1]["frozen"] == names(trained)
        for name, value in carried.items():
            assert later[name] == value
    assert res.stages[-1]["frozen"] == []
    assert res.model is res.stages[-1]["model"]
    assert np.isfinite(h["loss"]).all()


def test_fit_layerwise_bad_inputs_raise_naming_the_argument(data):
    x, y = data
    m = small_model(layers=1)
    kw = dict(layers=2, epochs_per_stage=1, loss="mse")
    with pytest.raises(ValueError, match="epochs_per_stage"):
        fit_layerwise(m, x, y, **{**kw, "epochs_per_stage": 0})
    with pytest.raises(ValueError, match="layers must be >= 1"):
        fit_layerwise(m, x, y, **{**kw, "layers": 0})
    with pytest.raises(ValueError, match="final_epochs"):
        fit_layerwise(m, x, y, final_epochs=-1, **kw)
    with pytest.raises(ValueError, match="optimizer"):
        fit_layerwise(m, x, y, optimizer="lbfgs", **kw)
    with pytest.raises(ValueError, match="learning_rate"):
        fit_layerwise(m, x, y, learning_rate=0.0, **kw)
    with pytest.raises(TypeError, match="freeze_previous"):
        fit_layerwise(m, x, y, freeze_previous=1, **kw)
    with pytest.raises(TypeError, match="rng"):
        fit_layerwise(m, x, y, new_weights="small", **kw)
    with pytest.raises(ValueError, match="fit_kwargs must not set"):
        fit_layerwise(m, x, y, fit_kwargs={"epochs": 3}, **kw)
    with pytest.raises(TypeError, match="fit_kwargs"):
        fit_layerwise(m, x, y, fit_kwargs=[("verbose", 0)], **kw)
    with pytest.raises(TypeError, match=r"callbacks\[0\]"):
        fit_layerwise(m, x, y, callbacks=["stop"], **kw)
    with pytest.raises(TypeError, match="metrics"):
        fit_layerwise(m, x, y, metrics="mae", **kw)
    with pytest.raises(TypeError, match="batch_size"):
        fit_layerwise(m, x, y, batch_size=8.0, **kw)


# --------------------------------------------------------------------------------------------
# gradient-norm monitor
# --------------------------------------------------------------------------------------------

def _expectations(layer, x, weights):
    sim = cirq.Simulator(dtype=np.complex128)
    obs = layer.observables[0]
    out = []
    for row in x:
        circuit = layer.resolved_circuit(row, weights=weights)
        psi = sim.simulate(circuit, qubit_order=layer.qubits).final_state_vector
        out.append(obs.expectation_from_state_vector(
            psi, {q: i for i, q in enumerate(layer.qubits)}).real)
    return np.array(out)


def test_monitor_norms_match_a_parameter_shift_gradient_of_the_loss(data):
    x, y = data
    x = x[:6] * np.pi
    y = y[:6]
    inputs = tf_keras.Input(shape=(2,))
    quantum = QuantumLayer(2, layers=1, observables=["Z0"], seed=4, name="quantum")
    model = tf_keras.Model(inputs, quantum(inputs))
    model.compile(optimizer=tf_keras.optimizers.SGD(0.0), loss="mse")
    monitor = GradientNormMonitor(x, y, threshold=1e-9)
    model.fit(x, y, epochs=1, batch_size=6, verbose=0, callbacks=[monitor])
    theta = quantum_weights_of(quantum)
    f = _expectations(quantum, x, theta)
    grad = np.empty(theta.size)
    for j in range(theta.size):
        shift = np.zeros(theta.size)
        shift[j] = np.pi / 2
        df = (_expectations(quantum, x, theta + shift) - _expectations(quantum, x, theta - shift)) / 2
        grad[j] = np.mean(2 * (f - y[:, 0]) * df)
    table = monitor.table
    first = table[(table["epoch"] == 0) & (table["layer"] == "quantum")].set_index("group")
    assert first.loc["l0", "norm"] == pytest.approx(np.linalg.norm(grad[:4]), abs=2e-4)
    assert first.loc["l1", "norm"] == pytest.approx(np.linalg.norm(grad[4:]), abs=2e-4)
    assert first.loc["all", "norm"] == pytest.approx(np.linalg.norm(grad), abs=2e-4)
    assert first.loc["l0", "rms"] == pytest.approx(first.loc["l0", "norm"] / 2)
    assert list(first["n_parameters"]) == [4, 4, 8]
    # SGD with learning rate 0 leaves the weights alone, so epoch 1 repeats epoch 0
    again = table[table["epoch"] == 1].set_index("group")["norm"]
    np.testing.assert_allclose(again.to_numpy(), first["norm"].to_numpy(), atol=1e-6)
    totals = monitor.totals()
    assert totals["norm"].iloc[0] == pytest.approx(first.loc["all", "norm"])
    assert monitor.gradient_norms()["quantum"] == pytest.approx(first.loc["all", "norm"],
                                                                abs=1e-5)


def test_monitor_reports_only_free_weights_and_optionally_classical_layers(data):
    x, y = data
    m = grow_model(small_model(layers=1), layers=2)
    m.compile(optimizer="adam", loss="mse")
    monitor = GradientNormMonitor(x, y, include_classical=True, every=2, log_initial=False)
    m.fit(x, y, epochs=4, batch_size=8, verbose=0, callbacks=[monitor])
    t = monitor.table
    assert sorted(t["epoch"].unique()) == [2, 4]
    quantum = t[t["layer"] == "quantum"]
    assert set(quantum["group"]) == {"l2", "all"}  # l0 and l1 are frozen
    assert quantum[quantum["group"] == "all"]["n_parameters"].unique().tolist() == [4]
    assert {"to_angles", "output"} <= set(t["layer"])


def zero_gradient_model():
    """Z-rotations on |00>: <Z0> = 1 whatever the weights, every gradient is exactly zero."""
    inputs = tf_keras.Input(shape=(2,))
    q = QuantumLayer(2, rotation="Z", ansatz_rotations=("Z",), layers=1, observables=["Z0"],
                     seed=0, name="quantum")
    model = tf_keras.Model(inputs, tf_keras.layers.Dense(1, name="head")(q(inputs)))
    model.compile(optimizer=tf_keras.optimizers.Adam(0.05), loss="mse")
    return model


def test_monitor_warns_and_stops_on_a_plateau(data):
    x, y = data
    model = zero_gradient_model()
    monitor = GradientNormMonitor(x, y, threshold=1e-6, patience=2, stop_on_plateau=True)
    with pytest.warns(PlateauWarning, match="below the plateau threshold"):
        history = model.fit(x, y, epochs=10, batch_size=8, verbose=0, callbacks=[monitor])
    assert len(history.history["loss"]) == 1  # checks at epochs 0 and 1, then stopped
    assert monitor.plateaus == [(0, 1)]
    assert monitor.table["norm"].max() < 1e-6  # zero up to single-precision adjoint noise


def test_monitor_does_not_warn_on_a_healthy_model(data):
    x, y = data
    model = small_model(layers=1)
    model.compile(optimizer=tf_keras.optimizers.Adam(0.05), loss="mse")
    monitor = GradientNormMonitor(x, y, threshold=1e-3, stop_on_plateau=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PlateauWarning)
        history = model.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[monitor])
    assert len(history.history["loss"]) == 3
    assert monitor.plateaus == []
    assert monitor.totals()["norm"].min() > 1e-3


def test_monitor_bad_inputs_raise_naming_the_argument(data):
    x, y = data
    with pytest.raises(ValueError, match="threshold"):
        GradientNormMonitor(x, y, threshold=0.0)
    with pytest.raises(TypeError, match="threshold"):
        GradientNormMonitor(x, y, threshold="small")
    with pytest.raises(ValueError, match="patience"):
        GradientNormMonitor(x, y, patience=0)
    with pytest.raises(ValueError, match="every"):
        GradientNormMonitor(x, y, every=0)
    with pytest.raises(TypeError, match="stop_on_plateau"):
        GradientNormMonitor(x, y, stop_on_plateau="yes")
    with pytest.raises(ValueError, match="same number of samples"):
        GradientNormMonitor(x, y[:3])
    with pytest.raises(TypeError, match="loss"):
        GradientNormMonitor(x, y, loss=3)
    with pytest.raises(ValueError, match="x contains NaN"):
        GradientNormMonitor(np.full((2, 2), np.nan), y[:2])
    with pytest.raises(ValueError, match="gradient_norms needs a model"):
        GradientNormMonitor(x, y).gradient_norms()
    classical = tf_keras.Sequential([tf_keras.Input(shape=(2,)), tf_keras.layers.Dense(1)])
    classical.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="no QuantumLayer"):
        classical.fit(x, y, epochs=1, verbose=0, callbacks=[GradientNormMonitor(x, y)])
    frozen = small_model(layers=1)
    frozen.get_layer("quantum").trainable = False
    frozen.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="frozen"):
        frozen.fit(x, y, epochs=1, verbose=0, callbacks=[GradientNormMonitor(x, y)])
    model = small_model(layers=1)
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match="loss"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[GradientNormMonitor(x, y)])
