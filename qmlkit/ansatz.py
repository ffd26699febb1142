"""Parameterised circuits (ansätze) and their initialisation (review §4.1).

* :func:`hardware_efficient_ansatz` -- layers of single-qubit rotations and a fixed entangler
  (Kandala et al. 2017), optionally *mirrored* so that it can start as the identity;
* :func:`hamiltonian_variational_ansatz` -- alternating ZZ and X evolutions for the
  transverse-field Ising model (Wiersema et al. 2020), with :func:`tfim_hamiltonian`;
* :func:`qcnn_ansatz` -- a quantum convolutional neural network (Cong et al. 2019): two-qubit
  convolution blocks and pooling that halves the register down to one readout qubit;
* :func:`initial_parameters` -- uniform, small-angle and identity-block (Grant et al. 2019)
  initialisations, from an explicit :class:`numpy.random.Generator`.

Every ansatz is an :class:`Ansatz`: a symbolic :class:`cirq.Circuit`, its ordered list of
:class:`sympy.Symbol` parameters (the order of parameter vectors, and of TensorFlow Quantum's
``symbol_names``), and its qubits. Importing this module does not import TensorFlow.

Example:
    >>> import numpy as np
    >>> a = hardware_efficient_ansatz(2, layers=1)
    >>> a.symbols[:2]
    [theta_l0_q0_0, theta_l0_q0_1]
    >>> values = initial_parameters(a, strategy="small", rng=np.random.default_rng(0))
    >>> cirq.is_parameterized(a.resolve(values))
    False
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import cirq
import numpy as np
import sympy

from qmlkit._validation import (
    check_bool,
    check_choice,
    check_finite_array,
    check_float,
    check_identifier,
    check_int,
    check_rng,
)
from qmlkit.encodings import _check_qubits

__all__ = [
    "Ansatz",
    "hamiltonian_variational_ansatz",
    "hardware_efficient_ansatz",
    "initial_parameters",
    "qcnn_ansatz",
    "tfim_hamiltonian",
]

_AXES = ("X", "Y", "Z")
_ROTATION = {"X": cirq.rx, "Y": cirq.ry, "Z": cirq.rz}
_ENTANGLERS = ("CZ", "CNOT")
_CONNECTIVITIES = ("line", "ring", "all")
_STRATEGIES = ("uniform", "small", "identity_blocks")


@dataclass(frozen=True)
class Ansatz:
    """A symbolic circuit with its ordered parameters.

    Attributes:
        circuit: the parameterised circuit.
        symbols: its parameters, in the order of parameter vectors.
        qubits: the qubits it acts on, in register order.
        readout: the qubit to measure, for ansätze that have one (the QCNN).
        mirror_pairs: pairs ``(i, j)`` such that the gate of ``symbols[j]`` undoes the gate of
            ``symbols[i]`` when ``values[j] = -values[i]`` (a mirrored ansatz); the circuit is
            then the identity (see :func:`initial_parameters`).
        name: a short description.

    Example:
        >>> a = hardware_efficient_ansatz(3, layers=2)
        >>> a.n_parameters, len(a.qubits)
        (18, 3)
    """

    circuit: cirq.Circuit
    symbols: list[sympy.Symbol]
    qubits: list[cirq.Qid]
    readout: cirq.Qid | None = None
    mirror_pairs: tuple[tuple[int, int], ...] = field(default=())
    name: str = ""

    @property
    def n_parameters(self) -> int:
        """Number of parameters (symbols)."""
        return len(self.symbols)

    @property
    def symbol_names(self) -> list[str]:
        """The symbols' names, e.g. for TensorFlow Quantum's ``symbol_names``."""
        return [s.name for s in self.symbols]

    def param_resolver(self, values: Sequence[float] | np.ndarray) -> cirq.ParamResolver:
        """A resolver mapping each symbol to its value.

        Raises:
            ValueError: if ``values`` holds NaN/inf or not exactly one value per symbol.

        Example:
            >>> a = hamiltonian_variational_ansatz(2, layers=1)
            >>> a.param_resolver([0.1, 0.2]).value_of(a.symbols[1])
            0.2
        """
        v = check_finite_array("values", values, ndim=1)
        if v.size != self.n_parameters:
            raise ValueError(f"values must hold {self.n_parameters} parameters (one per symbol), "
                             f"got {v.size}")
        return cirq.ParamResolver({s: float(x) for s, x in zip(self.symbols, v, strict=True)})

    def resolve(self, values: Sequence[float] | np.ndarray) -> cirq.Circuit:
        """The circuit with every symbol replaced by its value.

        Example:
            >>> a = hardware_efficient_ansatz(1, layers=0, rotations=("X",))
            >>> print(a.resolve([np.pi]))
            0: ───Rx(π)───
        """
        return cirq.resolve_parameters(self.circuit, self.param_resolver(values))


def _register(name: str, value: Any) -> list[cirq.Qid]:
    """An int ``n`` gives ``cirq.LineQubit.range(n)``; a sequence of qubits is checked."""
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        return cirq.LineQubit.range(check_int(name, value, minimum=1))
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a number of qubits or a sequence of cirq.Qid, got bool")
    return _check_qubits(name, value)


def _check_rotations(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = tuple(value)
    if not isinstance(value, (Sequence, np.ndarray)):
        raise TypeError(f"rotations must be a sequence of 'X', 'Y', 'Z', got "
                        f"{type(value).__name__}")
    if len(value) == 0:
        raise ValueError("rotations must not be empty")
    out = []
    for i, axis in enumerate(value):
        if not isinstance(axis, str):
            raise TypeError(f"rotations[{i}] must be a string, got {type(axis).__name__}")
        if axis.upper() not in _AXES:
            raise ValueError(f"rotations[{i}] must be one of {_AXES}, got {axis!r}")
        out.append(axis.upper())
    return tuple(out)


def _entangling_pairs(n: int, connectivity: str) -> list[tuple[int, int]]:
    line = [(i, i + 1) for i in range(n - 1)]
    if connectivity == "all":
        return [(i, j) for i in range(n) for j in range(i + 1, n)]
    if connectivity == "ring" and n > 2:
        return [*line, (n - 1, 0)]
    return line


# --------------------------------------------------------------------------------------------
# hardware-efficient ansatz
# --------------------------------------------------------------------------------------------


def hardware_efficient_ansatz(qubits: int | Sequence[cirq.Qid], *, layers: int,
                              rotations: Sequence[str] = ("Y", "Z"), entangler: str = "CZ",
                              connectivity: str = "line", prefix: str = "theta",
                              mirrored: bool = False) -> Ansatz:
    """Hardware-efficient ansatz: rotation layers separated by fixed entangling layers.

    Without mirroring the circuit is ``R_0 E R_1 E ... E R_L`` (``L`` = ``layers``): each
    rotation layer ``R_l`` applies, on every qubit ``q``, the rotations ``rotations[k]`` with
    angle ``{prefix}_l{l}_q{q}_{k}`` (``R_a(θ) = exp(-iθσ_a/2)``), and each entangling layer
    ``E`` applies CZ or CNOT gates on the pairs of ``connectivity`` (``"line"``: ``(i, i+1)``;
    ``"ring"``: line plus ``(n-1, 0)`` for ``n > 2``; ``"all"``: every ``i < j``). The final
    rotation layer matters: a CZ layer just before a Z measurement would do nothing.

    With ``mirrored=True`` (``layers`` even) the circuit is ``U(θ) · U(φ)†`` where ``U`` is the
    unmirrored ansatz with ``layers / 2`` entangling layers (so ``layers`` entangling and
    ``layers + 2`` rotation layers in all): the second half repeats the first in reverse
    order, gate by gate inverted in structure but with its own parameters. Setting each
    mirrored parameter to minus its partner (:attr:`Ansatz.mirror_pairs`) makes the whole
    circuit the identity for any first half: the identity-block initialisation of Grant et al.
    (2019), ``initial_parameters(..., strategy="identity_blocks")``.

    Args:
        qubits: a number of qubits (``cirq.LineQubit.range(n)``) or the qubits themselves.
        layers: number of entangling layers (>= 0; even when mirrored).
        rotations: axes of the rotations applied to each qubit per layer, in order.
        entangler: ``"CZ"`` or ``"CNOT"``.
        connectivity: ``"line"``, ``"ring"`` or ``"all"``.
        prefix: name prefix of the symbols.
        mirrored: build the identity-capable mirrored form.

    Raises:
        TypeError: for arguments of the wrong type.
        ValueError: for ``layers < 0``, odd ``layers`` when mirrored, an unknown rotation,
            entangler or connectivity.

    Example:
        >>> a = hardware_efficient_ansatz(2, layers=1, rotations=("Y",))
        >>> print(a.circuit)
        0: ───Ry(theta_l0_q0_0)───@───Ry(theta_l1_q0_0)───
                                  │
        1: ───Ry(theta_l0_q1_0)───@───Ry(theta_l1_q1_0)───
    """
    q = _register("qubits", qubits)
    layers = check_int("layers", layers, minimum=0)
    axes = _check_rotations(rotations)
    entangler = check_choice("entangler", entangler, _ENTANGLERS)
    connectivity = check_choice("connectivity", connectivity, _CONNECTIVITIES)
    prefix = check_identifier("prefix", prefix)
    mirrored = check_bool("mirrored", mirrored)
    if mirrored and layers % 2:
        raise ValueError(f"layers must be even when mirrored=True, got {layers}")
    two = cirq.CZ if entangler == "CZ" else cirq.CNOT
    pairs = _entangling_pairs(len(q), connectivity)
    ent_ops = [two(q[i], q[j]) for i, j in pairs]

    symbols: list[sympy.Symbol] = []
    index: dict[tuple[int, int, int], int] = {}

    def rotation_layer(layer: int, reverse: bool) -> list[cirq.Operation]:
        ops = []
        for iq, qubit in enumerate(q):
            ks = range(len(axes) - 1, -1, -1) if reverse else range(len(axes))
            for k in ks:
                s = sympy.Symbol(f"{prefix}_l{layer}_q{iq}_{k}")
                index[(layer, iq, k)] = len(symbols)
                symbols.append(s)
                ops.append(_ROTATION[axes[k]](s)(qubit))
        return ops

    n_forward = layers // 2 if mirrored else layers
    circuit = cirq.Circuit()
    for layer in range(n_forward + 1):
        if layer:
            circuit.append(ent_ops)
        circuit.append(rotation_layer(layer, reverse=False))
    mirror_pairs: list[tuple[int, int]] = []
    if mirrored:
        for j in range(n_forward + 1):
            source = n_forward - j
            layer = n_forward + 1 + j
            if j:
                circuit.append(ent_ops[::-1])
            circuit.append(rotation_layer(layer, reverse=True))
            mirror_pairs += [(index[(source, iq, k)], index[(layer, iq, k)])
                             for iq in range(len(q)) for k in range(len(axes))]
    return Ansatz(circuit=circuit, symbols=symbols, qubits=q,
                  mirror_pairs=tuple(sorted(mirror_pairs)),
                  name=f"hardware-efficient ({layers} layers{', mirrored' if mirrored else ''})")


# --------------------------------------------------------------------------------------------
# Hamiltonian variational ansatz for the TFIM
# --------------------------------------------------------------------------------------------


def _bonds(n: int, periodic: bool) -> list[tuple[int, int]]:
    return [(i, i + 1) for i in range(n - 1)] + ([(n - 1, 0)] if periodic and n > 2 else [])


def tfim_hamiltonian(n_qubits: int | Sequence[cirq.Qid], *, j: float = 1.0, h: float = 1.0,
                     periodic: bool = False) -> cirq.PauliSum:
    """Transverse-field Ising model ``H = -J Σ_<ik> Z_i Z_k - h Σ_i X_i``.

    Bonds are ``(i, i+1)``; ``periodic`` adds ``(n-1, 0)`` for ``n > 2`` (for two qubits it
    would repeat the only bond).

    Args:
        n_qubits: a number of qubits or the qubits themselves.
        j: coupling ``J``.
        h: transverse field ``h``.
        periodic: periodic boundary conditions.

    Example:
        >>> h = tfim_hamiltonian(2, j=1.0, h=0.5)
        >>> round(float(np.linalg.eigvalsh(h.matrix())[0]), 6)
        -1.414214
    """
    q = _register("n_qubits", n_qubits)
    j = check_float("j", j)
    h = check_float("h", h)
    periodic = check_bool("periodic", periodic)
    terms = [-j * cirq.Z(q[a]) * cirq.Z(q[b]) for a, b in _bonds(len(q), periodic)]
    terms += [-h * cirq.X(qi) for qi in q]
    return cirq.PauliSum.from_pauli_strings(terms)


def hamiltonian_variational_ansatz(n_qubits: int | Sequence[cirq.Qid], *, layers: int,
                                   periodic: bool = False, zz_prefix: str = "gamma",
                                   x_prefix: str = "beta",
                                   initial_state: str = "plus") -> Ansatz:
    """Hamiltonian variational ansatz for the TFIM (Wiersema et al. 2020).

    Starting from ``|+>^n`` (the ground state of ``-h Σ X``; ``initial_state="zero"`` keeps
    ``|0...0>``), each layer ``l`` applies ``exp(-i γ_l Σ_<ik> Z_i Z_k)`` and then
    ``exp(-i β_l Σ_i X_i)``, one parameter per generator and layer (symbols ``gamma_l{l}``
    and ``beta_l{l}``, ordered ``γ_0, β_0, γ_1, β_1, ...``). The bonds are those of
    :func:`tfim_hamiltonian` with the same ``periodic``. All parameters zero gives the identity.

    Args:
        n_qubits: a number of qubits or the qubits themselves.
        layers: number of layers (>= 1).
        periodic: include the bond ``(n-1, 0)`` (for ``n > 2``).
        zz_prefix: name of the ZZ-layer parameters.
        x_prefix: name of the X-layer parameters.
        initial_state: ``"plus"`` or ``"zero"``.

    Example:
        >>> a = hamiltonian_variational_ansatz(4, layers=2)
        >>> a.symbols
        [gamma_l0, beta_l0, gamma_l1, beta_l1]
    """
    q = _register("n_qubits", n_qubits)
    layers = check_int("layers", layers, minimum=1)
    periodic = check_bool("periodic", periodic)
    zz_prefix = check_identifier("zz_prefix", zz_prefix)
    x_prefix = check_identifier("x_prefix", x_prefix)
    if zz_prefix == x_prefix:
        raise ValueError(f"zz_prefix and x_prefix must differ, both are {zz_prefix!r}")
    initial_state = check_choice("initial_state", initial_state, ("plus", "zero"))
    bonds = _bonds(len(q), periodic)
    circuit = cirq.Circuit()
    if initial_state == "plus":
        circuit.append(cirq.H.on_each(q))
    symbols: list[sympy.Symbol] = []
    for layer in range(layers):
        gamma = sympy.Symbol(f"{zz_prefix}_l{layer}")
        beta = sympy.Symbol(f"{x_prefix}_l{layer}")
        symbols += [gamma, beta]
        # exp(-i γ Z⊗Z) = ZZ**(2γ/π) with global shift -1/2.
        circuit.append(cirq.ZZPowGate(exponent=2 * gamma / np.pi, global_shift=-0.5)(q[a], q[b])
                       for a, b in bonds)
        circuit.append(cirq.rx(2 * beta)(qi) for qi in q)
    return Ansatz(circuit=circuit, symbols=symbols, qubits=q,
                  name=f"TFIM Hamiltonian variational ({layers} layers)")


# --------------------------------------------------------------------------------------------
# quantum convolutional neural network
# --------------------------------------------------------------------------------------------


def _rot3(qubit: cirq.Qid, s: Sequence[sympy.Expr]) -> list[cirq.Operation]:
    return [cirq.rx(s[0])(qubit), cirq.ry(s[1])(qubit), cirq.rz(s[2])(qubit)]


def _rot3_inverse(qubit: cirq.Qid, s: Sequence[sympy.Expr]) -> list[cirq.Operation]:
    return [cirq.rz(-s[2])(qubit), cirq.ry(-s[1])(qubit), cirq.rx(-s[0])(qubit)]


def _conv_block(a: cirq.Qid, b: cirq.Qid, s: Sequence[sympy.Symbol]) -> list[cirq.Operation]:
    """A general two-qubit block (15 parameters): local rotations, XX·YY·ZZ, local rotations."""
    return [
        *_rot3(a, s[0:3]), *_rot3(b, s[3:6]),
        cirq.ZZPowGate(exponent=s[6] / np.pi, global_shift=-0.5)(a, b),
        cirq.YYPowGate(exponent=s[7] / np.pi, global_shift=-0.5)(a, b),
        cirq.XXPowGate(exponent=s[8] / np.pi, global_shift=-0.5)(a, b),
        *_rot3(a, s[9:12]), *_rot3(b, s[12:15]),
    ]


def _pool_block(source: cirq.Qid, sink: cirq.Qid,
                s: Sequence[sympy.Symbol]) -> list[cirq.Operation]:
    """Pooling (6 parameters): rotate both, CNOT source→sink, undo the sink's rotation."""
    return [*_rot3(source, s[0:3]), *_rot3(sink, s[3:6]), cirq.CNOT(source, sink),
            *_rot3_inverse(sink, s[3:6])]


