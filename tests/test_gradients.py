"""Tests of qmlkit.gradients: parameter shift, finite differences, SPSA and optimisers (§4.2).

The analytic gradients are cross-checked on a 3-qubit, 10-parameter hardware-efficient circuit
against TensorFlow Quantum (ParameterShift and Adjoint, float32) and PennyLane (default.qubit
parameter-shift and lightning.qubit adjoint); the statistical tests use seeded generators.
"""

from __future__ import annotations

import math
import subprocess
import sys
from functools import partial

import cirq
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from qmlkit.gradients import (
    CircuitExpectation,
    GradientResult,
    adam_minimize,
    finite_difference_gradient,
    gradient_descent,
    minimize_gradient_free,
    parameter_shift_gradient,
    spsa_gradient,
    spsa_minimize,
    tfq_gradient,
)
from qmlkit.measurement import fit_power_law

N_QUBITS = 3
QUBITS = cirq.LineQubit.range(N_QUBITS)

#: The hardware-efficient test circuit as (gate, wires, parameter index or None): one spec
#: builds both the Cirq circuit and the matching PennyLane circuit.
SPEC: list[tuple[str, tuple[int, ...], int | None]] = (
    [("rx", (i,), i) for i in range(3)]
    + [("ry", (i,), 3 + i) for i in range(3)]
    + [("cnot", (0, 1), None), ("cnot", (1, 2), None)]
    + [("rz", (i,), 6 + i) for i in range(3)]
    + [("cnot", (2, 0), None), ("ry", (0,), 9)]
)
N_PARAMS = 10
SYMBOLS = sympy.symbols(f"theta0:{N_PARAMS}")
#: (coefficient, {wire: Pauli}) terms of the observable; {} is the identity.
TERMS: list[tuple[float, dict[int, str]]] = [
    (1.0, {0: "Z", 1: "Z"}), (0.5, {2: "X"}), (-0.3, {0: "Y"}), (0.2, {}),
]

_CIRQ_GATES = {"rx": cirq.rx, "ry": cirq.ry, "rz": cirq.rz}
_CIRQ_PAULIS = {"X": cirq.X, "Y": cirq.Y, "Z": cirq.Z}


def build_circuit() -> cirq.Circuit:
    ops = []
    for name, wires, idx in SPEC:
        if name == "cnot":
            ops.append(cirq.CNOT(QUBITS[wires[0]], QUBITS[wires[1]]))
        else:
            ops.append(_CIRQ_GATES[name](SYMBOLS[idx])(QUBITS[wires[0]]))
    return cirq.Circuit(ops)


def build_observable() -> cirq.PauliSum:
    total = cirq.PauliSum()
    for coeff, paulis in TERMS:
        total += cirq.PauliString({QUBITS[w]: _CIRQ_PAULIS[p] for w, p in paulis.items()},
                                  coefficient=coeff)
    return total


@pytest.fixture
def cost() -> CircuitExpectation:
    return CircuitExpectation(build_circuit(), SYMBOLS, build_observable())


