"""Tests of qmlkit.landscape: cost functions, gradient-variance sweeps, decay fits, training.

The batched NumPy simulator is checked against Cirq's state-vector and density-matrix
simulators (with ``circuit.with_noise(cirq.depolarize(p))``), its parameter-shift derivatives
against :func:`qmlkit.gradients.parameter_shift_gradient`, and the TensorFlow Quantum adjoint
path against the NumPy path; the 2-design variance formula against Haar-random unitaries.
"""

from __future__ import annotations

import ast
import math
import sys
from functools import partial
from pathlib import Path

import cirq
import numpy as np
import pandas as pd
import pytest
from scipy.stats import unitary_group

from qmlkit import landscape
from qmlkit.ansatz import (
    Ansatz,
    hamiltonian_variational_ansatz,
    hardware_efficient_ansatz,
    initial_parameters,
    tfim_hamiltonian,
)
from qmlkit.circuits import state_vector
from qmlkit.gradients import CircuitExpectation, adam_minimize, parameter_shift_gradient
from qmlkit.landscape import (
    COSTS,
    ExactCost,
    _BatchedSimulator,
    _resolve_cost,
    fit_variance_decay,
    global_cost_observable,
    gradient_variance,
    local_cost_observable,
    train_layerwise,
    two_design_variance,
    zz_observable,
)


def hea(n: int, depth: int) -> Ansatz:
    return hardware_efficient_ansatz(n, layers=depth)


def random_state(n: int, rng: np.random.Generator) -> np.ndarray:
    psi = rng.normal(size=2**n) + 1j * rng.normal(size=2**n)
    return psi / np.linalg.norm(psi)


def expectation(observable: cirq.PauliSum, psi: np.ndarray, qubits) -> float:
    qmap = {q: i for i, q in enumerate(qubits)}
    return float(np.real(observable.expectation_from_state_vector(psi, qmap)))


# --------------------------------------------------------------------------------------------
# cost functions
# --------------------------------------------------------------------------------------------

def test_global_cost_is_one_minus_the_overlap_with_zero(rng):
    q = cirq.LineQubit.range(3)
    obs = global_cost_observable(q)
    assert len(obs) == 2**3
    for _ in range(3):
        psi = random_state(3, rng)
        assert expectation(obs, psi, q) == pytest.approx(1 - abs(psi[0]) ** 2, abs=1e-12)


def test_local_cost_is_one_minus_the_mean_probability_of_zero(rng):
    q = cirq.LineQubit.range(3)
    obs = local_cost_observable(q)
    psi = random_state(3, rng)
    probs = np.abs(psi.reshape(2, 2, 2)) ** 2
    p0 = [probs[0].sum(), probs[:, 0].sum(), probs[:, :, 0].sum()]
    assert expectation(obs, psi, q) == pytest.approx(1 - np.mean(p0), abs=1e-12)
    zero = np.zeros(8, dtype=complex)
    zero[0] = 1
    assert expectation(obs, zero, q) == pytest.approx(0.0, abs=1e-12)
    assert expectation(global_cost_observable(q), zero, q) == pytest.approx(0.0, abs=1e-12)


def test_observable_argument_checks():
    with pytest.raises(ValueError, match="qubits"):
        global_cost_observable(17)
    with pytest.raises(ValueError, match="at least 2"):
        zz_observable(1)
    with pytest.raises(TypeError, match="qubits"):
        local_cost_observable(True)
    with pytest.raises(ValueError, match="cost"):
        _resolve_cost("cost", "globl", cirq.LineQubit.range(2), None)
    with pytest.raises(TypeError, match="hamiltonian"):
        _resolve_cost("cost", "energy", cirq.LineQubit.range(2), 3.0)
    with pytest.raises(ValueError, match="outside the ansatz"):
        _resolve_cost("cost", "energy", cirq.LineQubit.range(2), zz_observable(3) * 1.0
                      + cirq.Z(cirq.LineQubit(2)))
    assert COSTS == ("global", "local", "energy")


