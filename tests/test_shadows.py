"""qmlkit.shadows: sampling, Clifford sampler, estimators, statistics, PennyLane/Mitiq interop."""

from __future__ import annotations

import itertools
import warnings

import cirq
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from qmlkit import shadows as sh
from qmlkit.circuits import bell_circuit, ghz_circuit, reduced_density_matrix, state_vector
from qmlkit.measurement import fit_power_law
from qmlkit.shadows import ClassicalShadow, local_pauli_strings, median_of_means

PAULI = {"I": np.eye(2), "X": np.array([[0, 1], [1, 0]]), "Y": np.array([[0, -1j], [1j, 0]]),
         "Z": np.diag([1.0, -1.0])}


def random_state(n: int, seed: int) -> np.ndarray:
    g = np.random.default_rng(seed)
    psi = g.normal(size=2**n) + 1j * g.normal(size=2**n)
    return psi / np.linalg.norm(psi)


def pauli_matrix(word: str) -> np.ndarray:
    out = np.eye(1)
    for ch in word:
        out = np.kron(out, PAULI[ch])
    return out


def exact(psi: np.ndarray, words: list[str]) -> np.ndarray:
    return np.array([np.vdot(psi, pauli_matrix(w) @ psi).real for w in words])


def local_snapshot_matrices(shadow: ClassicalShadow) -> np.ndarray:
    """Dense ρ̂_t, brute force (the definition), shape (T, d, d)."""
    if shadow.ensemble == "clifford":
        phi = shadow.clifford_states
        d = phi.shape[1]
        return (d + 1) * np.einsum("ti,tj->tij", phi, phi.conj()) - np.eye(d)[None]
    mats = []
    for b, r in zip(shadow.bits, shadow.recipes, strict=True):
        m = np.eye(1)
        for bi, ri in zip(b, r, strict=True):
            p = PAULI["XYZ"[ri]]
            m = np.kron(m, 3 * (np.eye(2) + (1 - 2 * int(bi)) * p) / 2 - np.eye(2))
        mats.append(m)
    return np.array(mats)


# ---- random Cliffords ------------------------------------------------------------------------

def _all_choices(n: int):
    levels = []
    for m in range(n, 0, -1):
        levels.append([(np.array(f), np.array(b))
                       for f in itertools.product((0, 1), repeat=2 * m) if any(f)
                       for b in itertools.product((0, 1), repeat=2 * m - 1)])
    return itertools.product(*levels)


@pytest.mark.parametrize(("n", "order"), [(1, 6), (2, 720)])
def test_symplectic_sampler_is_a_bijection_onto_sp2n(n, order):
    omega = np.kron(np.eye(n, dtype=int), [[0, 1], [1, 0]])
    seen = set()
    for choice in _all_choices(n):
        g = sh._symplectic_from_choices(n, choice)
        assert np.array_equal(g @ omega @ g.T % 2, omega)
        seen.add(g.tobytes())
    assert len(seen) == order  # |Sp(2,2)| = 6, |Sp(4,2)| = 720: uniform choices, uniform g


@pytest.mark.parametrize("n", [1, 3, 6])
def test_random_symplectic_is_symplectic(n, rng):
    omega = np.kron(np.eye(n, dtype=int), [[0, 1], [1, 0]])
    for _ in range(5):
        g = sh.random_symplectic(n, rng=rng)
        assert np.array_equal(g @ omega @ g.T % 2, omega)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_tableau_unitary_matches_cirq_clifford_gate(n, rng):
    for _ in range(4):
        t = sh.random_clifford_tableau(n, rng=rng)
        u = sh._tableau_unitary(t.xs, t.zs, t.rs)
        reference = cirq.unitary(cirq.CliffordGate.from_clifford_tableau(t))
        overlap = np.vdot(reference.ravel(), u.ravel()) / 2**n
        assert abs(abs(overlap) - 1) < 1e-10  # equal up to a global phase
        np.testing.assert_allclose(u.conj().T @ u, np.eye(2**n), atol=1e-12)


def test_random_single_qubit_clifford_is_uniform_over_the_24(rng):
    keys = []
    for _ in range(2400):
        t = sh.random_clifford_tableau(1, rng=rng)
        keys.append((t.xs.tobytes(), t.zs.tobytes(), t.rs.tobytes()))
    _, counts = np.unique(np.array(keys, dtype=object).astype(str), axis=0, return_counts=True)
    assert len(counts) == 24
    assert stats.chisquare(counts).pvalue > 1e-3


# ---- sampling --------------------------------------------------------------------------------

