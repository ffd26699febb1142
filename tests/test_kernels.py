"""qmlkit.kernels: exact fidelity kernels and kernel-target alignment."""

from __future__ import annotations

import cirq
import numpy as np
import pytest

from qmlkit.encodings import angle_encoding, zz_feature_map
from qmlkit.kernels import (
    default_feature_map,
    feature_states,
    fidelity_kernel,
    kernel_target_alignment,
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
