"""qmlkit.noise: noise models, the Rainbow calibration, device mapping and noisy executors."""

from __future__ import annotations

import importlib.util
import itertools

import cirq
import numpy as np
import pytest

from qmlkit import noise as N
from qmlkit.measurement import exact_expectation

Q = cirq.LineQubit.range(3)
ZZ2 = cirq.Z(Q[0]) * cirq.Z(Q[1])


def _layered_circuit(qubits, layers=2):
    ops = []
    for layer in range(layers):
        ops += [cirq.ry(0.3 + 0.2 * i + layer)(q) for i, q in enumerate(qubits)]
        ops += [cirq.CNOT(a, b) for a, b in itertools.pairwise(qubits)]
    return cirq.Circuit(ops)


# --------------------------------------------------------------------------------------------
# Noise models
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("model", "circuit", "observable", "expected"), [
    (N.DepolarizingNoise(p1=0.03, p2=0.0), cirq.Circuit(cirq.X(Q[0])), cirq.Z(Q[0]), -0.96),
    (N.AmplitudeDampingNoise(0.1), cirq.Circuit(cirq.X(Q[0])), cirq.Z(Q[0]), -0.8),
    (N.PhaseDampingNoise(0.36), cirq.Circuit(cirq.H(Q[0])), cirq.X(Q[0]), 0.8),
    (N.ReadoutNoise(0.1, 0.3), cirq.Circuit(cirq.X(Q[0])), cirq.Z(Q[0]), -0.4),
    (N.ReadoutNoise(0.1, 0.3), cirq.Circuit(cirq.I(Q[0])), cirq.Z(Q[0]), 0.8),
])
def test_single_qubit_models_match_their_formulas(model, circuit, observable, expected):
    assert N.DensityMatrixExecutor(observable, model)(circuit) == pytest.approx(expected, abs=1e-12)


def test_two_qubit_depolarizing_is_local_per_qubit():
    bell = cirq.Circuit(cirq.H(Q[0]), cirq.CNOT(Q[0], Q[1]))
    p = 0.03
    ex = N.DensityMatrixExecutor(cirq.Z(Q[0]) * cirq.Z(Q[1]), N.DepolarizingNoise(p1=0, p2=p))
    assert ex(bell) == pytest.approx((1 - 4 * p / 3) ** 2, abs=1e-12)
    noisy = N.noisy_circuit(bell, N.DepolarizingNoise(p1=0.01, p2=p))
    channels = [op for op in noisy.all_operations() if isinstance(op.gate, cirq.DepolarizingChannel)]
    assert sorted(op.gate.p for op in channels) == [0.01, p, p]


def test_gate_noise_skips_virtual_operations_and_channels():
    model = N.compose_noise(N.DepolarizingNoise(p1=0.01), N.AmplitudeDampingNoise(0.02))
    c = cirq.Circuit(cirq.X(Q[0]), cirq.Z(Q[0]).with_tags(cirq.VirtualTag()))
    noisy = N.noisy_circuit(c, model)
    kinds = [type(op.gate).__name__ for op in noisy.all_operations()]
    # one depolarizing and one damping channel after X; none after the virtual Z or the channel
    assert kinds.count("DepolarizingChannel") == 1
    assert kinds.count("AmplitudeDampingChannel") == 1


def test_readout_noise_sits_before_the_measurement():
    c = cirq.Circuit(cirq.X(Q[0]), cirq.measure(Q[0], key="m"))
    noisy = c.with_noise(N.ReadoutNoise(0.02, 0.05))
    assert isinstance(noisy[-2].operations[0].gate, cirq.GeneralizedAmplitudeDampingChannel)
    assert cirq.is_measurement(noisy[-1].operations[0])


def test_readout_confusion_matrices_are_exact():
    c = N.readout_confusion_matrices(N.ReadoutNoise(0.02, 0.05), [Q[0]])[0]
    np.testing.assert_allclose(c, [[0.98, 0.05], [0.02, 0.95]], atol=1e-12)
    np.testing.assert_allclose(N.ReadoutNoise(0.02, 0.05).confusion_matrix(), c, atol=1e-12)
    # gate noise does not enter the read-out confusion
    both = N.compose_noise(N.DepolarizingNoise(0.1, 0.1), N.ReadoutNoise(0.02, 0.05))
    np.testing.assert_allclose(N.readout_confusion_matrices(both, [Q[1]])[0], c, atol=1e-12)
    np.testing.assert_allclose(N.readout_confusion_matrices(None, [Q[1]])[0], np.eye(2))


