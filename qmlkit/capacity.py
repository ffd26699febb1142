"""Model capacity: Fisher information and effective dimension (Abbas et al. 2021; review §9).

Abbas, Sutter, Zoufal, Lucchi, Figalli and Woerner, "The power of quantum neural networks"
(Nature Computational Science 1, 403--409, 2021, doi:10.1038/s43588-021-00084-1) compare
quantum and classical models of the same number of parameters ``d`` through the spectrum of
their Fisher information and their *effective dimension*. A model gives class probabilities
``p(y | x; θ)``; with inputs ``x`` drawn from a distribution, its Fisher information is

    F(θ) = E_x [ Σ_y p(y|x;θ) ∇_θ log p(y|x;θ) ∇_θ log p(y|x;θ)ᵀ ]
         = E_x [ Σ_y ∇_θ p(y|x;θ) ∇_θ p(y|x;θ)ᵀ / p(y|x;θ) ],

estimated by the mean over sampled inputs (:func:`fisher_information`). The *normalised* Fisher
information is ``F̂(θ) = d F(θ) / E_θ[tr F(θ)]``, so that its average trace over the parameter
space is ``d`` (:func:`normalised_fisher`), and the effective dimension of the model for ``n``
data is

    d_eff(n) = 2 log( (1/V) ∫_Θ sqrt(det(I + κ_n F̂(θ))) dθ ) / log κ_n,
    κ_n = γ n / (2π log n),  γ ∈ (0, 1],

with the integral estimated by the mean over uniformly sampled ``θ`` (:func:`effective_dimension`;
computed from the eigenvalues of ``F̂`` with ``log1p`` and ``logsumexp``, so large ``κ_n`` do
not overflow). It tends to the rank of ``F̂`` as ``n → ∞``, and ``d_eff / d`` is the normalised
effective dimension of Abbas et al.'s Fig. 3a.

The module provides exact Jacobians ``∂p(y|x;θ)/∂θ`` for the two model families of the paper:

* :class:`ParityQNN` -- a feature map circuit followed by a parameterised ansatz, measured in the
  computational basis, each bitstring assigned to a class (by default its parity, as in the
  paper). The Jacobian is computed exactly in complex128 by forward-mode differentiation of the
  ansatz's unitary (each parameterised gate is a :class:`cirq.EigenGate` whose exponent depends
  on the parameters), batched over parameter samples; :func:`abbas_qnn` builds the paper's
  "quantum neural network" (ZZ feature map) and "easy quantum model" (Z feature map) with a
  ``RealAmplitudes``-type ansatz;
* :class:`FeedforwardNetwork` -- a fully connected network without biases (leaky-ReLU hidden
  layers, ``softmax(tanh(·))`` output, as in the paper's classical model), with an analytic
  Jacobian by back-propagation in NumPy.

:func:`sample_fisher` draws ``θ ~ U[low, high]^d`` and ``x ~ N(0, 1)`` from an explicit
:class:`numpy.random.Generator`, as the paper does, and returns the Fisher matrices and their
normalisation; :func:`fisher_spectrum` gives the eigenvalues (Fig. 2 of the paper).

Example:
    >>> import numpy as np
    >>> net = FeedforwardNetwork([2, 2, 2])
    >>> sample = sample_fisher(net, n_thetas=20, n_inputs=30, rng=np.random.default_rng(0))
    >>> sample.fhat.shape, round(float(np.trace(sample.fhat, axis1=1, axis2=2).mean()), 6)
    ((20, 8, 8), 8.0)
    >>> bool(0 < effective_dimension(sample.fhat, n=10_000) <= 8)
    True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import cirq
import numpy as np
import sympy
from scipy.special import logsumexp

from qmlkit._validation import (
    check_choice,
    check_finite_array,
    check_float,
    check_int,
    check_int_sequence,
    check_n_qubits,
    check_rng,
)
from qmlkit.ansatz import Ansatz, hardware_efficient_ansatz
from qmlkit.circuits import state_vector
from qmlkit.encodings import zz_feature_map
from qmlkit.landscape import _apply

__all__ = [
    "CapacityModel",
    "FeedforwardNetwork",
    "FisherSample",
    "ParityQNN",
    "abbas_qnn",
    "effective_dimension",
    "fisher_information",
    "fisher_spectrum",
    "kappa",
    "normalised_fisher",
    "sample_fisher",
    "z_feature_map",
]

#: Bytes one chunk of parameter samples may hold in :class:`ParityQNN`'s Jacobian.
_CHUNK_BYTES = 2**27
_FEATURE_MAPS = ("zz", "z")
_HIDDEN = ("leaky_relu", "tanh")
_OUTPUTS = ("tanh_softmax", "softmax")


class CapacityModel(Protocol):
    """What :func:`sample_fisher` needs of a model: sizes and exact probabilities with Jacobian."""

    n_parameters: int
    n_features: int
    n_outputs: int

    def probabilities_and_jacobian(self, thetas: Any, inputs: Any
                                   ) -> tuple[np.ndarray, np.ndarray]:
        """``p`` of shape ``(T, N, K)`` and ``∂p/∂θ`` of shape ``(T, N, K, d)``."""
        ...  # pragma: no cover


# --------------------------------------------------------------------------------------------
# Fisher information and effective dimension
# --------------------------------------------------------------------------------------------

def fisher_information(probabilities: Any, jacobians: Any, *, atol: float = 1e-12) -> np.ndarray:
    """Empirical Fisher information ``F = mean_x Σ_y ∇p_y ∇p_yᵀ / p_y`` of a classifier.

    Args:
        probabilities: class probabilities ``p(y|x;θ)``, shape ``(..., N, K)``: ``N`` inputs,
            ``K`` classes, any leading axes (e.g. ``T`` parameter samples); each row sums to 1.
        jacobians: ``∂p(y|x;θ)/∂θ``, shape ``(..., N, K, d)``.
        atol: classes with ``p ≤ atol`` are left out of the sum (their term is ``0/0``; for a
            smooth model ``∇p → 0`` there).

    Returns:
        The Fisher matrices, shape ``(..., d, d)``: symmetric and positive semi-definite.

    Raises:
        TypeError: for non-numeric arrays.
        ValueError: for NaN/inf, mismatched shapes, or probabilities outside ``[0, 1]`` or not
            summing to 1.

    Example:
        >>> # one Bernoulli output p = sigmoid(θ x) at θ = 0, inputs x = ±1: F = E[x²]/4
        >>> p = np.array([[0.5, 0.5], [0.5, 0.5]])
        >>> jac = np.array([[[0.25], [-0.25]], [[-0.25], [0.25]]])
        >>> fisher_information(p, jac)
        array([[0.25]])
    """
    p = check_finite_array("probabilities", probabilities)
    jac = check_finite_array("jacobians", jacobians)
    atol = check_float("atol", atol, minimum=0.0)
    if p.ndim < 2:
        raise ValueError(f"probabilities must have shape (..., N, K), got {p.shape}")
    if jac.shape[:-1] != p.shape:
        raise ValueError(f"jacobians must have shape {p.shape} + (d,), got {jac.shape}")
    if np.any(p < -1e-9) or np.any(p > 1 + 1e-9):
        raise ValueError("probabilities must lie in [0, 1]")
    if not np.allclose(p.sum(axis=-1), 1.0, atol=1e-6):
        raise ValueError("probabilities must sum to 1 over the classes (last axis)")
    weight = np.where(p > atol, 1.0 / np.sqrt(np.where(p > atol, p, 1.0)), 0.0)
    g = jac * weight[..., None]
    return np.einsum("...nki,...nkj->...ij", g, g) / p.shape[-2]


def normalised_fisher(fishers: Any) -> tuple[np.ndarray, float]:
    """``F̂(θ_t) = d F(θ_t) / mean_t tr F(θ_t)``, so that the mean trace of ``F̂`` is ``d``.

    Args:
        fishers: Fisher matrices of ``T`` parameter samples, shape ``(T, d, d)`` (a single
            ``(d, d)`` matrix is one sample).

    Returns:
        ``(fhat, mean_trace)``: the normalised matrices, shape ``(T, d, d)``, and the mean trace
        of the unnormalised ones.

    Raises:
        ValueError: for a non-square or non-symmetric matrix, NaN/inf, or zero Fisher
            information (a model whose output does not depend on its parameters).

    Example:
        >>> fhat, tr = normalised_fisher(np.array([[[1.0, 0.0], [0.0, 0.0]],
        ...                                        [[3.0, 0.0], [0.0, 0.0]]]))
        >>> fhat[:, 0, 0].tolist(), tr
        ([1.0, 3.0], 2.0)
    """
    f = _check_fishers("fishers", fishers)
    mean_trace = float(np.trace(f, axis1=1, axis2=2).mean())
    if not mean_trace > 0:
        raise ValueError("fishers have zero trace: the model's outputs do not depend on its "
                         "parameters at the sampled points")
    return f.shape[-1] * f / mean_trace, mean_trace


def fisher_spectrum(fhat: Any) -> np.ndarray:
    """Eigenvalues of each (normalised) Fisher matrix, ascending, shape ``(T, d)``.

    Example:
        >>> fisher_spectrum(np.diag([2.0, 0.0])).round(6).tolist()
        [[0.0, 2.0]]
    """
    f = _check_fishers("fhat", fhat)
    return np.linalg.eigvalsh(0.5 * (f + np.swapaxes(f, 1, 2)))


def kappa(n: int, *, gamma: float = 1.0) -> float:
    """``κ_n = γ n / (2π log n)``, the resolution scale of the effective dimension.

    Raises:
        ValueError: if ``n < 2`` or ``γ`` is not in ``(0, 1]``.

    Example:
        >>> round(kappa(1_000_000), 1)
        11520.0
    """
    n = check_int("n", n, minimum=2)
    gamma = check_float("gamma", gamma, maximum=1.0)
    if gamma <= 0:
        raise ValueError(f"gamma must lie in (0, 1], got {gamma}")
    return gamma * n / (2 * math.pi * math.log(n))


def effective_dimension(fhat: Any, *, n: int | Sequence[int],
                        gamma: float = 1.0) -> float | np.ndarray:
    """Effective dimension ``2 log(mean_θ sqrt(det(I + κ_n F̂(θ)))) / log κ_n`` (Abbas et al.).

    The mean over the ``T`` sampled ``θ`` is the Monte-Carlo estimate of ``(1/V) ∫_Θ ... dθ``
    (so ``θ`` must be drawn uniformly from ``Θ``). ``log det(I + κF̂) = Σ_i log1p(κ λ_i)`` from
    the eigenvalues ``λ_i`` of ``F̂``, and the mean is taken with ``logsumexp``: no overflow for
    any ``n``. For a constant ``F̂`` with eigenvalues ``λ_i`` it is ``Σ_i log(1 + κλ_i)/log κ``,
    which tends to the rank of ``F̂``.

    Args:
        fhat: normalised Fisher matrices (:func:`normalised_fisher`), shape ``(T, d, d)``, or one
            ``(d, d)`` matrix.
        n: the number of data, one integer or a sequence of them; ``κ_n`` must exceed 1.
        gamma: the constant ``γ`` in ``(0, 1]``.

    Returns:
        A float for an integer ``n``, an array (one value per ``n``) for a sequence.

    Raises:
        TypeError: for a non-integer ``n`` or non-numeric ``fhat``.
        ValueError: for a non-symmetric or not positive semi-definite ``fhat``, ``γ`` outside
            ``(0, 1]`` or ``κ_n ≤ 1`` (``n`` too small; ``n ≥ 19`` suffices for ``γ = 1``).

    Example:
        >>> round(effective_dimension(np.eye(3), n=1_000_000), 3)   # F̂ = I: full dimension
        3.0
        >>> effective_dimension(np.diag([2.0, 0.0]), n=[10**3, 10**6]).round(3)  # rank 1
        array([1.228, 1.074])
    """
    f = _check_fishers("fhat", fhat)
    scalar = not isinstance(n, (Sequence, np.ndarray))
    ns = [check_int("n", n, minimum=2)] if scalar else check_int_sequence("n", n, minimum=2)
    kappas = []
    for value in ns:
        k = kappa(value, gamma=gamma)
        if k <= 1.0:
            raise ValueError(f"n={value} gives kappa = gamma n / (2 pi log n) = {k:.3g} <= 1; "
                             "the effective dimension needs a larger n")
        kappas.append(k)
    lam = np.linalg.eigvalsh(0.5 * (f + np.swapaxes(f, 1, 2)))
    scale = max(1.0, float(np.abs(lam).max()))
    if lam.min() < -1e-9 * scale:
        raise ValueError(f"fhat must be positive semi-definite, smallest eigenvalue "
                         f"{lam.min():.3g}")
    lam = np.clip(lam, 0.0, None)
    out = np.array([2.0 * (logsumexp(0.5 * np.log1p(k * lam).sum(axis=1)) - math.log(len(lam)))
                    / math.log(k) for k in kappas])
    return float(out[0]) if scalar else out


def _check_fishers(name: str, value: Any) -> np.ndarray:
    f = check_finite_array(name, value)
    if f.ndim == 2:
        f = f[None]
    if f.ndim != 3 or f.shape[1] != f.shape[2] or f.shape[1] == 0 or f.shape[0] == 0:
        raise ValueError(f"{name} must have shape (T, d, d) or (d, d), got {np.shape(value)}")
    scale = max(1.0, float(np.abs(f).max()))
    if not np.allclose(f, np.swapaxes(f, 1, 2), atol=1e-9 * scale):
        raise ValueError(f"{name} must be symmetric")
    return f


# --------------------------------------------------------------------------------------------
# Sampling the Fisher information of a model
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FisherSample:
    """Fisher information of a model at sampled parameters and inputs.

    Attributes:
        thetas: the ``T`` parameter samples, shape ``(T, d)``.
        inputs: the ``N`` inputs, shape ``(N, s)``.
        fishers: the empirical Fisher matrices, shape ``(T, d, d)``.
        fhat: the normalised ones (:func:`normalised_fisher`), shape ``(T, d, d)``.
        mean_trace: the mean trace of ``fishers`` (the normalisation).
    """

    thetas: np.ndarray
    inputs: np.ndarray
    fishers: np.ndarray
    fhat: np.ndarray
    mean_trace: float

    @property
    def n_parameters(self) -> int:
        """``d``."""
        return int(self.thetas.shape[1])


def sample_fisher(model: CapacityModel, *, n_thetas: int, n_inputs: int,
                  rng: np.random.Generator, low: float = 0.0, high: float = 1.0) -> FisherSample:
    """Fisher information of ``model`` at ``θ ~ U[low, high]^d`` and inputs ``x ~ N(0, 1)``.

    This is the sampling of Abbas et al. (their code draws ``θ`` uniformly from ``[0, 1]^d`` and
    ``x`` from a standard normal): ``n_thetas`` parameter sets, each evaluated on the same
    ``n_inputs`` inputs.

    Args:
        model: a :class:`ParityQNN`, a :class:`FeedforwardNetwork` or any object with
            ``n_parameters``, ``n_features`` and ``probabilities_and_jacobian``.
        n_thetas: number of parameter samples ``T`` (>= 1).
        n_inputs: number of inputs ``N`` (>= 1).
        rng: the source of the samples.
        low, high: the parameter box ``Θ = [low, high]^d``.

    Raises:
        TypeError: for arguments of the wrong type.
        ValueError: for sizes < 1 or ``low >= high``.

    Example:
        >>> s = sample_fisher(FeedforwardNetwork([1, 2]), n_thetas=3, n_inputs=4,
        ...                   rng=np.random.default_rng(1))
        >>> s.fishers.shape, s.inputs.shape
        ((3, 2, 2), (4, 1))
    """
    for attr in ("n_parameters", "n_features", "probabilities_and_jacobian"):
        if not hasattr(model, attr):
            raise TypeError(f"model must have {attr!r} (a ParityQNN, FeedforwardNetwork or "
                            f"similar), got {type(model).__name__}")
    n_thetas = check_int("n_thetas", n_thetas, minimum=1)
    n_inputs = check_int("n_inputs", n_inputs, minimum=1)
    rng = check_rng("rng", rng)
    low = check_float("low", low)
    high = check_float("high", high)
    if not low < high:
        raise ValueError(f"low must be < high, got low={low}, high={high}")
    thetas = rng.uniform(low, high, size=(n_thetas, model.n_parameters))
    inputs = rng.normal(0.0, 1.0, size=(n_inputs, model.n_features))
    p, jac = model.probabilities_and_jacobian(thetas, inputs)
    fishers = fisher_information(p, jac)
    fhat, mean_trace = normalised_fisher(fishers)
    return FisherSample(thetas, inputs, fishers, fhat, mean_trace)


def _check_rows(name: str, value: Any, columns: int, what: str) -> np.ndarray:
    arr = check_finite_array(name, value)
    if arr.ndim != 2 or arr.shape[1] != columns or arr.shape[0] == 0:
        raise ValueError(f"{name} must have shape (rows, {columns}) ({what}), got {arr.shape}")
    return arr


# --------------------------------------------------------------------------------------------
# Quantum model
# --------------------------------------------------------------------------------------------

def z_feature_map(features: Sequence[float] | np.ndarray, *, reps: int = 1,
                  qubits: Sequence[cirq.Qid] | None = None) -> cirq.Circuit:
    """qiskit's ``ZFeatureMap``: ``reps`` times ``H`` then ``P(2 x_i)`` on every qubit ``i``.

    The feature map of Abbas et al.'s "easy quantum model": no entangling gates, so the
    encoded state is a product state. ``P(λ) = diag(1, e^{iλ})``.

    Example:
        >>> print(z_feature_map([0.25 * np.pi]))
        0: ───H───S───
    """
    x = check_finite_array("features", features, ndim=1)
    reps = check_int("reps", reps, minimum=1)
    q = cirq.LineQubit.range(len(x)) if qubits is None else list(qubits)
    if len(q) != len(x):
        raise ValueError(f"qubits must hold {len(x)} qubits (one per feature), got {len(q)}")
    circuit = cirq.Circuit()
    for _ in range(reps):
        circuit.append(cirq.Moment(cirq.H.on_each(q)))
        circuit.append(cirq.Moment(cirq.ZPowGate(exponent=2 * float(xi) / np.pi)(qi)
                                   for qi, xi in zip(q, x, strict=True)))
    return circuit


def _compile_ansatz(ansatz: Ansatz) -> list[tuple[list[int], str, Any]]:
    """Per operation: target axes and a fixed unitary or the data of a parameterised EigenGate."""
    index = {q: i for i, q in enumerate(ansatz.qubits)}
    column = {s.name: i for i, s in enumerate(ansatz.symbols)}
    ops: list[tuple[list[int], str, Any]] = []
    for op in ansatz.circuit.all_operations():
        targets = [index[q] for q in op.qubits]
        if not cirq.is_parameterized(op):
            ops.append((targets, "fixed", cirq.unitary(op)))
            continue
        gate = op.gate
        if not (isinstance(gate, cirq.EigenGate) and isinstance(op, cirq.GateOperation)
                and not cirq.is_parameterized(gate.global_shift)):
            raise ValueError(f"ParityQNN differentiates parameterised cirq.EigenGate operations "
                             f"(rx, ry, rz, XX/YY/ZZPowGate, CZPowGate, ...); got {op!r}")
        expr = sympy.sympify(gate.exponent)
        names = sorted(s.name for s in expr.free_symbols)
        unknown = [s for s in names if s not in column]
        if unknown:
            raise ValueError(f"{op!r} depends on symbols {unknown} that are not ansatz parameters")
        args = [sympy.Symbol(s) for s in names]
        value = sympy.lambdify(args, expr, "numpy")
        slopes = [(column[s], sympy.lambdify(args, sympy.diff(expr, sympy.Symbol(s)), "numpy"))
                  for s in names]
        comps = [(float(lam) + gate.global_shift, np.asarray(proj, dtype=np.complex128))
                 for lam, proj in gate._eigen_components()]
        ops.append((targets, "eigen", ([column[s] for s in names], value, slopes, comps)))
    return ops


class ParityQNN:
    """A quantum classifier: feature map, parameterised ansatz, class = a function of the bitstring.

    For input ``x`` and parameters ``θ`` the model prepares ``U(θ) V(x) |0⟩`` (``V`` =
    ``encoder(x)``, ``U`` = the ansatz), measures every qubit and returns
    ``p(y|x;θ) = Σ_{b : label(b) = y} |⟨b|U(θ)V(x)|0⟩|²``; the default label is the parity of
    the bitstring, as in Abbas et al. :meth:`probabilities_and_jacobian` returns these and
    their exact derivatives, by forward-mode differentiation of ``U(θ)`` (complex128), batched
    over parameter samples.

    Args:
        encoder: a function from a feature vector (shape ``(n_features,)``) to a Cirq circuit
            without symbols on (a subset of) the ansatz's qubits.
        ansatz: the trainable circuit; each parameterised gate must be a :class:`cirq.EigenGate`
            (``rx``, ``ry``, ``rz``, ``ZZPowGate``, ...) whose exponent depends on parameters.
        n_features: the length of the feature vectors.
        labels: the class of each computational-basis state (big-endian, qubit 0 first),
            length ``2**n``, classes ``0 .. K-1``; default: the parity (``K = 2``).

    Raises:
        TypeError: for arguments of the wrong type.
        ValueError: for unsupported gates, too many qubits or bad labels.

    Example:
        >>> import cirq
        >>> from qmlkit.ansatz import hardware_efficient_ansatz
        >>> model = ParityQNN(lambda x: cirq.Circuit(cirq.ry(x[0])(cirq.LineQubit(0))),
        ...                   hardware_efficient_ansatz(1, layers=0, rotations=("Y",)),
        ...                   n_features=1)
        >>> p, jac = model.probabilities_and_jacobian([[0.3]], [[0.2]])  # p(odd) = sin²(0.25)
        >>> round(float(p[0, 0, 1]), 6), round(float(jac[0, 0, 1, 0]), 6)
        (0.061209, 0.239713)
    """

    def __init__(self, encoder: Callable[[np.ndarray], cirq.AbstractCircuit], ansatz: Ansatz, *,
                 n_features: int, labels: Sequence[int] | np.ndarray | None = None) -> None:
        if not callable(encoder):
            raise TypeError(f"encoder must be callable, got {type(encoder).__name__}")
        if not isinstance(ansatz, Ansatz):
            raise TypeError(f"ansatz must be a qmlkit.ansatz.Ansatz, got {type(ansatz).__name__}")
        self.n_features = check_int("n_features", n_features, minimum=1)
        self.n_qubits = check_n_qubits("number of qubits", len(ansatz.qubits), copies=8)
        dim = 2**self.n_qubits
        if labels is None:
            lab = np.array([bin(b).count("1") % 2 for b in range(dim)])
        else:
            lab = np.asarray(labels)
            if lab.shape != (dim,) or not np.issubdtype(lab.dtype, np.integer):
                raise ValueError(f"labels must be {dim} integers (one per basis state), got "
                                 f"shape {lab.shape} of {lab.dtype}")
            if lab.min() != 0 or len(np.unique(lab)) != lab.max() + 1:
                raise ValueError("labels must use every class 0 .. K-1 with K >= 2")
        if lab.max() < 1:
            raise ValueError("labels must define at least two classes")
        self.labels = lab
        self.n_outputs = int(lab.max()) + 1
        self._onehot = np.eye(self.n_outputs)[lab]
        self.encoder = encoder
        self.ansatz = ansatz
        self.n_parameters = ansatz.n_parameters
        self._ops = _compile_ansatz(ansatz)

    def __repr__(self) -> str:
        return (f"ParityQNN({self.n_qubits} qubits, {self.n_parameters} parameters, "
                f"{self.n_outputs} classes)")

    def encoded_states(self, inputs: Any) -> np.ndarray:
        """``V(x)|0⟩`` of each input, shape ``(N, 2**n)``.

        Example:
            >>> from qmlkit.ansatz import hardware_efficient_ansatz
            >>> m = abbas_qnn(n_qubits=2, reps=1, feature_map="z")
            >>> m.encoded_states([[0.0, 0.0]]).round(3).tolist()
            [[(0.5+0j), (0.5+0j), (0.5+0j), (0.5+0j)]]
        """
        x = _check_rows("inputs", inputs, self.n_features, "inputs by features")
        states = []
        for i, row in enumerate(x):
            circuit = self.encoder(row)
            if not isinstance(circuit, cirq.AbstractCircuit):
                raise TypeError(f"encoder must return a cirq.Circuit, got "
                                f"{type(circuit).__name__} for inputs[{i}]")
            extra = set(circuit.all_qubits()) - set(self.ansatz.qubits)
            if extra:
                raise ValueError(f"encoder acts on qubits the ansatz does not have: {sorted(extra)}")
            states.append(state_vector(circuit, self.ansatz.qubits))
        return np.array(states)

    def _unitaries(self, thetas: np.ndarray, columns: np.ndarray, want_jacobian: bool
                   ) -> tuple[np.ndarray, np.ndarray | None]:
        """``U(θ) C`` and ``∂_k U(θ) C`` for each row of ``thetas``; ``C`` of shape (2**n, c)."""
        t, n, d = thetas.shape[0], self.n_qubits, self.n_parameters
        shape = (2,) * n + (columns.shape[1],)
        state = np.broadcast_to(columns.reshape(shape), (t, *shape)).copy()
        deriv = np.zeros((t, d, *shape), dtype=np.complex128) if want_jacobian else None
        for targets, kind, payload in self._ops:
            if kind == "fixed":
                u = payload
                state = _apply(state, [1 + a for a in targets], u)
                if deriv is not None:
                    deriv = _apply(deriv.reshape((t * d, *shape)), [1 + a for a in targets],
                                   u).reshape((t, d, *shape))
                continue
            cols, value, slopes, comps = payload
            exponent = np.broadcast_to(np.asarray(value(*[thetas[:, c] for c in cols]),
                                                  dtype=float), (t,))
            phases = [np.exp(1j * np.pi * exponent * shift) for shift, _ in comps]
            u = sum(ph[:, None, None] * proj[None] for ph, (_, proj) in zip(phases, comps,
                                                                             strict=True))
            axes = [1 + a for a in targets]
            if deriv is not None:
                du = sum((1j * np.pi * shift * ph)[:, None, None] * proj[None]
                         for ph, (shift, proj) in zip(phases, comps, strict=True))
                moved = _apply(state, axes, du)
                k2 = u.shape[-1]
                tiled = np.repeat(u[:, None], d, axis=1).reshape(t * d, k2, k2)
                deriv = _apply(deriv.reshape((t * d, *shape)), axes, tiled).reshape(
                    (t, d, *shape))
                for c, slope in slopes:
                    s = np.broadcast_to(np.asarray(slope(*[thetas[:, j] for j in cols]),
                                                   dtype=float), (t,))
                    deriv[:, c] += s.reshape((t,) + (1,) * (n + 1)) * moved
            state = _apply(state, axes, u)
        dim = 2**n
        state = state.reshape(t, dim, -1)
        if deriv is not None:
            deriv = deriv.reshape(t, d, dim, -1)
        return state, deriv

    def _run(self, thetas: Any, inputs: Any, want_jacobian: bool
             ) -> tuple[np.ndarray, np.ndarray | None]:
        th = _check_rows("thetas", thetas, self.n_parameters, "parameter samples by parameters")
        phi = self.encoded_states(inputs)
        n_in, dim, d = phi.shape[0], 2**self.n_qubits, self.n_parameters
        # Propagate the smaller of the basis and the encoded states through the ansatz.
        direct = n_in <= dim
        columns = phi.T if direct else np.eye(dim, dtype=np.complex128)
        per_row = 16 * (d + 1) * dim * max(columns.shape[1], n_in) * (2 if want_jacobian else 1)
        chunk = max(1, _CHUNK_BYTES // per_row)
        probs = np.empty((th.shape[0], n_in, self.n_outputs))
        jac = np.empty((th.shape[0], n_in, self.n_outputs, d)) if want_jacobian else None
        for start in range(0, th.shape[0], chunk):
            rows = th[start:start + chunk]
            state, deriv = self._unitaries(rows, columns, want_jacobian)
            if not direct:
                state = state @ phi.T
                deriv = None if deriv is None else deriv @ phi.T
            pb = np.abs(state) ** 2  # (t, dim, N)
            probs[start:start + len(rows)] = np.einsum("tbn,bk->tnk", pb, self._onehot)
            if deriv is not None:
                dpb = 2.0 * np.real(np.conj(state)[:, None] * deriv)  # (t, d, dim, N)
                jac[start:start + len(rows)] = np.einsum("tdbn,bk->tnkd", dpb, self._onehot)
        return probs, jac

    def probabilities(self, thetas: Any, inputs: Any) -> np.ndarray:
        """``p(y|x;θ)`` for each parameter row and input, shape ``(T, N, K)``.

        Example:
            >>> m = abbas_qnn(n_qubits=2, reps=1, feature_map="z")
            >>> m.probabilities(np.zeros((1, 4)), [[0.0, 0.0]]).round(6).tolist()
            [[[0.5, 0.5]]]
        """
        return self._run(thetas, inputs, want_jacobian=False)[0]

    def probabilities_and_jacobian(self, thetas: Any, inputs: Any
                                   ) -> tuple[np.ndarray, np.ndarray]:
        """``p(y|x;θ)``, shape ``(T, N, K)``, and ``∂p/∂θ``, shape ``(T, N, K, d)``, exactly.

        Example:
            >>> m = abbas_qnn(n_qubits=2, reps=1, feature_map="zz")
            >>> p, jac = m.probabilities_and_jacobian(np.zeros((3, 4)), np.ones((5, 2)))
            >>> p.shape, jac.shape, bool(np.allclose(jac.sum(axis=2), 0))
            ((3, 5, 2), (3, 5, 2, 4), True)
        """
        probs, jac = self._run(thetas, inputs, want_jacobian=True)
        return probs, jac


def abbas_qnn(*, n_qubits: int = 4, reps: int = 9, feature_map: str = "zz",
              feature_map_reps: int | None = None) -> ParityQNN:
    """The quantum models of Abbas et al. (2021), Figs. 2-3, with parity read-out.

    ``feature_map="zz"``: qiskit's ``ZZFeatureMap`` (full entanglement, ``feature_map_reps=2``
    by default) -- the paper's "quantum neural network"; ``"z"``: ``ZFeatureMap``
    (:func:`z_feature_map`, ``feature_map_reps=1``) -- its "easy quantum model". Both are
    followed by a ``RealAmplitudes``-type ansatz with ``reps`` blocks: ``R_y`` on every qubit,
    then CNOTs on every pair ``i < j``, repeated, and a final ``R_y`` layer
    (:func:`qmlkit.ansatz.hardware_efficient_ansatz` with ``rotations=("Y",)``,
    ``entangler="CNOT"``, ``connectivity="all"``): ``d = n_qubits (reps + 1)`` parameters (40
    for the paper's 4 qubits and 9 blocks).

    Example:
        >>> abbas_qnn()
        ParityQNN(4 qubits, 40 parameters, 2 classes)
    """
    n_qubits = check_int("n_qubits", n_qubits, minimum=1)
    reps = check_int("reps", reps, minimum=0)
    feature_map = check_choice("feature_map", feature_map, _FEATURE_MAPS)
    fm_reps = (2 if feature_map == "zz" else 1) if feature_map_reps is None else check_int(
        "feature_map_reps", feature_map_reps, minimum=1)
    ansatz = hardware_efficient_ansatz(n_qubits, layers=reps, rotations=("Y",),
                                       entangler="CNOT", connectivity="all")
    qubits = ansatz.qubits
    if feature_map == "zz":
        def encoder(x: np.ndarray) -> cirq.Circuit:
            return zz_feature_map(x, reps=fm_reps, entanglement="full", qubits=qubits)
    else:
        def encoder(x: np.ndarray) -> cirq.Circuit:
            return z_feature_map(x, reps=fm_reps, qubits=qubits)
    return ParityQNN(encoder, ansatz, n_features=n_qubits)


# --------------------------------------------------------------------------------------------
# Classical model
# --------------------------------------------------------------------------------------------

class FeedforwardNetwork:
    """A fully connected network without biases, with an analytic Jacobian of its probabilities.

    ``h_0 = x``, ``h_l = σ(W_l h_{l-1})`` for the hidden layers, and
    ``p = softmax(tanh(W_L h_{L-1}))`` (``output="tanh_softmax"``, the classical model of Abbas
    et al.) or ``softmax(W_L h_{L-1})``. The parameter vector is the concatenation of the
    row-major ``W_l`` (shape ``(sizes[l], sizes[l-1])``): ``d = Σ_l sizes[l-1] sizes[l]``
    parameters (40 for the paper's ``[4, 4, 4, 2]``).

    Args:
        sizes: layer widths ``[inputs, hidden..., outputs]`` (at least two entries, outputs >= 2).
        hidden_activation: ``"leaky_relu"`` (slope ``negative_slope`` below 0; PyTorch's default
            0.01, as in the paper) or ``"tanh"``.
        output: ``"tanh_softmax"`` or ``"softmax"``.
        negative_slope: the leaky-ReLU slope.

    Example:
        >>> net = FeedforwardNetwork([4, 4, 4, 2])
        >>> net.n_parameters
        40
        >>> p = net.probabilities(np.zeros((1, 40)), np.ones((3, 4)))
        >>> p.round(6).tolist()[0][0]
        [0.5, 0.5]
    """

    def __init__(self, sizes: Sequence[int], *, hidden_activation: str = "leaky_relu",
                 output: str = "tanh_softmax", negative_slope: float = 0.01) -> None:
        self.sizes = check_int_sequence("sizes", sizes, minimum=1)
        if len(self.sizes) < 2:
            raise ValueError(f"sizes must hold at least [inputs, outputs], got {self.sizes}")
        if self.sizes[-1] < 2:
            raise ValueError(f"the output layer must have >= 2 classes, got {self.sizes[-1]}")
        self.hidden_activation = check_choice("hidden_activation", hidden_activation, _HIDDEN)
        self.output = check_choice("output", output, _OUTPUTS)
        self.negative_slope = check_float("negative_slope", negative_slope, minimum=0.0)
        self.n_features = self.sizes[0]
        self.n_outputs = self.sizes[-1]
        self._shapes = [(self.sizes[i + 1], self.sizes[i]) for i in range(len(self.sizes) - 1)]
        self.n_parameters = sum(a * b for a, b in self._shapes)

    def __repr__(self) -> str:
        return f"FeedforwardNetwork({self.sizes}, {self.n_parameters} parameters)"

    def _weights(self, thetas: np.ndarray) -> list[np.ndarray]:
        out, start = [], 0
        for rows, cols in self._shapes:
            out.append(thetas[:, start:start + rows * cols].reshape(-1, rows, cols))
            start += rows * cols
        return out

    def _act(self, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.hidden_activation == "tanh":
            h = np.tanh(a)
            return h, 1.0 - h**2
        return (np.where(a > 0, a, self.negative_slope * a),
                np.where(a > 0, 1.0, self.negative_slope))

    def _forward(self, thetas: Any, inputs: Any) -> tuple[list, list, np.ndarray, np.ndarray]:
        th = _check_rows("thetas", thetas, self.n_parameters, "parameter samples by parameters")
        x = _check_rows("inputs", inputs, self.n_features, "inputs by features")
        weights = self._weights(th)
        h = np.broadcast_to(x, (th.shape[0], *x.shape))
        hs, slopes = [h], []
        for w in weights[:-1]:
            h, slope = self._act(np.einsum("tij,tnj->tni", w, h))
            hs.append(h)
            slopes.append(slope)
        z = np.einsum("tij,tnj->tni", weights[-1], h)
        t = np.tanh(z) if self.output == "tanh_softmax" else z
        e = np.exp(t - t.max(axis=-1, keepdims=True))
        return weights, hs + slopes, e / e.sum(axis=-1, keepdims=True), z

    def probabilities(self, thetas: Any, inputs: Any) -> np.ndarray:
        """``p(y|x;θ)`` for each parameter row and input, shape ``(T, N, K)``."""
        return self._forward(thetas, inputs)[2]

    def probabilities_and_jacobian(self, thetas: Any, inputs: Any
                                   ) -> tuple[np.ndarray, np.ndarray]:
        """``p(y|x;θ)``, shape ``(T, N, K)``, and ``∂p/∂θ`` by back-propagation, ``(T, N, K, d)``.

        Example:
            >>> net = FeedforwardNetwork([2, 3, 2])
            >>> p, jac = net.probabilities_and_jacobian(np.full((1, 12), 0.5), [[1.0, -1.0]])
            >>> jac.shape, bool(np.allclose(jac.sum(axis=2), 0))
            ((1, 1, 2, 12), True)
        """
        weights, stored, p, z = self._forward(thetas, inputs)
        n_layers = len(weights)
        hs, slopes = stored[:n_layers], stored[n_layers:]
        k = self.n_outputs
        # δ_{k, j} = ∂p_k / ∂z_j for every output k (axis 2), then back through the layers.
        delta = p[..., :, None] * (np.eye(k) - p[..., None, :])
        if self.output == "tanh_softmax":
            delta = delta * (1.0 - np.tanh(z) ** 2)[..., None, :]
        grads = [None] * n_layers
        for layer in range(n_layers - 1, -1, -1):
            grads[layer] = np.einsum("tnki,tnj->tnkij", delta, hs[layer]).reshape(
                (*delta.shape[:3], -1))
            if layer:
                delta = np.einsum("tnki,tij->tnkj", delta, weights[layer]) * \
                    slopes[layer - 1][:, :, None, :]
        return p, np.concatenate(grads, axis=-1)
