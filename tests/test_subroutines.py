"""qmlkit.subroutines: swap test, compute-uncompute and exact overlaps."""

from __future__ import annotations

import subprocess
import sys

import cirq
import numpy as np
import pytest
import sympy

from qmlkit.circuits import bell_circuit, state_vector
from qmlkit.encodings import amplitude_encoding, zz_feature_map
from qmlkit.measurement import probabilities
from qmlkit.subroutines import (
    OverlapEstimate,
    compute_uncompute_circuit,
    compute_uncompute_overlap,
    exact_overlap,
    overlap_shot_scaling,
    swap_test_circuit,
    swap_test_overlap,
)

Q = cirq.LineQubit.range(3)


def random_state_circuit(n: int, rng: np.random.Generator,
                         qubits: list[cirq.Qid] | None = None) -> tuple[cirq.Circuit, np.ndarray]:
    v = rng.normal(size=2**n) + 1j * rng.normal(size=2**n)
    v /= np.linalg.norm(v)
    return amplitude_encoding(v, qubits=qubits, global_phase=True), v


@pytest.mark.parametrize("n", [1, 2, 3])
def test_exact_overlap_matches_inner_product(n, rng):
    (ca, va), (cb, vb) = random_state_circuit(n, rng), random_state_circuit(n, rng)
    assert exact_overlap(ca, cb) == pytest.approx(abs(np.vdot(va, vb)) ** 2, abs=1e-12)
    assert exact_overlap(ca, cb) == pytest.approx(exact_overlap(cb, ca), abs=1e-14)
    assert exact_overlap(ca, ca) == pytest.approx(1.0, abs=1e-12)


def test_known_overlaps():
    q = Q[0]
    zero, one, plus = cirq.Circuit(cirq.I(q)), cirq.Circuit(cirq.X(q)), cirq.Circuit(cirq.H(q))
    assert exact_overlap(zero, one) == pytest.approx(0.0, abs=1e-15)
    assert exact_overlap(zero, plus) == pytest.approx(0.5, abs=1e-12)
    assert exact_overlap(bell_circuit("phi+"), bell_circuit("psi-")) == pytest.approx(0, abs=1e-15)


