"""Tests of qmlkit.ansatz: hardware-efficient, TFIM-HVA and QCNN ansätze, initialisation."""

from __future__ import annotations

import ast
import sys
from functools import reduce
from pathlib import Path

import cirq
import numpy as np
import pytest
import scipy.linalg
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import qmlkit
from qmlkit.ansatz import (
    Ansatz,
    hamiltonian_variational_ansatz,
    hardware_efficient_ansatz,
    initial_parameters,
    qcnn_ansatz,
    tfim_hamiltonian,
)
from qmlkit.circuits import state_vector
from qmlkit.encodings import basis_encoding

QMLKIT = Path(qmlkit.__file__).parent
I2 = np.eye(2)
X = np.array([[0, 1], [1, 0]], dtype=complex)
Z = np.diag([1.0, -1.0]).astype(complex)


def kron(*ms: np.ndarray) -> np.ndarray:
    return reduce(np.kron, ms)


def count_gates(circuit: cirq.Circuit, gate_type: type) -> int:
    return sum(isinstance(op.gate, gate_type) for op in circuit.all_operations())


# --------------------------------------------------------------------------- imports


def imported_modules(path: Path) -> set[str]:
    """Top-level modules imported by a source file, following qmlkit's own imports."""
    seen: set[str] = set()
    todo, done = [path], set()
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
    mods = imported_modules(QMLKIT / "ansatz.py")
    assert {"cirq", "numpy", "sympy"} <= mods
    assert not mods & {"tensorflow", "tensorflow_quantum", "tf_keras", "pennylane", "pandas"}


def test_importing_does_not_load_tensorflow() -> None:
    if "tensorflow" in sys.modules:
        pytest.skip("another test of this session imported TensorFlow")
    assert "qmlkit.ansatz" in sys.modules
    assert "tensorflow" not in sys.modules


# ------------------------------------------------------------- hardware-efficient


def test_hea_symbols_are_ordered_and_named() -> None:
    a = hardware_efficient_ansatz(3, layers=2)
    assert isinstance(a, Ansatz)
    assert a.n_parameters == (2 + 1) * 3 * 2
    assert a.symbol_names[:4] == ["theta_l0_q0_0", "theta_l0_q0_1", "theta_l0_q1_0",
                                  "theta_l0_q1_1"]
    assert a.symbol_names[-1] == "theta_l2_q2_1"
    assert len(set(a.symbols)) == a.n_parameters
    assert cirq.parameter_names(a.circuit) == set(a.symbol_names)
    assert a.qubits == cirq.LineQubit.range(3)
    assert a.readout is None


def test_hea_custom_qubits_prefix_and_rotations() -> None:
    qs = cirq.GridQubit.rect(2, 2)
    a = hardware_efficient_ansatz(qs, layers=1, rotations="XYZ", prefix="w")
    assert a.qubits == qs
    assert sorted(a.circuit.all_qubits()) == sorted(qs)
    assert a.n_parameters == 2 * 4 * 3
    assert all(name.startswith("w_l") for name in a.symbol_names)
    assert count_gates(a.circuit, cirq.Rx) == count_gates(a.circuit, cirq.Rz) == 8


@pytest.mark.parametrize(
    ("n", "connectivity", "pairs"),
    [(4, "line", 3), (4, "ring", 4), (4, "all", 6), (2, "ring", 1), (1, "all", 0), (3, "ring", 3)],
)
@pytest.mark.parametrize("entangler", ["CZ", "CNOT"])
def test_hea_entangler_counts(n, connectivity, pairs, entangler) -> None:
    a = hardware_efficient_ansatz(n, layers=3, entangler=entangler, connectivity=connectivity)
    gate = cirq.CZPowGate if entangler == "CZ" else cirq.CXPowGate
    assert count_gates(a.circuit, gate) == 3 * pairs
    other = cirq.CXPowGate if entangler == "CZ" else cirq.CZPowGate
    assert count_gates(a.circuit, other) == 0