def test_fast_density_matrix_matches_cirq_simulator():
    model = N.compose_noise(N.DepolarizingNoise(0.02, 0.05), N.AmplitudeDampingNoise(0.03),
                            N.ReadoutNoise(0.04, 0.07))
    c = _layered_circuit(Q)
    for initial in (0, 5):
        ours = N.noisy_probabilities(c, model, Q, initial_state=initial)
        noisy = N.noisy_circuit(c, model)
        rho = cirq.DensityMatrixSimulator(dtype=np.complex128).simulate(
            noisy, qubit_order=Q, initial_state=initial).final_density_matrix
        np.testing.assert_allclose(ours, np.real(np.diag(rho)), atol=1e-10)


@pytest.mark.parametrize(("factory", "kwargs", "name"), [
    (N.DepolarizingNoise, {"p1": 1.5}, "p1"),
    (N.DepolarizingNoise, {"p2": -0.1}, "p2"),
    (N.AmplitudeDampingNoise, {"gamma": 2.0}, "gamma"),
    (N.PhaseDampingNoise, {"gamma": -1.0}, "gamma"),
    (N.ReadoutNoise, {"p0": 1.2}, "p0"),
])
def test_noise_strengths_outside_unit_interval_are_refused(factory, kwargs, name):
    with pytest.raises(ValueError, match=name):
        factory(**kwargs)


def test_readout_noise_needs_p0_plus_p1_at_most_one():
    with pytest.raises(ValueError, match="p0 \\+ p1"):
        N.ReadoutNoise(0.6, 0.6)


def test_compose_noise_checks_its_models():
    with pytest.raises(ValueError, match="models"):
        N.compose_noise()
    with pytest.raises(TypeError, match=r"models\[1\]"):
        N.compose_noise(N.DepolarizingNoise(), 0.1)


# --------------------------------------------------------------------------------------------
# Executors
# --------------------------------------------------------------------------------------------

def test_density_matrix_executor_is_exact_without_noise_and_counts():
    c = _layered_circuit(Q)
    obs = cirq.X(Q[0]) * cirq.X(Q[2]) + 0.5 * cirq.X(Q[1])  # one measurement basis
    ex = N.DensityMatrixExecutor(obs)
    exact = sum(exact_expectation(c, term) for term in obs)
    assert ex(c) == pytest.approx(exact, abs=1e-10)
    assert (ex.executions, ex.shots) == (1, 0)
    ex.reset_counts()
    assert ex.executions == 0


def test_sampling_executor_is_reproducible_and_unbiased():
    c = _layered_circuit(Q[:2])
    obs = cirq.Z(Q[0]) * cirq.Z(Q[1])
    model = N.compose_noise(N.DepolarizingNoise(0.01, 0.05), N.ReadoutNoise(0.02, 0.04))
    exact = N.DensityMatrixExecutor(obs, model)(c)
    a = N.SamplingExecutor(obs, model, shots=4000, rng=np.random.default_rng(7))
    b = N.SamplingExecutor(obs, model, shots=4000, rng=np.random.default_rng(7))
    va = [a(c) for _ in range(20)]
    assert va == [b(c) for _ in range(20)]
    stderr = np.sqrt((1 - exact**2) / 4000 / 20)
    assert abs(np.mean(va) - exact) < 5 * stderr
    assert (a.executions, a.shots, a.shots_per_execution) == (20, 80_000, 4000)


def test_sampling_executor_measure_returns_mitiq_result_with_readout_noise(rng):
    ex = N.SamplingExecutor(cirq.Z(Q[0]), N.ReadoutNoise(0.1, 0.2), shots=20_000, rng=rng)
    c = cirq.Circuit(cirq.X(Q[1]), cirq.I(Q[0]), cirq.measure(Q[1], Q[0], key="m"))
    res = ex.measure(c)
    assert type(res).__name__ == "MeasurementResult"
    assert res.qubit_indices == (1, 0) and res.shots == 20_000
    p_read_1 = res.asarray.mean(axis=0)
    assert p_read_1[0] == pytest.approx(0.8, abs=0.015)  # Q1 prepared in 1: P(1) = 1 - p1
    assert p_read_1[1] == pytest.approx(0.1, abs=0.015)  # Q0 prepared in 0: P(1) = p0
    assert (ex.executions, ex.shots) == (1, 20_000)