def test_pauli_sampling_matches_born_rule_in_every_basis(rng):
    n = 3
    psi = random_state(n, 1)
    patterns = list(itertools.product(range(3), repeat=n))
    per = 1000
    bases = np.repeat(np.array(patterns, dtype=np.uint8), per, axis=0)
    shadow = ClassicalShadow.from_state(psi, bases=bases, rng=rng)
    rot = {0: np.array([[1, 1], [1, -1]]) / np.sqrt(2),
           1: np.array([[1, -1j], [1, 1j]]) / np.sqrt(2), 2: np.eye(2)}
    index = shadow.bits.astype(int) @ [4, 2, 1]
    pvalues = []
    for k, pattern in enumerate(patterns):
        u = np.kron(np.kron(rot[pattern[0]], rot[pattern[1]]), rot[pattern[2]])
        p = np.abs(u @ psi) ** 2
        counts = np.bincount(index[k * per:(k + 1) * per], minlength=8)
        small = per * p < 5  # pool rare outcomes: the chi-square approximation needs it
        f_obs, f_exp = counts[~small], per * p[~small]
        if small.any():
            f_obs = np.append(f_obs, counts[small].sum())
            f_exp = np.append(f_exp, per * p[small].sum())
        pvalues.append(stats.chisquare(f_obs, f_exp).pvalue)
    # Fisher's combination of the 27 independent tests.
    assert stats.combine_pvalues(pvalues).pvalue > 1e-3
    assert min(pvalues) > 1e-4


def test_sampling_is_reproducible_and_independent_of_batching(rng):
    psi = random_state(6, 2)
    a = ClassicalShadow.from_state(psi, n_snapshots=500, rng=np.random.default_rng(5))
    b = ClassicalShadow.from_state(psi, n_snapshots=500, rng=np.random.default_rng(5),
                                   memory_limit_bytes=20_000)  # forces many small batches
    assert sh._pauli_batch_size(6, 500, 20_000) < 500
    np.testing.assert_array_equal(a.bits, b.bits)
    np.testing.assert_array_equal(a.recipes, b.recipes)


def test_eigenstates_give_deterministic_outcomes(rng):
    psi = np.zeros(8)
    psi[0b101] = 1.0
    s = ClassicalShadow.from_state(psi, n_snapshots=300, rng=rng)
    z = s.recipes == 2
    np.testing.assert_array_equal(s.bits[z], np.broadcast_to([1, 0, 1], s.bits.shape)[z])