def qcnn_ansatz(n_qubits: int | Sequence[cirq.Qid], *, prefix: str = "phi",
                share_parameters: bool = True) -> Ansatz:
    """Quantum convolutional neural network (Cong et al. 2019), as in the TFQ QCNN tutorial.

    While more than one qubit is active, a level applies a *convolution* -- a general
    15-parameter two-qubit block on the pairs ``(a0, a1), (a2, a3), ...`` and then on
    ``(a1, a2), (a3, a4), ...`` (plus ``(a_{m-1}, a0)`` for an even number ``m > 2`` of active
    qubits) -- and a *pooling*: a 6-parameter block per pair ``(a_{2i}, a_{2i+1})`` that
    rotates both, applies ``CNOT(a_{2i} → a_{2i+1})`` and un-rotates the sink, after which
    only the sinks (and an odd last qubit) stay active. The last active qubit is the readout
    (:attr:`Ansatz.readout`), e.g. measured as ``<Z>`` for a binary classifier.

    With ``share_parameters`` (translation invariance) all convolution blocks of a level share
    symbols ``{prefix}_c{level}_{k}`` and all pooling blocks ``{prefix}_p{level}_{k}``;
    otherwise each block has its own, ``{prefix}_c{level}_b{block}_{k}`` and
    ``{prefix}_p{level}_b{block}_{k}``.

    Args:
        n_qubits: a number of qubits (>= 2) or the qubits themselves.
        prefix: name prefix of the symbols.
        share_parameters: share parameters between the blocks of one level.

    Example:
        >>> a = qcnn_ansatz(8)
        >>> a.readout, a.n_parameters
        (cirq.LineQubit(7), 63)
    """
    q = _register("n_qubits", n_qubits)
    if len(q) < 2:
        raise ValueError(f"n_qubits must be >= 2 for a QCNN, got {len(q)}")
    prefix = check_identifier("prefix", prefix)
    share = check_bool("share_parameters", share_parameters)
    symbols: list[sympy.Symbol] = []

    def new(tag: str, count: int) -> list[sympy.Symbol]:
        out = [sympy.Symbol(f"{prefix}_{tag}_{k}") for k in range(count)]
        symbols.extend(out)
        return out

    circuit = cirq.Circuit()
    active = list(q)
    level = 0
    while len(active) > 1:
        m = len(active)
        conv_pairs = [(active[i], active[i + 1]) for i in range(0, m - 1, 2)]
        conv_pairs += [(active[i], active[i + 1]) for i in range(1, m - 1, 2)]
        if m > 2 and m % 2 == 0:
            conv_pairs.append((active[-1], active[0]))
        shared = new(f"c{level}", 15) if share else None
        for b, (x, y) in enumerate(conv_pairs):
            circuit.append(_conv_block(x, y, shared or new(f"c{level}_b{b}", 15)))
        pool_pairs = [(active[i], active[i + 1]) for i in range(0, m - 1, 2)]
        shared = new(f"p{level}", 6) if share else None
        for b, (src, sink) in enumerate(pool_pairs):
            circuit.append(_pool_block(src, sink, shared or new(f"p{level}_b{b}", 6)))
        active = [sink for _, sink in pool_pairs] + ([active[-1]] if m % 2 else [])
        level += 1
    return Ansatz(circuit=circuit, symbols=symbols, qubits=q, readout=active[0],
                  name=f"QCNN ({len(q)} qubits, {level} levels)")