def test_hea_layers_zero_is_a_product_of_rotations(rng) -> None:
    a = hardware_efficient_ansatz(3, layers=0, rotations=("Y",))
    x = rng.uniform(0, np.pi, size=3)
    psi = state_vector(a.resolve(x))
    singles = [np.array([np.cos(v / 2), np.sin(v / 2)]) for v in x]
    np.testing.assert_allclose(psi, kron(*singles), atol=1e-12)


def test_hea_entangles(rng) -> None:
    from qmlkit.circuits import entanglement_entropy

    a = hardware_efficient_ansatz(2, layers=1)
    psi = state_vector(a.resolve(rng.uniform(0, 2 * np.pi, a.n_parameters)))
    assert entanglement_entropy(psi, [0]) > 1e-3


@pytest.mark.parametrize("entangler", ["CZ", "CNOT"])
@pytest.mark.parametrize("connectivity", ["line", "ring", "all"])
@pytest.mark.parametrize("layers", [0, 2, 4])
def test_mirrored_hea_is_identity_at_identity_block_init(entangler, connectivity, layers,
                                                         rng) -> None:
    a = hardware_efficient_ansatz(3, layers=layers, entangler=entangler,
                                  connectivity=connectivity, mirrored=True)
    values = initial_parameters(a, strategy="identity_blocks", rng=rng)
    np.testing.assert_allclose(cirq.unitary(a.resolve(values)), np.eye(8), atol=1e-10)
    # ... but not for generic parameters
    generic = initial_parameters(a, strategy="uniform", rng=rng)
    assert not np.allclose(cirq.unitary(a.resolve(generic)), np.eye(8), atol=1e-3)


@settings(max_examples=25, deadline=None)
@given(
    first=st.lists(st.floats(-7.0, 7.0), min_size=24, max_size=24),
    rotations=st.sampled_from([("Y", "Z"), ("X",), ("Z", "X", "Z"), ("X", "Y")]),
)
def test_mirrored_hea_identity_for_any_first_half(first, rotations) -> None:
    a = hardware_efficient_ansatz(2, layers=2, rotations=rotations, entangler="CNOT",
                                  mirrored=True)
    values = np.zeros(a.n_parameters)
    for k, (i, j) in enumerate(a.mirror_pairs):
        values[i] = first[k % len(first)]
        values[j] = -values[i]
    np.testing.assert_allclose(cirq.unitary(a.resolve(values)), np.eye(4), atol=1e-9)


def test_mirrored_hea_structure() -> None:
    layers, n, r = 4, 3, 2
    a = hardware_efficient_ansatz(n, layers=layers, mirrored=True)
    assert a.n_parameters == (layers + 2) * n * r
    assert count_gates(a.circuit, cirq.CZPowGate) == layers * (n - 1)
    firsts = [i for i, _ in a.mirror_pairs]
    seconds = [j for _, j in a.mirror_pairs]
    assert sorted(firsts + seconds) == list(range(a.n_parameters))
    assert set(firsts).isdisjoint(seconds)
    for i, j in a.mirror_pairs:  # same qubit and axis, mirrored layer
        _, li, qi, ki = a.symbol_names[i].split("_")
        _, lj, qj, kj = a.symbol_names[j].split("_")
        assert (qi, ki) == (qj, kj)
        assert int(li[1:]) + int(lj[1:]) == layers + 1
    assert hardware_efficient_ansatz(n, layers=2).mirror_pairs == ()


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"qubits": 0, "layers": 1}, ValueError, "qubits"),
        ({"qubits": True, "layers": 1}, TypeError, "qubits"),
        ({"qubits": [cirq.LineQubit(0)] * 2, "layers": 1}, ValueError, "qubits"),
        ({"qubits": ["a", "b"], "layers": 1}, TypeError, "qubits"),
        ({"qubits": 2, "layers": -1}, ValueError, "layers"),
        ({"qubits": 2, "layers": 1.0}, TypeError, "layers"),
        ({"qubits": 2, "layers": 3, "mirrored": True}, ValueError, "layers"),
        ({"qubits": 2, "layers": 1, "rotations": ("W",)}, ValueError, "rotations"),
        ({"qubits": 2, "layers": 1, "rotations": ()}, ValueError, "rotations"),
        ({"qubits": 2, "layers": 1, "rotations": (1,)}, TypeError, "rotations"),
        ({"qubits": 2, "layers": 1, "rotations": 3}, TypeError, "rotations"),
        ({"qubits": 2, "layers": 1, "entangler": "iSWAP"}, ValueError, "entangler"),
        ({"qubits": 2, "layers": 1, "connectivity": "star"}, ValueError, "connectivity"),
        ({"qubits": 2, "layers": 1, "prefix": ""}, ValueError, "prefix"),
        ({"qubits": 2, "layers": 1, "mirrored": "yes"}, TypeError, "mirrored"),
    ],
)
def test_hea_rejects_bad_input(kwargs, exc, match) -> None:
    with pytest.raises(exc, match=match):
        hardware_efficient_ansatz(**kwargs)


