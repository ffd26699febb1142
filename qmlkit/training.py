"""Training strategies for hybrid Keras models: layerwise growth, freezing, gradient monitoring
(review §7).

Layerwise learning (Skolik et al. 2021) trains a shallow circuit first and adds layers one at a
time, training only the newest layer while the earlier ones stay frozen, then optionally trains
everything together. For the Keras models of :mod:`qmlkit.layers` that needs two things a
:class:`~qmlkit.layers.QuantumLayer` does not have, since it keeps all circuit weights in one
variable:

* :class:`FreezableQuantumLayer` -- a :class:`~qmlkit.layers.QuantumLayer` whose weights are
  split into a *trainable* variable (the free entries) and a *non-trainable* one (the frozen
  entries), so that a Keras optimizer cannot move the frozen ones and
  :func:`~qmlkit.layers.count_parameters` counts only what is trained;
* :func:`grow_model` and :func:`with_frozen` -- a copy of a functional or sequential model
  (``tf_keras.models.clone_model``) whose quantum layer has more circuit layers or another
  frozen set, with every weight copied by layer name and, in the circuit, by symbol name; new
  circuit weights start at zero (or small normal angles).

:func:`fit_layerwise` runs the stages with ``model.fit`` and returns the per-stage histories.
:class:`GradientNormMonitor` is a Keras callback that logs, on a fixed batch after every epoch,
the norm of the loss gradient for each circuit layer of each quantum layer (computed with
``tf.GradientTape``), as a tidy table, and warns with :class:`PlateauWarning` (optionally
stopping training) when the gradient norm falls below a plateau threshold.

Circuit layers are read from the weight symbols' names (:func:`circuit_layer_groups`): ``_l{l}``
(hardware-efficient rotation layer ``l``; Hamiltonian-variational layer ``l``, its ``γ_l`` and
``β_l``), ``_b{b}_l{l}`` for re-uploading blocks; symbols without a layer index (the QCNN) form
one group ``"all"``.

Importing this module imports TensorFlow and TensorFlow Quantum (through :mod:`qmlkit.layers`).

Example:
    >>> import numpy as np
    >>> from qmlkit.layers import count_parameters, hybrid_model
    >>> m1 = hybrid_model(2, n_qubits=2, quantum_kwargs={"layers": 1, "seed": 0})
    >>> m2 = grow_model(m1, layers=2)           # one more circuit layer, the old ones frozen
    >>> q = m2.get_layer("quantum")
    >>> q.n_parameters, len(q.frozen_symbols), count_parameters(m2) - count_parameters(m1)
    (12, 8, -4)
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from qmlkit._environment import import_tensorflow
from qmlkit._validation import (
    check_bool,
    check_choice,
    check_finite_array,
    check_float,
    check_int,
    check_rng,
)
from qmlkit.layers import QuantumLayer

tf = import_tensorflow()
import tf_keras  # noqa: E402

__all__ = [
    "FreezableQuantumLayer",
    "GradientNormMonitor",
    "LayerwiseResult",
    "PlateauWarning",
    "circuit_layer_groups",
    "fit_layerwise",
    "grow_model",
    "quantum_weights_of",
    "with_frozen",
]

_NEW_WEIGHTS = ("zeros", "small")
_OPTIMIZERS = {"adam": "Adam", "sgd": "SGD", "rmsprop": "RMSprop"}
_GROWABLE = ("hardware_efficient", "hamiltonian_variational")
_LAYER_RE = re.compile(r"(?:_b(\d+))?_l(\d+)(?=_|$)")


class PlateauWarning(UserWarning):
    """The loss gradient on the monitored weights fell below the plateau threshold."""


# --------------------------------------------------------------------------------------------
# circuit layers and the freezable layer
# --------------------------------------------------------------------------------------------


def circuit_layer_groups(layer: QuantumLayer) -> dict[str, list[int]]:
    """Indices of :attr:`~qmlkit.layers.QuantumLayer.weight_symbols` per circuit layer.

    Keys are ``"l0"``, ``"l1"``, ... (``"b0_l0"``, ... for re-uploading blocks), in circuit
    order; symbols whose names carry no layer index form the group ``"all"``.

    Raises:
        TypeError: if ``layer`` is not a :class:`~qmlkit.layers.QuantumLayer`.

    Example:
        >>> from qmlkit.layers import QuantumLayer
        >>> circuit_layer_groups(QuantumLayer(2, ansatz="hamiltonian_variational", layers=2))
        {'l0': [0, 1], 'l1': [2, 3]}
    """
    if not isinstance(layer, QuantumLayer):
        raise TypeError(f"layer must be a qmlkit.layers.QuantumLayer, got "
                        f"{type(layer).__name__}")
    groups: dict[str, list[int]] = {}
    for i, s in enumerate(layer.weight_symbols):
        m = _LAYER_RE.search(s.name)
        if m is None:
            key = "all"
        else:
            key = f"l{m.group(2)}" if m.group(1) is None else f"b{m.group(1)}_l{m.group(2)}"
        groups.setdefault(key, []).append(i)
    return groups


def _check_frozen(frozen: Any, n: int) -> list[int]:
    if frozen is None:
        return []
    if isinstance(frozen, (str, bytes)) or not isinstance(frozen, (Sequence, np.ndarray)):
        raise TypeError(f"frozen must be a sequence of weight indices, got "
                        f"{type(frozen).__name__}")
    out = sorted({check_int(f"frozen[{k}]", i, minimum=0, maximum=n - 1)
                  for k, i in enumerate(frozen)})
    if len(out) != len(frozen):
        raise ValueError(f"frozen must not repeat indices, got {list(frozen)}")
    return out


@tf_keras.utils.register_keras_serializable(package="qmlkit")
class FreezableQuantumLayer(QuantumLayer):
    """A :class:`~qmlkit.layers.QuantumLayer` with some circuit weights frozen.

    It takes every :class:`~qmlkit.layers.QuantumLayer` argument and ``frozen``, the indices
    (into :attr:`weight_symbols`) of the weights to keep fixed. The free weights are the
    trainable variable :attr:`free_weights`, the frozen ones the non-trainable variable
    :attr:`frozen_weights`; :attr:`quantum_weights` is the full vector in symbol order, gathered
    from both in every call, so gradients reach only :attr:`free_weights` and no Keras optimizer
    can change a frozen weight. ``get_weights()`` returns ``[free, frozen]``; use
    :meth:`full_weights` and :meth:`assign_full_weights` for the full vector. With ``frozen``
    empty the layer computes exactly what a :class:`~qmlkit.layers.QuantumLayer` with the same
    arguments computes.

    Args:
        n_qubits: number of qubits.
        frozen: indices of the frozen weights (default: none).
        **kwargs: the arguments of :class:`~qmlkit.layers.QuantumLayer`.

    Raises:
        TypeError: if ``frozen`` is not a sequence of integers.
        ValueError: for indices outside ``[0, n_parameters)`` or repeated ones (and anything
            :class:`~qmlkit.layers.QuantumLayer` refuses).

    Example:
        >>> layer = FreezableQuantumLayer(2, layers=1, frozen=[0, 1], seed=0)
        >>> _ = layer(np.zeros((1, 2)))
        >>> [tuple(w.shape) for w in layer.trainable_weights], layer.frozen_symbols
        ([(6,)], [theta_l0_q0_0, theta_l0_q0_1])
    """

    def __init__(self, n_qubits: int, *, frozen: Sequence[int] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(n_qubits, **kwargs)
        self._frozen = _check_frozen(frozen, self.n_parameters)
        fixed = set(self._frozen)
        self._free = [i for i in range(self.n_parameters) if i not in fixed]
        # position of weight i in concat([free, frozen]): gather(concat, order) is the full vector
        order = np.empty(self.n_parameters, dtype=np.int32)
        order[self._free] = np.arange(len(self._free), dtype=np.int32)
        order[self._frozen] = len(self._free) + np.arange(len(self._frozen), dtype=np.int32)
        self._order = order
        self.free_weights = None
        self.frozen_weights = None

    @property
    def frozen(self) -> list[int]:
        """Indices of the frozen weights."""
        return list(self._frozen)

    @property
    def free(self) -> list[int]:
        """Indices of the trainable weights (the entries of :attr:`free_weights`)."""
        return list(self._free)

    @property
    def frozen_symbols(self) -> list[Any]:
        """Symbols of the frozen weights."""
        symbols = self.weight_symbols
        return [symbols[i] for i in self._frozen]

    @property
    def quantum_weights(self) -> Any:  # type: ignore[override]
        """All circuit weights in the order of :attr:`weight_symbols` (a tensor), or None
        before the layer is built."""
        if self.free_weights is None:
            return None
        return tf.gather(tf.concat([self.free_weights, self.frozen_weights], axis=0),
                         self._order)

    @quantum_weights.setter
    def quantum_weights(self, value: Any) -> None:
        if value is not None:  # QuantumLayer.__init__ sets None; the variables are our own
            raise AttributeError("quantum_weights of a FreezableQuantumLayer is derived from "
                                 "free_weights and frozen_weights; use assign_full_weights")

    def build(self, input_shape: Any) -> None:
        shape = tf.TensorShape(input_shape)
        if shape.rank is not None and shape.rank != 2:
            raise ValueError(f"features must have shape (batch, {self.n_qubits}), got input "
                             f"shape {shape}")
        if shape.rank is not None:
            self._check_width(shape[-1])
        full = np.asarray(self._initial_values((self.n_parameters,), tf.float32))
        free = full[self._free]
        fixed = full[self._frozen]
        self.free_weights = self.add_weight(
            name="free_weights", shape=(len(self._free),), dtype=tf.float32,
            initializer=tf_keras.initializers.Constant(free), trainable=True)
        self.frozen_weights = self.add_weight(
            name="frozen_weights", shape=(len(self._frozen),), dtype=tf.float32,
            initializer=tf_keras.initializers.Constant(fixed), trainable=False)
        tf_keras.layers.Layer.build(self, input_shape)

    def full_weights(self) -> np.ndarray:
        """The full weight vector (numpy, float64), in the order of :attr:`weight_symbols`."""
        if self.free_weights is None:
            raise ValueError("the layer has no weights yet; call it (or build it) first")
        return np.asarray(self.quantum_weights.numpy(), dtype=float)

    def assign_full_weights(self, values: Any) -> None:
        """Set every weight, free and frozen, from a vector in symbol order.

        Raises:
            ValueError: before the layer is built, or for a vector of the wrong length or with
                NaN/inf.
        """
        if self.free_weights is None:
            raise ValueError("the layer has no weights yet; call it (or build it) first")
        v = np.asarray(values, dtype=np.float32)
        if v.shape != (self.n_parameters,) or not np.all(np.isfinite(v)):
            raise ValueError(f"values must hold {self.n_parameters} finite weights, got shape "
                             f"{v.shape}")
        self.free_weights.assign(v[self._free])
        self.frozen_weights.assign(v[self._frozen])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["frozen"] = list(self._frozen)
        return config

    def __repr__(self) -> str:
        return super().__repr__()[:-1] + f", frozen={len(self._frozen)})"


def quantum_weights_of(layer: QuantumLayer) -> np.ndarray:
    """The full circuit weight vector of a built quantum layer (plain or freezable), float64.

    Raises:
        TypeError: if ``layer`` is not a :class:`~qmlkit.layers.QuantumLayer`.
        ValueError: if it has not been built.

    Example:
        >>> from qmlkit.layers import QuantumLayer
        >>> layer = QuantumLayer(1, layers=0, seed=0)
        >>> _ = layer(np.zeros((1, 1)))
        >>> quantum_weights_of(layer).shape
        (2,)
    """
    if not isinstance(layer, QuantumLayer):
        raise TypeError(f"layer must be a qmlkit.layers.QuantumLayer, got "
                        f"{type(layer).__name__}")
    if layer.quantum_weights is None:
        raise ValueError("the layer has no weights yet; call it (or build it) first")
    return np.asarray(layer.quantum_weights.numpy(), dtype=float)


# --------------------------------------------------------------------------------------------
# copies of a model with another depth or frozen set
# --------------------------------------------------------------------------------------------


def _check_model(model: Any) -> Any:
    if not isinstance(model, tf_keras.Model):
        raise TypeError(f"model must be a tf_keras.Model, got {type(model).__name__}")
    if not model.built:
        raise ValueError("model has not been built; give it an Input or call it first")
    return model


def _quantum_layer(model: Any, name: str | None) -> QuantumLayer:
    if name is not None:
        if not isinstance(name, str):
            raise TypeError(f"quantum_layer must be a layer name (str) or None, got "
                            f"{type(name).__name__}")
        try:
            layer = model.get_layer(name)
        except ValueError:
            raise ValueError(f"quantum_layer: the model has no layer named {name!r}") from None
        if not isinstance(layer, QuantumLayer):
            raise ValueError(f"quantum_layer: layer {name!r} is a {type(layer).__name__}, not "
                             f"a QuantumLayer")
        return layer
    found = [lay for lay in model.layers if isinstance(lay, QuantumLayer)]
    if len(found) != 1:
        raise ValueError(f"model must hold exactly one QuantumLayer (it holds {len(found)}); "
                         f"name one with quantum_layer=")
    return found[0]


def _rebuild(model: Any, old: QuantumLayer, config: dict[str, Any],
             values: np.ndarray) -> Any:
    """Clone ``model`` with ``old`` replaced by a FreezableQuantumLayer from ``config``."""
    def clone(layer: Any) -> Any:
        if layer is old:
            return FreezableQuantumLayer.from_config(config)
        return layer.__class__.from_config(layer.get_config())

    new_model = tf_keras.models.clone_model(model, clone_function=clone)
    for layer in model.layers:
        if layer is old or not layer.weights:
            continue
        new_model.get_layer(layer.name).set_weights(layer.get_weights())
    new_model.get_layer(old.name).assign_full_weights(values)
    return new_model


def with_frozen(model: Any, *, frozen: Sequence[str] = (), quantum_layer: str | None = None
                ) -> Any:
    """A copy of ``model`` whose quantum layer freezes the weights named in ``frozen``.

    The copy (``tf_keras.models.clone_model``) has the same architecture and weights, with the
    quantum layer replaced by a :class:`FreezableQuantumLayer` whose frozen weights are those
    with the symbol names in ``frozen`` (``frozen=()`` unfreezes every weight). Classical
    layers keep their ``trainable`` flags. The copy is not compiled.

    Args:
        model: a built ``tf_keras`` functional or sequential model with one quantum layer.
        frozen: names of the circuit weights to freeze (see
            :attr:`~qmlkit.layers.QuantumLayer.weight_symbols`).
        quantum_layer: the name of the quantum layer, if the model holds several.

    Raises:
        TypeError: for a model that is not a ``tf_keras.Model`` or names that are not strings.
        ValueError: for an unbuilt model, no or several quantum layers, or unknown names.

    Example:
        >>> from qmlkit.layers import hybrid_model
        >>> m = hybrid_model(2, n_qubits=2, quantum_kwargs={"layers": 1, "seed": 0})
        >>> frozen = with_frozen(m, frozen=["theta_l0_q0_0"])
        >>> np.allclose(frozen.predict(np.ones((3, 2)), verbose=0), m.predict(np.ones((3, 2)),
        ...                                                                     verbose=0))
        True
    """
    model = _check_model(model)
    old = _quantum_layer(model, quantum_layer)
    if isinstance(frozen, (str, bytes)) or not isinstance(frozen, Sequence):
        raise TypeError(f"frozen must be a sequence of weight names, got "
                        f"{type(frozen).__name__}")
    names = [s.name for s in old.weight_symbols]
    index = {n: i for i, n in enumerate(names)}
    for k, f in enumerate(frozen):
        if not isinstance(f, str):
            raise TypeError(f"frozen[{k}] must be a weight name (str), got {type(f).__name__}")
    unknown = sorted(set(frozen) - set(names))
    if unknown:
        raise ValueError(f"frozen names weights the quantum layer does not have: {unknown[:5]}")
    config = old.get_config()
    config["frozen"] = sorted(index[f] for f in set(frozen))
    return _rebuild(model, old, config, quantum_weights_of(old))


def grow_model(model: Any, *, layers: int, freeze: str = "previous",
               new_weights: str = "zeros", scale: float = 0.01,
               rng: np.random.Generator | None = None,
               quantum_layer: str | None = None) -> Any:
    """A copy of ``model`` whose quantum layer has ``layers`` circuit layers, weights carried.

    Every weight of ``model`` is copied: classical layers by name, circuit weights by symbol
    name (the hardware-efficient and Hamiltonian-variational ansätze name their weights by
    layer, so a deeper circuit contains every weight of a shallower one). The weights that are
    new start at zero (``new_weights="zeros"``: identity rotations; for the Hamiltonian
    variational ansatz the grown model computes exactly what ``model`` computed, while a new
    hardware-efficient layer adds an entangling layer that is not the identity) or at small
    normal angles ``N(0, scale²)`` drawn from ``rng`` (``"small"``). With ``freeze="previous"``
    the carried circuit weights are frozen and only the new ones train (layerwise learning,
    Skolik et al. 2021); ``"none"`` leaves every circuit weight trainable. The copy is not
    compiled.

    Args:
        model: a built model with one quantum layer (hardware-efficient, not mirrored, or
            Hamiltonian variational).
        layers: the new number of circuit layers; more than the current one.
        freeze: ``"previous"`` or ``"none"``.
        new_weights: ``"zeros"`` or ``"small"``.
        scale: standard deviation of ``"small"`` (> 0).
        rng: the source of ``"small"``; required with it.
        quantum_layer: the name of the quantum layer, if the model holds several.

    Raises:
        TypeError: for arguments of the wrong type.
        ValueError: for a model that cannot grow (QCNN, mirrored ansatz), ``layers`` not above
            the current depth, unknown choices, or ``scale <= 0``.

    Example:
        >>> from qmlkit.layers import hybrid_model
        >>> m = hybrid_model(2, n_qubits=2, quantum_kwargs={"ansatz": "hamiltonian_variational",
        ...                                                 "layers": 1, "seed": 0})
        >>> g = grow_model(m, layers=3)
        >>> x = np.ones((2, 2))
        >>> g.get_layer("quantum").n_parameters, np.allclose(g.predict(x, verbose=0),
        ...                                                  m.predict(x, verbose=0), atol=1e-6)
        (6, True)
    """
    model = _check_model(model)
    old = _quantum_layer(model, quantum_layer)
    config = old.get_config()
    if config["ansatz"] not in _GROWABLE:
        raise ValueError(f"model: its quantum layer's ansatz {config['ansatz']!r} has no "
                         f"'layers' to grow; use one of {_GROWABLE}")
    if config.get("mirrored"):
        raise ValueError("model: a mirrored hardware-efficient ansatz renames its second half "
                         "when it grows; grow an unmirrored one")
    current = int(config["layers"])
    layers = check_int("layers", layers, minimum=current + 1)
    freeze = check_choice("freeze", freeze, ("previous", "none"))
    new_weights = check_choice("new_weights", new_weights, _NEW_WEIGHTS)
    scale = check_float("scale", scale, minimum=0.0)
    if scale == 0.0:
        raise ValueError("scale must be > 0, got 0.0")
    if new_weights == "small":
        rng = check_rng("rng", rng)
    elif rng is not None:
        check_rng("rng", rng)
    config["layers"] = layers
    config["frozen"] = []
    probe = FreezableQuantumLayer.from_config(config)
    old_names = [s.name for s in old.weight_symbols]
    new_names = [s.name for s in probe.weight_symbols]
    missing = sorted(set(old_names) - set(new_names))
    if missing:  # pragma: no cover - guarded by the growable ansätze
        raise ValueError(f"model: the grown circuit lacks the weights {missing[:5]}")
    carried = dict(zip(old_names, quantum_weights_of(old), strict=True))
    fresh = [n for n in new_names if n not in carried]
    draws = (rng.normal(0.0, scale, len(fresh)) if new_weights == "small"
             else np.zeros(len(fresh)))
    values = {**carried, **dict(zip(fresh, draws, strict=True))}
    full = np.array([values[n] for n in new_names])
    if freeze == "previous":
        config["frozen"] = [i for i, n in enumerate(new_names) if n in carried]
    return _rebuild(model, old, config, full)


# --------------------------------------------------------------------------------------------
# gradient-norm monitor
# --------------------------------------------------------------------------------------------


def _trainable_circuit_entries(layer: QuantumLayer) -> tuple[Any, list[int]]:
    """The trainable variable of a quantum layer and the weight index of each of its entries."""
    if isinstance(layer, FreezableQuantumLayer):
        return layer.free_weights, layer.free
    return layer.quantum_weights, list(range(layer.n_parameters))


class GradientNormMonitor(tf_keras.callbacks.Callback):
    """Log per-layer gradient norms on a fixed batch during ``fit``; warn on a plateau.

    At the start of every ``fit`` (epoch 0, if ``log_initial``) and after every ``every``-th
    epoch, the callback evaluates the loss on ``(x, y)`` with ``training=False`` and takes its
    gradient with ``tf.GradientTape`` with respect to the trainable circuit weights of every
    :class:`~qmlkit.layers.QuantumLayer` (and, with ``include_classical``, every other layer's
    trainable weights). :attr:`table` is a tidy DataFrame with one row per check and group:
    ``fit`` (the index of the ``fit`` call this callback has seen, from 0), ``epoch``,
    ``layer`` (the Keras layer name), ``group`` (a circuit layer, see
    :func:`circuit_layer_groups`, or ``"all"`` for the layer's whole trainable set),
    ``n_parameters``, ``norm`` (the L2 norm of the group's gradient) and ``rms``
    (``norm / sqrt(n_parameters)``). Frozen weights are not trainable and not reported.

    The plateau statistic is the L2 norm of the gradient over all monitored *circuit* weights.
    When it is below ``threshold`` for ``patience`` consecutive checks, the callback warns once
    per ``fit`` with a :class:`PlateauWarning` and, with ``stop_on_plateau``, sets
    ``model.stop_training``; :attr:`plateaus` lists ``(fit, epoch)`` of each detection.

    Args:
        x: the fixed batch of inputs.
        y: its targets.
        loss: a Keras loss (name, function or ``Loss``); default: the compiled ``model.loss``.
        threshold: the plateau threshold on the gradient norm (> 0).
        patience: consecutive checks below ``threshold`` that make a plateau (>= 1).
        stop_on_plateau: stop training when a plateau is detected.
        every: check every ``every`` epochs (>= 1).
        include_classical: also log the classical layers' gradient norms (never part of the
            plateau statistic).
        log_initial: also check before the first epoch (epoch 0).

    Raises:
        TypeError: for arguments of the wrong type.
        ValueError: for non-positive ``threshold``, ``patience`` or ``every``, or ``x`` and
            ``y`` of different lengths; at the start of ``fit``, for a model without quantum
            layers or without a loss.

    Example:
        >>> from qmlkit.layers import hybrid_model
        >>> m = hybrid_model(2, n_qubits=2, quantum_kwargs={"layers": 1, "seed": 0})
        >>> m.compile(optimizer="adam", loss="mse")
        >>> x, y = np.ones((4, 2)), np.zeros((4, 1))
        >>> monitor = GradientNormMonitor(x, y)
        >>> _ = m.fit(x, y, epochs=2, verbose=0, callbacks=[monitor])
        >>> monitor.table[["epoch", "group"]].drop_duplicates().shape[0]   # 3 checks x 3 groups
        9
    """

    def __init__(self, x: Any, y: Any, *, loss: Any = None, threshold: float = 1e-3,
                 patience: int = 1, stop_on_plateau: bool = False, every: int = 1,
                 include_classical: bool = False, log_initial: bool = True) -> None:
        super().__init__()
        self._x = tf.convert_to_tensor(check_finite_array("x", x).astype(np.float32))
        self._y = tf.convert_to_tensor(check_finite_array("y", y).astype(np.float32))
        if self._x.shape.rank == 0 or self._y.shape.rank == 0:
            raise ValueError("x and y must be arrays with a batch dimension")
        if self._x.shape[0] != self._y.shape[0]:
            raise ValueError(f"x and y must hold the same number of samples, got "
                             f"{self._x.shape[0]} and {self._y.shape[0]}")
        if loss is not None and not (isinstance(loss, str) or callable(loss)):
            raise TypeError(f"loss must be a Keras loss name, a callable or None, got "
                            f"{type(loss).__name__}")
        self._loss_spec = loss
        self.threshold = check_float("threshold", threshold, minimum=0.0)
        if self.threshold == 0.0:
            raise ValueError("threshold must be > 0, got 0.0")
        self.patience = check_int("patience", patience, minimum=1)
        self.stop_on_plateau = check_bool("stop_on_plateau", stop_on_plateau)
        self.every = check_int("every", every, minimum=1)
        self.include_classical = check_bool("include_classical", include_classical)
        self.log_initial = check_bool("log_initial", log_initial)
        self.plateaus: list[tuple[int, int]] = []
        self._rows: list[dict[str, Any]] = []
        self._fit = -1
        self._below = 0
        self._warned = False

    @property
    def table(self) -> pd.DataFrame:
        """The logged gradient norms, one row per check and group."""
        return pd.DataFrame(self._rows, columns=["fit", "epoch", "layer", "group",
                                                 "n_parameters", "norm", "rms"])

    def totals(self) -> pd.DataFrame:
        """The plateau statistic per check: columns ``fit``, ``epoch``, ``norm``."""
        t = self.table
        t = t[(t["group"] == "all") & t["layer"].isin(self._quantum_names)]
        sq = (t["norm"] ** 2).groupby([t["fit"], t["epoch"]]).sum()
        return pd.DataFrame({"norm": np.sqrt(sq)}).reset_index()

    def on_train_begin(self, logs: Mapping[str, Any] | None = None) -> None:
        model = self.model
        quantum = [lay for lay in model.layers if isinstance(lay, QuantumLayer)]
        if not quantum:
            raise ValueError("GradientNormMonitor: the model holds no QuantumLayer")
        quantum = [lay for lay in quantum if lay.trainable]  # a frozen Keras layer has no gradient
        if not quantum:
            raise ValueError("GradientNormMonitor: every QuantumLayer of the model is frozen "
                             "(trainable=False)")
        spec = self._loss_spec if self._loss_spec is not None else model.loss
        if spec is None:
            raise ValueError("GradientNormMonitor: pass loss= or compile the model with a loss")
        if isinstance(spec, (Mapping, list, tuple)):
            raise ValueError("GradientNormMonitor supports one loss for one output; pass loss=")
        self._loss_fn = tf_keras.losses.get(spec)
        self._groups: list[tuple[str, Any, dict[str, list[int]]]] = []
        self._quantum_names = [lay.name for lay in quantum]
        for lay in quantum:
            var, entries = _trainable_circuit_entries(lay)
            position = {w: k for k, w in enumerate(entries)}
            groups = {g: [position[i] for i in idx if i in position]
                      for g, idx in circuit_layer_groups(lay).items()}
            groups = {g: idx for g, idx in groups.items() if idx}
            self._groups.append((lay.name, var, groups))
        if self.include_classical:
            for lay in model.layers:
                if isinstance(lay, QuantumLayer) or not lay.trainable_weights:
                    continue
                self._groups.append((lay.name, list(lay.trainable_weights), {}))
        self._fit += 1
        self._below = 0
        self._warned = False
        if self.log_initial:
            self._check(0)

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        if (epoch + 1) % self.every == 0:
            self._check(epoch + 1)

    def gradient_norms(self) -> dict[str, float]:
        """The current gradient norm of each monitored layer's trainable weights, by layer name
        (after ``fit`` has started, so that the callback knows its model)."""
        if not getattr(self, "_groups", None):
            raise ValueError("gradient_norms needs a model: use the callback in fit first")
        return {name: float(np.linalg.norm(g)) for name, (g, _) in self._norms().items()}

    def _norms(self) -> dict[str, tuple[np.ndarray, dict[str, list[int]]]]:
        variables: list[Any] = []
        for _, var, _ in self._groups:
            variables.extend(var if isinstance(var, list) else [var])
        with tf.GradientTape() as tape:
            pred = self.model(self._x, training=False)
            loss = tf.reduce_mean(self._loss_fn(self._y, pred))
        grads = tape.gradient(loss, variables,
                              unconnected_gradients=tf.UnconnectedGradients.ZERO)
        out: dict[str, tuple[np.ndarray, dict[str, list[int]]]] = {}
        k = 0
        for name, var, groups in self._groups:
            count = len(var) if isinstance(var, list) else 1
            g = [np.asarray(tf.convert_to_tensor(gr).numpy(), dtype=float).ravel()
                 for gr in grads[k:k + count]]
            k += count
            out[name] = (np.concatenate(g) if g else np.zeros(0), groups)
        return out

    def _check(self, epoch: int) -> None:
        total_sq = 0.0
        for name, (g, groups) in self._norms().items():
            rows = [(label, g[idx]) for label, idx in groups.items()] if groups else []
            rows.append(("all", g))
            for label, part in rows:
                norm = float(np.linalg.norm(part))
                n = int(part.size)
                self._rows.append({"fit": self._fit, "epoch": epoch, "layer": name,
                                   "group": label, "n_parameters": n, "norm": norm,
                                   "rms": norm / np.sqrt(n) if n else 0.0})
            if name in self._quantum_names:
                total_sq += float(np.sum(g ** 2))
        total = float(np.sqrt(total_sq))
        self._below = self._below + 1 if total < self.threshold else 0
        if self._below >= self.patience and not self._warned:
            self._warned = True
            self.plateaus.append((self._fit, epoch))
            action = "; stopping training" if self.stop_on_plateau else ""
            warnings.warn(PlateauWarning(
                f"gradient norm of the circuit weights {total:.3g} has been below the plateau "
                f"threshold {self.threshold:g} for {self._below} check(s) (fit {self._fit}, "
                f"epoch {epoch}){action}"), stacklevel=2)
            if self.stop_on_plateau:
                self.model.stop_training = True


# --------------------------------------------------------------------------------------------
# layerwise training
# --------------------------------------------------------------------------------------------


@dataclass
class LayerwiseResult:
    """The outcome of :func:`fit_layerwise`.

    Attributes:
        model: the final (compiled, trained) model.
        history: one row per epoch: ``stage`` (index), ``label``, ``layers``, ``epoch``
            (counted over all stages, from 1), ``stage_epoch``, ``trainable_circuit_weights``
            and the Keras history's columns (``loss``, metrics, ``val_*``).
        stages: per stage: ``label``, ``layers``, ``frozen`` (weight names), ``epochs`` run,
            ``history`` (the Keras ``History.history`` dict) and ``model``.
    """

    model: Any
    history: pd.DataFrame
    stages: list[dict[str, Any]] = field(default_factory=list)


def _label(depth: int) -> str:
    return f"{depth} layer" + ("" if depth == 1 else "s")


def _make_optimizer(name: str, learning_rate: float) -> Any:
    return tf_keras.optimizers.get({"class_name": _OPTIMIZERS[name],
                                    "config": {"learning_rate": learning_rate}})


def fit_layerwise(model: Any, x: Any, y: Any, *, layers: int, epochs_per_stage: int,
                  loss: Any, final_epochs: int = 0, freeze_previous: bool = True,
                  new_weights: str = "zeros", scale: float = 0.01,
                  rng: np.random.Generator | None = None, optimizer: str = "adam",
                  learning_rate: float = 0.05, metrics: Sequence[Any] = (),
                  batch_size: int = 32, validation_data: Any = None,
                  callbacks: Sequence[Any] = (), fit_kwargs: Mapping[str, Any] | None = None,
                  quantum_layer: str | None = None) -> LayerwiseResult:
    """Layerwise learning with ``model.fit``: grow the circuit stage by stage.

    Stage 0 trains ``model`` as it is (all its weights) for ``epochs_per_stage`` epochs. Each
    following stage adds one circuit layer (:func:`grow_model`; with ``freeze_previous`` only
    the new layer's circuit weights train, the classical layers always train) and trains for
    ``epochs_per_stage`` epochs, until the circuit has ``layers`` layers. With
    ``final_epochs > 0`` a last stage unfreezes every weight (:func:`with_frozen`) and trains
    for ``final_epochs`` epochs. Every stage compiles a fresh optimizer (``optimizer`` with
    ``learning_rate``); ``callbacks`` (e.g. a :class:`GradientNormMonitor`, whose ``fit``
    column then counts the stages) are passed to every stage. An early stop (a callback setting
    ``stop_training``) ends that stage only.

    Args:
        model: a built model with one growable quantum layer (see :func:`grow_model`).
        x: training inputs.
        y: training targets.
        layers: circuit layers of the final stage (>= the model's current depth).
        epochs_per_stage: epochs of each growing stage (>= 1).
        loss: the Keras loss.
        final_epochs: epochs of the final all-weights stage (>= 0).
        freeze_previous: freeze carried circuit weights while a new layer trains.
        new_weights: ``"zeros"`` or ``"small"`` (see :func:`grow_model`).
        scale: standard deviation of ``"small"``.
        rng: the source of ``"small"``.
        optimizer: ``"adam"``, ``"sgd"`` or ``"rmsprop"``.
        learning_rate: the optimizer's step size (> 0).
        metrics: Keras metrics to compile with.
        batch_size: ``fit``'s batch size (>= 1).
        validation_data: passed to ``fit``.
        callbacks: Keras callbacks passed to every stage's ``fit``.
        fit_kwargs: other ``fit`` arguments (not ``epochs``, ``batch_size``, ``callbacks``,
            ``validation_data``, ``x`` or ``y``).
        quantum_layer: the name of the quantum layer, if the model holds several.

    Returns:
        A :class:`LayerwiseResult`.

    Raises:
        TypeError: for arguments of the wrong type.
        ValueError: for out-of-range numbers, unknown choices, a model that cannot grow, or
            ``fit_kwargs`` that repeat an argument of this function.

    Example:
        >>> from qmlkit.layers import hybrid_model
        >>> tf_keras.utils.set_random_seed(0)
        >>> m = hybrid_model(2, n_qubits=2, quantum_kwargs={"layers": 1})
        >>> x = np.random.default_rng(0).uniform(-1, 1, (16, 2)); y = x[:, :1] * x[:, 1:]
        >>> res = fit_layerwise(m, x, y, layers=3, epochs_per_stage=2, final_epochs=1,
        ...                     loss="mse")
        >>> res.history.groupby("label", sort=False)["layers"].first().to_dict()
        {'1 layer': 1, '2 layers': 2, '3 layers': 3, 'all weights': 3}
    """
    model = _check_model(model)
    old = _quantum_layer(model, quantum_layer)
    config = old.get_config()
    if config["ansatz"] not in _GROWABLE:
        raise ValueError(f"model: its quantum layer's ansatz {config['ansatz']!r} cannot grow; "
                         f"use one of {_GROWABLE}")
    start = int(config["layers"])
    layers = check_int("layers", layers, minimum=start)
    epochs_per_stage = check_int("epochs_per_stage", epochs_per_stage, minimum=1)
    final_epochs = check_int("final_epochs", final_epochs, minimum=0)
    freeze_previous = check_bool("freeze_previous", freeze_previous)
    new_weights = check_choice("new_weights", new_weights, _NEW_WEIGHTS)
    scale = check_float("scale", scale, minimum=0.0)
    if scale == 0.0:
        raise ValueError("scale must be > 0, got 0.0")
    if new_weights == "small":
        rng = check_rng("rng", rng)
    optimizer = check_choice("optimizer", optimizer, tuple(_OPTIMIZERS))
    learning_rate = check_float("learning_rate", learning_rate, minimum=0.0)
    if learning_rate == 0.0:
        raise ValueError("learning_rate must be > 0, got 0.0")
    batch_size = check_int("batch_size", batch_size, minimum=1)
    if isinstance(metrics, (str, bytes)) or not isinstance(metrics, Sequence):
        raise TypeError(f"metrics must be a sequence of Keras metrics, got "
                        f"{type(metrics).__name__}")
    if isinstance(callbacks, (str, bytes)) or not isinstance(callbacks, Sequence):
        raise TypeError(f"callbacks must be a sequence of Keras callbacks, got "
                        f"{type(callbacks).__name__}")
    for k, cb in enumerate(callbacks):
        if not isinstance(cb, tf_keras.callbacks.Callback):
            raise TypeError(f"callbacks[{k}] must be a tf_keras callback, got "
                            f"{type(cb).__name__}")
    fit_kwargs = {} if fit_kwargs is None else fit_kwargs
    if not isinstance(fit_kwargs, Mapping):
        raise TypeError(f"fit_kwargs must be a dict, got {type(fit_kwargs).__name__}")
    clash = sorted(set(fit_kwargs) & {"x", "y", "epochs", "batch_size", "callbacks",
                                      "validation_data", "initial_epoch"})
    if clash:
        raise ValueError(f"fit_kwargs must not set {clash}: they are arguments of "
                         f"fit_layerwise or set by it")
    fit_kwargs = {"verbose": 0, **fit_kwargs}

    stages: list[dict[str, Any]] = []
    frames: list[pd.DataFrame] = []
    epoch_offset = 0

    def run(current: Any, label: str, depth: int, epochs: int) -> None:
        nonlocal epoch_offset
        current.compile(optimizer=_make_optimizer(optimizer, learning_rate), loss=loss,
                        metrics=list(metrics))
        hist = current.fit(x, y, epochs=epochs, batch_size=batch_size,
                           validation_data=validation_data, callbacks=list(callbacks),
                           **fit_kwargs)
        q = _quantum_layer(current, quantum_layer)
        frozen = q.frozen_symbols if isinstance(q, FreezableQuantumLayer) else []
        n_epochs = len(hist.history.get("loss", []))
        frame = pd.DataFrame(hist.history)
        frame.insert(0, "trainable_circuit_weights", q.n_parameters - len(frozen))
        frame.insert(0, "stage_epoch", np.arange(1, n_epochs + 1))
        frame.insert(0, "epoch", epoch_offset + np.arange(1, n_epochs + 1))
        frame.insert(0, "layers", depth)
        frame.insert(0, "label", label)
        frame.insert(0, "stage", len(stages))
        frames.append(frame)
        epoch_offset += n_epochs
        stages.append({"label": label, "layers": depth,
                       "frozen": [s.name for s in frozen], "epochs": n_epochs,
                       "history": dict(hist.history), "model": current})

    current = model
    run(current, _label(start), start, epochs_per_stage)
    for depth in range(start + 1, layers + 1):
        current = grow_model(current, layers=depth,
                             freeze="previous" if freeze_previous else "none",
                             new_weights=new_weights, scale=scale, rng=rng,
                             quantum_layer=quantum_layer)
        run(current, _label(depth), depth, epochs_per_stage)
    if final_epochs:
        current = with_frozen(current, frozen=(), quantum_layer=quantum_layer)
        run(current, "all weights", layers, final_epochs)
    return LayerwiseResult(current, pd.concat(frames, ignore_index=True), stages)