def test_probability_cache_is_shared_and_counts_still_add_up(rng):
    cache: dict = {}
    c = _layered_circuit(Q[:2])
    model = N.DepolarizingNoise(0.01, 0.02)
    exact = N.DensityMatrixExecutor(ZZ2, model, probability_cache=cache)
    value = exact(c)
    assert len(cache) == 1
    sampler = N.SamplingExecutor(ZZ2, model, shots=100, rng=rng, probability_cache=cache)
    sampler(c)
    assert len(cache) == 1 and (sampler.executions, sampler.shots) == (1, 100)
    assert exact(c) == value and exact.executions == 2
    with pytest.raises(TypeError, match="probability_cache"):
        N.DensityMatrixExecutor(ZZ2, model, probability_cache=[])


def test_calibrated_noise_level_for_pec():
    level = N.calibrated_noise_level("rainbow")
    a, b = cirq.GridQubit(5, 3), cirq.GridQubit(5, 4)
    s = N.calibration_summary("rainbow")
    assert 0 < level(cirq.PhasedXZGate(x_exponent=1, z_exponent=0, axis_phase_exponent=0)(a)) < 0.01
    two = level((cirq.ISWAP**0.5)(a, b))
    assert 0.5 * s["sqrt_iswap_pauli_error"] / 4 < two < s["sqrt_iswap_pauli_error"]
    assert level(cirq.Z(a)) == 0.0 and level(cirq.CZ(a, b)) == 0.0  # virtual / uncalibrated


@pytest.mark.parametrize("shots", [0, -3])
def test_sampling_executor_refuses_bad_shots(shots, rng):
    with pytest.raises(ValueError, match="shots"):
        N.SamplingExecutor(cirq.Z(Q[0]), shots=shots, rng=rng)


def test_executor_input_checks(rng):
    with pytest.raises(TypeError, match="rng"):
        N.SamplingExecutor(cirq.Z(Q[0]), shots=10, rng=1)
    with pytest.raises(TypeError, match="noise_model"):
        N.DensityMatrixExecutor(cirq.Z(Q[0]), 0.01)
    with pytest.raises(TypeError, match="observable"):
        N.DensityMatrixExecutor(cirq.Z)
    with pytest.raises(ValueError, match="one basis"):
        N.DensityMatrixExecutor(cirq.X(Q[0]) + cirq.Z(Q[0]))
    with pytest.raises(ValueError, match="Hermitian"):
        N.DensityMatrixExecutor(1j * cirq.Z(Q[0]))
    ex = N.DensityMatrixExecutor(cirq.Z(Q[0]))
    with pytest.raises(ValueError, match="measurements"):
        ex(cirq.Circuit(cirq.measure(Q[0])))
    with pytest.raises(TypeError, match="circuit"):
        ex("X 0")
    import sympy

    with pytest.raises(ValueError, match="symbols"):
        ex(cirq.Circuit(cirq.rx(sympy.Symbol("a"))(Q[0])))


# --------------------------------------------------------------------------------------------
# Rainbow
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mapped():
    return N.map_to_device(_layered_circuit(Q), "rainbow")


def test_calibration_summary_is_the_shipped_rainbow_calibration():
    s = N.calibration_summary("rainbow")
    assert s["qubits"] == 23
    assert 1e-3 < s["single_qubit_pauli_error"] < 5e-3
    assert 5e-3 < s["sqrt_iswap_pauli_error"] < 3e-2
    assert 0 < s["readout_p0"] < s["readout_p1"] < 0.1
    with pytest.raises(ValueError, match="processor_id"):
        N.device_noise_model("sycamore-x")