def test_ansatz_resolve_validates_values() -> None:
    a = hardware_efficient_ansatz(2, layers=1)
    with pytest.raises(ValueError, match="values"):
        a.resolve(np.zeros(a.n_parameters + 1))
    with pytest.raises(ValueError, match="values"):
        a.resolve(np.full(a.n_parameters, np.nan))
    with pytest.raises(ValueError, match="values"):
        a.resolve(np.zeros((2, a.n_parameters)))
    assert not cirq.is_parameterized(a.resolve(np.zeros(a.n_parameters)))


# ------------------------------------------------------------------------------ TFIM


def tfim_reference(n: int, j: float, h: float, periodic: bool) -> np.ndarray:
    def site(op: np.ndarray, k: int) -> np.ndarray:
        return kron(*[op if i == k else I2 for i in range(n)])

    bonds = [(i, i + 1) for i in range(n - 1)] + ([(n - 1, 0)] if periodic and n > 2 else [])
    hz = sum((site(Z, a) @ site(Z, b) for a, b in bonds), np.zeros((2**n, 2**n)))
    hx = sum(site(X, k) for k in range(n))
    return -j * hz - h * hx


@pytest.mark.parametrize("periodic", [False, True])
@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_tfim_hamiltonian_matches_reference(n: int, periodic: bool) -> None:
    h = tfim_hamiltonian(n, j=0.7, h=1.3, periodic=periodic)
    np.testing.assert_allclose(h.matrix(cirq.LineQubit.range(n)),
                               tfim_reference(n, 0.7, 1.3, periodic), atol=1e-12)


def test_tfim_hamiltonian_limits() -> None:
    e = np.linalg.eigvalsh(tfim_hamiltonian(4, j=1.0, h=0.0).matrix())
    assert e[0] == pytest.approx(-3.0)
    e = np.linalg.eigvalsh(tfim_hamiltonian(4, j=0.0, h=1.0).matrix())
    assert e[0] == pytest.approx(-4.0)
    assert len(tfim_hamiltonian(4, periodic=True)) == 8
    assert len(tfim_hamiltonian(cirq.GridQubit.rect(1, 3))) == 5


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"n_qubits": 0}, ValueError, "n_qubits"),
        ({"n_qubits": 2, "j": np.nan}, ValueError, "j"),
        ({"n_qubits": 2, "h": "1"}, TypeError, "h"),
        ({"n_qubits": 2, "periodic": 1}, TypeError, "periodic"),
    ],
)
def test_tfim_hamiltonian_rejects_bad_input(kwargs, exc, match) -> None:
    with pytest.raises(exc, match=match):
        tfim_hamiltonian(**kwargs)


def test_hva_symbols_and_zero_parameters() -> None:
    a = hamiltonian_variational_ansatz(3, layers=3)
    assert a.symbol_names == ["gamma_l0", "beta_l0", "gamma_l1", "beta_l1", "gamma_l2",
                              "beta_l2"]
    psi = state_vector(a.resolve(np.zeros(6)))
    np.testing.assert_allclose(psi, np.full(8, 1 / np.sqrt(8)), atol=1e-12)
    h = tfim_hamiltonian(3, h=1.0)
    assert np.vdot(psi, h.matrix() @ psi).real == pytest.approx(-3.0)
    zero = hamiltonian_variational_ansatz(3, layers=1, initial_state="zero")
    np.testing.assert_allclose(state_vector(zero.resolve([0.0, 0.0])), np.eye(8)[0], atol=1e-12)