def test_from_circuit_equals_from_state():
    c = ghz_circuit(3)
    a = ClassicalShadow.from_circuit(c, n_snapshots=50, rng=np.random.default_rng(1))
    b = ClassicalShadow.from_state(state_vector(c), n_snapshots=50, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(a.bits, b.bits)
    assert a.qubits == tuple(cirq.LineQubit.range(3))


def test_from_clifford_with_given_unitaries_is_unbiased(rng):
    psi = random_state(2, 17)
    t = 1500
    unitaries = np.array([sh.random_clifford_unitary(2, rng=rng) for _ in range(t)])
    outcomes = [rng.choice(4, p=np.abs(u @ psi) ** 2 / np.sum(np.abs(u @ psi) ** 2))
                for u in unitaries]
    bits = [[b >> 1, b & 1] for b in outcomes]
    s = ClassicalShadow.from_clifford(bits, unitaries)
    words = local_pauli_strings(2, max_weight=2)
    v = s.snapshot_values(words)
    assert np.all(np.abs(v.mean(axis=0) - exact(psi, words)) < 5 * v.std(axis=0) / np.sqrt(t))
    np.testing.assert_allclose(s.clifford_states[0], unitaries[0].conj().T[:, outcomes[0]])


def test_subsystem_by_cirq_qubits(rng):
    q = cirq.GridQubit.rect(1, 3)
    s = ClassicalShadow.from_state(random_state(3, 18), n_snapshots=100, rng=rng, qubits=q)
    np.testing.assert_array_equal(s.reduced_state([q[2], q[0]]), s.reduced_state([2, 0]))
    assert s.expval(cirq.Z(q[1])) == s.expval("IZI")
    with pytest.raises(ValueError, match="was not measured"):
        s.purity([cirq.LineQubit(0)])


def test_arrays_are_read_only(rng):
    s = ClassicalShadow.from_state(random_state(2, 0), n_snapshots=5, rng=rng)
    with pytest.raises(ValueError):
        s.bits[0, 0] = 1


# ---- estimates -------------------------------------------------------------------------------

@pytest.mark.parametrize("ensemble", ["pauli", "clifford"])
def test_expval_close_to_exact(ensemble, rng):
    n = 3
    psi = random_state(n, 3)
    words = local_pauli_strings(n, max_weight=3)
    t = 20_000 if ensemble == "pauli" else 1500
    s = ClassicalShadow.from_state(psi, n_snapshots=t, rng=rng, ensemble=ensemble)
    values = s.snapshot_values(words)
    est = s.expval(words)
    np.testing.assert_allclose(est, values.mean(axis=0), atol=1e-12)
    se = values.std(axis=0, ddof=1) / np.sqrt(t)
    assert np.all(np.abs(est - exact(psi, words)) < 5 * se)


def test_expval_matches_brute_force_traces(rng):
    psi = random_state(3, 4)
    for ensemble in ("pauli", "clifford"):
        s = ClassicalShadow.from_state(psi, n_snapshots=40, rng=rng, ensemble=ensemble)
        mats = local_snapshot_matrices(s)
        for word in ["XYZ", "IZI", "ZZX", "III"]:
            brute = np.einsum("ij,tji->t", pauli_matrix(word), mats).real
            np.testing.assert_allclose(s.snapshot_values(word), brute, atol=1e-10)


def test_observable_forms_agree(rng):
    q = cirq.LineQubit.range(3)
    s = ClassicalShadow.from_state(random_state(3, 5), n_snapshots=400, rng=rng)
    ps = 0.5 * cirq.X(q[0]) * cirq.Z(q[2])
    assert s.expval(ps) == pytest.approx(0.5 * s.expval("XIZ"), abs=1e-12)
    ham = cirq.PauliSum.from_pauli_strings([cirq.Z(q[0]) * cirq.Z(q[1]), 2.0 * cirq.X(q[1])])
    assert s.expval(ham) == pytest.approx(s.expval("ZZI") + 2 * s.expval("IXI"), abs=1e-12)
    assert s.expval(cirq.PauliString()) == 1.0  # the identity
    assert isinstance(s.expval(["ZZI"]), np.ndarray)


def test_unbiasedness_over_many_seeds():
    n, t, reps = 3, 50, 300
    psi = random_state(n, 6)
    words = ["ZII", "XYI", "ZXY", "IYY"]
    est = np.array([ClassicalShadow.from_state(psi, n_snapshots=t, rng=np.random.default_rng(s))
                    .expval(words) for s in range(reps)])
    se = est.std(axis=0, ddof=1) / np.sqrt(reps)
    assert np.all(np.abs(est.mean(axis=0) - exact(psi, words)) < 4 * se)


def test_clifford_fidelity_is_unbiased_over_many_seeds():
    psi = state_vector(ghz_circuit(3))
    target = random_state(3, 7)
    reps = 60
    est = np.array([ClassicalShadow.from_state(psi, n_snapshots=20, ensemble="clifford",
                                               rng=np.random.default_rng(s)).fidelity(target)
                    for s in range(reps)])
    truth = abs(np.vdot(target, psi)) ** 2
    assert abs(est.mean() - truth) < 4 * est.std(ddof=1) / np.sqrt(reps)


def test_error_scales_as_inverse_sqrt_snapshots():
    n = 3
    psi = random_state(n, 8)
    words = local_pauli_strings(n, max_weight=2)
    truth = exact(psi, words)
    grid = [50, 200, 800, 3200]
    rmse = []
    for t in grid:
        errs = [ClassicalShadow.from_state(psi, n_snapshots=t, rng=np.random.default_rng(1000 * t + r))
                .expval(words) - truth for r in range(30)]
        rmse.append(float(np.sqrt(np.mean(np.square(errs)))))
    fit = fit_power_law(grid, rmse)
    assert abs(fit.exponent + 0.5) < 0.08, fit
    assert fit.r_squared > 0.99


def test_fidelity_pauli_and_clifford(rng):
    psi = state_vector(ghz_circuit(4))
    pauli = ClassicalShadow.from_state(psi, n_snapshots=4000, rng=rng)
    cliff = ClassicalShadow.from_state(psi, n_snapshots=1000, rng=rng, ensemble="clifford")
    for s in (pauli, cliff):
        v = s._fidelity_values(psi)
        assert abs(s.fidelity(psi, n_groups=5) - 1) < 5 * v.std() / np.sqrt(len(v)) + 0.02
        brute = np.einsum("i,tij,j->t", psi.conj(), local_snapshot_matrices(
            ClassicalShadow._new(s.bits[:30], None if s.recipes is None else s.recipes[:30],
                                 None if s.clifford_states is None else s.clifford_states[:30],
                                 s.ensemble, s.qubits)), psi).real
        np.testing.assert_allclose(v[:30], brute, atol=1e-10)
    # Global Cliffords estimate fidelity with far less variance than local Paulis.
    assert cliff._fidelity_values(psi).var() < 0.5 * pauli._fidelity_values(psi).var()


@pytest.mark.parametrize("ensemble", ["pauli", "clifford"])
def test_purity_u_statistic_equals_brute_force_pairs(ensemble, rng):
    psi = random_state(3, 9)
    s = ClassicalShadow.from_state(psi, n_snapshots=60, rng=rng, ensemble=ensemble)
    full = local_snapshot_matrices(s).reshape(60, 2, 2, 2, 2, 2, 2)
    for keep in ([0], [2, 0], [0, 1, 2]):
        red = _partial_trace(full, keep)
        t = len(red)
        pair = np.einsum("sij,tji->st", red, red).real
        brute = (pair.sum() - np.trace(pair)) / (t * (t - 1))
        assert s.purity(keep) == pytest.approx(brute, abs=1e-9)
        np.testing.assert_allclose(s.reduced_state(keep), red.mean(axis=0), atol=1e-12)


def _partial_trace(full: np.ndarray, keep: list[int]) -> np.ndarray:
    """Trace the qubits not in ``keep`` out of ``full``, shape (T, 2, ..., 2) (2n axes)."""
    t = full.shape[0]
    n = (full.ndim - 1) // 2
    out_axes = [0] + [1 + q for q in keep] + [1 + n + q for q in keep]
    in_axes = [0] + list(range(1, n + 1)) + [1 + n + q if q in keep else 1 + q
                                             for q in range(n)]
    red = np.einsum(full, in_axes, out_axes)
    da = 2 ** len(keep)
    return red.reshape(t, da, da)


def test_purity_and_renyi_entropy_estimates(rng):
    psi = state_vector(ghz_circuit(3))
    s = ClassicalShadow.from_state(psi, n_snapshots=6000, rng=rng)
    assert s.purity([1]) == pytest.approx(0.5, abs=0.05)
    assert s.renyi2_entropy([1]) == pytest.approx(1.0, abs=0.15)
    assert s.renyi2_entropy([0, 1], base=np.e) == pytest.approx(np.log(2), abs=0.15)
    psi = random_state(4, 10)
    s = ClassicalShadow.from_state(psi, n_snapshots=1500, rng=rng, ensemble="clifford")
    rho = reduced_density_matrix(psi, [0, 3])
    assert s.purity([0, 3]) == pytest.approx(np.trace(rho @ rho).real, abs=0.08)


def test_purity_is_unbiased_over_seeds():
    psi = random_state(3, 11)
    rho = reduced_density_matrix(psi, [0, 1])
    truth = np.trace(rho @ rho).real
    est = np.array([ClassicalShadow.from_state(psi, n_snapshots=100, rng=np.random.default_rng(s))
                    .purity([0, 1]) for s in range(150)])
    assert abs(est.mean() - truth) < 4 * est.std(ddof=1) / np.sqrt(len(est))


def test_renyi_entropy_warns_on_non_positive_purity():
    s = ClassicalShadow([[0], [1]], [[2], [2]])  # tr(ρ̂1 ρ̂2) = -4 < 0
    with pytest.warns(RuntimeWarning, match="not positive"):
        assert s.renyi2_entropy([0]) == np.inf


# ---- median of means --------------------------------------------------------------------------

def test_median_of_means_splits():
    v = np.arange(10.0)
    assert median_of_means(v, 1) == pytest.approx(4.5)
    # balanced: sizes 4, 3, 3 -> means 1.5, 5, 8
    assert median_of_means(v, 3) == pytest.approx(5.0)
    # pennylane: ceil(10/3) = 4 -> [0..3], [4..7], [8, 9] -> 1.5, 5.5, 8.5
    assert median_of_means(v, 3, split="pennylane") == pytest.approx(5.5)
    # mitiq: floor(10/3) = 3, 9 dropped -> 1, 4, 7
    assert median_of_means(v, 3, split="mitiq") == pytest.approx(4.0)
    for split in ("balanced", "pennylane", "mitiq"):
        assert median_of_means(v, 5, split=split) == pytest.approx(4.5)
    assert median_of_means([0.1, -0.1, 0.2, -0.2, 1e6, 0.0], 3) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="empty"):
        median_of_means(np.arange(9.0), 4, split="pennylane")


