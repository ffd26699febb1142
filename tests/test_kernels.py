"""qmlkit.kernels: fidelity (exact, vectorised, shots) and projected kernels, alignment, SVM."""

from __future__ import annotations

import cirq
import numpy as np
import pytest

from qmlkit.circuits import state_vector
from qmlkit.encodings import angle_encoding, zz_feature_map
from qmlkit.kernels import (
    AngleFeatureMap,
    QuantumKernelClassifier,
    ZZFeatureMap,
    default_feature_map,
    feature_states,
    fidelity_kernel,
    kernel_target_alignment,
    make_feature_map,
    one_qubit_reduced_density_matrices,
    projected_kernel,
    shot_fidelity_kernel,
    train_bandwidth,
    zz_states,
)
from qmlkit.subroutines import exact_overlap


@pytest.fixture
def points(rng) -> np.ndarray:
    return rng.uniform(0, 2 * np.pi, size=(7, 2))


def test_gram_matrix_is_symmetric_psd_with_unit_diagonal(points):
    k = fidelity_kernel(points)
    assert k.shape == (7, 7)
    np.testing.assert_array_equal(k, k.T)
    np.testing.assert_allclose(np.diag(k), 1.0, atol=1e-12)
    assert np.linalg.eigvalsh(k).min() > -1e-10
    assert np.all((k >= 0) & (k <= 1))


@pytest.mark.parametrize("n_features", [1, 2, 3])
def test_entries_equal_direct_cirq_overlaps(n_features, rng):
    xa = rng.uniform(0, 2 * np.pi, size=(4, n_features))
    xb = rng.uniform(0, 2 * np.pi, size=(3, n_features))
    k = fidelity_kernel(xa, xb)
    assert k.shape == (4, 3)
    for i, a in enumerate(xa):
        for j, b in enumerate(xb):
            direct = exact_overlap(zz_feature_map(a, reps=2), zz_feature_map(b, reps=2))
            assert k[i, j] == pytest.approx(direct, abs=1e-10)


def test_cross_kernel_is_the_transpose_and_matches_the_gram_matrix(points):
    xa, xb = points[:4], points[4:]
    np.testing.assert_allclose(fidelity_kernel(xa, xb), fidelity_kernel(xb, xa).T, atol=1e-14)
    np.testing.assert_allclose(fidelity_kernel(xa, xb), fidelity_kernel(points)[:4, 4:],
                               atol=1e-12)


def test_default_feature_map_is_zz_with_two_repetitions(points):
    explicit = fidelity_kernel(points, feature_map=lambda x: zz_feature_map(x, reps=2))
    np.testing.assert_allclose(fidelity_kernel(points), explicit, atol=1e-15)
    assert default_feature_map(points[0]) == zz_feature_map(points[0], reps=2)


def test_angle_encoding_kernel_has_closed_form(rng):
    xa, xb = rng.uniform(-3, 3, size=(5, 3)), rng.uniform(-3, 3, size=(4, 3))
    k = fidelity_kernel(xa, xb, feature_map=angle_encoding)
    closed = np.prod(np.cos((xa[:, None, :] - xb[None, :, :]) / 2) ** 2, axis=2)
    np.testing.assert_allclose(k, closed, atol=1e-12)


def test_feature_states_are_normalised_and_share_one_register():
    def sparse_map(x):  # the second sample leaves qubit 1 idle
        q = cirq.LineQubit.range(2)
        ops = [cirq.rx(x[0])(q[0])] + ([cirq.ry(x[1])(q[1])] if x[1] else [])
        return cirq.Circuit(ops)

    s = feature_states([[0.3, 0.7], [0.3, 0.0]], feature_map=sparse_map)
    assert s.shape == (2, 4)
    np.testing.assert_allclose(np.linalg.norm(s, axis=1), 1.0, atol=1e-12)
    k = fidelity_kernel([[0.3, 0.7]], [[0.3, 0.0]], feature_map=sparse_map)
    assert k[0, 0] == pytest.approx(np.cos(0.35) ** 2, abs=1e-12)