@pytest.mark.parametrize("periodic", [False, True])
def test_hva_layers_are_generator_exponentials(periodic: bool, rng) -> None:
    n = 3
    a = hamiltonian_variational_ansatz(n, layers=2, periodic=periodic, initial_state="zero")
    values = rng.normal(size=4)
    full = tfim_reference(n, 1.0, 0.0, periodic)  # -Σ ZZ
    hzz, hx = -full, -tfim_reference(n, 0.0, 1.0, periodic)
    u = np.eye(2**n)
    for gamma, beta in values.reshape(2, 2):
        u = scipy.linalg.expm(-1j * beta * hx) @ scipy.linalg.expm(-1j * gamma * hzz) @ u
    np.testing.assert_allclose(cirq.unitary(a.resolve(values)), u, atol=1e-10)


def test_hva_lowers_the_tfim_energy() -> None:
    n = 4
    a = hamiltonian_variational_ansatz(n, layers=1)
    hm = tfim_hamiltonian(n).matrix()
    grid = np.linspace(-np.pi / 2, np.pi / 2, 9)
    energies = []
    for g in grid:
        for b in grid:
            psi = state_vector(a.resolve([g, b]))
            energies.append(np.vdot(psi, hm @ psi).real)
    ground = np.linalg.eigvalsh(hm)[0]
    assert ground - 1e-9 <= min(energies) < -n - 0.1


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"n_qubits": 2, "layers": 0}, ValueError, "layers"),
        ({"n_qubits": 0, "layers": 1}, ValueError, "n_qubits"),
        ({"n_qubits": 2, "layers": 1, "initial_state": "minus"}, ValueError, "initial_state"),
        ({"n_qubits": 2, "layers": 1, "zz_prefix": "a", "x_prefix": "a"}, ValueError,
         "prefix"),
        ({"n_qubits": 2, "layers": 1, "x_prefix": "1b"}, ValueError, "x_prefix"),
        ({"n_qubits": 2, "layers": 1, "periodic": None}, TypeError, "periodic"),
    ],
)
def test_hva_rejects_bad_input(kwargs, exc, match) -> None:
    with pytest.raises(exc, match=match):
        hamiltonian_variational_ansatz(**kwargs)


# ------------------------------------------------------------------------------- QCNN


def test_qcnn_eight_qubits() -> None:
    a = qcnn_ansatz(8)
    assert a.readout == cirq.LineQubit(7)
    assert a.n_parameters == 3 * (15 + 6)
    assert a.symbol_names[:2] == ["phi_c0_0", "phi_c0_1"]
    assert "phi_p2_5" in a.symbol_names
    assert cirq.parameter_names(a.circuit) == set(a.symbol_names)
    assert sorted(a.circuit.all_qubits()) == a.qubits


def test_qcnn_unshared_parameters() -> None:
    a = qcnn_ansatz(8, share_parameters=False, prefix="w")
    # convolution blocks per level: 8, 4, 1; pooling blocks: 4, 2, 1
    assert a.n_parameters == (8 + 4 + 1) * 15 + (4 + 2 + 1) * 6
    assert "w_c0_b7_14" in a.symbol_names and "w_p1_b1_0" in a.symbol_names
    assert len(set(a.symbols)) == a.n_parameters


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6])
def test_qcnn_zero_parameters_compute_parity(n: int, rng) -> None:
    """With all angles 0 the blocks are identities and pooling CNOTs fold the parity in."""
    a = qcnn_ansatz(n)
    assert a.readout in a.qubits
    body = a.resolve(np.zeros(a.n_parameters))
    for _ in range(4):
        bits = rng.integers(0, 2, size=n)
        c = basis_encoding(bits.tolist(), qubits=a.qubits) + body
        psi = state_vector(c, a.qubits)
        z = cirq.Z(a.readout).expectation_from_state_vector(
            psi, {q: i for i, q in enumerate(a.qubits)}).real
        assert z == pytest.approx((-1) ** int(bits.sum()))