def test_local_pauli_strings_counts():
    assert len(local_pauli_strings(16, same_axis=True)) == 408
    assert len(local_pauli_strings(16)) == 48 + 9 * 120
    assert len(local_pauli_strings(4, max_weight=4)) == 4**4 - 1


# ---- derandomisation --------------------------------------------------------------------------

def test_derandomized_bases_cover_every_observable(rng):
    n = 6
    words = ([("I" * i + "ZZ" + "I" * (n - i - 2)) for i in range(n - 1)]
             + [("I" * i + "XX" + "I" * (n - i - 2)) for i in range(n - 1)] + ["YYYYYY"])
    bases = sh.derandomized_bases(words, measurements_per_observable=20)
    codes = np.array([[sh._PAULI_CODE[c] for c in w] for w in words])
    hits = [(np.all((bases == c) | (c < 0), axis=1)).sum() for c in codes]
    assert min(hits) >= 20
    assert len(bases) < 20 * len(words) / 3  # far fewer than measuring one by one
    psi = state_vector(ghz_circuit(n))
    s = ClassicalShadow.from_state(psi, bases=bases, rng=rng)
    est = s.expval(words, estimator="hits")
    np.testing.assert_allclose(est, exact(psi, words), atol=0.45)
    np.testing.assert_allclose(est[: n - 1], 1.0)  # ZZ on a GHZ state: deterministic


