"""Tests of qmlkit.encodings: angle, amplitude, basis, ZZ and Hamiltonian encodings."""

from __future__ import annotations

import ast
import os
from functools import reduce
from itertools import pairwise
from pathlib import Path

import cirq
import numpy as np
import pytest
import scipy.linalg
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import qmlkit
from qmlkit.circuits import state_vector
from qmlkit.encodings import (
    EncodingResources,
    amplitude_encoding,
    angle_encoding,
    angle_encoding_symbols,
    basis_encoding,
    encoding_resources,
    hamiltonian_encoding,
    ising_feature_hamiltonian,
    pauli_exponential,
    zz_feature_map,
    zz_pair_symbols,
    zz_pair_values,
    zz_pairs,
)

FAST = settings(max_examples=40, deadline=None)
QMLKIT = Path(qmlkit.__file__).parent

I2 = np.eye(2)
X = np.array([[0, 1], [1, 0]], dtype=complex)
Y = np.array([[0, -1j], [1j, 0]])
Z = np.diag([1.0, -1.0]).astype(complex)
H = np.array([[1, 1], [1, -1]]) / np.sqrt(2)


def kron(*ms: np.ndarray) -> np.ndarray:
    return reduce(np.kron, ms)


def fidelity(a: np.ndarray, b: np.ndarray) -> float:
    """|<a|b>|, 1 when the states agree up to global phase."""
    return float(abs(np.vdot(a, b)))


def assert_same_state(a: np.ndarray, b: np.ndarray, atol: float = 1e-9) -> None:
    assert fidelity(a, b) == pytest.approx(1.0, abs=atol)


def resolve(circuit: cirq.Circuit, symbols, values) -> cirq.Circuit:
    return cirq.resolve_parameters(circuit, dict(zip(symbols, values, strict=True)))


