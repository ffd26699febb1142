"""Representative applications (review §8): classifiers whose *inputs are circuits*.

Two pipelines of the review's §8, in the form TensorFlow Quantum's tutorials give them:

* **classical data as basis states** (TFQ's MNIST tutorial, after Farhi and Neven 2018):
  images are down-sampled, binarised (:func:`binarize`), images that occur with both labels
  are dropped from the training set (:func:`remove_contradicting`), every pixel becomes one
  qubit in ``|0>`` or ``|1>`` (:func:`basis_state_circuits`), and a readout qubit coupled to
  every data qubit by trainable ``XX`` and ``ZZ`` interactions (:func:`readout_ansatz`) is
  measured;
* **quantum data**: states given as state vectors (ground states of a spin chain, say) are
  prepared by exact state-preparation circuits (:func:`state_preparation_circuits`) and
  classified by a circuit acting on the state itself, e.g. a QCNN
  (:func:`qmlkit.ansatz.qcnn_ansatz`).

:func:`circuit_classifier` turns any :class:`~qmlkit.ansatz.Ansatz` into a Keras model that
takes a batch of such input circuits (as ``tfq.convert_to_tensor`` strings) and returns the
readout ``<Z>`` in ``[-1, 1]``; :func:`hinge_accuracy` scores it against labels ``±1``.

Example:
    >>> bits = binarize(np.array([[0.1, 0.9], [0.6, 0.2]]))
    >>> bits.tolist()
    [[0, 1], [1, 0]]
    >>> x, y, counts = remove_contradicting(np.array([[0, 1], [0, 1], [1, 1]]), np.array([0, 1, 1]))
    >>> x.tolist(), y.tolist(), counts["contradicting images"]
    ([[1, 1]], [1], 1)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import cirq
import numpy as np
import sympy

from qmlkit._validation import check_bool, check_choice, check_finite_array, check_float, check_int
from qmlkit.ansatz import Ansatz, initial_parameters
from qmlkit.encodings import amplitude_encoding

__all__ = ["COUPLINGS", "basis_state_circuits", "binarize", "circuit_classifier",
           "hinge_accuracy", "readout_ansatz", "remove_contradicting",
           "state_preparation_circuits"]

#: The two-qubit couplings :func:`readout_ansatz` knows (data qubit -- readout qubit).
COUPLINGS = {"XX": cirq.XX, "YY": cirq.YY, "ZZ": cirq.ZZ}


def binarize(x: Any, *, threshold: float = 0.5) -> np.ndarray:
    """Pixels (or any features) above ``threshold`` become 1, the others 0.

    Args:
        x: array of features, e.g. images scaled to ``[0, 1]``.
        threshold: the cut; values strictly greater become 1.

    Returns:
        An integer array of 0/1 of the same shape.

    Raises:
        ValueError: if ``x`` holds NaN/inf.

    Example:
        >>> binarize([0.2, 0.5, 0.7]).tolist()
        [0, 0, 1]
    """
    a = check_finite_array("x", x)
    threshold = check_float("threshold", threshold)
    return (a > threshold).astype(np.int64)


def remove_contradicting(bits: Any, labels: Any) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Drop every sample whose (binary) input also occurs with another label.

    After binarisation, distinct images can become the same bit string; where such a string
    carries both labels no classifier can separate them. TFQ's MNIST tutorial removes those
    samples from the *training* set (duplicates with one label are kept). The order of the kept
    samples is preserved.

    Args:
        bits: ``(n, d)`` array of 0/1 inputs.
        labels: ``(n,)`` integer labels.

    Returns:
        The kept inputs, their labels, and counts: ``"samples"``, ``"unique images"``,
        ``"contradicting images"``, ``"removed samples"``, ``"kept samples"``.

    Raises:
        ValueError: if ``bits`` is not a 2-D 0/1 array or ``labels`` does not match it.

    Example:
        >>> _, _, c = remove_contradicting([[0, 0], [0, 0], [1, 0]], [1, 1, 0])
        >>> c["unique images"], c["removed samples"]
        (2, 0)
    """
    b = check_finite_array("bits", bits, ndim=2)
    if not np.all((b == 0) | (b == 1)):
        raise ValueError("bits must hold only 0 and 1")
    y = check_finite_array("labels", labels, ndim=1)
    if y.shape[0] != b.shape[0]:
        raise ValueError(f"labels must have one entry per row of bits ({b.shape[0]}), "
                         f"got {y.shape[0]}")
    b = b.astype(np.int64)
    y = y.astype(np.int64)
    seen: dict[tuple[int, ...], set[int]] = defaultdict(set)
    keys = [tuple(row) for row in b]
    for key, label in zip(keys, y, strict=True):
        seen[key].add(int(label))
    keep = np.array([len(seen[key]) == 1 for key in keys], dtype=bool)
    counts = {"samples": len(y), "unique images": len(seen),
              "contradicting images": sum(len(v) > 1 for v in seen.values()),
              "removed samples": int(np.sum(~keep)), "kept samples": int(np.sum(keep))}
    return b[keep], y[keep], counts