def test_two_design_variance_formula_and_haar_check():
    d = 4
    assert two_design_variance(zz_observable(2), 2) == pytest.approx(d / (2 * (d * d - 1)))
    # the identity part of an observable does not contribute
    assert two_design_variance(local_cost_observable(2), 2) == pytest.approx(
        d * (2 * 0.25**2) / (2 * (d * d - 1)))
    with pytest.raises(ValueError, match="n_qubits"):
        two_design_variance(global_cost_observable(3), 2)
    # Monte Carlo: Ry(θ) on |00> followed by a Haar-random unitary, derivative Re<a|U†HU|b>
    rng = np.random.default_rng(7)
    h = np.kron(np.diag([1.0, -1.0]), np.diag([1.0, -1.0]))
    y0 = np.kron(np.array([[0, -1j], [1j, 0]]), np.eye(2))
    samples = []
    for _ in range(3000):
        u = unitary_group.rvs(4, random_state=rng)
        theta = rng.uniform(0, 2 * np.pi)
        psi = np.kron([np.cos(theta / 2), np.sin(theta / 2)], [1, 0])
        hp = u.conj().T @ h @ u
        samples.append(float(np.real(0.5j * psi.conj() @ (y0 @ hp - hp @ y0) @ psi)))
    sem = np.std(np.square(samples)) / math.sqrt(len(samples))
    assert np.var(samples) == pytest.approx(two_design_variance(zz_observable(2), 2),
                                            abs=4 * sem)


# --------------------------------------------------------------------------------------------
# the batched NumPy simulator
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("ansatz", [hardware_efficient_ansatz(3, layers=2, entangler="CNOT",
                                                              connectivity="ring"),
                                    hamiltonian_variational_ansatz(3, layers=2, periodic=True)],
                         ids=["hea", "hva"])
def test_batched_states_match_cirq(ansatz, rng):
    values = rng.uniform(0, 2 * np.pi, size=(3, ansatz.n_parameters))
    sim = _BatchedSimulator(ansatz.circuit, ansatz.qubits, ansatz.symbols)
    states = sim.final_states(values, 0.0).reshape(3, -1)
    for row, psi in zip(values, states, strict=True):
        np.testing.assert_allclose(psi, state_vector(ansatz.resolve(row), ansatz.qubits),
                                   atol=1e-12)
    rhos = sim.final_states(values, 0.05).reshape(3, 8, 8)
    dm = cirq.DensityMatrixSimulator(dtype=np.complex128)
    for row, rho in zip(values, rhos, strict=True):
        noisy = ansatz.resolve(row).with_noise(cirq.depolarize(0.05))
        ref = dm.simulate(noisy, qubit_order=ansatz.qubits).final_density_matrix
        np.testing.assert_allclose(rho, ref, atol=1e-12)


def test_batched_costs_match_observables(rng):
    a = hea(3, 2)
    values = rng.uniform(0, 2 * np.pi, size=(4, a.n_parameters))
    sim = _BatchedSimulator(a.circuit, a.qubits, a.symbols)
    for name in ("global", "local"):
        spec = _resolve_cost("cost", name, a.qubits, None)
        obs = global_cost_observable(a.qubits) if name == "global" else spec.observable
        got = sim.cost(values, spec, 0.0)
        want = [expectation(obs, state_vector(a.resolve(v), a.qubits), a.qubits) for v in values]
        np.testing.assert_allclose(got, want, atol=1e-12)
        # density matrices without noise on the diagonal agree too (p tiny but > 0)
        np.testing.assert_allclose(sim.cost(values, spec, 1e-12), want, atol=1e-9)


def test_numpy_derivative_matches_parameter_shift_gradient():
    a = hea(3, 2)
    ham = tfim_hamiltonian(3, h=0.7)
    df = gradient_variance(hea, n_qubits_list=[3], depths=[2], cost="energy", hamiltonian=ham,
                           n_samples=5, rng=np.random.default_rng(3), parameter_index=7,
                           backend="numpy")
    rng = np.random.default_rng(3)
    draws = np.stack([initial_parameters(a, strategy="uniform", rng=rng) for _ in range(5)])
    f = CircuitExpectation(a.circuit, a.symbols, ham)
    g = np.array([parameter_shift_gradient(f, row).gradient[7] for row in draws])
    assert df["mean"].iloc[0] == pytest.approx(g.mean(), abs=1e-12)
    assert df["mean_square"].iloc[0] == pytest.approx(np.mean(g**2), rel=1e-10)
    assert df["variance"].iloc[0] == pytest.approx(g.var(ddof=1), rel=1e-10)


def test_numpy_backend_refuses_shared_parameters():
    with pytest.raises(ValueError, match="backend='tfq'"):
        gradient_variance(lambda n, d: hamiltonian_variational_ansatz(n, layers=d),
                          n_qubits_list=[3], depths=[1], n_samples=2,
                          rng=np.random.default_rng(0), backend="numpy")


# --------------------------------------------------------------------------------------------
# gradient_variance
# --------------------------------------------------------------------------------------------

