"""qmlkit.benchmarking: digits data, matched random search, seed comparisons, shots, ranks."""

from __future__ import annotations

import warnings

import cirq
import numpy as np
import pytest

from qmlkit import benchmarking as b
from qmlkit.circuits import state_vector
from qmlkit.measurement import exact_expectation

# --------------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------------


def test_average_pool_means_blocks():
    images = np.arange(2 * 4 * 4, dtype=float).reshape(2, 4, 4)
    pooled = b.average_pool(images, (2, 2))
    assert pooled.shape == (2, 4)
    np.testing.assert_allclose(pooled[0], [images[0, :2, :2].mean(), images[0, :2, 2:].mean(),
                                           images[0, 2:, :2].mean(), images[0, 2:, 2:].mean()])
    np.testing.assert_allclose(b.average_pool(images, (1, 1))[:, 0], images.mean(axis=(1, 2)))
    np.testing.assert_allclose(b.average_pool(images, (4, 4)), images.reshape(2, 16))


@pytest.mark.parametrize("images, shape, exc, match", [
    (np.zeros((4, 4)), (2, 2), ValueError, "dimension"),
    (np.zeros((1, 4, 4)), (3, 2), ValueError, "divide"),
    (np.zeros((1, 4, 4)), (2,), ValueError, "pool_shape"),
    (np.zeros((1, 4, 4)), (0, 2), ValueError, "pool_shape"),
    (np.full((1, 4, 4), np.nan), (2, 2), ValueError, "NaN"),
    (np.zeros((1, 4, 4)), "22", TypeError, "pool_shape"),
])
def test_average_pool_rejects_bad_input(images, shape, exc, match):
    with pytest.raises(exc, match=match):
        b.average_pool(images, shape)


def test_load_digits_pair_splits_and_standardises():
    d = b.load_digits_pair((3, 5), pool_shape=(2, 2), test_fraction=0.3, val_fraction=0.2,
                           seed=0)
    assert d.n_features == 4 and d.classes == (3, 5) and d.pool_shape == (2, 2)
    sizes = d.sizes()
    assert sizes["samples"].tolist() == [204, 51, 110]  # 183 threes + 182 fives
    assert sizes.iloc[:, 2:].sum().sum() == 365
    for split in ("train", "val", "test"):  # stratified: both classes about equally
        y = getattr(d, f"y_{split}")
        assert set(np.unique(y)) == {0, 1} and abs(np.mean(y) - 0.5) < 0.02
    np.testing.assert_allclose(d.x_train.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(d.x_train.std(axis=0), 1.0, atol=1e-12)
    # the validation and test sets use the training statistics, so they are not exactly 0/1
    assert np.max(np.abs(d.x_test.mean(axis=0))) > 1e-6


def test_load_digits_pair_is_reproducible_and_disjoint():
    a = b.load_digits_pair((0, 1), seed=3, n_train=30)
    again = b.load_digits_pair((0, 1), seed=3, n_train=30)
    other = b.load_digits_pair((0, 1), seed=4, n_train=30)
    np.testing.assert_array_equal(a.x_train, again.x_train)
    assert not np.array_equal(a.x_train, other.x_train)
    assert len(a.y_train) == 30 and np.sum(a.y_train) == 15
    # no image is in two splits (compare the raw pooled pixels)
    raw = {split: {tuple(np.round(r * a.scale + a.mean, 9)) for r in getattr(a, f"x_{split}")}
           for split in ("train", "val", "test")}
    assert not raw["train"] & raw["test"] and not raw["val"] & raw["test"]


def test_load_digits_pair_labels_follow_the_order_of_classes():
    d35 = b.load_digits_pair((3, 5), pool_shape=(1, 1), seed=0)
    d53 = b.load_digits_pair((5, 3), pool_shape=(1, 1), seed=0)
    # mean ink of label 1 in one ordering is that of label 0 in the other
    raw35 = d35.x_train[:, 0] * d35.scale[0] + d35.mean[0]
    raw53 = d53.x_train[:, 0] * d53.scale[0] + d53.mean[0]
    assert (raw35[d35.y_train == 1].mean() - raw35[d35.y_train == 0].mean()) * (
        raw53[d53.y_train == 1].mean() - raw53[d53.y_train == 0].mean()) < 0


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"classes": (3, 3)}, ValueError, "classes"),
    ({"classes": (3, 10)}, ValueError, "classes"),
    ({"classes": (1, 2, 3)}, ValueError, "classes"),
    ({"classes": (3.0, 5)}, TypeError, "classes"),
    ({"pool_shape": (3, 2)}, ValueError, "pool_shape"),
    ({"test_fraction": 0.0}, ValueError, "test_fraction"),
    ({"val_fraction": 0.95}, ValueError, "val_fraction"),
    ({"n_train": 2}, ValueError, "n_train"),
    ({"n_train": 10_000}, ValueError, "n_train"),
    ({"seed": -1}, ValueError, "seed"),
])
def test_load_digits_pair_rejects_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        b.load_digits_pair(**kwargs)