def imported_modules(path: Path) -> set[str]:
    """Top-level modules imported by a source file, following qmlkit's own imports."""
    seen: set[str] = set()
    todo = [path]
    done: set[Path] = set()
    while todo:
        p = todo.pop()
        if p in done:
            continue
        done.add(p)
        for node in ast.walk(ast.parse(p.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.module
                     else [])
            for name in names:
                seen.add(name.split(".")[0])
                if name.startswith("qmlkit."):
                    todo.append(QMLKIT / (name.split(".", 1)[1].replace(".", "/") + ".py"))
    return seen


def test_module_does_not_import_tensorflow() -> None:
    mods = imported_modules(QMLKIT / "encodings.py")
    assert {"cirq", "numpy", "sympy"} <= mods
    assert not mods & {"tensorflow", "tensorflow_quantum", "tf_keras", "pennylane", "pandas"}


# ------------------------------------------------------------------------------- angle


@pytest.mark.parametrize("rotation", ["X", "Y", "Z"])
def test_angle_encoding_matches_product_state(rotation: str) -> None:
    x = np.array([0.3, -1.2, 2.5])
    psi = state_vector(angle_encoding(x, rotation=rotation))
    singles = []
    for xi in x:
        if rotation == "X":
            singles.append(np.array([np.cos(xi / 2), -1j * np.sin(xi / 2)]))
        elif rotation == "Y":
            singles.append(np.array([np.cos(xi / 2), np.sin(xi / 2)]))
        else:
            singles.append(np.array([1, np.exp(1j * xi)]) / np.sqrt(2))
    assert_same_state(psi, kron(*singles))


def test_angle_encoding_x_is_exact_including_phase() -> None:
    psi = state_vector(angle_encoding([np.pi]))
    np.testing.assert_allclose(psi, [0, -1j], atol=1e-12)


def test_angle_encoding_z_is_not_trivial() -> None:
    a = state_vector(angle_encoding([0.0, 0.0], rotation="Z"))
    b = state_vector(angle_encoding([1.0, 2.0], rotation="Z"))
    assert fidelity(a, b) < 0.9
    c = angle_encoding([0.5], rotation="Z")
    assert isinstance(c[0].operations[0].gate, cirq.HPowGate)


@pytest.mark.parametrize("rotation", ["X", "Y", "Z"])
def test_angle_encoding_symbolic_resolves_like_numeric(rotation: str, rng) -> None:
    syms = angle_encoding_symbols(4)
    circuit = angle_encoding(syms, rotation=rotation)
    assert set(cirq.parameter_names(circuit)) == {s.name for s in syms}
    x = rng.uniform(-np.pi, np.pi, size=4)
    np.testing.assert_allclose(state_vector(resolve(circuit, syms, x)),
                               state_vector(angle_encoding(x, rotation=rotation)), atol=1e-12)


def test_angle_encoding_accepts_sympy_expressions_and_numbers() -> None:
    a = sympy.Symbol("a")
    circuit = angle_encoding([2 * a, sympy.Float(0.5), np.float64(1.0)])
    assert cirq.parameter_names(circuit) == {"a"}
    psi = state_vector(cirq.resolve_parameters(circuit, {a: 0.25}))
    assert_same_state(psi, state_vector(angle_encoding([0.5, 0.5, 1.0])))


def test_angle_encoding_symbols_names() -> None:
    assert [s.name for s in angle_encoding_symbols(3, prefix="f")] == ["f_0", "f_1", "f_2"]


@FAST
@given(
    x=st.lists(st.floats(-4.0, 4.0), min_size=1, max_size=4),
    k=st.lists(st.integers(-3, 3), min_size=4, max_size=4),
    rotation=st.sampled_from(["X", "Y", "Z"]),
)
def test_angle_encoding_is_2pi_periodic_up_to_global_phase(x, k, rotation) -> None:
    shifted = [xi + 2 * np.pi * ki for xi, ki in zip(x, k, strict=False)]
    a = state_vector(angle_encoding(x, rotation=rotation))
    b = state_vector(angle_encoding(shifted, rotation=rotation))
    assert_same_state(a, b, atol=1e-8)


def test_angle_encoding_reuploads_add_angles_for_x() -> None:
    x = [0.4, 1.1]
    c = angle_encoding(x, reuploads=3)
    assert len(c) == 3
    np.testing.assert_allclose(state_vector(c), state_vector(angle_encoding([3 * v for v in x])),
                               atol=1e-12)
    assert len(angle_encoding(x, rotation="Z", reuploads=2)) == 4


def test_angle_encoding_custom_qubits() -> None:
    qs = cirq.GridQubit.rect(1, 2)
    c = angle_encoding([0.1, 0.2], qubits=qs)
    assert sorted(c.all_qubits()) == qs


def test_angle_encoding_resources() -> None:
    r = encoding_resources(angle_encoding(np.zeros(5), rotation="Y"))
    assert r == EncodingResources(n_qubits=5, depth=1, single_qubit_gates=5, two_qubit_gates=0,
                                  total_gates=5)
    r = encoding_resources(angle_encoding(np.zeros(5), rotation="Z", reuploads=2))
    assert (r.depth, r.total_gates) == (4, 20)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"features": [0.1, np.nan]}, ValueError, "features"),
        ({"features": [np.inf]}, ValueError, "features"),
        ({"features": []}, ValueError, "features"),
        ({"features": np.zeros((2, 2))}, ValueError, "features"),
        ({"features": "0.1"}, TypeError, "features"),
        ({"features": 0.1}, TypeError, "features"),
        ({"features": [[0.1], [0.2]]}, TypeError, "features"),
        ({"features": [0.1j]}, TypeError, "features"),
        ({"features": [sympy.I]}, ValueError, "features"),
        ({"features": [0.1], "rotation": "W"}, ValueError, "rotation"),
        ({"features": [0.1], "rotation": 1}, TypeError, "rotation"),
        ({"features": [0.1], "reuploads": 0}, ValueError, "reuploads"),
        ({"features": [0.1], "reuploads": 1.5}, TypeError, "reuploads"),
        ({"features": [0.1, 0.2], "qubits": cirq.LineQubit.range(3)}, ValueError, "qubits"),
        ({"features": [0.1, 0.2], "qubits": [cirq.LineQubit(0)] * 2}, ValueError, "qubits"),
        ({"features": [0.1], "qubits": [0]}, TypeError, "qubits"),
    ],
)
def test_angle_encoding_rejects_bad_input(kwargs, exc, match) -> None:
    with pytest.raises(exc, match=match):
        angle_encoding(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"n_features": 0}, ValueError, "n_features"),
        ({"n_features": 2.0}, TypeError, "n_features"),
        ({"n_features": 2, "prefix": ""}, ValueError, "prefix"),
        ({"n_features": 2, "prefix": "a b"}, ValueError, "prefix"),
        ({"n_features": 2, "prefix": 3}, TypeError, "prefix"),
    ],
)
def test_angle_encoding_symbols_rejects_bad_input(kwargs, exc, match) -> None:
    with pytest.raises(exc, match=match):
        angle_encoding_symbols(**kwargs)


# --------------------------------------------------------------------------- amplitude


def complex_vectors(max_qubits: int = 4):
    size = st.integers(1, 2**max_qubits)
    return size.flatmap(lambda n: st.lists(
        st.complex_numbers(max_magnitude=10.0, allow_nan=False, allow_infinity=False),
        min_size=n, max_size=n,
    )).filter(lambda v: np.linalg.norm(v) > 1e-3)