# ---- PennyLane and Mitiq on the same snapshots -------------------------------------------------

@pytest.fixture(scope="module")
def qml():
    pennylane = pytest.importorskip("pennylane")
    return pennylane


def _pl_observable(qml, word: str):
    factors = [getattr(qml, ch)(i) for i, ch in enumerate(word) if ch != "I"]
    return factors[0] if len(factors) == 1 else qml.prod(*factors)


@pytest.mark.parametrize(("t", "k", "split"), [(1000, 1, "balanced"), (1000, 10, "balanced"),
                                                (999, 7, "pennylane")])
def test_expval_equals_pennylane_on_identical_snapshots(qml, t, k, split):
    n = 4
    psi = random_state(n, 12)
    s = ClassicalShadow.from_state(psi, n_snapshots=t, rng=np.random.default_rng(t + k))
    words = local_pauli_strings(n, max_weight=3)
    pl_shadow = qml.ClassicalShadow(*s.to_pennylane())
    reference = pl_shadow.expval([_pl_observable(qml, w) for w in words], k=k)
    np.testing.assert_allclose(s.expval(words, n_groups=k, split=split), reference,
                               rtol=0, atol=1e-12)
    ham = qml.Hamiltonian([0.5, -1.5], [_pl_observable(qml, "ZZII"), _pl_observable(qml, "IXIY")])
    q = cirq.LineQubit.range(n)
    cham = cirq.PauliSum.from_pauli_strings([0.5 * cirq.Z(q[0]) * cirq.Z(q[1]),
                                             -1.5 * cirq.X(q[1]) * cirq.Y(q[3])])
    assert s.expval(cham) == pytest.approx(float(pl_shadow.expval(ham, k=1)), abs=1e-12)
    np.testing.assert_allclose(s.reduced_state([3, 1]),
                               pl_shadow.global_snapshots(wires=[3, 1]).mean(axis=0), atol=1e-12)


def test_pennylane_generated_snapshots_round_trip(qml):
    dev = qml.device("default.qubit", wires=3, seed=7)

    @qml.set_shots(shots=2000)
    @qml.qnode(dev)
    def circuit():
        qml.Hadamard(0)
        qml.CNOT([0, 1])
        qml.RY(0.7, wires=2)
        return qml.classical_shadow(wires=range(3))

    bits, recipes = circuit()
    ours = ClassicalShadow(np.asarray(bits), np.asarray(recipes))
    pl_shadow = qml.ClassicalShadow(np.asarray(bits), np.asarray(recipes))
    words = local_pauli_strings(3, max_weight=3)
    np.testing.assert_allclose(ours.expval(words),
                               pl_shadow.expval([_pl_observable(qml, w) for w in words]),
                               atol=1e-12)
    psi = state_vector(cirq.Circuit(bell_circuit(), cirq.ry(0.7)(cirq.LineQubit(2))))
    # PennyLane's sampler and ours estimate the same values.
    values = ours.snapshot_values(words)
    assert np.all(np.abs(ours.expval(words) - exact(psi, words))
                  < 5 * values.std(axis=0) / np.sqrt(2000) + 1e-9)


@pytest.fixture(scope="module")
def mitiq_shadows():
    pytest.importorskip("mitiq")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        from mitiq.experimental import shadows
    return shadows


@pytest.mark.parametrize(("t", "k", "split"), [(600, 1, "balanced"), (600, 6, "balanced"),
                                                (601, 4, "mitiq")])
def test_expval_equals_mitiq_on_identical_snapshots(mitiq_shadows, t, k, split):
    import mitiq

    n = 3
    psi = random_state(n, 13)
    s = ClassicalShadow.from_state(psi, n_snapshots=t, rng=np.random.default_rng(t + k))
    words = local_pauli_strings(n, max_weight=3)
    observables = []
    for w in words:
        support = [i for i, ch in enumerate(w) if ch != "I"]
        observables.append(mitiq.PauliString("".join(w[i] for i in support), support=support))
    out = mitiq_shadows.classical_post_processing(s.to_mitiq(), observables=observables,
                                                  k_shadows=k)
    np.testing.assert_allclose(s.expval(words, n_groups=k, split=split),
                               [out[str(o)] for o in observables], rtol=0, atol=1e-12)