# --------------------------------------------------------------------------------------------
# random search
# --------------------------------------------------------------------------------------------


def test_log_uniform_draws_within_bounds_log_uniformly(rng):
    spec = b.LogUniform(1e-4, 1.0)
    draws = np.array([spec.sample(rng) for _ in range(4000)])
    assert draws.min() >= 1e-4 and draws.max() <= 1.0
    # log10 is uniform on [-4, 0]: each decade gets about a quarter of the draws
    counts = np.histogram(np.log10(draws), bins=4, range=(-4, 0))[0]
    assert np.all(np.abs(counts / 4000 - 0.25) < 0.03)
    assert b.LogUniform(0.5, 0.5).sample(rng) == pytest.approx(0.5)
    for low, high in ((0.0, 1.0), (1.0, 0.5), (-1.0, 1.0)):
        with pytest.raises(ValueError, match="LogUniform"):
            b.LogUniform(low, high)


def test_sample_configurations_is_reproducible_and_keeps_choices(rng):
    space = {"lr": b.LogUniform(1e-3, 1e-1), "init": ["uniform", "small"], "depth": (1, 2, 3)}
    a = b.sample_configurations(space, n_trials=50, rng=np.random.default_rng(5))
    again = b.sample_configurations(space, n_trials=50, rng=np.random.default_rng(5))
    assert a == again
    assert {c["init"] for c in a} == {"uniform", "small"} and {c["depth"] for c in a} == {1, 2, 3}
    assert all(isinstance(c["depth"], int) and 1e-3 <= c["lr"] <= 1e-1 for c in a)
    assert b.sample_configurations({}, n_trials=2, rng=rng) == [{}, {}]


@pytest.mark.parametrize("space, n_trials, exc, match", [
    ({"lr": 0.1}, 1, TypeError, "LogUniform or a list"),
    ({"lr": "abc"}, 1, TypeError, "LogUniform or a list"),
    ({"lr": []}, 1, ValueError, "at least one"),
    ({1: [1]}, 1, TypeError, "keys"),
    ([("lr", [1])], 1, TypeError, "dict"),
    ({"lr": [1]}, 0, ValueError, "n_trials"),
])
def test_sample_configurations_rejects_bad_spaces(space, n_trials, exc, match, rng):
    with pytest.raises(exc, match=match):
        b.sample_configurations(space, n_trials=n_trials, rng=rng)


def test_matched_search_gives_every_model_the_same_trials_and_shared_draws():
    calls = []

    def objective(name):
        def run(config, trial):
            calls.append((name, trial, dict(config)))
            # "a" likes lr near 0.01; "b" likes width 8
            score = -abs(np.log10(config["lr"]) + 2) if name == "a" else config.get("width", 0)
            return {"acc": float(score), "loss": float(trial)}
        return run

    res = b.matched_random_search(
        {"a": objective("a"), "b": objective("b")}, n_trials=5, rng=np.random.default_rng(1),
        shared_space={"lr": b.LogUniform(1e-3, 1e-1)},
        model_spaces={"a": {"init": ["u", "s"]}, "b": {"width": [4, 8]}},
        score="acc", tie_breaker="loss")
    assert res.n_trials == 5 and res.score == "acc" and res.tie_breaker == "loss"
    assert res.trials.groupby("model").size().to_dict() == {"a": 5, "b": 5}
    assert [c[:2] for c in calls] == [(m, t) for t in range(5) for m in ("a", "b")]
    for t in range(5):  # common random numbers: both models got the same learning rate
        lrs = {c[2]["lr"] for c in calls if c[1] == t}
        assert len(lrs) == 1
    assert set(calls[0][2]) == {"lr", "init"} and set(calls[1][2]) == {"lr", "width"}
    # the selected trial maximises the score; ties go to the lower loss (= earlier trial)
    a_trials = [c for c in calls if c[0] == "a"]
    best_a = max(range(5), key=lambda t: (-abs(np.log10(a_trials[t][2]["lr"]) + 2)))
    assert res.best["a"]["trial"] == best_a
    assert res.best_config("a") == a_trials[best_a][2]
    b_eights = [c[1] for c in calls if c[0] == "b" and c[2]["width"] == 8]
    assert res.best["b"]["trial"] == min(b_eights) and res.best_config("b")["width"] == 8
    assert isinstance(res.best_config("b")["width"], int)
    assert res.best["b"]["metrics"] == {"acc": 8.0, "loss": float(min(b_eights))}
    with pytest.raises(KeyError, match="no model"):
        res.best_config("c")