@pytest.mark.parametrize(("x", "match"), [
    ([[0.1, np.nan]], "NaN"),
    ([0.1, 0.2], "2-D"),
    (np.zeros((0, 2)), "at least one sample"),
    (np.zeros((2, 0)), "at least one feature"),
])
def test_bad_samples(x, match):
    with pytest.raises(ValueError, match=match):
        fidelity_kernel(x)


def test_bad_arguments_name_them():
    with pytest.raises(ValueError, match="same number of features"):
        fidelity_kernel(np.zeros((2, 2)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="x_b contains NaN"):
        fidelity_kernel(np.zeros((2, 2)), [[np.inf, 0.0]])
    with pytest.raises(TypeError, match="x_a must be numeric"):
        fidelity_kernel([["a", "b"]])
    with pytest.raises(TypeError, match="feature_map must be a callable"):
        fidelity_kernel(np.zeros((2, 2)), feature_map="zz")
    with pytest.raises(TypeError, match=r"feature_map must return a cirq\.Circuit"):
        fidelity_kernel(np.zeros((2, 2)), feature_map=lambda x: x)


def test_alignment_of_the_ideal_kernel_is_one_for_any_two_labels():
    y = np.array([0, 1, 1, 0, 1])
    t = 2 * y - 1
    ideal = np.outer(t, t).astype(float)
    assert kernel_target_alignment(ideal, y) == pytest.approx(1.0)
    assert kernel_target_alignment(ideal, t) == pytest.approx(1.0)
    assert kernel_target_alignment(ideal, np.where(y, "b", "a")) == pytest.approx(1.0)
    assert kernel_target_alignment(ideal, y, centered=True) == pytest.approx(1.0)


def test_alignment_range_and_centring(points):
    y = np.array([0, 0, 0, 1, 1, 1, 1])
    k = fidelity_kernel(points)
    a = kernel_target_alignment(k, y)
    assert -1.0 <= a <= 1.0
    assert kernel_target_alignment(k + 5.0, y, centered=True) == pytest.approx(
        kernel_target_alignment(k, y, centered=True))
    with pytest.raises(ValueError, match="zero"):
        kernel_target_alignment(np.ones((7, 7)), y, centered=True)
    with pytest.raises(ValueError, match="zero"):
        kernel_target_alignment(np.zeros((7, 7)), y)


def test_alignment_errors():
    with pytest.raises(ValueError, match="square"):
        kernel_target_alignment(np.ones((2, 3)), [0, 1])
    with pytest.raises(ValueError, match="one label per row"):
        kernel_target_alignment(np.eye(3), [0, 1])
    with pytest.raises(ValueError, match="exactly two values"):
        kernel_target_alignment(np.eye(3), [0, 0, 0])
    with pytest.raises(TypeError, match="centered must be a bool"):
        kernel_target_alignment(np.eye(2), [0, 1], centered=1)


# --------------------------------------------------------------------------------------------
# vectorised feature maps, chunking, shots, projected kernel, training, scikit-learn
# --------------------------------------------------------------------------------------------



@pytest.mark.parametrize("entanglement", ["full", "linear", "circular"])
@pytest.mark.parametrize(("n", "reps"), [(1, 1), (2, 2), (3, 1), (4, 3), (5, 2)])
def test_vectorised_zz_states_equal_cirq_state_vectors(n, reps, entanglement, rng):
    x = rng.uniform(0, 2 * np.pi, size=(4, n))
    states = zz_states(x, reps=reps, entanglement=entanglement)
    for i in range(4):
        ref = state_vector(zz_feature_map(x[i], reps=reps, entanglement=entanglement))
        np.testing.assert_allclose(states[i], ref, atol=1e-10)


def test_fast_kernel_equals_generic_cirq_path(rng):
    x = rng.uniform(0, 2 * np.pi, size=(9, 3))
    y = rng.uniform(0, 2 * np.pi, size=(5, 3))
    fast = fidelity_kernel(x, feature_map=ZZFeatureMap())
    np.testing.assert_allclose(fast, fidelity_kernel(x), atol=1e-10)
    np.testing.assert_allclose(fidelity_kernel(x, y, feature_map=ZZFeatureMap()),
                               fidelity_kernel(x, y), atol=1e-10)
    fm = ZZFeatureMap(reps=1, entanglement="linear", bandwidth=[0.5, 1.0, 2.0])
    np.testing.assert_allclose(fidelity_kernel(x, feature_map=fm),
                               fidelity_kernel(x, feature_map=lambda v: fm(v)), atol=1e-10)


def test_fast_gram_matrix_is_symmetric_psd_with_unit_diagonal(rng):
    x = rng.uniform(0, 2 * np.pi, size=(40, 4))
    k = fidelity_kernel(x, feature_map=ZZFeatureMap())
    np.testing.assert_array_equal(k, k.T)
    np.testing.assert_allclose(np.diag(k), 1.0, atol=1e-12)
    assert np.linalg.eigvalsh(k).min() > -1e-10


def test_angle_feature_map_vectorised_matches_closed_form(rng):
    xa, xb = rng.uniform(-3, 3, size=(5, 3)), rng.uniform(-3, 3, size=(4, 3))
    k = fidelity_kernel(xa, xb, feature_map=AngleFeatureMap(bandwidth=0.7))
    closed = np.prod(np.cos(0.7 * (xa[:, None, :] - xb[None, :, :]) / 2) ** 2, axis=2)
    np.testing.assert_allclose(k, closed, atol=1e-12)
    s = feature_states(xa, feature_map=AngleFeatureMap())
    np.testing.assert_allclose(s[0], state_vector(angle_encoding(xa[0])), atol=1e-12)


def test_chunking_gives_the_same_matrix_and_refuses_too_large_unchunked(rng):
    x = rng.uniform(0, 2 * np.pi, size=(60, 3))
    full = fidelity_kernel(x, feature_map=ZZFeatureMap(), chunk_size=None)
    for chunk in (1, 7, "auto"):
        np.testing.assert_allclose(fidelity_kernel(x, feature_map=ZZFeatureMap(),
                                                   chunk_size=chunk), full, atol=1e-14)
    budget = 8 * 60 * 60 + 60 * 8 * 16 + 24 * 60 * 10  # matrix + states + 10 rows
    np.testing.assert_allclose(fidelity_kernel(x, feature_map=ZZFeatureMap(),
                                               max_memory_bytes=budget), full, atol=1e-14)
    with pytest.raises(ValueError, match="too large without chunking"):
        fidelity_kernel(x, feature_map=ZZFeatureMap(), chunk_size=None, max_memory_bytes=budget)
    with pytest.raises(ValueError, match="max_memory_bytes"):
        fidelity_kernel(x, feature_map=ZZFeatureMap(), max_memory_bytes=1000)
    with pytest.raises(ValueError, match="chunk_size"):
        fidelity_kernel(x, feature_map=ZZFeatureMap(), chunk_size="big")
    with pytest.raises(ValueError, match="chunk_size must be >= 1"):
        fidelity_kernel(x, feature_map=ZZFeatureMap(), chunk_size=0)


def test_matches_pennylane_kernel(rng):
    qml = pytest.importorskip("pennylane")
    n = 3
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    dev = qml.device("default.qubit", wires=n)

    def zz(x):
        for _ in range(2):
            for i in range(n):
                qml.Hadamard(wires=i)
                qml.PhaseShift(2 * x[i], wires=i)
            for i, j in pairs:
                qml.CNOT(wires=[i, j])
                qml.PhaseShift(2 * (np.pi - x[i]) * (np.pi - x[j]), wires=j)
                qml.CNOT(wires=[i, j])

    @qml.qnode(dev)
    def overlap(x1, x2):
        zz(x1)
        qml.adjoint(zz)(x2)
        return qml.probs(wires=range(n))

    x = rng.uniform(0, 2 * np.pi, size=(4, n))
    ref = qml.kernels.square_kernel_matrix(x, lambda a, b: overlap(a, b)[0],
                                           assume_normalized_kernel=True)
    np.testing.assert_allclose(fidelity_kernel(x, feature_map=ZZFeatureMap()), ref, atol=1e-6)


def test_matches_qiskit_machine_learning(rng):
    pytest.importorskip("qiskit_machine_learning")
    from qiskit.circuit import library
    from qiskit_machine_learning.kernels import FidelityStatevectorKernel

    x = rng.uniform(0, 2 * np.pi, size=(6, 3))
    make = getattr(library, "zz_feature_map", None) or library.ZZFeatureMap  # qiskit >= 2.1
    kernel = FidelityStatevectorKernel(feature_map=make(3, reps=2, entanglement="full"))
    np.testing.assert_allclose(fidelity_kernel(x, feature_map=ZZFeatureMap()),
                               kernel.evaluate(x), atol=1e-6)


def test_shot_kernel_is_unbiased_with_binomial_error(rng):
    x = rng.uniform(0, 2 * np.pi, size=(6, 2))
    shots = 400
    runs = [shot_fidelity_kernel(x, shots=shots, rng=rng, feature_map=ZZFeatureMap())
            for _ in range(300)]
    est = runs[0]
    assert est.circuits == 15 and est.total_shots == 15 * shots and est.shots == shots
    np.testing.assert_array_equal(np.diag(est.kernel), 1.0)
    np.testing.assert_array_equal(est.kernel, est.kernel.T)
    exact = est.exact
    stack = np.stack([r.kernel for r in runs])
    iu = np.triu_indices(6, k=1)
    np.testing.assert_allclose(stack.mean(axis=0)[iu], exact[iu], atol=0.01)
    expected_sd = np.sqrt(exact * (1 - exact) / shots)[iu]
    np.testing.assert_allclose(stack.std(axis=0)[iu], expected_sd, atol=0.006)
    cross = shot_fidelity_kernel(x[:2], x[2:], shots=10, rng=rng, feature_map=ZZFeatureMap())
    assert cross.circuits == 8 and cross.kernel.shape == (2, 4)
    with pytest.raises(ValueError, match="shots must be >= 1"):
        shot_fidelity_kernel(x, shots=0, rng=rng)
    with pytest.raises(TypeError, match=r"rng must be a numpy\.random\.Generator"):
        shot_fidelity_kernel(x, shots=10, rng=0)


def test_shot_kernel_entry_is_the_compute_uncompute_probability(rng):
    from qmlkit.measurement import probabilities
    from qmlkit.subroutines import compute_uncompute_circuit

    x = rng.uniform(0, 2 * np.pi, size=(2, 3))
    k = fidelity_kernel(x, feature_map=ZZFeatureMap())
    circuit = compute_uncompute_circuit(zz_feature_map(x[0]), zz_feature_map(x[1]))
    p0 = probabilities(state_vector(circuit, cirq.LineQubit.range(3)))[0]
    assert k[0, 1] == pytest.approx(p0, abs=1e-10)


def test_reduced_density_matrices_match_partial_trace(rng):
    from qmlkit.circuits import reduced_density_matrix

    x = rng.uniform(0, 2 * np.pi, size=(3, 4))
    states = zz_states(x)
    rdms = one_qubit_reduced_density_matrices(states)
    for i in range(3):
        for q in range(4):
            np.testing.assert_allclose(rdms[i, q], reduced_density_matrix(states[i], [q]),
                                       atol=1e-12)
    with pytest.raises(ValueError, match="2\\^n columns"):
        one_qubit_reduced_density_matrices(np.ones((2, 3)))


def test_projected_kernel_definition_and_properties(rng):
    x = rng.uniform(0, 2 * np.pi, size=(8, 3))
    y = rng.uniform(0, 2 * np.pi, size=(4, 3))
    fm = ZZFeatureMap()
    k = projected_kernel(x, feature_map=fm, gamma=0.7)
    np.testing.assert_array_equal(k, k.T)
    np.testing.assert_allclose(np.diag(k), 1.0)
    assert np.linalg.eigvalsh(k).min() > -1e-10
    ra = one_qubit_reduced_density_matrices(zz_states(x))
    rb = one_qubit_reduced_density_matrices(zz_states(y))
    direct = np.array([[np.exp(-0.7 * sum(np.linalg.norm(ra[i, q] - rb[j, q]) ** 2
                                          for q in range(3))) for j in range(4)]
                       for i in range(8)])
    np.testing.assert_allclose(projected_kernel(x, y, feature_map=fm, gamma=0.7), direct,
                               atol=1e-12)
    np.testing.assert_allclose(projected_kernel(x, y, gamma=0.7), direct, atol=1e-10)
    with pytest.raises(ValueError, match="gamma must be > 0"):
        projected_kernel(x, gamma=0.0)


def test_train_bandwidth_improves_alignment(rng):
    x = rng.uniform(0, 2 * np.pi, size=(30, 3))
    y = (np.cos(x[:, 0]) > 0).astype(int)
    fit = train_bandwidth(x, y, initial=1.0)
    assert fit.alignment >= fit.initial_alignment
    assert 0.01 <= fit.bandwidth <= 2.0
    per = train_bandwidth(x, y, per_feature=True, max_iterations=5)
    assert per.bandwidth.shape == (3,) and per.alignment >= per.initial_alignment
    k = fidelity_kernel(x, feature_map=fit.feature_map)
    assert kernel_target_alignment(k, y, centered=True) == pytest.approx(fit.alignment)
    with pytest.raises(ValueError, match="bounds"):
        train_bandwidth(x, y, bounds=(2.0, 1.0))
    with pytest.raises(ValueError, match="feature_map must be one of"):
        train_bandwidth(x, y, feature_map="rbf")


def test_classifier_follows_scikit_learn_conventions(rng):
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler

    x = rng.uniform(0, 2 * np.pi, size=(40, 2))
    y = np.where(np.sin(x[:, 0]) * np.sin(x[:, 1]) > 0, "a", "b")
    clf = QuantumKernelClassifier(bandwidth=0.5, C=10.0)
    assert clf.get_params()["bandwidth"] == 0.5
    assert clone(clf).set_params(kernel="projected").kernel == "projected"
    clf.fit(x, y)
    assert set(clf.classes_) == {"a", "b"}
    assert clf.predict(x).shape == (40,) and 0.0 <= clf.score(x, y) <= 1.0
    assert clf.decision_function(x[:3]).shape == (3,)
    grid = GridSearchCV(QuantumKernelClassifier(), {"bandwidth": [0.25, 1.0],
                                                     "kernel": ["fidelity", "projected"],
                                                     "C": [1.0, 10.0]}, cv=3).fit(x, y)
    assert grid.best_params_["kernel"] in ("fidelity", "projected")
    pipe = make_pipeline(MinMaxScaler((0, np.pi)), QuantumKernelClassifier(feature_map="angle"))
    assert pipe.fit(x, y).score(x, y) > 0.5
    with pytest.raises(ValueError, match="X must have 2 features"):
        clf.predict(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="one label per row"):
        QuantumKernelClassifier().fit(x, y[:-1])
    with pytest.raises(ValueError, match="kernel must be one of"):
        QuantumKernelClassifier(kernel="rbf").fit(x, y)
    with pytest.raises(ValueError, match="X contains NaN"):
        QuantumKernelClassifier().fit(np.full((3, 2), np.nan), [0, 1, 0])


def test_feature_map_arguments_are_checked(rng):
    with pytest.raises(ValueError, match="bandwidth must be > 0"):
        ZZFeatureMap(bandwidth=0.0)
    with pytest.raises(ValueError, match="entanglement must be one of"):
        ZZFeatureMap(entanglement="ring")
    with pytest.raises(ValueError, match="reps must be >= 1"):
        make_feature_map("zz", reps=0)
    with pytest.raises(ValueError, match="one value per feature"):
        fidelity_kernel(np.zeros((2, 3)), feature_map=ZZFeatureMap(bandwidth=[1.0, 2.0]))
    with pytest.raises(ValueError, match="same number of features"):
        fidelity_kernel(np.zeros((2, 2)), np.zeros((2, 3)), feature_map=ZZFeatureMap())
    with pytest.raises(ValueError, match="x_a must hold at least one sample"):
        projected_kernel(np.zeros((0, 2)), feature_map=ZZFeatureMap())