def _line_qubits(name: str, qubits: Any, n: int) -> list[cirq.Qid]:
    if qubits is None:
        return list(cirq.LineQubit.range(n))
    if isinstance(qubits, (str, bytes)) or not isinstance(qubits, Sequence):
        raise TypeError(f"{name} must be a sequence of cirq qubits, got {type(qubits).__name__}")
    qs = list(qubits)
    if not all(isinstance(q, cirq.Qid) for q in qs):
        raise TypeError(f"{name} must hold cirq qubits")
    if len(qs) != n:
        raise ValueError(f"{name} must hold {n} qubits, got {len(qs)}")
    return qs


def basis_state_circuits(bits: Any, *, qubits: Sequence[cirq.Qid] | None = None
                         ) -> list[cirq.Circuit]:
    """One circuit per row of ``bits``: an ``X`` on every qubit whose bit is 1 (basis encoding).

    Rows of zeros give empty circuits; TensorFlow Quantum still simulates them on the full
    register of the model they are fed to.

    Args:
        bits: ``(n, d)`` array of 0/1.
        qubits: the ``d`` qubits (default ``cirq.LineQubit.range(d)``).

    Raises:
        ValueError: if ``bits`` is not a 2-D 0/1 array or ``qubits`` has the wrong length.

    Example:
        >>> print(basis_state_circuits([[1, 0]])[0])
        0: ───X───
    """
    b = check_finite_array("bits", bits, ndim=2)
    if not np.all((b == 0) | (b == 1)):
        raise ValueError("bits must hold only 0 and 1")
    qs = _line_qubits("qubits", qubits, b.shape[1])
    return [cirq.Circuit(cirq.X(q) for q, v in zip(qs, row, strict=True) if v) for row in b]


def state_preparation_circuits(states: Any, *, qubits: Sequence[cirq.Qid] | None = None
                               ) -> list[cirq.Circuit]:
    """Exact state-preparation circuits of state vectors (one per row), for quantum data.

    Each circuit is :func:`qmlkit.encodings.amplitude_encoding` of the (normalised) state: a
    cascade of uniformly controlled ``Ry`` and ``Rz`` rotations with ``2^n - 2`` CNOTs that maps
    ``|0...0>`` to the state, up to a global phase. This lets TensorFlow Quantum models, whose
    inputs are circuits, take states computed elsewhere (exact ground states, say).

    Args:
        states: ``(m, 2^n)`` array of state vectors (each of norm 1).
        qubits: the ``n`` qubits (default ``cirq.LineQubit.range(n)``), big-endian.

    Raises:
        ValueError: for a dimension that is not a power of two, NaN/inf, or states that are
            not normalised.

    Example:
        >>> c = state_preparation_circuits(np.array([[0, 1, 0, 0]]))[0]
        >>> np.round(np.abs(cirq.final_state_vector(c, qubit_order=cirq.LineQubit.range(2))), 6)
        array([0., 1., 0., 0.], dtype=float32)
    """
    s = np.asarray(states)
    if s.ndim != 2:
        raise ValueError(f"states must be a 2-D array (one state per row), got shape {s.shape}")
    dim = s.shape[1]
    n = dim.bit_length() - 1 if dim > 0 else 0
    if dim < 2 or 2**n != dim:
        raise ValueError(f"states must have 2^n columns, got {dim}")
    qs = _line_qubits("qubits", qubits, n)
    return [amplitude_encoding(row, qubits=qs) for row in s]