def test_gradient_variance_table_shape_and_labels():
    df = gradient_variance(hea, n_qubits_list=[2, 3], depths={"one": 1, "n": lambda n: n},
                           cost=["global", "local", zz_observable], n_samples=8,
                           rng=np.random.default_rng(0), parameter_index="last",
                           backend="numpy")
    assert len(df) == 2 * 2 * 3
    assert list(df.columns) == ["n_qubits", "depth_label", "depth", "cost", "initialization",
                                "noise", "parameter", "parameter_index", "n_parameters",
                                "n_samples", "mean", "mean_square", "variance", "variance_sem",
                                "backend"]
    assert set(df["cost"]) == {"global", "local", "zz_observable"}
    assert df.loc[(df.n_qubits == 3) & (df.depth_label == "n"), "depth"].unique().tolist() == [3]
    assert (df["parameter_index"] == df["n_parameters"] - 1).all()
    assert (df["variance_sem"] > 0).all()


def test_gradient_variance_is_reproducible_and_uses_common_draws():
    kw = dict(n_qubits_list=[3], depths=[2], cost=["local", "local"], n_samples=20,
              backend="numpy")
    a = gradient_variance(hea, rng=np.random.default_rng(5), **kw)
    b = gradient_variance(hea, rng=np.random.default_rng(5), **kw)
    pd.testing.assert_frame_equal(a, b)
    assert a["variance"].iloc[0] == a["variance"].iloc[1]  # same draws for every cost


