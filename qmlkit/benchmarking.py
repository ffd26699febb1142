"""Quantum models against classical baselines, on equal terms (review Table 1 and §6.2).

The review asks that quantum models be validated against "baseline classical comparisons with
matched hyperparameter tuning". This module gives the pieces of such a comparison, none of
which imports TensorFlow:

* :func:`load_digits_pair` -- a real, small, offline data set: two classes of scikit-learn's
  8×8 handwritten digits, shrunk by :func:`average_pool` to a few features (one per qubit),
  split into stratified training, validation and test sets and standardised with the
  training statistics only;
* :func:`sample_configurations` and :func:`matched_random_search` -- random search with the
  *same* number of trials for every model, shared hyper-parameters drawn once per trial for
  all models (common random numbers), and one selection rule (the best validation score, ties
  broken by a second metric);
* :func:`compare_seeds` -- mean ± standard deviation over seeds for two models, Welch's t-test,
  and a verdict that says whether the difference exceeds the seed-to-seed spread;
* :func:`sampled_z_expectations` -- shot-noise estimates of every ``<Z_i>`` of a state, all
  from the same simulated measurements, drawn with an explicit :class:`numpy.random.Generator`
  (reproducible, unlike TFQ's sampled ops);
* :func:`numerical_rank` -- the rank of a Gram matrix of feature vectors or states, to compare
  the dimension of a quantum embedding with that of classical hidden features.

Example:
    >>> data = load_digits_pair((3, 5), pool_shape=(2, 2), seed=0)
    >>> data.n_features, data.classes, len(data.y_train) + len(data.y_val) + len(data.y_test)
    (4, (3, 5), 365)
    >>> configs = sample_configurations({"lr": LogUniform(1e-3, 1e-1), "depth": [1, 2]},
    ...                                 n_trials=2, rng=np.random.default_rng(0))
    >>> [sorted(c) for c in configs]
    [['depth', 'lr'], ['depth', 'lr']]
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from qmlkit._validation import (
    check_finite_array,
    check_float,
    check_int,
    check_int_sequence,
    check_rng,
)

__all__ = [
    "Comparison",
    "DigitsSplit",
    "LogUniform",
    "SearchResult",
    "average_pool",
    "compare_seeds",
    "load_digits_pair",
    "matched_random_search",
    "numerical_rank",
    "sample_configurations",
    "sampled_z_expectations",
]

#: Side of scikit-learn's digit images (8×8 pixels, grey levels 0..16).
DIGIT_SIDE = 8


# --------------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------------


def average_pool(images: Any, pool_shape: Sequence[int]) -> np.ndarray:
    """Average-pool images of shape ``(n, H, W)`` down to ``pool_shape = (h, w)`` pixels.

    Each output pixel is the mean of an ``(H/h) × (W/w)`` block, so ``h`` must divide ``H``
    and ``w`` must divide ``W``. Returns the pooled images flattened row by row, shape
    ``(n, h*w)``. Pooling involves no fitted statistics, so it cannot leak test data.

    Raises:
        ValueError: for images that are not 3-D, hold NaN/inf, or a shape that does not divide
            theirs.

    Example:
        >>> average_pool(np.arange(16.0).reshape(1, 4, 4), (2, 2))
        array([[ 2.5,  4.5, 10.5, 12.5]])
    """
    x = check_finite_array("images", images, ndim=3)
    shape = check_int_sequence("pool_shape", pool_shape, minimum=1)
    if len(shape) != 2:
        raise ValueError(f"pool_shape must be (rows, columns), got {list(pool_shape)}")
    h, w = shape
    n, rows, cols = x.shape
    if rows % h or cols % w:
        raise ValueError(f"pool_shape {tuple(shape)} must divide the image shape "
                         f"{(rows, cols)}")
    pooled = x.reshape(n, h, rows // h, w, cols // w).mean(axis=(2, 4))
    return pooled.reshape(n, h * w)


@dataclass(frozen=True)
class DigitsSplit:
    """Two digit classes, pooled and split (see :func:`load_digits_pair`).

    Attributes:
        x_train, y_train: training features ``(n, n_features)`` and labels in ``{0, 1}``.
        x_val, y_val: validation set (model selection only).
        x_test, y_test: test set (touched once, for the final numbers).
        classes: the two digits; label 1 means ``classes[1]``.
        pool_shape: the pooled image shape; ``n_features = rows × columns``.
        mean, scale: the training statistics used to standardise every split.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[int, int]
    pool_shape: tuple[int, int]
    mean: np.ndarray
    scale: np.ndarray

    @property
    def n_features(self) -> int:
        """Features per sample (the pooled pixels)."""
        return int(self.x_train.shape[1])

    def sizes(self) -> pd.DataFrame:
        """Samples and class counts of each split, as a table.

        Example:
            >>> load_digits_pair((0, 1), seed=1, n_train=20).sizes()["samples"].tolist()
            [20, 51, 108]
        """
        rows = []
        for split in ("train", "val", "test"):
            y = getattr(self, f"y_{split}")
            rows.append({"split": split, "samples": len(y),
                         f"digit {self.classes[0]} (label 0)": int(np.sum(y == 0)),
                         f"digit {self.classes[1]} (label 1)": int(np.sum(y == 1))})
        return pd.DataFrame(rows)