def readout_ansatz(n_data: int, *, couplings: Sequence[str] = ("XX", "ZZ"),
                   prefix: str = "w") -> Ansatz:
    """The readout-qubit QNN of Farhi and Neven 2018, as in TFQ's MNIST tutorial.

    Data qubits ``cirq.LineQubit(0..n_data-1)`` and a readout ``cirq.LineQubit(n_data)``
    prepared in ``|->`` (``X`` then ``H``); then, for each coupling ``G`` of ``couplings`` in
    turn, ``G(data_i, readout)^{w}`` with a trainable exponent for every data qubit; then ``H``
    on the readout, whose ``<Z>`` is the prediction. There are ``len(couplings) · n_data``
    parameters. With basis-state inputs and the ``XX``, ``ZZ`` couplings the prediction is an
    *even* function of the spins ``(-1)^{b_i}``: complementing every bit leaves it unchanged
    (so it cannot output a single bit, but can output parities; ``ZZ`` alone ignores the data).

    Args:
        n_data: data qubits (>= 1).
        couplings: two-qubit couplings, each of ``"XX"``, ``"YY"``, ``"ZZ"``.
        prefix: prefix of the symbol names (``{prefix}_{coupling}{i}``).

    Raises:
        TypeError: for arguments of the wrong type.
        ValueError: for unknown or no couplings.

    Example:
        >>> a = readout_ansatz(3)
        >>> a.n_parameters, a.readout
        (6, cirq.LineQubit(3))
    """
    n = check_int("n_data", n_data, minimum=1)
    if isinstance(couplings, str) or not isinstance(couplings, Sequence) or not couplings:
        raise TypeError(f"couplings must be a non-empty sequence of names, got {couplings!r}")
    names = [check_choice("couplings", c, tuple(COUPLINGS)) for c in couplings]
    if not isinstance(prefix, str) or not prefix.isidentifier():
        raise ValueError(f"prefix must be an identifier, got {prefix!r}")
    data = list(cirq.LineQubit.range(n))
    readout = cirq.LineQubit(n)
    circuit = cirq.Circuit([cirq.X(readout), cirq.H(readout)])
    symbols: list[sympy.Symbol] = []
    for name in names:
        for i, q in enumerate(data):
            s = sympy.Symbol(f"{prefix}_{name.lower()}{i}")
            symbols.append(s)
            circuit.append(COUPLINGS[name](q, readout) ** s)
    circuit.append(cirq.H(readout))
    return Ansatz(circuit=circuit, symbols=symbols, qubits=[*data, readout], readout=readout,
                  name=f"readout QNN ({'+'.join(names)}, {n} data qubits)")