@settings(max_examples=60, deadline=None)
@given(v=complex_vectors())
def test_amplitude_encoding_prepares_random_vectors(v) -> None:
    vec = np.array(v, dtype=complex)
    circuit = amplitude_encoding(vec, normalize=True)
    n = max(1, int(np.ceil(np.log2(vec.size))))
    target = np.zeros(2**n, dtype=complex)
    target[: vec.size] = vec / np.linalg.norm(vec)
    psi = state_vector(circuit, cirq.LineQubit.range(n))
    assert_same_state(psi, target, atol=1e-8)


@settings(max_examples=30, deadline=None)
@given(v=complex_vectors(3))
def test_amplitude_encoding_global_phase_is_exact(v) -> None:
    vec = np.array(v, dtype=complex)
    vec = np.concatenate([vec, np.zeros(8 - vec.size)])
    vec /= np.linalg.norm(vec)
    psi = state_vector(amplitude_encoding(vec, global_phase=True), cirq.LineQubit.range(3))
    np.testing.assert_allclose(psi, vec, atol=1e-8)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_amplitude_encoding_random_real_and_complex(n: int, rng) -> None:
    for vec in (rng.normal(size=2**n), rng.normal(size=2**n) + 1j * rng.normal(size=2**n)):
        vec = vec / np.linalg.norm(vec)
        c = amplitude_encoding(vec)
        assert_same_state(state_vector(c), vec)
        r = encoding_resources(c)
        assert r.n_qubits == n
        assert r.two_qubit_gates <= 2**(n + 1) - 4


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_amplitude_encoding_sparse_vectors_exact_with_global_phase(n: int, rng) -> None:
    for _ in range(25):
        vec = rng.normal(size=2**n) + 1j * rng.normal(size=2**n)
        vec[rng.random(2**n) < rng.random()] = 0.0
        if not np.any(vec):
            continue
        vec /= np.linalg.norm(vec)
        psi = state_vector(amplitude_encoding(vec, global_phase=True), cirq.LineQubit.range(n))
        np.testing.assert_allclose(psi, vec, atol=1e-9)


def test_amplitude_encoding_uses_only_elementary_gates(rng) -> None:
    vec = rng.normal(size=16) + 1j * rng.normal(size=16)
    c = amplitude_encoding(vec, normalize=True)
    for op in c.all_operations():
        assert isinstance(op.gate, (cirq.Ry, cirq.Rz, cirq.CXPowGate)), op
        if isinstance(op.gate, cirq.CXPowGate):
            assert op.gate.exponent == 1


def test_amplitude_encoding_positive_vector_needs_no_phases(rng) -> None:
    vec = np.abs(rng.normal(size=8))
    c = amplitude_encoding(vec / np.linalg.norm(vec))
    assert not any(isinstance(op.gate, cirq.Rz) for op in c.all_operations())


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
def test_amplitude_encoding_signed_real_vectors_need_only_ry(n: int, rng) -> None:
    """Real vectors of any signs: an R_y tree of at most 2**n - 2 CNOTs, exact state."""
    for _ in range(5):
        vec = rng.normal(size=2**n)
        vec /= np.linalg.norm(vec)
        c = amplitude_encoding(vec)
        assert not any(isinstance(op.gate, cirq.Rz) for op in c.all_operations())
        assert not any(isinstance(op.gate, cirq.GlobalPhaseGate) for op in c.all_operations())
        np.testing.assert_allclose(state_vector(c), vec, atol=1e-10)  # exact, global sign too
        assert encoding_resources(c).two_qubit_gates == 2**n - 2
        assert amplitude_encoding(vec, global_phase=True) == c


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_amplitude_encoding_generic_complex_vectors_cnot_count(n: int, rng) -> None:
    vec = rng.normal(size=2**n) + 1j * rng.normal(size=2**n)
    vec /= np.linalg.norm(vec)
    c = amplitude_encoding(vec, global_phase=True)
    np.testing.assert_allclose(state_vector(c), vec, atol=1e-10)
    assert encoding_resources(c).two_qubit_gates == 2**(n + 1) - 4