def test_matched_search_is_reproducible_and_ties_without_a_breaker_go_early():
    def run(config, trial):
        return {"acc": 1.0}

    kwargs = {"n_trials": 3, "shared_space": {"x": [1, 2, 3, 4]}, "score": "acc",
              "tie_breaker": None}
    r1 = b.matched_random_search({"m": run}, rng=np.random.default_rng(2), **kwargs)
    r2 = b.matched_random_search({"m": run}, rng=np.random.default_rng(2), **kwargs)
    assert r1.trials.equals(r2.trials)
    assert r1.best["m"]["trial"] == 0


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"objectives": {}}, ValueError, "non-empty"),
    ({"objectives": {"m": 3}}, TypeError, "callables"),
    ({"model_spaces": {"other": {"x": [1]}}}, ValueError, "without an objective"),
    ({"model_spaces": {"m": {"lr": [1]}}}, ValueError, "repeats shared"),
    ({"model_spaces": [1]}, TypeError, "model_spaces"),
    ({"score": "missing"}, ValueError, "did not return 'missing'"),
    ({"objectives": {"m": lambda c, t: [1.0]}}, TypeError, "dict of metrics"),
    ({"objectives": {"m": lambda c, t: {"acc": float("nan"), "loss": 0.0}}}, ValueError,
     "finite"),
    ({"objectives": {"m": lambda c, t: {"acc": 1.0, "loss": 0.0, "lr": 1}}}, ValueError,
     "named like"),
    ({"n_trials": 0}, ValueError, "n_trials"),
    ({"rng": 0}, TypeError, "Generator"),
    ({"score": 1}, TypeError, "metric names"),
])
def test_matched_search_rejects_bad_arguments(kwargs, exc, match):
    args = {"objectives": {"m": lambda c, t: {"acc": 1.0, "loss": 0.0}}, "n_trials": 2,
            "rng": np.random.default_rng(0), "shared_space": {"lr": [0.1]}, "score": "acc",
            "tie_breaker": "loss", **kwargs}
    with pytest.raises(exc, match=match):
        b.matched_random_search(args.pop("objectives"), **args)


# --------------------------------------------------------------------------------------------
# comparing seeds
# --------------------------------------------------------------------------------------------


def test_compare_seeds_numbers_and_verdicts():
    a, c = [0.90, 0.92, 0.91, 0.93], [0.80, 0.82, 0.81, 0.83]
    far = b.compare_seeds(a, c, names=("MLP", "QNN"))
    assert far.means == pytest.approx((0.915, 0.815)) and far.n_seeds == (4, 4)
    assert far.stds[0] == pytest.approx(np.std(a, ddof=1))
    assert far.difference == pytest.approx(0.1) and far.exceeds_std and far.welch_p < 1e-3
    assert far.verdict.startswith("MLP ahead of QNN by 0.100, more than")
    near = b.compare_seeds([0.90, 0.95, 0.85], [0.91, 0.96, 0.86], names=("MLP", "QNN"))
    assert not near.exceeds_std and near.welch_p > 0.5
    assert near.verdict == ("QNN ahead of MLP by 0.010, within the seed-to-seed standard "
                            "deviation (0.050)")
    level = b.compare_seeds([0.9, 0.8], [0.8, 0.9])
    assert level.verdict.startswith("a and b level") and not level.exceeds_std
    table = far.table(decimals=2)
    assert table["model"].tolist() == ["MLP", "QNN"] and table["mean"].tolist() == [0.92, 0.82]


def test_compare_seeds_without_spread():
    same = b.compare_seeds([1.0, 1.0], [1.0, 1.0])
    assert same.welch_p == 1.0 and same.stds == (0.0, 0.0) and "level" in same.verdict
    apart = b.compare_seeds([1.0, 1.0], [0.5, 0.5])
    assert apart.welch_p == 0.0 and apart.exceeds_std
    with warnings.catch_warnings():  # one model without spread: no scipy precision warning
        warnings.simplefilter("error")
        one_flat = b.compare_seeds([0.982, 0.982], [0.909, 0.955])
    assert 0 < one_flat.welch_p < 1 and one_flat.exceeds_std