@pytest.fixture
def theta(rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(-np.pi, np.pi, N_PARAMS)


@pytest.fixture(scope="module")
def tfq():
    pytest.importorskip("tensorflow_quantum")
    from qmlkit._environment import import_tensorflow

    import_tensorflow()
    import tensorflow_quantum

    return tensorflow_quantum


@pytest.fixture(scope="module")
def qml():
    return pytest.importorskip("pennylane")


def pennylane_gradient(qml, theta: np.ndarray, device: str, diff_method: str) -> np.ndarray:
    from pennylane import numpy as pnp

    gates = {"rx": qml.RX, "ry": qml.RY, "rz": qml.RZ}
    paulis = {"X": qml.PauliX, "Y": qml.PauliY, "Z": qml.PauliZ}
    coeffs, ops = [], []
    for coeff, term in TERMS:
        op = qml.Identity(0)
        for w, p in term.items():
            op = paulis[p](w) if isinstance(op, qml.Identity) else op @ paulis[p](w)
        coeffs.append(coeff)
        ops.append(op)
    hamiltonian = qml.Hamiltonian(coeffs, ops)

    @qml.qnode(qml.device(device, wires=N_QUBITS), diff_method=diff_method)
    def circuit(params):
        for name, wires, idx in SPEC:
            if name == "cnot":
                qml.CNOT(wires=list(wires))
            else:
                gates[name](params[idx], wires=wires[0])
        return qml.expval(hamiltonian)

    return np.asarray(qml.grad(circuit)(pnp.array(theta, requires_grad=True)), dtype=float)


# --------------------------------------------------------------------------------------------
# Import hygiene and the cost function
# --------------------------------------------------------------------------------------------

def test_import_does_not_import_tensorflow():
    code = ("import sys, qmlkit.gradients; "
            "assert 'tensorflow' not in sys.modules and 'pennylane' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_circuit_expectation_exact_matches_analytic():
    q = cirq.LineQubit(0)
    a, b = sympy.symbols("a b")
    f = CircuitExpectation(cirq.Circuit(cirq.ry(a)(q), cirq.rz(b)(q)), [a, b], cirq.X(q))
    for t in ([0.3, 0.0], [1.1, 0.7], [-2.0, 2.5]):
        assert f(t) == pytest.approx(math.sin(t[0]) * math.cos(t[1]), abs=1e-12)
    assert f.evaluations == 3 and f.shots_used == 0
    f.reset_counters()
    assert f.evaluations == 0


def test_circuit_expectation_accepts_names_and_pauli_string(cost, theta):
    by_name = CircuitExpectation(build_circuit(), [s.name for s in SYMBOLS],
                                 build_observable())
    assert by_name(theta) == pytest.approx(cost(theta), abs=1e-12)
    single = CircuitExpectation(build_circuit(), SYMBOLS, cirq.Z(QUBITS[0]))
    assert -1.0 <= single(theta) <= 1.0


def test_circuit_expectation_sampled_counts_shots(rng, theta):
    f = CircuitExpectation(build_circuit(), SYMBOLS, build_observable(), shots=50, rng=rng)
    exact = CircuitExpectation(build_circuit(), SYMBOLS, build_observable())
    values = [f(theta) for _ in range(200)]
    assert f.evaluations == 200
    assert f.shots_used == 200 * 50 * 3  # three measured terms; the identity costs nothing
    # Per-evaluation standard deviation is at most sqrt(1 + 0.25 + 0.09) / sqrt(50) < 0.17.
    assert np.mean(values) == pytest.approx(exact(theta), abs=4 * 0.17 / np.sqrt(200))


def test_sampled_cost_is_reproducible(theta):
    values = []
    for _ in range(2):
        f = CircuitExpectation(build_circuit(), SYMBOLS, build_observable(), shots=20,
                               rng=np.random.default_rng(7))
        values.append([f(theta) for _ in range(3)])
    assert values[0] == values[1]


# --------------------------------------------------------------------------------------------
# Parameter shift: exactness and cross-checks
# --------------------------------------------------------------------------------------------

@settings(max_examples=8, deadline=None)
@given(st.lists(st.floats(-math.pi, math.pi), min_size=N_PARAMS, max_size=N_PARAMS),
       st.floats(0.2, math.pi - 0.2))
def test_parameter_shift_matches_central_differences(values, shift):
    f = CircuitExpectation(build_circuit(), SYMBOLS, build_observable())
    ps = parameter_shift_gradient(f, values, shift=shift).gradient
    fd = finite_difference_gradient(f, values, step=1e-5, method="central").gradient
    np.testing.assert_allclose(ps, fd, atol=1e-8)


def test_parameter_shift_matches_tfq_and_pennylane(cost, theta, tfq, qml):
    ps = parameter_shift_gradient(cost, theta).gradient
    tfq_ps = tfq_gradient(cost, theta, differentiator="parameter_shift")
    tfq_adj = tfq_gradient(cost, theta, differentiator="adjoint")
    # TFQ works in float32. Its ParameterShift agrees to ~1e-6; its Adjoint also carries the
    # bias of its gate-level finite differences (max 3.2e-5, median 8.5e-6 over 40 random
    # points of this circuit; see the next test), hence the looser tolerance.
    np.testing.assert_allclose(tfq_ps.gradient, ps, atol=1e-5)
    np.testing.assert_allclose(tfq_adj.gradient, ps, atol=5e-5)
    assert tfq_ps.evaluations == 2 * N_PARAMS and tfq_adj.evaluations == 1
    default = pennylane_gradient(qml, theta, "default.qubit", "parameter-shift")
    np.testing.assert_allclose(default, ps, atol=1e-10)
    lightning = pennylane_gradient(qml, theta, "lightning.qubit", "adjoint")
    np.testing.assert_allclose(lightning, ps, atol=1e-10)


def test_tfq_adjoint_has_a_systematic_error_beyond_float32_rounding(tfq):
    # One rx gate, <Z> = cos(a): TFQ's ParameterShift is exact up to float32 rounding
    # (~5e-7 relative), while its Adjoint differentiates the gate matrix by a central
    # difference of step 5e-3 in the exponent, a relative error of ~1e-5 even at small angles.
    q = cirq.LineQubit(0)
    a = sympy.Symbol("a")
    f = CircuitExpectation(cirq.Circuit(cirq.rx(a)(q)), [a], cirq.Z(q))
    for value in (0.3, 1.0, 2.0):
        exact = -math.sin(value)
        adjoint = tfq_gradient(f, [value]).gradient[0]
        shift = tfq_gradient(f, [value], differentiator="parameter_shift").gradient[0]
        assert abs(shift / exact - 1) < 3e-6
        assert 3e-6 < abs(adjoint / exact - 1) < 5e-5


def test_tfq_gradient_refuses_sampled_cost(rng):
    f = CircuitExpectation(build_circuit(), SYMBOLS, build_observable(), shots=10, rng=rng)
    with pytest.raises(ValueError, match="shots"):
        tfq_gradient(f, np.zeros(N_PARAMS))
    with pytest.raises(TypeError, match="f must be a CircuitExpectation"):
        tfq_gradient(lambda t: 0.0, np.zeros(N_PARAMS))


def test_parameter_shift_frequencies_for_pow_gates():
    q = cirq.LineQubit.range(2)
    a, b, c = sympy.symbols("a b c")
    circuit = cirq.Circuit(cirq.H(q[0]), (cirq.X**a)(q[1]), cirq.rx(2 * c)(q[0]),
                           cirq.ZZPowGate(exponent=b)(*q), cirq.ry(0.4)(q[1]))
    f = CircuitExpectation(circuit, [a, b, c], cirq.X(q[0]) * cirq.Y(q[1]) + cirq.Z(q[1]))
    np.testing.assert_allclose(f.shift_frequencies(), [np.pi, np.pi, 2.0])
    t = np.array([0.3, -0.4, 0.8])
    ps = parameter_shift_gradient(f, t)
    fd = finite_difference_gradient(f, t, step=1e-5, method="central")
    np.testing.assert_allclose(ps.gradient, fd.gradient, atol=1e-8)
    # Treating cirq.X**a like cirq.rx(a) (frequency 1) would be wrong:
    naive = parameter_shift_gradient(f, t, frequencies=[1.0, 1.0, 1.0])
    assert not np.allclose(naive.gradient, fd.gradient, atol=1e-3)


@pytest.mark.parametrize("make_op, message", [
    (lambda q, a: [cirq.rx(a)(q[0]), cirq.ry(a)(q[1])], "appears in 2 gates"),
    (lambda q, a: [cirq.rx(a).controlled()(q[0], q[1])], "does not cover"),
    (lambda q, a: [cirq.FSimGate(theta=a, phi=0.1)(q[0], q[1])], "does not cover"),
    (lambda q, a: [cirq.rx(a**2)(q[0])], "not linear"),
    (lambda q, a: [cirq.PhasedXPowGate(phase_exponent=a)(q[0])], "does not cover"),
])
def test_parameter_shift_refuses_uncovered_circuits(make_op, message):
    q = cirq.LineQubit.range(2)
    a = sympy.Symbol("a")
    f = CircuitExpectation(cirq.Circuit(make_op(q, a)), [a], cirq.Z(q[0]) + cirq.Z(q[1]))
    with pytest.raises(ValueError, match=message):
        parameter_shift_gradient(f, [0.3])
    # Explicit frequencies bypass the check (the caller takes responsibility).
    assert parameter_shift_gradient(f, [0.3], frequencies=[1.0]).evaluations == 2


# --------------------------------------------------------------------------------------------
# Evaluation counts and finite-difference bias
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("method, expected", [
    (partial(parameter_shift_gradient), 2 * N_PARAMS),
    (partial(finite_difference_gradient, step=1e-3, method="forward"), N_PARAMS + 1),
    (partial(finite_difference_gradient, step=1e-3, method="central"), 2 * N_PARAMS),
    (partial(spsa_gradient, step=0.1, rng=np.random.default_rng(0)), 2),
])
def test_evaluation_and_shot_counts(method, expected, theta):
    f = CircuitExpectation(build_circuit(), SYMBOLS, build_observable(), shots=10,
                           rng=np.random.default_rng(1))
    result = method(f, theta)
    assert isinstance(result, GradientResult)
    assert result.evaluations == expected == f.evaluations
    assert result.shots == expected * 10 * 3 == f.shots_used
    assert result.gradient.shape == (N_PARAMS,)
    exact = method(CircuitExpectation(build_circuit(), SYMBOLS, build_observable()), theta)
    assert exact.shots == 0


@pytest.mark.parametrize("method, order", [("forward", 1.0), ("central", 2.0)])
def test_finite_difference_bias_order(cost, theta, method, order):
    exact = parameter_shift_gradient(cost, theta).gradient
    steps = np.array([0.2, 0.1, 0.05, 0.025, 0.0125])
    errors = [np.max(np.abs(finite_difference_gradient(cost, theta, step=h, method=method)
                            .gradient - exact)) for h in steps]
    fit = fit_power_law(steps, errors)
    assert fit.exponent == pytest.approx(order, abs=0.15)
    assert fit.r_squared > 0.99


# --------------------------------------------------------------------------------------------
# Shot noise: unbiased parameter shift, variance ~ 1/shots
# --------------------------------------------------------------------------------------------

def test_sampled_parameter_shift_is_unbiased_with_predicted_variance(rng):
    q = cirq.LineQubit.range(2)
    s = sympy.symbols("s0:3")
    circuit = cirq.Circuit(cirq.ry(s[0])(q[0]), cirq.rx(s[1])(q[1]), cirq.CNOT(*q),
                           cirq.ry(s[2])(q[1]))
    obs = cirq.Z(q[0]) * cirq.Z(q[1])
    theta = np.array([0.7, -1.2, 0.4])
    exact_f = CircuitExpectation(circuit, s, obs)
    exact = parameter_shift_gradient(exact_f, theta).gradient
    # Var[g_i] = [(1 - f(θ+)²) + (1 - f(θ-)²)] / (4 N) for one ±1 observable at shift π/2.
    spread = np.array([
        (1 - exact_f(theta + e) ** 2) + (1 - exact_f(theta - e) ** 2)
        for e in np.eye(3) * (np.pi / 2)
    ]) / 4
    repeats = 150
    normalised_variance = []
    for shots in (50, 500):
        f = CircuitExpectation(circuit, s, obs, shots=shots, rng=rng)
        draws = np.array([parameter_shift_gradient(f, theta).gradient for _ in range(repeats)])
        stderr = np.sqrt(spread / shots / repeats)
        assert np.all(np.abs(draws.mean(axis=0) - exact) < 4 * stderr)
        ratio = draws.var(axis=0, ddof=1) / (spread / shots)
        assert np.all((ratio > 0.55) & (ratio < 1.55)), ratio
        normalised_variance.append(draws.var(axis=0, ddof=1).sum() * shots)
    assert normalised_variance[1] / normalised_variance[0] == pytest.approx(1.0, abs=0.3)


def test_spsa_gradient_is_unbiased_on_a_quadratic(rng):
    target = np.array([1.0, -2.0, 0.5, 3.0])

    def f(t):
        return float(np.sum((t - target) ** 2))

    theta = np.zeros(4)
    repeats = 4000
    draws = np.array([spsa_gradient(f, theta, step=0.1, rng=rng).gradient
                      for _ in range(repeats)])
    # For a quadratic ĝ = (Δ·g)Δ exactly: E[ĝ_i] = g_i, Var[ĝ_i] = Σ_{j≠i} g_j².
    g = 2 * (theta - target)
    stderr = np.sqrt((np.sum(g**2) - g**2) / repeats)
    assert np.all(np.abs(draws.mean(axis=0) - g) < 4 * stderr)
    np.testing.assert_allclose(draws.var(axis=0), np.sum(g**2) - g**2, rtol=0.15)


# --------------------------------------------------------------------------------------------
# Optimisers
# --------------------------------------------------------------------------------------------

def _two_qubit_cost(**kwargs) -> CircuitExpectation:
    q = cirq.LineQubit.range(2)
    s = sympy.symbols("u0:4")
    circuit = cirq.Circuit(cirq.ry(s[0])(q[0]), cirq.ry(s[1])(q[1]), cirq.CNOT(*q),
                           cirq.rx(s[2])(q[0]), cirq.rx(s[3])(q[1]))
    return CircuitExpectation(circuit, s, cirq.Z(q[0]) + cirq.Z(q[1]), **kwargs)  # min -2


def test_spsa_minimize_converges_with_shots(rng):
    exact = _two_qubit_cost()
    noisy = _two_qubit_cost(shots=200, rng=np.random.default_rng(3))
    theta0 = np.array([0.4, -0.3, 0.2, 0.1])
    res = spsa_minimize(noisy, theta0, iterations=150, rng=rng, a=0.6, c=0.2, monitor=exact)
    assert res.fun < -1.9
    assert res.evaluations == 300 == noisy.evaluations
    assert list(res.history.columns) == ["iteration", "evaluations", "loss", "a_k", "c_k"]
    assert len(res.history) == 151 and res.history["evaluations"].iloc[-1] == 300
    assert np.all(np.diff(res.history["a_k"].to_numpy()[1:]) < 0)


@pytest.mark.parametrize("method", ["COBYLA", "Nelder-Mead", "Powell"])
def test_gradient_free_methods_converge(method):
    f = _two_qubit_cost()
    res = minimize_gradient_free(f, [0.4, -0.3, 0.2, 0.1], method=method, maxiter=400)
    assert res.fun == pytest.approx(-2.0, abs=1e-3)
    assert res.method == method
    assert res.evaluations == len(res.history) == f.evaluations
    assert np.all(np.diff(res.history["best_loss"]) <= 0)
    assert res.history["best_loss"].iloc[-1] == pytest.approx(res.fun, abs=1e-12)


def test_gradient_free_monitor_records_the_truth_at_the_best_noisy_point():
    exact = _two_qubit_cost()
    noisy = _two_qubit_cost(shots=50, rng=np.random.default_rng(5))
    seen: list[np.ndarray] = []

    def monitor(theta):
        seen.append(np.array(theta))
        return exact(theta)

    theta0 = [0.4, -0.3, 0.2, 0.1]
    res = minimize_gradient_free(noisy, theta0, method="COBYLA", maxiter=150, monitor=monitor,
                                 options={"rhobeg": 0.5})
    hist = res.history
    assert list(hist.columns) == ["evaluations", "loss", "best_loss", "best_monitor"]
    # Monitor calls are extra: one per new best, none counted as optimiser evaluations.
    new_best = np.r_[True, np.diff(hist["best_loss"].to_numpy()) < 0]
    assert len(seen) == int(new_best.sum())
    assert res.evaluations == len(hist) == noisy.evaluations
    # best_monitor changes exactly where best_loss does and is the truth at that point.
    changed = np.r_[True, np.diff(hist["best_monitor"].to_numpy()) != 0]
    assert np.all(changed <= new_best)
    for value, theta in zip(hist["best_monitor"][new_best], seen, strict=True):
        assert value == exact(theta)
    # COBYLA returns its best point, so the last entry is the exact cost at res.x ...
    assert hist["best_monitor"].iloc[-1] == pytest.approx(exact(res.x), abs=1e-12)
    # ... while fun stays SciPy's value of the noisy cost there.
    assert hist["best_loss"].iloc[-1] == res.fun
    # Without a monitor the history is unchanged.
    plain = minimize_gradient_free(exact, theta0, maxiter=20)
    assert list(plain.history.columns) == ["evaluations", "loss", "best_loss"]


def test_gradient_free_refuses_a_monitor_that_is_not_callable():
    with pytest.raises(TypeError, match="monitor must be callable"):
        minimize_gradient_free(_quadratic, [1.0], maxiter=5, monitor=1.0)


def test_gradient_free_method_is_case_insensitive():
    res = minimize_gradient_free(lambda t: float(np.sum(t**2)), [1.0], method="cobyla",
                                 maxiter=50)
    assert res.method == "COBYLA"


@pytest.mark.parametrize("optimiser", [adam_minimize, gradient_descent])
def test_first_order_loops_with_parameter_shift(optimiser):
    f = _two_qubit_cost()
    grad_fn = partial(parameter_shift_gradient, f)
    kwargs = {"learning_rate": 0.2} if optimiser is adam_minimize else {"learning_rate": 0.4}
    res = optimiser(f, grad_fn, [0.4, -0.3, 0.2, 0.1], iterations=60, **kwargs)
    assert res.fun < -1.98
    assert res.evaluations == 60 * 2 * 4
    assert res.history["evaluations"].tolist() == [8 * k for k in range(61)]
    assert res.history["loss"].iloc[0] == pytest.approx(f(np.array([0.4, -0.3, 0.2, 0.1])))


def test_adam_accepts_plain_array_gradients():
    res = adam_minimize(lambda t: float(np.sum(t**2)), lambda t: 2 * t, [1.0, -1.0],
                        iterations=200, learning_rate=0.05)
    assert res.evaluations == 0
    assert np.max(np.abs(res.x)) < 0.05


# --------------------------------------------------------------------------------------------
# Bad inputs
# --------------------------------------------------------------------------------------------

def _quadratic(t):
    return float(np.sum(np.asarray(t) ** 2))


@pytest.mark.parametrize("call, error, name", [
    (lambda c: CircuitExpectation(build_circuit(), SYMBOLS, build_observable(), shots=0,
                                  rng=np.random.default_rng(0)), ValueError, "shots"),
    (lambda c: CircuitExpectation(build_circuit(), SYMBOLS, build_observable(), shots=-5,
                                  rng=np.random.default_rng(0)), ValueError, "shots"),
    (lambda c: CircuitExpectation(build_circuit(), SYMBOLS, build_observable(), shots=1.5,
                                  rng=np.random.default_rng(0)), TypeError, "shots"),
    (lambda c: CircuitExpectation(build_circuit(), SYMBOLS, build_observable(), shots=10),
     TypeError, "rng"),
    (lambda c: CircuitExpectation(build_circuit(), SYMBOLS, build_observable(),
                                  rng=np.random.default_rng(0)), ValueError, "rng"),
    (lambda c: CircuitExpectation(build_circuit(), SYMBOLS[:-1], build_observable()),
     ValueError, "not in symbols"),
    (lambda c: CircuitExpectation(build_circuit(), [*SYMBOLS, SYMBOLS[0]],
                                  build_observable()), ValueError, "distinct"),
    (lambda c: CircuitExpectation(build_circuit(), SYMBOLS, 1j * cirq.Z(QUBITS[0])),
     ValueError, "Hermitian"),
    (lambda c: CircuitExpectation(build_circuit(), SYMBOLS, "Z0"), TypeError, "observable"),
    (lambda c: CircuitExpectation("circuit", SYMBOLS, build_observable()), TypeError,
     "circuit"),
    (lambda c: CircuitExpectation(cirq.Circuit(cirq.measure(QUBITS[0])), ["a"],
                                  cirq.Z(QUBITS[0])), ValueError, "measurements"),
    (lambda c: c(np.zeros(N_PARAMS - 1)), ValueError, "theta"),
    (lambda c: parameter_shift_gradient(c, np.zeros(N_PARAMS + 1)), ValueError, "theta"),
    (lambda c: parameter_shift_gradient(c, [np.nan] * N_PARAMS), ValueError, "theta"),
    (lambda c: parameter_shift_gradient(c, np.zeros(N_PARAMS), shift=0.0), ValueError,
     "shift"),
    (lambda c: parameter_shift_gradient(c, np.zeros(N_PARAMS), shift=np.pi), ValueError,
     "shift"),
    (lambda c: parameter_shift_gradient(c, np.zeros(N_PARAMS), frequencies=[1.0]),
     ValueError, "frequencies"),
    (lambda c: parameter_shift_gradient("f", np.zeros(2)), TypeError, "f must be callable"),
    (lambda c: finite_difference_gradient(c, np.zeros(N_PARAMS), step=0.0), ValueError,
     "step"),
    (lambda c: finite_difference_gradient(c, np.zeros(N_PARAMS), step=-1e-3), ValueError,
     "step"),
    (lambda c: finite_difference_gradient(c, np.zeros(N_PARAMS), step=1e-3,
                                          method="backward"), ValueError, "method"),
    (lambda c: finite_difference_gradient(c, [np.inf] + [0.0] * (N_PARAMS - 1), step=1e-3),
     ValueError, "theta"),
    (lambda c: finite_difference_gradient(_quadratic, [[0.0]], step=1e-3), ValueError,
     "theta"),
    (lambda c: spsa_gradient(c, np.zeros(N_PARAMS), step=0.0, rng=np.random.default_rng(0)),
     ValueError, "step"),
    (lambda c: spsa_gradient(c, np.zeros(N_PARAMS), step=0.1, rng=0), TypeError, "rng"),
    (lambda c: spsa_minimize(_quadratic, [1.0], iterations=0, rng=np.random.default_rng(0),
                             a=0.1, c=0.1), ValueError, "iterations"),
    (lambda c: spsa_minimize(_quadratic, [1.0], iterations=5, rng=np.random.default_rng(0),
                             a=-0.1, c=0.1), ValueError, "a must"),
    (lambda c: minimize_gradient_free(_quadratic, [1.0], method="BFGS"), ValueError, "method"),
    (lambda c: minimize_gradient_free(_quadratic, [1.0], maxiter=0), ValueError, "maxiter"),
    (lambda c: minimize_gradient_free(c, np.zeros(3)), ValueError, "theta0"),
    (lambda c: adam_minimize(_quadratic, lambda t: 2 * t, [1.0], iterations=5,
                             learning_rate=0.0), ValueError, "learning_rate"),
    (lambda c: adam_minimize(_quadratic, lambda t: 2 * t, [1.0], iterations=5, beta1=1.0),
     ValueError, "beta1"),
    (lambda c: adam_minimize(_quadratic, lambda t: np.zeros(2), [1.0], iterations=5),
     ValueError, "grad_fn"),
    (lambda c: gradient_descent(_quadratic, None, [1.0], iterations=5, learning_rate=0.1),
     TypeError, "grad_fn"),
    (lambda c: finite_difference_gradient(lambda t: float("nan"), [0.0], step=0.1),
     ValueError, "f returned nan"),
])
def test_bad_inputs_raise_naming_the_argument(cost, call, error, name):
    with pytest.raises(error, match=name):
        call(cost)