def test_state_reconstruction_equals_mitiq(mitiq_shadows):
    s = ClassicalShadow.from_state(random_state(3, 14), n_snapshots=200,
                                   rng=np.random.default_rng(0))
    out = mitiq_shadows.classical_post_processing(s.to_mitiq(), state_reconstruction=True)
    np.testing.assert_allclose(s.reduced_state([0, 1, 2]), out["reconstructed_state"],
                               atol=1e-12)
    back = ClassicalShadow.from_mitiq(s.to_mitiq())
    np.testing.assert_array_equal(back.bits, s.bits)
    np.testing.assert_array_equal(back.recipes, s.recipes)


def test_mitiq_sampled_snapshots_agree_statistically(mitiq_shadows):
    from mitiq.interface.mitiq_cirq.cirq_utils import sample_bitstrings

    circuit = cirq.Circuit(bell_circuit(), cirq.ry(0.9)(cirq.LineQubit(2)))
    sampler = cirq.Simulator(seed=3)

    def executor(c):
        return sample_bitstrings(c, noise_level=(0,), sampler=sampler, shots=1)

    saved = np.random.get_state()  # noqa: NPY002 (mitiq seeds NumPy's global generator)
    try:
        outcomes = mitiq_shadows.shadow_quantum_processing(circuit, executor, 600,
                                                           random_seed=4)
    finally:
        np.random.set_state(saved)  # noqa: NPY002 (restore it for other tests)
    theirs = ClassicalShadow.from_mitiq(outcomes)
    ours = ClassicalShadow.from_circuit(circuit, n_snapshots=600, rng=np.random.default_rng(4))
    psi = state_vector(circuit)
    words = ["ZZI", "XXI", "IIZ", "IIX", "YYI"]
    for s in (theirs, ours):
        v = s.snapshot_values(words)
        assert np.all(np.abs(v.mean(axis=0) - exact(psi, words))
                      < 5 * v.std(axis=0) / np.sqrt(600) + 1e-9)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 3).flatmap(lambda n: st.tuples(
    st.lists(st.lists(st.integers(0, 1), min_size=n, max_size=n), min_size=1, max_size=6),
    st.lists(st.lists(st.integers(0, 2), min_size=n, max_size=n), min_size=6, max_size=6),
    st.text("IXYZ", min_size=n, max_size=n))))
def test_expval_is_the_mean_trace_of_the_snapshots(data):
    bits, recipes, word = data
    recipes = recipes[: len(bits)]
    s = ClassicalShadow(bits, recipes)
    brute = np.einsum("ij,tji->t", pauli_matrix(word), local_snapshot_matrices(s)).real.mean()
    assert s.expval(word) == pytest.approx(brute, abs=1e-10)


# ---- bad input ---------------------------------------------------------------------------------

def test_bad_observables_are_refused(rng):
    s = ClassicalShadow.from_state(random_state(3, 15), n_snapshots=20, rng=rng)
    with pytest.raises(ValueError, match="did not measure"):
        s.expval(cirq.Z(cirq.LineQubit(5)))
    with pytest.raises(ValueError, match="3 characters"):
        s.expval("ZZ")
    with pytest.raises(ValueError, match="3 characters"):
        s.expval("ZAZ")
    with pytest.raises(ValueError, match="Hermitian"):
        s.expval(1j * cirq.Z(cirq.LineQubit(0)))
    with pytest.raises(TypeError, match="observables"):
        s.expval(3)
    with pytest.raises(ValueError, match="empty"):
        s.expval([])


def test_too_many_groups_and_bad_options(rng):
    s = ClassicalShadow.from_state(random_state(2, 16), n_snapshots=5, rng=rng)
    with pytest.raises(ValueError, match="n_groups=6 exceeds the number of snapshots T=5"):
        s.expval("ZZ", n_groups=6)
    with pytest.raises(ValueError, match="n_groups=6"):
        s.fidelity(random_state(2, 1), n_groups=6)
    with pytest.raises(ValueError, match="split"):
        s.expval("ZZ", split="random")
    with pytest.raises(ValueError, match="n_groups=1"):
        s.expval("ZZ", n_groups=2, estimator="hits")
    with pytest.raises(ValueError, match="2 qubits"):
        s.fidelity(random_state(3, 1))