# --------------------------------------------------------------------------------------------
# initialisation
# --------------------------------------------------------------------------------------------


def initial_parameters(ansatz: Ansatz, *, strategy: str = "uniform", rng: np.random.Generator,
                       scale: float | None = None) -> np.ndarray:
    """Initial parameter vector for ``ansatz``, in the order of ``ansatz.symbols``.

    * ``"uniform"``: independent uniform angles in ``[0, scale)``, ``scale = 2π`` by default;
    * ``"small"``: independent normal angles ``N(0, scale²)``, ``scale = 0.1`` by default
      (near the identity for ansätze whose gates are rotations; mitigates barren plateaus);
    * ``"identity_blocks"`` (Grant et al. 2019): the first-half parameters uniform in
      ``[0, scale)`` and each mirrored parameter minus its partner, so that a mirrored ansatz
      (``hardware_efficient_ansatz(..., mirrored=True)``) is exactly the identity while its
      gradients are not trivially zero.

    Args:
        ansatz: the ansatz to initialise.
        strategy: ``"uniform"``, ``"small"`` or ``"identity_blocks"``.
        rng: the source of randomness.
        scale: width of the distribution (> 0), see above.

    Raises:
        TypeError: if ``ansatz`` is not an :class:`Ansatz` or ``rng`` is not a Generator.
        ValueError: for an unknown strategy, ``scale <= 0``, or ``"identity_blocks"`` for an
            ansatz without mirror pairs.

    Example:
        >>> a = hardware_efficient_ansatz(2, layers=2, mirrored=True)
        >>> v = initial_parameters(a, strategy="identity_blocks", rng=np.random.default_rng(0))
        >>> np.allclose(cirq.unitary(a.resolve(v)), np.eye(4))
        True
    """
    if not isinstance(ansatz, Ansatz):
        raise TypeError(f"ansatz must be a qmlkit.ansatz.Ansatz, got {type(ansatz).__name__}")
    strategy = check_choice("strategy", strategy, _STRATEGIES)
    rng = check_rng("rng", rng)
    if scale is None:
        scale = 0.1 if strategy == "small" else 2 * np.pi
    scale = check_float("scale", scale, minimum=0.0)
    if scale == 0.0:
        raise ValueError("scale must be > 0, got 0.0")
    n = ansatz.n_parameters
    if strategy == "small":
        return rng.normal(0.0, scale, size=n)
    values = rng.uniform(0.0, scale, size=n)
    if strategy == "identity_blocks":
        if not ansatz.mirror_pairs:
            raise ValueError(f"strategy='identity_blocks' needs a mirrored ansatz (e.g. "
                             f"hardware_efficient_ansatz(..., mirrored=True)); "
                             f"{ansatz.name or 'this ansatz'} has no mirror pairs")
        for i, j in ansatz.mirror_pairs:
            values[j] = -values[i]
    return values