@pytest.mark.parametrize(
    "vec",
    [[-1.0, 0.0], [0.0, -1.0], [-0.0, 1.0], [-0.6, -0.8], [0.6, -0.8, 0.0, 0.0],
     [0.0, 0.0, 0.0, -1.0], [-0.5, 0.5, -0.5, -0.5], [-0.0, -0.0, 0.6, -0.8]],
)
def test_amplitude_encoding_real_sign_edge_cases_are_exact(vec) -> None:
    v = np.array(vec, dtype=float)
    np.testing.assert_allclose(state_vector(amplitude_encoding(v)), v, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(v=st.lists(st.floats(-10.0, 10.0, allow_nan=False), min_size=1, max_size=16).filter(
    lambda v: np.linalg.norm(v) > 1e-3))
def test_amplitude_encoding_random_real_vectors_are_exact(v) -> None:
    vec = np.array(v, dtype=float)
    n = max(1, int(np.ceil(np.log2(vec.size))))
    target = np.zeros(2**n)
    target[: vec.size] = vec / np.linalg.norm(vec)
    c = amplitude_encoding(vec, normalize=True)
    np.testing.assert_allclose(state_vector(c, cirq.LineQubit.range(n)), target, atol=1e-8)
    assert encoding_resources(c).two_qubit_gates <= max(0, 2**n - 2)


def test_amplitude_encoding_uniform_and_basis_vectors_are_cheap() -> None:
    r = encoding_resources(amplitude_encoding(np.full(8, 1 / np.sqrt(8))))
    assert (r.two_qubit_gates, r.depth) == (0, 1)
    for phase in (1, -1, 1j):
        e5 = phase * np.eye(8)[5]
        c = amplitude_encoding(e5)
        assert_same_state(state_vector(c), e5)
        assert encoding_resources(c) == EncodingResources(3, 1, 2, 0, 2)


def test_amplitude_encoding_keeps_all_qubits_in_the_circuit() -> None:
    c = amplitude_encoding([1.0, 0.0, 0.0, 0.0])
    assert len(c.all_qubits()) == 2
    np.testing.assert_allclose(state_vector(c), [1, 0, 0, 0], atol=1e-12)
    assert encoding_resources(c).total_gates == 0


def test_amplitude_encoding_signs() -> None:
    vec = np.array([0.5, -0.5, -0.5, 0.5])
    assert_same_state(state_vector(amplitude_encoding(vec)), vec)
    vec = np.array([0.0, 0.0, -1.0, 0.0])
    assert_same_state(state_vector(amplitude_encoding(vec)), vec)


def test_amplitude_encoding_pads_to_power_of_two() -> None:
    c = amplitude_encoding([0.6, 0.8, 0.0])
    psi = state_vector(c)
    assert psi.size == 4
    assert_same_state(psi, [0.6, 0.8, 0, 0])
    c = amplitude_encoding([1.0])
    assert len(c.all_qubits()) == 1
    with pytest.raises(ValueError, match="pad"):
        amplitude_encoding([0.6, 0.8, 0.0], pad=False)


def test_amplitude_encoding_custom_qubits_pad_to_register() -> None:
    qs = cirq.GridQubit.rect(1, 3)
    c = amplitude_encoding([0.6, 0.0, 0.0, 0.8], qubits=qs)
    psi = state_vector(c, qs)
    assert_same_state(psi, [0.6, 0, 0, 0.8, 0, 0, 0, 0])
    with pytest.raises(ValueError, match="qubits"):
        amplitude_encoding(np.ones(16) / 4, qubits=qs)
    with pytest.raises(ValueError, match="pad"):
        amplitude_encoding([0.6, 0.0, 0.0, 0.8], qubits=qs, pad=False)


def test_amplitude_encoding_normalize() -> None:
    c = amplitude_encoding([3.0, 4.0], normalize=True)
    assert_same_state(state_vector(c), [0.6, 0.8])


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"vector": [0.0, 0.0]}, ValueError, "zero vector"),
        ({"vector": [0.0, 0.0], "normalize": True}, ValueError, "zero vector"),
        ({"vector": [1.0, 1.0]}, ValueError, "normalize"),
        ({"vector": [np.nan, 1.0]}, ValueError, "vector"),
        ({"vector": [np.inf, 1.0], "normalize": True}, ValueError, "vector"),
        ({"vector": []}, ValueError, "vector"),
        ({"vector": np.eye(2)}, ValueError, "vector"),
        ({"vector": ["a", "b"]}, TypeError, "vector"),
        ({"vector": [1.0, 0.0], "normalize": 1}, TypeError, "normalize"),
        ({"vector": [1.0, 0.0], "pad": "yes"}, TypeError, "pad"),
        ({"vector": [1.0, 0.0], "atol": -1.0}, ValueError, "atol"),
        ({"vector": [1.0, 0.0], "qubits": "ab"}, TypeError, "qubits"),
    ],
)
def test_amplitude_encoding_rejects_bad_input(kwargs, exc, match) -> None:
    with pytest.raises(exc, match=match):
        amplitude_encoding(**kwargs)


# ------------------------------------------------------------------------------- basis


@pytest.mark.parametrize("bits", [[1, 0, 1], "101", 5, (True, False, True), np.array([1, 0, 1])])
def test_basis_encoding_forms(bits) -> None:
    c = basis_encoding(bits, n_qubits=3) if isinstance(bits, int) else basis_encoding(bits)
    psi = state_vector(c)
    np.testing.assert_allclose(np.abs(psi), np.eye(8)[5], atol=1e-12)