def test_bad_bits_and_recipes_are_refused():
    with pytest.raises(ValueError, match=r"unknown code\(s\) \[3\]"):
        ClassicalShadow([[0, 1]], [[0, 3]])
    with pytest.raises(ValueError, match="only 0 and 1"):
        ClassicalShadow([[0, 2]], [[0, 1]])
    with pytest.raises(ValueError, match="same shape"):
        ClassicalShadow([[0, 1]], [[0, 1, 2]])
    with pytest.raises(TypeError, match="basis codes"):
        ClassicalShadow([[0, 1]], [[0.5, 1]])
    with pytest.raises(ValueError, match="bases"):
        ClassicalShadow.from_state(np.array([1.0, 0]), bases=["Q"], rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="no snapshot"):
        ClassicalShadow([[0]], [[2]]).expval("X", estimator="hits")


def test_bad_states_and_arguments_are_refused(rng):
    with pytest.raises(ValueError, match="normalised"):
        ClassicalShadow.from_state(np.array([1.0, 1.0]), n_snapshots=5, rng=rng)
    with pytest.raises(ValueError, match="length 2"):
        ClassicalShadow.from_state(np.ones(3) / np.sqrt(3), n_snapshots=5, rng=rng)
    with pytest.raises(TypeError, match="rng"):
        ClassicalShadow.from_state(np.array([1.0, 0]), n_snapshots=5, rng=0)
    with pytest.raises(ValueError, match="n_snapshots"):
        ClassicalShadow.from_state(np.array([1.0, 0]), n_snapshots=0, rng=rng)
    with pytest.raises(ValueError, match="ensemble"):
        ClassicalShadow.from_state(np.array([1.0, 0]), n_snapshots=5, rng=rng, ensemble="haar")
    with pytest.raises(ValueError, match="clifford"):
        ClassicalShadow.from_state(random_state(9, 0), n_snapshots=5, rng=rng,
                                   ensemble="clifford")
    with pytest.raises(ValueError, match="unitary"):
        ClassicalShadow.from_clifford([[0]], [2 * np.eye(2)])
    s = ClassicalShadow([[0, 1]], [[0, 2]])
    with pytest.raises(ValueError, match="at least 2 snapshots"):
        s.purity([0])
    with pytest.raises(ValueError, match="distinct"):
        s.purity([0, 0])
    with pytest.raises(ValueError, match="subsystem"):
        s.reduced_state([2])
    with pytest.raises(ValueError, match="Pauli-ensemble"):
        ClassicalShadow.from_clifford([[0]], [np.eye(2)]).to_mitiq()


def test_derandomized_bases_bad_input():
    with pytest.raises(ValueError, match="identity"):
        sh.derandomized_bases(["II", "ZZ"], measurements_per_observable=2)
    with pytest.raises(ValueError, match=r"observables\[1\]"):
        sh.derandomized_bases(["ZZ", "Z"], measurements_per_observable=2)
    with pytest.raises(ValueError, match="measurements_per_observable"):
        sh.derandomized_bases(["ZZ"], measurements_per_observable=0)
    with pytest.raises(ValueError, match="weights"):
        sh.derandomized_bases(["ZZ", "XX"], measurements_per_observable=2, weights=[1.0])


# ---- exact reference values and single-snapshot variances ----------------------------------

def test_pauli_expectations_equal_dense_matrices():
    psi = random_state(3, 21)
    words = local_pauli_strings(3, max_weight=3)
    np.testing.assert_allclose(sh.pauli_expectations(psi, words), exact(psi, words), atol=1e-12)
    q = cirq.LineQubit.range(3)
    total = 0.5 * cirq.X(q[0]) * cirq.Y(q[2]) - 2.0 * cirq.Z(q[1])
    assert sh.pauli_expectations(psi, total) == pytest.approx(
        0.5 * exact(psi, ["XIY"])[0] - 2.0 * exact(psi, ["IZI"])[0], abs=1e-12)
    assert isinstance(sh.pauli_expectations(psi, "ZZZ"), float)
    with pytest.raises(ValueError, match="normalised"):
        sh.pauli_expectations(2 * psi, ["ZZZ"])


def _brute_pauli_fidelity_moments(psi: np.ndarray) -> tuple[float, float]:
    """E[ô] and E[ô²] over all 3^n bases and 2^n outcomes, from dense snapshot matrices."""
    n = int(np.log2(psi.size))
    rows = list(itertools.product(range(3), repeat=n))
    outcomes = list(itertools.product(range(2), repeat=n))
    recipes = np.array([r for r in rows for _ in outcomes])
    bits = np.array([b for _ in rows for b in outcomes])
    s = ClassicalShadow(bits, recipes)
    values = np.einsum("i,tij,j->t", psi.conj(), local_snapshot_matrices(s), psi).real
    vec = sh._BASIS_VECTORS  # vec[c, b] = |s_cb>
    probs = np.array([abs(np.vdot(_kron_all([vec[c, b] for c, b in zip(r, o, strict=True)]),
                                  psi)) ** 2 for r, o in zip(recipes, bits, strict=True)])
    weights = probs / 3.0**n
    return float(weights @ values), float(weights @ values**2)