def test_compare_seeds_verdict_uses_the_printed_rounding():
    # a difference of 0.0004 prints as 0.000 at 3 decimals: "level", not "ahead by 0.000"
    c = b.compare_seeds([0.9004, 0.9014], [0.9, 0.901])
    assert "level" in c.verdict and not c.exceeds_std


@pytest.mark.parametrize("a, bb, kwargs, exc, match", [
    ([0.9], [0.8, 0.7], {}, ValueError, "at least 2"),
    ([0.9, np.nan], [0.8, 0.7], {}, ValueError, "NaN"),
    ([0.9, 0.8], [0.8, 0.7], {"names": "ab"}, TypeError, "names"),
    ([0.9, 0.8], [0.8, 0.7], {"names": ("a", 1)}, TypeError, "names"),
    ([0.9, 0.8], [0.8, 0.7], {"decimals": -1}, ValueError, "decimals"),
])
def test_compare_seeds_rejects_bad_input(a, bb, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        b.compare_seeds(a, bb, **kwargs)


# --------------------------------------------------------------------------------------------
# shots and ranks
# --------------------------------------------------------------------------------------------


def test_sampled_z_expectations_are_unbiased_binomial_and_joint(rng):
    q = cirq.LineQubit.range(3)
    circuit = cirq.Circuit(cirq.ry(0.7)(q[0]), cirq.CNOT(q[0], q[1]), cirq.rx(2.1)(q[2]))
    psi = state_vector(circuit, q)
    exact = np.array([exact_expectation(circuit, cirq.Z(qi)) for qi in q])
    shots, reps = 200, 3000
    est = b.sampled_z_expectations(psi, shots=shots, repetitions=reps, rng=rng)
    assert est.shape == (reps, 3)
    se = np.sqrt((1 - exact**2) / shots)
    assert np.all(np.abs(est.mean(axis=0) - exact) <= 5 * se / np.sqrt(reps))
    np.testing.assert_allclose(est.std(axis=0, ddof=1), se, rtol=0.06)
    # qubits 0 and 1 are perfectly correlated (CNOT copies Z): the same shots give equal estimates
    np.testing.assert_array_equal(est[:, 0], est[:, 1])
    # every estimate is (2k - shots)/shots for an integer count k, within [-1, 1]
    counts = (est * shots + shots) / 2
    assert np.all(np.abs(est) <= 1) and np.allclose(counts, np.round(counts))


def test_sampled_z_expectations_reproducible_and_checked():
    psi = np.ones(4) / 2
    a = b.sampled_z_expectations(psi, shots=7, repetitions=3, rng=np.random.default_rng(9))
    again = b.sampled_z_expectations(psi, shots=7, repetitions=3, rng=np.random.default_rng(9))
    np.testing.assert_array_equal(a, again)
    with pytest.raises(ValueError, match="normalised"):
        b.sampled_z_expectations(np.ones(4), shots=1, repetitions=1, rng=np.random.default_rng())
    with pytest.raises(ValueError, match="2\\*\\*n_qubits"):
        b.sampled_z_expectations(np.ones(3) / np.sqrt(3), shots=1, repetitions=1,
                                 rng=np.random.default_rng())
    with pytest.raises(ValueError, match="2\\*\\*n_qubits"):
        b.sampled_z_expectations(np.ones(1), shots=1, repetitions=1, rng=np.random.default_rng())
    with pytest.raises(ValueError, match="shots"):
        b.sampled_z_expectations(psi, shots=0, repetitions=1, rng=np.random.default_rng())
    with pytest.raises(TypeError, match="Generator"):
        b.sampled_z_expectations(psi, shots=1, repetitions=1, rng=1)


def test_numerical_rank_counts_spanned_dimensions(rng):
    features = rng.normal(size=(30, 5)) @ rng.normal(size=(5, 12))  # rank 5 in 12 dimensions
    assert b.numerical_rank(features @ features.T) == 5
    states = rng.normal(size=(40, 8)) + 1j * rng.normal(size=(40, 8))
    assert b.numerical_rank(states @ states.conj().T) == 8  # complex Hermitian Gram matrix
    assert b.numerical_rank(np.zeros((3, 3))) == 0
    assert b.numerical_rank(np.diag([1.0, 1e-6, 1e-12]), rtol=1e-9) == 2
    with pytest.raises(ValueError, match="square"):
        b.numerical_rank(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="Hermitian"):
        b.numerical_rank(np.array([[1.0, 2.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="rtol"):
        b.numerical_rank(np.eye(2), rtol=2.0)