def test_basis_encoding_all_zero_spans_register() -> None:
    c = basis_encoding([0, 0, 0, 0])
    assert len(c.all_qubits()) == 4
    assert encoding_resources(c) == EncodingResources(4, 0, 0, 0, 0)
    np.testing.assert_allclose(state_vector(c), np.eye(16)[0])


def test_basis_encoding_custom_qubits_and_resources() -> None:
    qs = cirq.GridQubit.rect(2, 2)
    c = basis_encoding(6, qubits=qs)
    assert int(np.argmax(np.abs(state_vector(c, qs)))) == 6
    assert encoding_resources(c) == EncodingResources(4, 1, 2, 0, 2)


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "match"),
    [
        ([[0, 2]], {}, ValueError, "bits"),
        ([[0, -1]], {}, ValueError, "bits"),
        ([[0, 0.5]], {}, TypeError, "bits"),
        ([[]], {}, ValueError, "bits"),
        (["012"], {}, ValueError, "bits"),
        ([""], {}, ValueError, "bits"),
        ([3], {}, ValueError, "n_qubits"),
        ([8], {"n_qubits": 3}, ValueError, "n_qubits"),
        ([-1], {"n_qubits": 3}, ValueError, "bits"),
        ([1.0], {"n_qubits": 3}, TypeError, "bits"),
        ([[1, 0]], {"n_qubits": 3}, ValueError, "n_qubits"),
        ([[1, 0]], {"qubits": cirq.LineQubit.range(3)}, ValueError, "qubits"),
        ([1], {"n_qubits": 2, "qubits": cirq.LineQubit.range(3)}, ValueError, "n_qubits"),
        ([1], {"n_qubits": 0}, ValueError, "n_qubits"),
    ],
)
def test_basis_encoding_rejects_bad_input(args, kwargs, exc, match) -> None:
    with pytest.raises(exc, match=match):
        basis_encoding(*args, **kwargs)


# ------------------------------------------------------------------------------ ZZ map


def zz_reference(x: np.ndarray, pairs: list[tuple[int, int]], reps: int) -> np.ndarray:
    """qiskit's ZZ feature map in numpy: (diag-phase · H^n)^reps |0...0>."""
    n = x.size
    z = (np.arange(2**n)[:, None] >> np.arange(n - 1, -1, -1)) & 1
    phase = 2 * z @ x
    for i, j in pairs:
        phase = phase + 2 * (np.pi - x[i]) * (np.pi - x[j]) * (z[:, i] ^ z[:, j])
    hn = kron(*[H] * n)
    psi = np.zeros(2**n, dtype=complex)
    psi[0] = 1
    for _ in range(reps):
        psi = np.exp(1j * phase) * (hn @ psi)
    return psi


@pytest.mark.parametrize("entanglement", ["full", "linear", "circular"])
@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_zz_feature_map_matches_reference(entanglement: str, n: int, rng) -> None:
    x = rng.uniform(0, 2 * np.pi, size=n)
    for reps in (1, 2):
        c = zz_feature_map(x, reps=reps, entanglement=entanglement)
        ref = zz_reference(x, zz_pairs(n, entanglement=entanglement), reps)
        np.testing.assert_allclose(state_vector(c, cirq.LineQubit.range(n)), ref, atol=1e-10)