def test_parameter_index_choices():
    a = hea(2, 1)
    for choice, k in (("first", 0), ("middle", a.n_parameters // 2),
                      ("last", a.n_parameters - 1), (3, 3)):
        df = gradient_variance(hea, n_qubits_list=[2], depths=[1], cost="local", n_samples=4,
                               rng=np.random.default_rng(0), parameter_index=choice,
                               backend="numpy")
        assert df["parameter_index"].iloc[0] == k
        assert df["parameter"].iloc[0] == a.symbol_names[k]


def test_identity_block_and_custom_initialisation():
    mirrored = partial(lambda n, d: hardware_efficient_ansatz(n, layers=d, mirrored=True))
    df = gradient_variance(mirrored, n_qubits_list=[2], depths=[2], cost="local", n_samples=10,
                           rng=np.random.default_rng(0), initialization="identity_blocks",
                           backend="numpy")
    assert df["initialization"].iloc[0] == "identity_blocks"

    def zeros(ansatz, rng):
        return np.zeros(ansatz.n_parameters)

    df = gradient_variance(hea, n_qubits_list=[2], depths=[1], cost="local", n_samples=4,
                           rng=np.random.default_rng(0), initialization=zeros, backend="numpy")
    assert df["initialization"].iloc[0] == "zeros"
    assert df["variance"].iloc[0] == pytest.approx(0.0, abs=1e-20)


def test_noise_shrinks_the_gradient_variance():
    df = gradient_variance(hea, n_qubits_list=[3], depths=[4], cost="local", n_samples=30,
                           rng=np.random.default_rng(1), noise=[0.0, 0.05, 0.2])
    assert (df["backend"] == "numpy").all()
    var = df.sort_values("noise")["variance"].to_numpy()
    assert var[0] > var[1] > var[2] > 0


def test_deep_random_circuit_reaches_the_two_design_value():
    df = gradient_variance(hea, n_qubits_list=[3], depths=[30], cost="energy", n_samples=400,
                           rng=np.random.default_rng(2), backend="numpy")
    row = df.iloc[0]
    assert row["variance"] == pytest.approx(two_design_variance(zz_observable(3), 3),
                                            abs=4 * row["variance_sem"])


def test_gradient_variance_argument_errors():
    base = dict(n_qubits_list=[2], depths=[1], n_samples=4, rng=np.random.default_rng(0),
                backend="numpy")
    with pytest.raises(TypeError, match="ansatz_builder"):
        gradient_variance(3, **base)
    with pytest.raises(ValueError, match="n_samples"):
        gradient_variance(hea, **{**base, "n_samples": 1})
    with pytest.raises(TypeError, match="rng"):
        gradient_variance(hea, **{**base, "rng": 0})
    with pytest.raises(ValueError, match="cost"):
        gradient_variance(hea, cost="nonlocal", **base)
    with pytest.raises(ValueError, match="parameter_index"):
        gradient_variance(hea, parameter_index=10**6, **base)
    with pytest.raises(ValueError, match="parameter_index"):
        gradient_variance(hea, parameter_index="centre", **base)
    with pytest.raises(ValueError, match="depths"):
        gradient_variance(hea, **{**base, "depths": []})
    with pytest.raises(ValueError, match="depths"):
        gradient_variance(hea, **{**base, "depths": [-1]})
    with pytest.raises(ValueError, match="n_qubits_list"):
        gradient_variance(hea, **{**base, "n_qubits_list": [60]})
    with pytest.raises(ValueError, match="noise"):
        gradient_variance(hea, noise=0.9, **base)
    with pytest.raises(ValueError, match="backend='tfq'"):
        gradient_variance(hea, noise=0.1, **{**base, "backend": "tfq"})
    with pytest.raises(TypeError, match="initialization"):
        gradient_variance(hea, initialization=3, **base)
    with pytest.raises(TypeError, match="Ansatz"):
        gradient_variance(lambda n, d: "circuit", **base)
    with pytest.raises(ValueError, match="identity_blocks"):
        gradient_variance(hea, initialization="identity_blocks", **base)


# --------------------------------------------------------------------------------------------
# fit_variance_decay
# --------------------------------------------------------------------------------------------

def test_fit_recovers_exponential_and_power_laws():
    n = np.array([2, 4, 6, 8, 10])
    table = pd.concat([
        pd.DataFrame({"n_qubits": n, "cost": "global", "depth_label": "1",
                      "variance": 0.3 * 2.0 ** (-1.5 * n)}),
        pd.DataFrame({"n_qubits": n, "cost": "local", "depth_label": "1",
                      "variance": 0.2 * n**-2.0}),
        pd.DataFrame({"n_qubits": [2, 4], "cost": "short", "depth_label": "1",
                      "variance": [0.1, 0.01]}),
    ])
    fit = fit_variance_decay(table).set_index("cost")
    assert list(fit.index) == ["global", "local"]  # fewer than 3 points: left out
    assert fit.loc["global", "slope"] == pytest.approx(-1.5)
    assert fit.loc["global", "slope_stderr"] == pytest.approx(0.0, abs=1e-6)
    assert fit.loc["global", "r_squared"] == pytest.approx(1.0)
    assert fit.loc["local", "power_exponent"] == pytest.approx(-2.0)
    assert fit.loc["local", "power_r_squared"] > fit.loc["local", "r_squared"]
    sub = fit_variance_decay(table, min_x=4).set_index("cost")
    assert sub.loc["global", "n_points"] == 4 and sub.loc["global", "x_min"] == 4


def test_fit_against_depth_groups_by_qubits_and_noise():
    table = pd.DataFrame({"depth": [1, 2, 4, 1, 2, 4], "depth_label": ["1", "2", "4"] * 2,
                          "n_qubits": 4, "cost": "local", "noise": [0.1] * 3 + [0.2] * 3,
                          "variance": [2.0**-1, 2.0**-2, 2.0**-4, 2.0**-2, 2.0**-4, 2.0**-8]})
    fit = fit_variance_decay(table, x="depth")
    assert fit["slope"].round(12).tolist() == [-1.0, -2.0]
    assert fit["noise"].tolist() == [0.1, 0.2]


def test_fit_argument_errors():
    with pytest.raises(TypeError, match="df"):
        fit_variance_decay({"variance": [1.0]})
    with pytest.raises(ValueError, match="'variance'"):
        fit_variance_decay(pd.DataFrame({"n_qubits": [1, 2, 3]}))
    with pytest.raises(ValueError, match="x must be one of"):
        fit_variance_decay(pd.DataFrame({"n_qubits": [1], "variance": [1.0]}), x="layers")
    with pytest.raises(ValueError, match="non-positive"):
        fit_variance_decay(pd.DataFrame({"n_qubits": [1, 2, 3], "variance": [1.0, 0.0, 1.0]}))


# --------------------------------------------------------------------------------------------
# TensorFlow Quantum
# --------------------------------------------------------------------------------------------

def test_landscape_imports_tensorflow_only_inside_functions():
    tree = ast.parse(Path(landscape.__file__).read_text())
    top = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            top |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            top.add(node.module.split(".")[0])
    assert {"cirq", "numpy", "pandas"} <= top
    assert not top & {"tensorflow", "tensorflow_quantum", "tf_keras"}
    if "tensorflow" in sys.modules:
        pytest.skip("another test of this session imported TensorFlow")
    assert "tensorflow" not in sys.modules


def test_tfq_and_numpy_backends_agree():
    kw = dict(n_qubits_list=[3], depths=[2], cost=["global", "local", "energy"],
              hamiltonian=tfim_hamiltonian, n_samples=12, parameter_index="middle")
    exact = gradient_variance(hea, rng=np.random.default_rng(4), backend="numpy", **kw)
    tfq = gradient_variance(hea, rng=np.random.default_rng(4), **kw)
    assert (tfq["backend"] == "tfq").all()
    np.testing.assert_allclose(tfq["mean"], exact["mean"], atol=2e-5)
    np.testing.assert_allclose(tfq["variance"], exact["variance"], rtol=1e-3)


def test_exact_cost_values_gradients_cache_and_mask(rng):
    a = hea(3, 1)
    theta = rng.uniform(0, 2 * np.pi, a.n_parameters)
    psi = state_vector(a.resolve(theta), a.qubits)
    f = ExactCost(a, "global")
    assert f(theta) == pytest.approx(1 - abs(psi[0]) ** 2, abs=1e-5)
    assert f.evaluations == 1
    res = f.gradient(theta)  # cached: no new simulation
    assert f.evaluations == 1 and res.evaluations == 1 and res.method == "tfq_adjoint"
    ref = parameter_shift_gradient(
        lambda t: 1 - abs(state_vector(a.resolve(t), a.qubits)[0]) ** 2, theta).gradient
    np.testing.assert_allclose(res.gradient, ref, atol=2e-5)
    names = a.symbol_names[:2]
    masked = ExactCost(a, "global", trainable=names).gradient(theta).gradient
    np.testing.assert_allclose(masked[:2], ref[:2], atol=2e-5)
    assert np.all(masked[2:] == 0)
    values, grads = f.batch(np.stack([theta, theta]))
    assert values.shape == (2,) and grads.shape == (2, a.n_parameters)
    with pytest.raises(ValueError, match="trainable"):
        ExactCost(a, "local", trainable=["nope"])
    with pytest.raises(TypeError, match="ansatz"):
        ExactCost(a.circuit, "local")
    with pytest.raises(ValueError, match="thetas"):
        f.batch(np.zeros((2, 3)))
    named = Ansatz(circuit=cirq.Circuit(cirq.rx(a.symbols[0])(cirq.NamedQubit("a"))),
                   symbols=[a.symbols[0]], qubits=[cirq.NamedQubit("a")])
    with pytest.raises(TypeError, match="LineQubit"):
        ExactCost(named, "global")


def test_training_reaches_the_tfim_ground_state_and_layerwise_history():
    n = 3
    ham = tfim_hamiltonian(n)
    e0 = float(np.linalg.eigvalsh(ham.matrix())[0])
    a = hamiltonian_variational_ansatz(n, layers=2)
    f = ExactCost(a, "energy", hamiltonian=ham)
    res = adam_minimize(f, f.gradient, np.full(a.n_parameters, 0.1), iterations=80,
                        learning_rate=0.1)
    assert res.fun < e0 + 0.05 * abs(e0)
    lw = train_layerwise(lambda layers: hardware_efficient_ansatz(n, layers=layers), layers=2,
                         steps_per_layer=15, final_steps=15, hamiltonian=ham)
    hist = lw.history
    assert hist["stage"].unique().tolist() == ["layer 1", "layer 2", "all layers"]
    assert hist["iteration"].tolist() == list(range(len(hist)))
    assert lw.iterations == 45 and lw.evaluations == 45
    assert lw.x.size == hardware_efficient_ansatz(n, layers=2).n_parameters
    assert lw.fun < hist["loss"].iloc[0]
    with pytest.raises(ValueError, match="no new parameters"):
        train_layerwise(lambda layers: hardware_efficient_ansatz(n, layers=1), layers=2,
                        steps_per_layer=1)
    with pytest.raises(ValueError, match="layers"):
        train_layerwise(lambda layers: hardware_efficient_ansatz(n, layers=layers), layers=0,
                        steps_per_layer=1)


def test_layerwise_small_random_start_needs_rng_and_depends_on_it():
    def builder(layers):
        return hardware_efficient_ansatz(2, layers=layers)

    with pytest.raises(TypeError, match="rng"):
        train_layerwise(builder, layers=1, steps_per_layer=1, cost="local", init_scale=0.1)
    runs = [train_layerwise(builder, layers=1, steps_per_layer=3, cost="local", init_scale=0.1,
                            rng=np.random.default_rng(s)) for s in (0, 0, 1)]
    np.testing.assert_array_equal(runs[0].x, runs[1].x)
    assert not np.allclose(runs[0].x, runs[2].x)