def _kron_all(vectors: list[np.ndarray]) -> np.ndarray:
    out = np.ones(1, dtype=np.complex128)
    for v in vectors:
        out = np.kron(out, v)
    return out


@pytest.mark.parametrize("n", [1, 2, 3])
def test_pauli_fidelity_variance_equals_brute_force_enumeration(n):
    for psi in (random_state(n, 30 + n), state_vector(ghz_circuit(n))):
        first, second = _brute_pauli_fidelity_moments(psi)
        assert first == pytest.approx(1.0, abs=1e-10)  # the estimator is unbiased
        assert sh.fidelity_variance(psi) == pytest.approx(second - first**2, abs=1e-10)
        np.testing.assert_allclose(sh._pauli_fidelity_moments(psi, n, vectorised=1),
                                   (first, second), atol=1e-10)  # the chunked path


def test_pauli_fidelity_variance_matches_sampled_snapshots(rng):
    psi = state_vector(ghz_circuit(5))
    v = ClassicalShadow.from_state(psi, n_snapshots=20_000, rng=rng).fidelity_values(psi)
    exact_var = sh.fidelity_variance(psi)
    assert abs(v.mean() - 1) < 5 * np.sqrt(exact_var / v.size)
    assert v.var() == pytest.approx(exact_var, rel=0.1)


def test_clifford_fidelity_variance_equals_average_over_the_24_single_qubit_cliffords(rng):
    unitaries = {}
    while len(unitaries) < 24:
        u = sh.random_clifford_unitary(1, rng=rng)
        first = u.flat[np.flatnonzero(np.abs(u) > 1e-9)[0]]
        u = u * abs(first) / first  # fix the global phase: first non-zero entry real positive
        unitaries.setdefault(np.round(u, 8).tobytes(), u)
    psi = random_state(1, 40)
    moments = np.zeros(2)
    for u in unitaries.values():
        p = np.abs(u @ psi) ** 2
        value = 3 * p - 1  # (d + 1)|<ψ|U†|b>|² − 1 with |<ψ|U†|b>|² = p(b)
        moments += [p @ value, p @ value**2]
    moments /= 24
    assert moments[0] == pytest.approx(1.0, abs=1e-12)
    assert sh.fidelity_variance(psi, ensemble="clifford") == pytest.approx(
        moments[1] - moments[0] ** 2, abs=1e-12)


def test_clifford_fidelity_variance_matches_sampled_snapshots(rng):
    psi = random_state(3, 41)
    v = ClassicalShadow.from_state(psi, n_snapshots=3000, rng=rng,
                                   ensemble="clifford").fidelity_values(psi)
    assert v.var() == pytest.approx(sh.fidelity_variance(psi, ensemble="clifford"), rel=0.12)
    assert sh.fidelity_variance(psi, ensemble="clifford") == pytest.approx(2 * 7 / 10)


def test_clifford_snapshots_only_have_outcomes_of_positive_probability(rng):
    # GHZ is a stabiliser state: each Clifford outcome has probability 0 or 2^-k, so a
    # sampler that picked an impossible outcome would show |<ψ|U†|b>|² = 0 somewhere.
    psi = state_vector(ghz_circuit(4))
    s = ClassicalShadow.from_state(psi, n_snapshots=300, rng=rng, ensemble="clifford")
    overlaps = np.abs(s.clifford_states @ psi.conj()) ** 2
    assert np.all(overlaps > 1e-9)
    k = np.log2(1 / overlaps)
    np.testing.assert_allclose(k, np.round(k), atol=1e-9)


def test_fidelity_values_are_the_snapshots_of_fidelity(rng):
    psi = random_state(3, 42)
    s = ClassicalShadow.from_state(psi, n_snapshots=200, rng=rng)
    v = s.fidelity_values(psi)
    assert v.shape == (200,)
    assert s.fidelity(psi) == pytest.approx(v.mean(), abs=1e-12)
    with pytest.raises(ValueError, match="3 qubits"):
        s.fidelity_values(random_state(2, 0))


def test_fidelity_variance_bad_arguments():
    with pytest.raises(ValueError, match="ensemble"):
        sh.fidelity_variance(np.array([1.0, 0.0]), ensemble="haar")
    with pytest.raises(ValueError, match="exact Pauli variance"):
        sh.fidelity_variance(random_state(sh.MAX_EXACT_VARIANCE_QUBITS + 1, 0))
    with pytest.raises(ValueError, match="normalised"):
        sh.fidelity_variance(np.array([1.0, 1.0]))
