"""qmlkit.datasets: TFIM Hamiltonian, ground states, phase labels, derived-data files."""

from __future__ import annotations

import cirq
import numpy as np
import pytest

from qmlkit import datasets as ds


def cirq_tfim(n: int, h: float, j: float, periodic: bool) -> np.ndarray:
    q = cirq.LineQubit.range(n)
    bonds = [(i, i + 1) for i in range(n - 1)] + ([(n - 1, 0)] if periodic else [])
    terms = [-j * cirq.Z(q[a]) * cirq.Z(q[b]) for a, b in bonds]
    terms += [-h * cirq.X(q[i]) for i in range(n)]
    return cirq.PauliSum.from_pauli_strings(terms).matrix(q)


@pytest.mark.parametrize(("n", "periodic"), [(1, False), (3, False), (4, True), (5, True)])
def test_hamiltonian_matches_cirq_pauli_sum(n, periodic):
    ham = ds.tfim_hamiltonian(n, 0.7, j=1.3, periodic=periodic)
    np.testing.assert_allclose(ham.toarray(), cirq_tfim(n, 0.7, 1.3, periodic), atol=1e-14)
    assert ham.nnz == (n + 1) * 2**n


@pytest.mark.parametrize("periodic", [False, True])
@pytest.mark.parametrize("n", [3, 6, 8])  # n = 8 goes through eigsh (2^8 > 64)
@pytest.mark.parametrize("h", [0.1, 0.9, 1.0, 2.5])
def test_ground_energy_matches_dense_eigvalsh(n, h, periodic):
    energy, psi = ds.tfim_ground_state(n, h, periodic=periodic)
    dense = ds.tfim_hamiltonian(n, h, periodic=periodic).toarray()
    assert energy == pytest.approx(np.linalg.eigvalsh(dense)[0], abs=1e-10)
    np.testing.assert_allclose(dense @ psi, energy * psi, atol=1e-9)
    assert np.linalg.norm(psi) == pytest.approx(1.0, abs=1e-12)
    assert np.all(psi > 0)  # Perron-Frobenius: the sign fixing is the physical one


@pytest.mark.parametrize("h", [0.3, 1.0, 2.0])
def test_periodic_energy_equals_free_fermion_formula(h):
    n = 10
    k = np.pi * (2 * np.arange(n) + 1) / n
    expected = -np.sum(np.sqrt(1 + h**2 - 2 * h * np.cos(k)))
    assert ds.tfim_ground_state(n, h, periodic=True)[0] == pytest.approx(expected, abs=1e-10)


def test_zero_field_limit():
    for n in (1, 2, 5):
        e, psi = ds.tfim_ground_state(n, 0.0, j=2.0)
        assert e == pytest.approx(-2.0 * (n - 1))
        expected = np.zeros(2**n)
        expected[[0, -1]] = 1 / np.sqrt(2)
        np.testing.assert_allclose(psi, expected)
    assert ds.tfim_ground_state(4, 0.0, periodic=True)[0] == pytest.approx(-4.0)
    # the h -> 0+ ground state tends to the cat state
    _, psi = ds.tfim_ground_state(5, 1e-4)
    assert abs(psi[0] ** 2 + psi[-1] ** 2 - 1) < 1e-6


def test_large_field_limit():
    n, h = 6, 1e4
    e, psi = ds.tfim_ground_state(n, h)
    # second order: each bond ZZ flips two X spins (cost 4h), E = -n h - (n - 1) J² / (4h)
    assert e == pytest.approx(-n * h - (n - 1) / (4 * h), abs=1e-8)
    plus = np.full(2**n, 2 ** (-n / 2))
    assert abs(plus @ psi) ** 2 > 1 - 1e-6


def test_ground_states_are_reproducible_bit_for_bit():
    a = ds.tfim_ground_states(9, [0.5, 1.0, 1.5])
    b = ds.tfim_ground_states(9, [0.5, 1.0, 1.5])
    np.testing.assert_array_equal(a.states, b.states)
    np.testing.assert_array_equal(a.energies, b.energies)


def test_dataset_labels_and_order_parameter():
    fields = np.linspace(0.1, 2.0, 8)
    data = ds.tfim_ground_states(8, fields, j=1.0)
    assert len(data) == 8
    np.testing.assert_array_equal(data.labels, (fields >= 1.0).astype(int))
    assert ds.PHASE_NAMES[data.labels[0]] == "ferromagnetic"
    # <X_0> grows with h: deep in the paramagnet it approaches 1.
    x0 = []
    for psi in data.states:
        t = psi.reshape(2, -1)
        x0.append(2 * float(t[0] @ t[1]))
    assert np.all(np.diff(x0) > 0) and x0[-1] > 0.8
    assert data.metadata["generator"] == "qmlkit.datasets.tfim_ground_states"


def test_write_verify_load_round_trip(tmp_path):
    data = ds.tfim_ground_states(4, [0.5, 1.5], periodic=True)
    path = ds.write_derived(data, tmp_path)
    assert path.name == "tfim_ground_states_n4_periodic_j1_h0.5-1.5_m2.npz"
    checksum = path.with_name(path.name + ".sha256")
    assert checksum.read_text().endswith(f"  {path.name}\n")
    assert ds.verify_checksum(path)
    back = ds.load_derived(path)
    np.testing.assert_array_equal(back.states, data.states)
    np.testing.assert_array_equal(back.labels, data.labels)
    assert back.periodic and back.n_qubits == 4 and back.metadata == data.metadata
    explicit = ds.write_derived(data, tmp_path / "sub" / "x.npz")
    assert explicit.exists() and ds.verify_checksum(explicit)
    assert not list(tmp_path.glob(".*.tmp"))