def test_zz_pairs() -> None:
    assert zz_pairs(4) == [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    assert zz_pairs(4, entanglement="linear") == [(0, 1), (1, 2), (2, 3)]
    assert zz_pairs(4, entanglement="circular") == [(3, 0), (0, 1), (1, 2), (2, 3)]
    assert zz_pairs(2, entanglement="circular") == [(0, 1)]
    assert zz_pairs(1) == []


def test_zz_feature_map_resources() -> None:
    n, reps = 4, 2
    r = encoding_resources(zz_feature_map(np.ones(n), reps=reps))
    pairs = n * (n - 1) // 2
    assert r.two_qubit_gates == 2 * pairs * reps
    assert r.single_qubit_gates == (2 * n + pairs) * reps
    assert r.n_qubits == n


def test_zz_feature_map_symbolic_resolves_like_numeric(rng) -> None:
    syms = angle_encoding_symbols(3)
    c = zz_feature_map(syms, reps=2, entanglement="circular")
    x = rng.uniform(0, 2 * np.pi, size=3)
    np.testing.assert_allclose(state_vector(resolve(c, syms, x)),
                               state_vector(zz_feature_map(x, reps=2, entanglement="circular")),
                               atol=1e-10)


def test_zz_feature_map_pair_features_are_tfq_compatible(rng) -> None:
    n = 3
    xs = angle_encoding_symbols(n)
    phis = zz_pair_symbols(n, entanglement="full")
    c = zz_feature_map(xs, pair_features=phis, reps=1)
    for op in c.all_operations():
        if cirq.is_parameterized(op):
            exponent = op.gate.exponent.evalf()
            (symbol,) = exponent.free_symbols
            assert sympy.simplify(exponent / symbol).is_number  # number · symbol only
    x = rng.uniform(0, 2 * np.pi, size=n)
    values = np.concatenate([x, zz_pair_values(x)])
    np.testing.assert_allclose(state_vector(resolve(c, xs + phis, values)),
                               state_vector(zz_feature_map(x, reps=1)), atol=1e-10)


def test_zz_pair_values_and_symbols() -> None:
    x = np.array([0.1, 0.2, 0.3])
    np.testing.assert_allclose(zz_pair_values(x, entanglement="linear"),
                               [(np.pi - 0.1) * (np.pi - 0.2), (np.pi - 0.2) * (np.pi - 0.3)])
    assert [s.name for s in zz_pair_symbols(3, entanglement="circular")] == [
        "phi_2_0", "phi_0_1", "phi_1_2"]


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"features": [0.1, np.nan]}, ValueError, "features"),
        ({"features": [0.1, 0.2], "reps": 0}, ValueError, "reps"),
        ({"features": [0.1, 0.2], "entanglement": "star"}, ValueError, "entanglement"),
        ({"features": [0.1, 0.2], "qubits": cirq.LineQubit.range(1)}, ValueError, "qubits"),
        ({"features": [0.1, 0.2, 0.3], "pair_features": [1.0]}, ValueError, "pair_features"),
        ({"features": [0.1], "pair_features": [1.0]}, ValueError, "pair_features"),
        ({"features": [0.1, 0.2], "pair_features": [np.inf]}, ValueError, "pair_features"),
    ],
)
def test_zz_feature_map_rejects_bad_input(kwargs, exc, match) -> None:
    with pytest.raises(exc, match=match):
        zz_feature_map(**kwargs)


def test_zz_helpers_reject_bad_input() -> None:
    with pytest.raises(ValueError, match="n_qubits"):
        zz_pairs(0)
    with pytest.raises(TypeError, match="features"):
        zz_pair_values([sympy.Symbol("a"), 0.1])
    with pytest.raises(ValueError, match="prefix"):
        zz_pair_symbols(2, prefix="")


# ------------------------------------------------------------------------- Hamiltonian


def expm_state(h: np.ndarray, t: float) -> np.ndarray:
    return scipy.linalg.expm(-1j * t * h)[:, 0]


@FAST
@given(
    paulis=st.lists(st.sampled_from("IXYZ"), min_size=3, max_size=3),
    theta=st.floats(-3.0, 3.0),
    sign=st.sampled_from([1, -1]),
)
def test_pauli_exponential_matches_expm(paulis, theta, sign) -> None:
    qs = cirq.LineQubit.range(3)
    gates = {"X": cirq.X, "Y": cirq.Y, "Z": cirq.Z}
    ps = cirq.PauliString({q: gates[p] for q, p in zip(qs, paulis, strict=True) if p != "I"},
                          coefficient=sign)
    c = cirq.Circuit(pauli_exponential(ps, theta))
    c.append(cirq.I.on_each(qs))
    expected = scipy.linalg.expm(-1j * theta * ps.matrix(qs))
    u = cirq.unitary(c)
    if not ps.items():
        np.testing.assert_allclose(u, np.eye(8))  # identity string: phase only, dropped
    else:
        np.testing.assert_allclose(u, expected, atol=1e-10)


def test_pauli_exponential_ladder_follows_sorted_qubits() -> None:
    q = cirq.LineQubit.range(3)
    forward = cirq.PauliString({q[0]: cirq.Z, q[1]: cirq.X, q[2]: cirq.Y})
    backward = cirq.PauliString({q[2]: cirq.Y, q[1]: cirq.X, q[0]: cirq.Z})
    ops = pauli_exponential(forward, 0.4)
    assert ops == pauli_exponential(backward, 0.4)
    cnots = [op for op in ops if isinstance(op.gate, cirq.CXPowGate)]
    assert [tuple(op.qubits) for op in cnots] == [(q[0], q[1]), (q[1], q[2]),
                                                  (q[1], q[2]), (q[0], q[1])]