def load_digits_pair(classes: Sequence[int] = (3, 5), *, pool_shape: Sequence[int] = (2, 2),
                     test_fraction: float = 0.3, val_fraction: float = 0.2,
                     n_train: int | None = None, seed: int = 0) -> DigitsSplit:
    """Two classes of scikit-learn's digits (shipped with it: no download), pooled and split.

    The 8×8 images of the two digits are average-pooled to ``pool_shape``
    (:func:`average_pool`), a stratified ``test_fraction`` of them is held out for testing, a
    stratified ``val_fraction`` of the rest for validation, and the remainder is the training
    set, optionally subsampled (stratified) to ``n_train`` points. Every split is standardised
    with the training set's per-feature mean and standard deviation. The splits depend only on
    ``seed`` (and the other arguments), not on any global random state.

    Args:
        classes: two distinct digits ``0..9``; label 1 is ``classes[1]``.
        pool_shape: pooled image shape ``(rows, columns)``, each dividing 8.
        test_fraction: share of the samples held out for the test set, in ``[0.05, 0.8]``.
        val_fraction: share of the remaining samples used for validation, in ``[0.05, 0.8]``.
        n_train: training points to keep (at least 4), or None for all of them.
        seed: seed of the splits (>= 0).

    Raises:
        TypeError: for arguments of the wrong type.
        ValueError: for unknown or repeated digits, out-of-range fractions, or ``n_train``
            larger than the training set.

    Example:
        >>> d = load_digits_pair((3, 5), pool_shape=(2, 4), n_train=40, seed=2)
        >>> d.x_train.shape, round(float(d.x_train.mean()), 12)
        ((40, 8), 0.0)
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    pair = check_int_sequence("classes", classes, minimum=0)
    if len(pair) != 2 or pair[0] == pair[1] or max(pair) > 9:
        raise ValueError(f"classes must be two distinct digits 0..9, got {list(classes)}")
    shape = check_int_sequence("pool_shape", pool_shape, minimum=1)
    if len(shape) != 2 or DIGIT_SIDE % shape[0] or DIGIT_SIDE % shape[1]:
        raise ValueError(f"pool_shape must be (rows, columns), each dividing {DIGIT_SIDE}, "
                         f"got {list(pool_shape)}")
    test_fraction = check_float("test_fraction", test_fraction, minimum=0.05, maximum=0.8)
    val_fraction = check_float("val_fraction", val_fraction, minimum=0.05, maximum=0.8)
    seed = check_int("seed", seed, minimum=0)

    digits = load_digits()
    mask = np.isin(digits.target, pair)
    x = average_pool(digits.images[mask], shape)
    y = (digits.target[mask] == pair[1]).astype(np.int64)
    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=test_fraction, stratify=y, random_state=seed)
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=val_fraction, stratify=y_rest, random_state=seed)
    if n_train is not None:
        n_train = check_int("n_train", n_train, minimum=4)
        if n_train > len(y_train):
            raise ValueError(f"n_train={n_train} exceeds the {len(y_train)} training points "
                             f"of this split")
        if n_train < len(y_train):
            x_train, _, y_train, _ = train_test_split(
                x_train, y_train, train_size=n_train, stratify=y_train, random_state=seed)
    mean = x_train.mean(axis=0)
    scale = x_train.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)

    def standardise(a: np.ndarray) -> np.ndarray:
        return (a - mean) / scale

    return DigitsSplit(
        x_train=standardise(x_train), y_train=y_train, x_val=standardise(x_val), y_val=y_val,
        x_test=standardise(x_test), y_test=y_test, classes=(pair[0], pair[1]),
        pool_shape=(shape[0], shape[1]), mean=mean, scale=scale)


# --------------------------------------------------------------------------------------------
# random search with matched budgets
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogUniform:
    """A hyper-parameter drawn log-uniformly from ``[low, high]`` (learning rates, say).

    Example:
        >>> v = LogUniform(1e-3, 1e-1).sample(np.random.default_rng(0))
        >>> 1e-3 <= v <= 1e-1
        True
    """

    low: float
    high: float

    def __post_init__(self) -> None:
        low = check_float("low", self.low)
        high = check_float("high", self.high)
        if not 0 < low <= high:
            raise ValueError(f"LogUniform needs 0 < low <= high, got low={low}, high={high}")

    def sample(self, rng: np.random.Generator) -> float:
        """One draw, ``exp(U(log low, log high))``."""
        rng = check_rng("rng", rng)
        return float(np.exp(rng.uniform(math.log(self.low), math.log(self.high))))


def _check_space(name: str, space: Any) -> dict[str, Any]:
    if space is None:
        return {}
    if not isinstance(space, Mapping):
        raise TypeError(f"{name} must be a dict of hyper-parameter name -> LogUniform or "
                        f"list of choices, got {type(space).__name__}")
    out: dict[str, Any] = {}
    for key, spec in space.items():
        if not isinstance(key, str) or not key:
            raise TypeError(f"{name} keys must be non-empty strings, got {key!r}")
        if isinstance(spec, LogUniform):
            out[key] = spec
        elif isinstance(spec, (Sequence, np.ndarray)) and not isinstance(spec, (str, bytes)):
            if len(spec) == 0:
                raise ValueError(f"{name}[{key!r}] must hold at least one choice")
            out[key] = list(spec)
        else:
            raise TypeError(f"{name}[{key!r}] must be a LogUniform or a list of choices, got "
                            f"{type(spec).__name__}")
    return out


def _draw(space: Mapping[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for key, spec in space.items():
        if isinstance(spec, LogUniform):
            config[key] = spec.sample(rng)
        else:
            config[key] = spec[int(rng.integers(len(spec)))]
    return config


def sample_configurations(space: Mapping[str, Any], *, n_trials: int,
                          rng: np.random.Generator) -> list[dict[str, Any]]:
    """``n_trials`` random configurations: each key drawn independently from its spec.

    A spec is a :class:`LogUniform` or a list of choices (drawn uniformly; the chosen element
    is returned as it is). Keys are drawn in the order of ``space``.

    Raises:
        TypeError: for a space that is not a dict of specs, or a non-Generator ``rng``.
        ValueError: for ``n_trials < 1`` or an empty list of choices.

    Example:
        >>> sample_configurations({"units": [4, 8]}, n_trials=3, rng=np.random.default_rng(1))
        [{'units': 4}, {'units': 8}, {'units': 8}]
    """
    space = _check_space("space", space)
    n_trials = check_int("n_trials", n_trials, minimum=1)
    rng = check_rng("rng", rng)
    return [_draw(space, rng) for _ in range(n_trials)]


@dataclass(frozen=True)
class SearchResult:
    """What :func:`matched_random_search` tried and what it selected.

    Attributes:
        trials: one row per model and trial: ``model``, ``trial``, the configuration's
            hyper-parameters and every metric the objective returned (for display; a
            hyper-parameter that only some models have is NaN for the others).
        best: for each model, ``{"trial": t, "config": {...}, "metrics": {...}}`` of the
            selected trial, with the configuration's values exactly as drawn.
        n_trials: trials per model (the same for every model, by construction).
        score: the metric maximised; ``tie_breaker`` the metric minimised among ties.
    """

    trials: pd.DataFrame
    best: dict[str, dict[str, Any]]
    n_trials: int
    score: str
    tie_breaker: str | None

    def best_config(self, model: str) -> dict[str, Any]:
        """The selected configuration of ``model`` (a copy).

        Example:
            >>> r = matched_random_search({"m": lambda c, t: {"acc": c["x"]}}, n_trials=3,
            ...     rng=np.random.default_rng(0), shared_space={"x": [1, 2, 3]}, score="acc",
            ...     tie_breaker=None)
            >>> r.best_config("m")
            {'x': 3}
        """
        if model not in self.best:
            raise KeyError(f"no model {model!r}; searched {sorted(self.best)}")
        return dict(self.best[model]["config"])


def matched_random_search(objectives: Mapping[str, Callable[[dict[str, Any], int],
                                                            Mapping[str, float]]], *,
                          n_trials: int, rng: np.random.Generator,
                          shared_space: Mapping[str, Any] | None = None,
                          model_spaces: Mapping[str, Mapping[str, Any]] | None = None,
                          score: str = "validation accuracy",
                          tie_breaker: str | None = "validation loss") -> SearchResult:
    """Random search that gives every model the same tuning budget.

    For each of ``n_trials`` trials, the hyper-parameters of ``shared_space`` are drawn
    *once* and given to every model (common random numbers: each model sees the same
    learning rates, say), then each model's own ``model_spaces[model]`` is drawn, and
    ``objectives[model](config, trial)`` trains the model and returns its metrics on the
    validation set. Each model gets exactly ``n_trials`` evaluations; the selected
    configuration of a model is its trial with the highest ``score``, ties broken by the
    lowest ``tie_breaker`` (if given) and then by the earliest trial. Models are processed in
    the order of ``objectives``, and draws are made trial by trial (shared keys, then each
    model's keys), so the configurations depend only on ``rng``.

    Args:
        objectives: model name -> ``objective(config, trial) -> {metric: value}``, which must
            return ``score`` (and ``tie_breaker``, if given) as finite numbers.
        n_trials: trials per model (>= 1).
        rng: the source of randomness.
        shared_space: hyper-parameters drawn once per trial for all models.
        model_spaces: model name -> its own hyper-parameters.
        score: the metric to maximise.
        tie_breaker: the metric to minimise among equal scores, or None.

    Raises:
        TypeError: for objectives that are not callables, or malformed spaces.
        ValueError: for no models, model spaces of unknown models, keys in both a model's
            space and the shared space, or an objective that does not return the metrics.

    Example:
        >>> res = matched_random_search(
        ...     {"a": lambda c, t: {"acc": -abs(c["lr"] - 0.01), "loss": 0.0},
        ...      "b": lambda c, t: {"acc": float(c["w"]), "loss": 0.0}},
        ...     n_trials=4, rng=np.random.default_rng(0), shared_space={"lr": LogUniform(1e-3, 1e-1)},
        ...     model_spaces={"b": {"w": [1, 2]}}, score="acc", tie_breaker="loss")
        >>> res.trials.groupby("model").size().tolist(), res.best_config("b")["w"]
        ([4, 4], 2)
    """
    if not isinstance(objectives, Mapping) or not objectives:
        raise ValueError("objectives must be a non-empty dict of model name -> objective")
    for name, fn in objectives.items():
        if not isinstance(name, str) or not callable(fn):
            raise TypeError(f"objectives must map model names to callables, got {name!r}: "
                            f"{type(fn).__name__}")
    n_trials = check_int("n_trials", n_trials, minimum=1)
    rng = check_rng("rng", rng)
    shared = _check_space("shared_space", shared_space)
    if model_spaces is not None and not isinstance(model_spaces, Mapping):
        raise TypeError(f"model_spaces must be a dict of model name -> space, got "
                        f"{type(model_spaces).__name__}")
    own = {name: _check_space(f"model_spaces[{name!r}]", (model_spaces or {}).get(name))
           for name in objectives}
    unknown = set(model_spaces or {}) - set(objectives)
    if unknown:
        raise ValueError(f"model_spaces names models without an objective: {sorted(unknown)}")
    for name, space in own.items():
        clash = set(space) & set(shared)
        if clash:
            raise ValueError(f"model_spaces[{name!r}] repeats shared hyper-parameters "
                             f"{sorted(clash)}")
    if not isinstance(score, str) or (tie_breaker is not None and not isinstance(tie_breaker,
                                                                               str)):
        raise TypeError("score and tie_breaker must be metric names (strings)")

    rows = []
    records: dict[str, list[tuple[int, dict[str, Any], dict[str, float]]]] = {
        name: [] for name in objectives}
    for trial in range(n_trials):
        common = _draw(shared, rng)
        configs = {name: {**common, **_draw(own[name], rng)} for name in objectives}
        for name, fn in objectives.items():
            metrics = fn(dict(configs[name]), trial)
            if not isinstance(metrics, Mapping):
                raise TypeError(f"objective of {name!r} must return a dict of metrics, got "
                                f"{type(metrics).__name__}")
            for key in (score, tie_breaker):
                if key is None:
                    continue
                if key not in metrics:
                    raise ValueError(f"objective of {name!r} did not return {key!r}")
                check_float(f"{name} {key}", metrics[key])
            clash = set(metrics) & ({"model", "trial"} | set(configs[name]))
            if clash:
                raise ValueError(f"objective of {name!r} returned metrics named like "
                                 f"hyper-parameters: {sorted(clash)}")
            records[name].append((trial, dict(configs[name]), dict(metrics)))
            rows.append({"model": name, "trial": trial, **configs[name], **dict(metrics)})

    def rank(entry: tuple[int, dict[str, Any], dict[str, float]]) -> tuple[float, ...]:
        trial, _, metrics = entry
        tie = float(metrics[tie_breaker]) if tie_breaker is not None else 0.0
        return (-float(metrics[score]), tie, trial)

    best = {}
    for name, entries in records.items():
        trial, config, metrics = min(entries, key=rank)
        best[name] = {"trial": trial, "config": config, "metrics": metrics}
    return SearchResult(trials=pd.DataFrame(rows), best=best, n_trials=n_trials, score=score,
                        tie_breaker=tie_breaker)


# --------------------------------------------------------------------------------------------
# seeds: mean ± std and a verdict
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """Two models' scores over seeds (see :func:`compare_seeds`).

    Attributes:
        names: the two models' names ``(a, b)``.
        means, stds: their mean and sample standard deviation (``ddof=1``).
        n_seeds: the number of scores of each.
        difference: ``mean_a - mean_b``.
        exceeds_std: whether ``|difference|`` exceeds the larger of the two standard
            deviations (the seed-to-seed spread).
        welch_p: two-sided p-value of Welch's t-test (1.0 when both spreads are zero and the
            means are equal, 0.0 when both spreads are zero and they differ).
        verdict: one sentence saying which is ahead and whether that is beyond the spread.
    """

    names: tuple[str, str]
    means: tuple[float, float]
    stds: tuple[float, float]
    n_seeds: tuple[int, int]
    difference: float
    exceeds_std: bool
    welch_p: float
    verdict: str

    def table(self, *, decimals: int = 3) -> pd.DataFrame:
        """``model, mean, std, seeds`` rows, rounded to ``decimals``."""
        return pd.DataFrame({
            "model": list(self.names),
            "mean": [round(m, decimals) for m in self.means],
            "std": [round(s, decimals) for s in self.stds],
            "seeds": list(self.n_seeds),
        })


def compare_seeds(scores_a: Sequence[float], scores_b: Sequence[float], *,
                  names: Sequence[str] = ("a", "b"), decimals: int = 3) -> Comparison:
    """Compare two models' scores over seeds: which is ahead, and is it beyond the spread?

    The verdict compares the means *after rounding to* ``decimals`` (so a printed verdict
    never contradicts the printed numbers): equal rounded means are "level"; otherwise the
    model with the higher mean is "ahead", "by more than the seed-to-seed standard deviation"
    if ``|difference|`` exceeds the larger of the two standard deviations and "within the
    seed-to-seed standard deviation" if not.

    Raises:
        ValueError: with fewer than 2 scores per model, or NaN/inf scores.

    Example:
        >>> c = compare_seeds([0.90, 0.92, 0.91], [0.80, 0.84, 0.82], names=("MLP", "QNN"))
        >>> c.verdict
        'MLP ahead of QNN by 0.090, more than the seed-to-seed standard deviation (0.020)'
    """
    a = check_finite_array("scores_a", scores_a, ndim=1)
    b = check_finite_array("scores_b", scores_b, ndim=1)
    if a.size < 2 or b.size < 2:
        raise ValueError(f"need at least 2 scores per model, got {a.size} and {b.size}")
    if (isinstance(names, (str, bytes)) or not isinstance(names, Sequence) or len(names) != 2
            or not all(isinstance(n, str) for n in names)):
        raise TypeError(f"names must be two strings, got {names!r}")
    decimals = check_int("decimals", decimals, minimum=0)
    means = (float(a.mean()), float(b.mean()))
    stds = (float(a.std(ddof=1)), float(b.std(ddof=1)))
    difference = means[0] - means[1]
    spread = max(stds)
    rounded = round(difference, decimals)
    exceeds = bool(abs(rounded) > round(spread, decimals))
    if max(stds) == 0.0:
        welch_p = 1.0 if difference == 0.0 else 0.0
    else:
        with warnings.catch_warnings():  # scipy warns when one model's scores are all equal
            warnings.simplefilter("ignore", RuntimeWarning)
            welch_p = float(stats.ttest_ind(a, b, equal_var=False).pvalue)
    if rounded == 0:
        verdict = (f"{names[0]} and {names[1]} level (difference {abs(rounded):.{decimals}f}; "
                   f"seed-to-seed standard deviation {spread:.{decimals}f})")
    else:
        ahead, behind = (names[0], names[1]) if rounded > 0 else (names[1], names[0])
        how = ("more than" if exceeds else "within")
        verdict = (f"{ahead} ahead of {behind} by {abs(rounded):.{decimals}f}, {how} the "
                   f"seed-to-seed standard deviation ({spread:.{decimals}f})")
    return Comparison(names=(names[0], names[1]), means=means, stds=stds,
                      n_seeds=(int(a.size), int(b.size)), difference=difference,
                      exceeds_std=exceeds, welch_p=welch_p, verdict=verdict)


# --------------------------------------------------------------------------------------------
# Table 1 measurements: shots and representations
# --------------------------------------------------------------------------------------------


def sampled_z_expectations(state: Any, *, shots: int, repetitions: int,
                           rng: np.random.Generator) -> np.ndarray:
    """``repetitions`` independent shot estimates of every ``<Z_i>`` of a state vector.

    Each repetition measures all qubits ``shots`` times in the computational basis (one
    multinomial draw from the Born probabilities, qubit 0 the most significant bit) and
    estimates every ``<Z_i>`` from the *same* shots, as hardware does, so the estimates of
    different qubits are correlated as they would be. Each estimate has the binomial standard
    error ``sqrt((1 - <Z_i>²) / shots)``.

    Returns:
        An array of shape ``(repetitions, n_qubits)``.

    Raises:
        ValueError: for a state that is not normalised or whose length is not a power of 2,
            or non-positive ``shots``/``repetitions``.

    Example:
        >>> est = sampled_z_expectations(np.array([1.0, 0.0, 0.0, 0.0]), shots=10,
        ...                              repetitions=2, rng=np.random.default_rng(0))
        >>> est
        array([[1., 1.],
               [1., 1.]])
    """
    from qmlkit.measurement import pauli_eigenvalues, probabilities

    shots = check_int("shots", shots, minimum=1)
    repetitions = check_int("repetitions", repetitions, minimum=1)
    rng = check_rng("rng", rng)
    p = probabilities(np.asarray(state))
    n = round(math.log2(p.size)) if p.size > 1 else 0
    if n < 1 or 2**n != p.size:
        raise ValueError(f"state must have 2**n_qubits amplitudes (n_qubits >= 1), got {p.size}")
    eig = np.stack([pauli_eigenvalues(n, [q]) for q in range(n)], axis=1)  # (2**n, n)
    counts = rng.multinomial(shots, p, size=repetitions)
    return (counts @ eig) / shots


def numerical_rank(gram: Any, *, rtol: float = 1e-9) -> int:
    """Number of eigenvalues of a Hermitian PSD Gram matrix above ``rtol`` × the largest.

    The rank of the Gram matrix ``G_ij = <f(x_i), f(x_j)>`` of a feature map on enough
    samples is the dimension of the space its features span: at most the number of hidden
    units of a classical layer, at most ``2**n`` for the states of ``n`` qubits.

    Raises:
        ValueError: for a matrix that is not square, not Hermitian or holds NaN/inf.

    Example:
        >>> f = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
        >>> numerical_rank(f @ f.T)
        2
    """
    g = check_finite_array("gram", gram, ndim=2, dtype=np.complex128)
    if g.shape[0] != g.shape[1]:
        raise ValueError(f"gram must be square, got shape {g.shape}")
    rtol = check_float("rtol", rtol, minimum=0.0, maximum=1.0)
    if not np.allclose(g, g.conj().T, atol=1e-10 * max(1.0, float(np.abs(g).max()))):
        raise ValueError("gram must be Hermitian")
    eig = np.linalg.eigvalsh(g)
    top = float(eig.max()) if eig.size else 0.0
    if top <= 0:
        return 0
    return int(np.sum(eig > rtol * top))