@pytest.mark.parametrize("n", [1, 2])
def test_swap_test_ancilla_probability_is_half_one_plus_overlap(n, rng):
    (ca, _), (cb, _) = random_state_circuit(n, rng), random_state_circuit(n, rng)
    circuit, ancilla = swap_test_circuit(ca, cb)
    qubits = sorted(circuit.all_qubits())
    assert len(qubits) == 2 * n + 1 and ancilla == cirq.LineQubit(0) == qubits[0]
    assert not cirq.is_measurement(circuit)
    p = probabilities(state_vector(circuit, qubits))
    p0 = p[: p.size // 2].sum()  # the ancilla is the most significant bit
    assert p0 == pytest.approx((1 + exact_overlap(ca, cb)) / 2, abs=1e-12)


def test_swap_test_registers_are_disjoint_when_preparations_share_qubits():
    a = cirq.Circuit(cirq.H(Q[0]), cirq.CNOT(Q[0], Q[1]))
    b = cirq.Circuit(cirq.X(Q[0]), cirq.I(Q[1]))
    circuit, _ = swap_test_circuit(a, b)
    assert len(circuit.all_qubits()) == 5
    assert sum(1 for op in circuit.all_operations() if op.gate == cirq.CSWAP) == 2


def test_different_qubit_labels_are_paired_in_sorted_order():
    grid = [cirq.GridQubit(0, 0), cirq.GridQubit(0, 1)]
    a = cirq.Circuit(cirq.X(grid[1]), cirq.I(grid[0]))  # |01>
    b = cirq.Circuit(cirq.X(Q[2]), cirq.I(Q[1]))  # |01> on LineQubits 1, 2
    assert exact_overlap(a, b) == pytest.approx(1.0, abs=1e-12)
    p = probabilities(state_vector(compute_uncompute_circuit(a, b)))
    assert p[0] == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_compute_uncompute_all_zero_probability_is_overlap(n, rng):
    (ca, _), (cb, _) = random_state_circuit(n, rng), random_state_circuit(n, rng)
    circuit = compute_uncompute_circuit(ca, cb)
    assert sorted(circuit.all_qubits()) == cirq.LineQubit.range(n)
    p = probabilities(state_vector(circuit, cirq.LineQubit.range(n)))
    assert p[0] == pytest.approx(exact_overlap(ca, cb), abs=1e-12)


def test_estimates_are_reproducible_and_close(rng):
    a, b = zz_feature_map([0.4, 1.1]), zz_feature_map([1.3, 0.2])
    exact = exact_overlap(a, b)
    for estimate in (swap_test_overlap, compute_uncompute_overlap):
        first = estimate(a, b, shots=20_000, rng=np.random.default_rng(5))
        again = estimate(a, b, shots=20_000, rng=np.random.default_rng(5))
        assert first == again
        assert isinstance(first, OverlapEstimate) and first.shots == 20_000
        assert abs(first.value - exact) < 5 * first.std_error


def test_estimate_metadata_and_standard_errors(rng):
    q = Q[0]
    zero, plus = cirq.Circuit(cirq.I(q)), cirq.Circuit(cirq.H(q))
    s = swap_test_overlap(zero, plus, shots=1000, rng=rng)
    c = compute_uncompute_overlap(zero, plus, shots=1000, rng=rng)
    assert (s.method, s.n_qubits, c.method, c.n_qubits) == ("swap", 3, "compute_uncompute", 1)
    f = min(max(s.value, 0.0), 1.0)
    assert s.std_error == pytest.approx(np.sqrt((1 - f**2) / 1000))
    assert c.std_error == pytest.approx(np.sqrt(c.value * (1 - c.value) / 1000))
    assert -1.0 <= s.value <= 1.0 and 0.0 <= c.value <= 1.0


def test_orthogonal_states_swap_estimate_is_unbiased_and_can_be_negative():
    q = Q[0]
    zero, one = cirq.Circuit(cirq.I(q)), cirq.Circuit(cirq.X(q))
    values = [swap_test_overlap(zero, one, shots=10, rng=np.random.default_rng(s)).value
              for s in range(200)]
    assert min(values) < 0  # 2 P(0) - 1 is not clipped
    assert abs(np.mean(values)) < 4 * np.sqrt(1 / 10 / 200)
    cu = compute_uncompute_overlap(zero, one, shots=10, rng=np.random.default_rng(0))
    assert cu.value == 0.0 and cu.std_error == 0.0


@pytest.mark.parametrize("method", ["swap", "compute_uncompute"])
def test_shot_scaling_follows_the_binomial_prediction(method, rng):
    a, b = zz_feature_map([0.4, 1.1]), zz_feature_map([1.3, 0.2])
    df = overlap_shot_scaling(a, b, shots_grid=[16, 256, 4096], repetitions=400, rng=rng,
                              method=method)
    assert list(df.columns) == ["shots", "mean", "std_error", "rmse", "predicted_std_error",
                                "exact"]
    ratio = df["std_error"] / df["predicted_std_error"]
    assert np.all(np.abs(ratio - 1) < 0.2)
    assert np.all(np.abs(df["mean"] - df["exact"]) < 5 * df["predicted_std_error"] / 20)


def test_compute_uncompute_has_smaller_predicted_error(rng):
    a, b = zz_feature_map([0.4, 1.1]), zz_feature_map([1.3, 0.2])
    kw = dict(shots_grid=[100], repetitions=2, rng=rng)
    swap = overlap_shot_scaling(a, b, method="swap", **kw)["predicted_std_error"][0]
    cu = overlap_shot_scaling(a, b, method="compute_uncompute", **kw)["predicted_std_error"][0]
    assert cu * np.sqrt(2) <= swap


def test_argument_errors_name_the_argument(rng):
    one, two = cirq.Circuit(cirq.H(Q[0])), bell_circuit()
    with pytest.raises(ValueError, match="same number of qubits"):
        swap_test_circuit(one, two)
    with pytest.raises(TypeError, match="prep_a"):
        exact_overlap("H", one)
    with pytest.raises(TypeError, match="prep_b"):
        compute_uncompute_circuit(one, cirq.H(Q[0]))
    with pytest.raises(ValueError, match="prep_a must not contain measurements"):
        swap_test_circuit(cirq.Circuit(cirq.H(Q[0]), cirq.measure(Q[0])), one)
    with pytest.raises(ValueError, match="prep_b has unresolved symbols"):
        exact_overlap(one, cirq.Circuit(cirq.rx(sympy.Symbol("t"))(Q[0])))
    with pytest.raises(ValueError, match="prep_a acts on no qubits"):
        exact_overlap(cirq.Circuit(), one)
    with pytest.raises(ValueError, match="shots must be >= 1"):
        swap_test_overlap(one, one, shots=0, rng=rng)
    with pytest.raises(TypeError, match="shots must be an integer"):
        compute_uncompute_overlap(one, one, shots=10.0, rng=rng)
    with pytest.raises(TypeError, match="rng"):
        swap_test_overlap(one, one, shots=10, rng=0)
    with pytest.raises(ValueError, match="method"):
        overlap_shot_scaling(one, one, shots_grid=[10], repetitions=2, rng=rng, method="hadamard")
    with pytest.raises(ValueError, match="repetitions"):
        overlap_shot_scaling(one, one, shots_grid=[10], repetitions=1, rng=rng)


def test_module_does_not_import_tensorflow():
    code = ("import sys, qmlkit.subroutines, qmlkit.kernels; "
            "print([m for m in ('tensorflow', 'tensorflow_quantum', 'pennylane') "
            "if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