def test_hamiltonian_encoding_circuit_is_the_same_in_every_process() -> None:
    """PauliSum iteration orders a term's qubits by hash; the circuit must not depend on it."""
    import subprocess
    import sys

    code = ("from qmlkit.encodings import hamiltonian_encoding; "
            "print(repr(hamiltonian_encoding([0.3, -1.2, 0.5, 0.8], time=0.7)))")
    outputs = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout
        for seed in (0, 1, 2, 3)
    }
    assert len(outputs) == 1
    assert outputs == {repr(hamiltonian_encoding([0.3, -1.2, 0.5, 0.8], time=0.7)) + "\n"}


def test_pauli_exponential_symbolic_and_bad_input() -> None:
    q = cirq.LineQubit.range(2)
    t = sympy.Symbol("t")
    c = cirq.Circuit(pauli_exponential(cirq.X(q[0]) * cirq.Y(q[1]), t))
    u = cirq.unitary(cirq.resolve_parameters(c, {t: 0.7}))
    np.testing.assert_allclose(u, scipy.linalg.expm(-0.7j * kron(X, Y)), atol=1e-10)
    with pytest.raises(TypeError, match="pauli_string"):
        pauli_exponential(cirq.X(q[0]) + cirq.Z(q[0]), 0.1)
    with pytest.raises(ValueError, match="pauli_string"):
        pauli_exponential(2 * cirq.X(q[0]), 0.1)
    with pytest.raises(ValueError, match="theta"):
        pauli_exponential(cirq.X(q[0]), np.nan)


def test_ising_feature_hamiltonian_matrix() -> None:
    x = [0.3, -0.2, 0.5]
    h = ising_feature_hamiltonian(x, coupling=0.7).matrix()
    ref = 0.7 * (kron(Z, Z, I2) + kron(I2, Z, Z))
    ref = ref + 0.3 * kron(X, I2, I2) - 0.2 * kron(I2, X, I2) + 0.5 * kron(I2, I2, X)
    np.testing.assert_allclose(h, ref, atol=1e-12)
    hp = ising_feature_hamiltonian(x, coupling=0.7, periodic=True).matrix()
    np.testing.assert_allclose(hp - h, 0.7 * kron(Z, I2, Z), atol=1e-12)


@pytest.mark.parametrize("order", [1, 2])
def test_hamiltonian_encoding_trotter_error_decreases(order: int) -> None:
    x = np.array([0.8, -0.4, 1.1])
    t = 1.2
    exact = expm_state(ising_feature_hamiltonian(x).matrix(), t)
    errors = [1 - fidelity(exact, state_vector(
        hamiltonian_encoding(x, time=t, trotter_steps=s, order=order)))
        for s in (1, 2, 4, 8, 16)]
    assert all(b < a for a, b in pairwise(errors))
    assert errors[-1] < (1e-2 if order == 1 else 1e-5)


def test_second_order_beats_first_order() -> None:
    x = np.array([0.8, -0.4, 1.1])
    exact = expm_state(ising_feature_hamiltonian(x).matrix(), 1.0)

    def err(order: int) -> float:
        return 1 - fidelity(exact, state_vector(hamiltonian_encoding(x, trotter_steps=4,
                                                                     order=order)))
    assert err(2) < err(1) / 10


def test_hamiltonian_encoding_commuting_terms_are_exact() -> None:
    q = cirq.LineQubit.range(2)
    gens = [cirq.Z(q[0]) * cirq.Z(q[1]), cirq.Z(q[1])]
    x = np.array([0.7, -1.3])
    c = cirq.Circuit(cirq.H.on_each(q), hamiltonian_encoding(x, gens, time=0.9))
    h = 0.7 * kron(Z, Z) - 1.3 * kron(I2, Z)
    expected = scipy.linalg.expm(-0.9j * h) @ np.full(4, 0.5)
    np.testing.assert_allclose(state_vector(c), expected, atol=1e-10)


def test_hamiltonian_encoding_generator_forms_agree(rng) -> None:
    q = cirq.LineQubit.range(2)
    gens = [cirq.X(q[0]) * cirq.X(q[1]), cirq.Y(q[0]), 0.5 * cirq.Z(q[1])]
    x = rng.normal(size=3)
    h = sum(xk * g for xk, g in zip(x, gens, strict=True)).matrix(q)
    exact = expm_state(h, 0.5)
    as_list = hamiltonian_encoding(x, gens, time=0.5, trotter_steps=30, order=2)
    as_sum = hamiltonian_encoding(x, cirq.PauliSum.from_pauli_strings(gens), time=0.5,
                                  trotter_steps=30, order=2)

    def builder(f: np.ndarray) -> cirq.PauliSum:
        return cirq.PauliSum.from_pauli_strings([fk * g for fk, g in zip(f, gens, strict=True)])

    as_builder = hamiltonian_encoding(x, builder, time=0.5, trotter_steps=30, order=2)
    for c in (as_list, as_sum, as_builder):
        assert fidelity(exact, state_vector(c, q)) > 1 - 1e-6