def test_map_to_device_places_a_line_without_swaps_and_keeps_the_state(mapped):
    assert mapped.swaps == 0
    assert all(isinstance(q, cirq.GridQubit) for q in mapped.circuit.all_qubits())
    gates = {type(op.gate) for op in mapped.circuit.all_operations()}
    assert gates <= {cirq.PhasedXZGate, cirq.ISwapPowGate}
    two_qubit = [op for op in mapped.circuit.all_operations() if len(op.qubits) == 2]
    assert len(two_qubit) == 2 * 4  # gate by gate: each CNOT becomes two √iSWAPs
    obs = cirq.Z(Q[0]) * cirq.X(Q[2])
    ideal = N.DensityMatrixExecutor(obs)(_layered_circuit(Q))
    assert N.DensityMatrixExecutor(mapped.map_observable(obs))(mapped.circuit) == pytest.approx(
        ideal, abs=1e-8)


def test_map_to_device_routes_a_triangle_with_swaps():
    tri = cirq.Circuit(cirq.H(Q[0]), cirq.CNOT(Q[0], Q[1]), cirq.CNOT(Q[1], Q[2]),
                       cirq.CNOT(Q[2], Q[0]), cirq.ry(0.4)(Q[1]))
    m = N.map_to_device(tri, "rainbow")
    assert m.swaps >= 1
    obs = cirq.Z(Q[0]) * cirq.Z(Q[1]) + cirq.Z(Q[2])
    ideal = N.DensityMatrixExecutor(obs)(tri)
    assert N.DensityMatrixExecutor(m.map_observable(obs))(m.circuit) == pytest.approx(
        ideal, abs=1e-8)


def test_rainbow_noise_model_is_realistic_and_restriction_is_exact():
    c = _layered_circuit(Q)
    mirror = N.map_to_device(c + cirq.inverse(c), "rainbow")  # the identity: ideal <ZZZ> = 1
    obs = mirror.map_observable(cirq.Z(Q[0]) * cirq.Z(Q[1]) * cirq.Z(Q[2]))
    assert N.DensityMatrixExecutor(obs)(mirror.circuit) == pytest.approx(1.0, abs=1e-8)
    full = N.DensityMatrixExecutor(obs, N.rainbow_noise_model())(mirror.circuit)
    small = N.DensityMatrixExecutor(
        obs, N.rainbow_noise_model(qubits=mirror.circuit.all_qubits()))(mirror.circuit)
    assert small == pytest.approx(full, abs=1e-12)
    assert 0.6 < full < 0.95  # 16 √iSWAPs at ~1.4 % and ~3 % read-out error per qubit
    # read-out error is in: the noisy circuit ends with the read-out channels, not idling
    noisy = N.noisy_circuit(mirror.circuit, N.rainbow_noise_model())
    assert all(isinstance(op.gate, cirq.GeneralizedAmplitudeDampingChannel) for op in noisy[-1])


# --------------------------------------------------------------------------------------------
# TensorFlow Quantum (trajectories: statistical checks only)
# --------------------------------------------------------------------------------------------

@pytest.mark.skipif(importlib.util.find_spec("tensorflow_quantum") is None,
                    reason="tensorflow-quantum not installed")
def test_tfq_noisy_executor_agrees_statistically():
    c = cirq.Circuit(cirq.H(Q[0]), cirq.CNOT(Q[0], Q[1]))
    obs = cirq.Z(Q[0]) * cirq.Z(Q[1])
    model = N.compose_noise(N.DepolarizingNoise(0.05, 0.1), N.ReadoutNoise(0.05, 0.1))
    exact = N.DensityMatrixExecutor(obs, model)(c)
    try:
        ex = N.TFQNoisyExecutor(obs, model, trajectories=2000)
        value = ex(c)
    except ImportError as exc:  # pragma: no cover - broken TF install
        pytest.skip(f"TFQ unavailable: {exc}")
    # each trajectory's analytic value is ±1-bounded: standard error <= 1/sqrt(2000)
    assert abs(value - exact) < 5 / np.sqrt(2000)
    assert (ex.executions, ex.trajectories, ex.shots) == (1, 2000, 0)
    with pytest.raises(ValueError, match="noise_model"):
        m = N.map_to_device(c)
        N.TFQNoisyExecutor(m.map_observable(obs), N.rainbow_noise_model())(m.circuit)