def test_tampering_is_detected(tmp_path):
    path = ds.write_derived(ds.tfim_ground_states(3, [0.5]), tmp_path)
    raw = bytearray(path.read_bytes())
    raw[-10] ^= 0xFF
    path.write_bytes(bytes(raw))
    assert not ds.verify_checksum(path)
    with pytest.raises(ValueError, match="checksum"):
        ds.load_derived(path)
    path.with_name(path.name + ".sha256").unlink()
    with pytest.raises(FileNotFoundError):
        ds.verify_checksum(path)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="n_qubits"):
        ds.tfim_ground_state(0, 1.0)
    with pytest.raises(TypeError, match="n_qubits"):
        ds.tfim_ground_state(2.0, 1.0)
    with pytest.raises(ValueError, match="h must be >= 0"):
        ds.tfim_ground_state(3, -1.0)
    with pytest.raises(ValueError, match="j must be positive"):
        ds.tfim_ground_state(3, 1.0, j=0.0)
    with pytest.raises(ValueError, match="n_qubits >= 3"):
        ds.tfim_hamiltonian(2, 1.0, periodic=True)
    with pytest.raises(TypeError, match="periodic"):
        ds.tfim_hamiltonian(3, 1.0, periodic=1)
    with pytest.raises(ValueError, match="fields must not be empty"):
        ds.tfim_ground_states(3, [])
    with pytest.raises(ValueError, match="NaN"):
        ds.tfim_ground_states(3, [0.5, np.nan])
    with pytest.raises(ValueError, match="fields must be >= 0"):
        ds.tfim_ground_states(3, [-0.5])
    with pytest.raises(ValueError, match="n_qubits=40"):
        ds.tfim_hamiltonian(40, 1.0)
    with pytest.raises(TypeError, match="TFIMDataset"):
        ds.write_derived({"states": []})


# --------------------------------------------------------------------------------------------
# Havlíček ad hoc data set
# --------------------------------------------------------------------------------------------


def test_ad_hoc_data_is_balanced_seeded_and_respects_the_gap():
    data = ds.ad_hoc_data(30, 15, gap=0.3, rng=np.random.default_rng(3))
    assert data.x_train.shape == (60, 2) and data.x_test.shape == (30, 2)
    assert np.bincount(data.y_train).tolist() == [30, 30]
    assert np.bincount(data.y_test).tolist() == [15, 15]
    assert np.all((data.x_train >= 0) & (data.x_train < 2 * np.pi))
    for x, y, v in ((data.x_train, data.y_train, data.values_train),
                    (data.x_test, data.y_test, data.values_test)):
        assert np.all(np.abs(v) > 0.3)
        np.testing.assert_array_equal(y, (v > 0).astype(int))
        np.testing.assert_allclose(ds.ad_hoc_expectations(x, data.unitary), v, atol=1e-12)
    np.testing.assert_allclose(data.unitary.conj().T @ data.unitary, np.eye(4), atol=1e-12)
    again = ds.ad_hoc_data(30, 15, gap=0.3, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(again.x_train, data.x_train)
    other = ds.ad_hoc_data(30, 15, gap=0.3, rng=np.random.default_rng(4))
    assert not np.array_equal(other.x_train, data.x_train)
    assert 0 < data.acceptance < 1


def test_ad_hoc_states_follow_the_paper_construction(rng):
    x = rng.uniform(0, 2 * np.pi, size=(3, 2))
    z = np.diag([1.0, -1.0])
    zz = np.kron(z, z)
    hh = np.kron(*[np.array([[1, 1], [1, -1]]) / np.sqrt(2)] * 2)
    for i in range(3):
        a, b = x[i]
        phi = a * np.kron(z, np.eye(2)) + b * np.kron(np.eye(2), z) + (np.pi - a) * (
            np.pi - b) * zz
        u = np.diag(np.exp(1j * np.diag(phi)))
        ref = u @ hh @ u @ hh @ np.eye(4)[0]
        got = ds.ad_hoc_states(x[i:i + 1])[0]
        assert abs(np.vdot(ref, got)) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("n_qubits", [2, 3])
def test_ad_hoc_data_is_separable_by_the_zz_kernel_svm(n_qubits):
    from qmlkit.kernels import QuantumKernelClassifier

    data = ds.ad_hoc_data(20, 20, n_qubits=n_qubits, rng=np.random.default_rng(11))
    clf = QuantumKernelClassifier(C=100.0).fit(data.x_train, data.y_train)
    assert clf.score(data.x_train, data.y_train) == 1.0
    assert clf.score(data.x_test, data.y_test) >= 0.95


def test_ad_hoc_data_argument_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="gap must be < 1"):
        ds.ad_hoc_data(5, 5, gap=1.0, rng=rng)
    with pytest.raises(ValueError, match="n_train must be >= 1"):
        ds.ad_hoc_data(0, 5, rng=rng)
    with pytest.raises(TypeError, match=r"rng must be a numpy\.random\.Generator"):
        ds.ad_hoc_data(5, 5, rng=0)
    with pytest.raises(ValueError, match="lower the gap"):
        ds.ad_hoc_data(5, 5, gap=0.99, rng=rng, max_candidates=2000)
    with pytest.raises(ValueError, match="unitary must be 4x4"):
        ds.ad_hoc_expectations(np.zeros((1, 2)), np.eye(2))