def test_hamiltonian_encoding_phasors_match_elementary_gates(rng) -> None:
    x = rng.normal(size=3)
    a = hamiltonian_encoding(x, trotter_steps=3, order=2)
    b = hamiltonian_encoding(x, trotter_steps=3, order=2, use_phasors=True)
    assert any(isinstance(op, cirq.PauliStringPhasor) for op in b.all_operations())
    assert_same_state(state_vector(a), state_vector(b))
    assert encoding_resources(b).two_qubit_gates > 0


def test_hamiltonian_encoding_drops_identity_term() -> None:
    q = cirq.LineQubit(0)
    c = hamiltonian_encoding([0.0], lambda f: cirq.X(q) + 3.0 * cirq.PauliString(), time=0.4)
    assert_same_state(state_vector(c), expm_state(X, 0.4))


def test_hamiltonian_encoding_resources_scale_with_steps() -> None:
    n = 4
    x = np.ones(n)
    r1 = encoding_resources(hamiltonian_encoding(x, trotter_steps=1))
    r3 = encoding_resources(hamiltonian_encoding(x, trotter_steps=3))
    assert r1.two_qubit_gates == 2 * (n - 1)
    assert r3.two_qubit_gates == 3 * r1.two_qubit_gates
    assert r3.depth > r1.depth


def test_hamiltonian_encoding_custom_qubits() -> None:
    qs = cirq.GridQubit.rect(1, 3)
    c = hamiltonian_encoding([0.1, 0.2, 0.3], qubits=qs)
    assert sorted(c.all_qubits()) == qs


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "match"),
    [
        ([[0.1, np.nan]], {}, ValueError, "features"),
        ([[sympy.Symbol("a")]], {}, TypeError, "features"),
        ([[0.1]], {"time": np.inf}, ValueError, "time"),
        ([[0.1]], {"trotter_steps": 0}, ValueError, "trotter_steps"),
        ([[0.1]], {"order": 3}, ValueError, "order"),
        ([[0.1]], {"use_phasors": "no"}, TypeError, "use_phasors"),
        ([[0.1, 0.2], [cirq.X(cirq.LineQubit(0))]], {}, ValueError, "hamiltonian"),
        ([[0.1], [cirq.X(cirq.LineQubit(0)) + cirq.Z(cirq.LineQubit(0))]], {}, TypeError,
         "hamiltonian"),
        ([[0.1], 42], {}, TypeError, "hamiltonian"),
        ([[0.1], lambda f: 1.0], {}, TypeError, "hamiltonian"),
        ([[0.1], lambda f: 1j * cirq.X(cirq.LineQubit(0)) + cirq.Z(cirq.LineQubit(0))], {},
         ValueError, "Hermitian"),
        ([[0.0]], {}, ValueError, "hamiltonian"),
        ([[0.1], [cirq.X(cirq.LineQubit(0))]], {"qubits": cirq.LineQubit.range(1)}, ValueError,
         "qubits"),
        ([[0.1, 0.2]], {"qubits": cirq.LineQubit.range(3)}, ValueError, "qubits"),
    ],
)
def test_hamiltonian_encoding_rejects_bad_input(args, kwargs, exc, match) -> None:
    with pytest.raises(exc, match=match):
        hamiltonian_encoding(*args, **kwargs)


def test_ising_feature_hamiltonian_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="coupling"):
        ising_feature_hamiltonian([0.1], coupling=np.nan)
    with pytest.raises(TypeError, match="periodic"):
        ising_feature_hamiltonian([0.1], periodic=1)


# --------------------------------------------------------------------------- resources


def test_encoding_resources_decomposes_multi_qubit_gates() -> None:
    q = cirq.LineQubit.range(3)
    r = encoding_resources(cirq.Circuit(cirq.CCZ(*q)))
    assert r.n_qubits == 3
    assert r.two_qubit_gates > 0
    assert r.total_gates == r.single_qubit_gates + r.two_qubit_gates


def test_encoding_resources_ignores_identity_and_global_phase() -> None:
    q = cirq.LineQubit.range(2)
    c = cirq.Circuit(cirq.I(q[0]), cirq.H(q[1]), cirq.CZ(*q), cirq.global_phase_operation(1j))
    assert encoding_resources(c) == EncodingResources(2, 2, 1, 1, 2)


def test_encoding_resources_symbolic_and_bad_input() -> None:
    r = encoding_resources(zz_feature_map(angle_encoding_symbols(2), reps=1))
    assert r.two_qubit_gates == 2
    with pytest.raises(TypeError, match="circuit"):
        encoding_resources([cirq.X(cirq.LineQubit(0))])