def test_qcnn_readout_depends_on_parameters(rng) -> None:
    a = qcnn_ansatz(4)
    qmap = {q: i for i, q in enumerate(a.qubits)}
    zs = []
    for _ in range(3):
        psi = state_vector(a.resolve(initial_parameters(a, rng=rng)), a.qubits)
        zs.append(cirq.Z(a.readout).expectation_from_state_vector(psi, qmap).real)
    assert np.ptp(zs) > 1e-3


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"n_qubits": 1}, ValueError, "n_qubits"),
        ({"n_qubits": 2.0}, TypeError, "n_qubits"),
        ({"n_qubits": 4, "prefix": "-"}, ValueError, "prefix"),
        ({"n_qubits": 4, "share_parameters": 0}, TypeError, "share_parameters"),
    ],
)
def test_qcnn_rejects_bad_input(kwargs, exc, match) -> None:
    with pytest.raises(exc, match=match):
        qcnn_ansatz(**kwargs)


# -------------------------------------------------------------------- initialisation


def test_uniform_initialisation(rng) -> None:
    a = hardware_efficient_ansatz(6, layers=10)
    v = initial_parameters(a, strategy="uniform", rng=rng)
    assert v.shape == (a.n_parameters,)
    assert v.min() >= 0 and v.max() < 2 * np.pi
    assert v.mean() == pytest.approx(np.pi, rel=0.15)
    w = initial_parameters(a, rng=rng, scale=0.5)
    assert w.max() < 0.5


def test_small_initialisation(rng) -> None:
    a = hardware_efficient_ansatz(6, layers=20)
    v = initial_parameters(a, strategy="small", rng=rng)
    assert v.std() == pytest.approx(0.1, rel=0.15)
    assert abs(v.mean()) < 0.02
    w = initial_parameters(a, strategy="small", rng=rng, scale=0.01)
    assert w.std() == pytest.approx(0.01, rel=0.15)


def test_identity_blocks_values(rng) -> None:
    a = hardware_efficient_ansatz(3, layers=2, mirrored=True)
    v = initial_parameters(a, strategy="identity_blocks", rng=rng)
    for i, j in a.mirror_pairs:
        assert v[j] == -v[i]
    assert np.ptp(v) > 1.0  # random, not all zero


def test_initialisation_is_reproducible(seed: int) -> None:
    a = qcnn_ansatz(4)
    for strategy in ("uniform", "small"):
        v1 = initial_parameters(a, strategy=strategy, rng=np.random.default_rng(seed))
        v2 = initial_parameters(a, strategy=strategy, rng=np.random.default_rng(seed))
        v3 = initial_parameters(a, strategy=strategy, rng=np.random.default_rng(seed + 1))
        np.testing.assert_array_equal(v1, v2)
        assert not np.array_equal(v1, v3)


def test_initial_parameters_feed_the_resolver(rng) -> None:
    a = hamiltonian_variational_ansatz(2, layers=2)
    v = initial_parameters(a, rng=rng)
    resolver = a.param_resolver(v)
    assert [resolver.value_of(s) for s in a.symbols] == pytest.approx(list(v))
    assert isinstance(a.symbols[0], sympy.Symbol)


@pytest.mark.parametrize(
    ("ansatz", "kwargs", "exc", "match"),
    [
        ("hea", {"strategy": "identity_blocks"}, ValueError, "identity_blocks"),
        ("hva", {"strategy": "identity_blocks"}, ValueError, "mirrored"),
        ("hea", {"strategy": "xavier"}, ValueError, "strategy"),
        ("hea", {"scale": 0.0}, ValueError, "scale"),
        ("hea", {"scale": -1.0}, ValueError, "scale"),
        ("hea", {"scale": np.inf}, ValueError, "scale"),
        ("hea", {"rng": 0}, TypeError, "rng"),
        ("circuit", {}, TypeError, "ansatz"),
    ],
)
def test_initial_parameters_rejects_bad_input(ansatz, kwargs, exc, match, rng) -> None:
    target = {
        "hea": hardware_efficient_ansatz(2, layers=2),
        "hva": hamiltonian_variational_ansatz(2, layers=1),
        "circuit": cirq.Circuit(),
    }[ansatz]
    kwargs = {"rng": rng, **kwargs}
    with pytest.raises(exc, match=match):
        initial_parameters(target, **kwargs)