def circuit_classifier(ansatz: Ansatz, *, observable: cirq.PauliString | None = None,
                       initializer: str = "uniform", initializer_scale: float | None = None,
                       seed: int, differentiator: str = "adjoint",
                       trainable_readout: bool = False) -> Any:
    """A Keras model: input circuits (TFQ string tensors) in, ``<observable>`` out.

    The model is ``tfq.layers.PQC`` on the ansatz (the layer named ``"pqc"``), with weights
    drawn by :func:`qmlkit.ansatz.initial_parameters` from ``numpy.random.default_rng(seed)``,
    so two models with the same seed are identical. The PQC stores them in the order of its
    ``symbols`` (sorted by name), not of ``ansatz.symbols``: map them by name. Its output is in ``[-1, 1]``: train it with labels
    ``±1`` and the hinge loss (as TFQ's tutorial) or map it to a probability ``(1 - <Z>)/2``.
    With ``trainable_readout`` the expectation ``e`` passes through a classical
    ``tanh(a·e + b)`` with two trainable numbers (``a = 1``, ``b = 0`` at the start): a hybrid
    read-out that can move the decision threshold away from ``e = 0`` and sharpen it.

    Args:
        ansatz: the trainable circuit; its :attr:`~qmlkit.ansatz.Ansatz.readout` is measured.
        observable: what to measure; default ``Z`` on the readout qubit.
        initializer: ``"uniform"`` or ``"small"`` (see :func:`~qmlkit.ansatz.initial_parameters`).
        initializer_scale: its scale (default: that function's).
        seed: seed of the weights (>= 0).
        differentiator: ``"adjoint"`` (exact, fast) or ``"parameter_shift"``.
        trainable_readout: add the two-parameter classical read-out described above.

    Raises:
        TypeError: for arguments of the wrong type.
        ValueError: if no observable is given and the ansatz has no readout qubit.

    Example:
        >>> model = circuit_classifier(readout_ansatz(2), seed=1)  # doctest: +SKIP
        >>> model.count_params()  # doctest: +SKIP
        4
    """
    from qmlkit._environment import import_tensorflow

    if not isinstance(ansatz, Ansatz):
        raise TypeError(f"ansatz must be a qmlkit.ansatz.Ansatz, got {type(ansatz).__name__}")
    if observable is None:
        if ansatz.readout is None:
            raise ValueError("observable must be given for an ansatz without a readout qubit")
        observable = cirq.Z(ansatz.readout)
    if not isinstance(observable, (cirq.PauliString, cirq.PauliSum)):
        raise TypeError(f"observable must be a cirq.PauliString or PauliSum, "
                        f"got {type(observable).__name__}")
    seed = check_int("seed", seed, minimum=0)
    trainable_readout = check_bool("trainable_readout", trainable_readout)
    initializer = check_choice("initializer", initializer, ("uniform", "small"))
    differentiator = check_choice("differentiator", differentiator,
                                  ("adjoint", "parameter_shift"))
    kwargs = {} if initializer_scale is None else {
        "scale": check_float("initializer_scale", initializer_scale, minimum=0.0)}
    weights = initial_parameters(ansatz, strategy=initializer,
                                 rng=np.random.default_rng(seed), **kwargs)

    tf = import_tensorflow()
    import tensorflow_quantum as tfq
    import tf_keras

    diff = (tfq.differentiators.Adjoint() if differentiator == "adjoint"
            else tfq.differentiators.ParameterShift())
    pqc = tfq.layers.PQC(ansatz.circuit, observable, differentiator=diff, name="pqc",
                         initializer=tf_keras.initializers.Zeros())  # set below
    inputs = tf_keras.Input(shape=(), dtype=tf.string, name="circuits")
    outputs = pqc(inputs)
    # tfq.layers.PQC orders its weights by sorted symbol name, not by the ansatz's order.
    by_name = dict(zip(ansatz.symbol_names, np.asarray(weights, dtype=np.float64), strict=True))
    pqc.set_weights([np.array([by_name[str(s)] for s in pqc.symbols], dtype=np.float32)])
    if trainable_readout:
        outputs = tf_keras.layers.Dense(1, activation="tanh", kernel_initializer="ones",
                                        bias_initializer="zeros", name="readout")(outputs)
    return tf_keras.Model(inputs=inputs, outputs=outputs, name="circuit_classifier")


def hinge_accuracy(y_true: Any, y_pred: Any) -> float:
    """Share of predictions ``y_pred`` (in ``[-1, 1]``) with the sign of labels ``y_true = ±1``.

    A prediction of exactly 0 counts as wrong.

    Raises:
        ValueError: for labels other than ±1, NaN/inf, or mismatched lengths.

    Example:
        >>> hinge_accuracy([1, -1, 1], [0.3, -0.8, -0.1])
        0.6666666666666666
    """
    t = check_finite_array("y_true", y_true).reshape(-1)
    p = check_finite_array("y_pred", y_pred).reshape(-1)
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred must have the same length, got {t.size} and {p.size}")
    if not np.all(np.abs(t) == 1):
        raise ValueError("y_true must hold labels -1 and +1")
    return float(np.mean(t * p > 0))
