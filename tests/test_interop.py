"""Tests of qmlkit.interop: one hybrid model in Cirq, TFQ, PennyLane and Qiskit agrees.

Every available backend's forward values and per-sample gradients (features and weights) are
compared with the plain-Cirq backend on seeded random inputs, to 1e-5 (TensorFlow Quantum is
float32; the float64 toolkits agree to rounding, 1e-10). The Cirq reference itself is checked
against central finite differences and against a circuit rebuilt from the neutral gate list.
The Qiskit tests skip where qiskit / qiskit-machine-learning are not installed (they are not
in the locked environment; see the ``interop`` extra).
"""

from __future__ import annotations

import functools
import subprocess
import sys

import cirq
import numpy as np
import pytest

from qmlkit import interop
from qmlkit.interop import (
    BACKENDS,
    Backend,
    Gate,
    HybridModelSpec,
    ModelGradient,
    adapter_line_count,
    available_backends,
    make_backend,
    source_line_count,
    to_cirq,
    to_pennylane,
    to_qiskit,
    to_tfq,
)

#: Two models: >= 3 qubits, >= 2 layers, both entanglers, several observables.
SPECS = {
    "cz-line": dict(n_qubits=3, layers=2, observable=[(1.0, "ZZI"), (0.5, "IIX")]),
    "cnot-ring": dict(n_qubits=4, layers=3, rotation="Y", ansatz_rotations=("X", "Z"),
                      entangler="CNOT", connectivity="ring",
                      observable=[(0.7, "ZIIZ"), (-0.3, "IYXI"), (1.1, "IIZI")]),
}
BATCH = 3
FLOAT64_ATOL = 1e-10
TFQ_ATOL = 1e-5


@functools.cache
def _case(key: str):
    spec = HybridModelSpec(**SPECS[key])
    x, w = spec.random_inputs(batch=BATCH, rng=np.random.default_rng(
        20251217 + sorted(SPECS).index(key)))
    ref = to_cirq(spec)
    return spec, x, w, ref.forward(x, w), ref.gradient(x, w)


@pytest.fixture(params=sorted(SPECS))
def case(request):
    """A spec, seeded inputs and the Cirq reference values and gradients."""
    return _case(request.param)


@pytest.fixture
def small_case():
    """The 3-qubit case only, for the slower or redundant checks."""
    return _case("cz-line")


def _compare(backend: Backend, case, atol: float) -> None:
    spec, x, w, f_ref, g_ref = case
    f = backend.forward(x, w)
    g = backend.gradient(x, w)
    assert f.shape == (BATCH,) and f.dtype == np.float64
    assert g.inputs.shape == (BATCH, spec.n_qubits)
    assert g.weights.shape == (BATCH, spec.n_weights)
    np.testing.assert_allclose(f, f_ref, atol=atol, rtol=0)
    np.testing.assert_allclose(g.inputs, g_ref.inputs, atol=atol, rtol=0)
    np.testing.assert_allclose(g.weights, g_ref.weights, atol=atol, rtol=0)


# --------------------------------------------------------------------------------------------
# the spec and the Cirq reference
# --------------------------------------------------------------------------------------------


def test_import_does_not_import_the_toolkits():
    code = ("import sys, qmlkit.interop; "
            "bad = [m for m in ('tensorflow', 'pennylane', 'qiskit') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_spec_canonicalises_its_arguments():
    spec = HybridModelSpec(n_qubits=3, layers=1, ansatz_rotations="YZ", observable="ZZI")
    assert spec.ansatz_rotations == ("Y", "Z")
    assert spec.observable == ((1.0, "ZZI"),)
    assert HybridModelSpec(n_qubits=3, layers=1).observable == ((1.0, "ZZI"),)
    assert HybridModelSpec(n_qubits=1, layers=0).observable == ((1.0, "Z"),)
    q = cirq.LineQubit.range(3)
    from_cirq = HybridModelSpec(n_qubits=3, layers=1,
                                observable=cirq.Z(q[0]) * cirq.Z(q[1]) + 0.5 * cirq.X(q[2]))
    assert from_cirq.observable == ((1.0, "ZZI"), (0.5, "IIX"))
    assert from_cirq.cirq_observable() == cirq.Z(q[0]) * cirq.Z(q[1]) + 0.5 * cirq.X(q[2])
    single = HybridModelSpec(n_qubits=2, layers=1, observable=cirq.Y(q[1]))
    assert single.observable == ((1.0, "IY"),)
    assert hash(spec) == hash(HybridModelSpec(n_qubits=3, layers=1, observable="ZZI"))


def test_spec_sizes_and_symbols():
    spec = HybridModelSpec(n_qubits=3, layers=2)
    assert spec.n_features == 3 and spec.n_weights == 3 * 3 * 2
    assert [s.name for s in spec.feature_symbols] == ["x_0", "x_1", "x_2"]
    assert spec.weight_symbols[0].name == "theta_l0_q0_0"
    assert cirq.parameter_names(spec.circuit()) == {
        s.name for s in [*spec.feature_symbols, *spec.weight_symbols]}


@pytest.mark.parametrize("name", sorted(SPECS))
def test_gates_rebuild_the_cirq_circuit(name, rng):
    spec = HybridModelSpec(**SPECS[name])
    gates = spec.gates()
    assert all(isinstance(g, Gate) for g in gates)
    assert sum(g.source == "feature" for g in gates) == spec.n_features
    assert sorted(g.index for g in gates if g.source == "weight") == list(range(spec.n_weights))
    x, w = spec.random_inputs(batch=1, rng=rng)
    q = spec.qubits
    rebuilt = cirq.Circuit()
    rot = {"RX": cirq.rx, "RY": cirq.ry, "RZ": cirq.rz}
    for g in gates:
        if g.name == "CZ":
            rebuilt.append(cirq.CZ(*(q[i] for i in g.wires)))
        elif g.name == "CNOT":
            rebuilt.append(cirq.CNOT(*(q[i] for i in g.wires)))
        else:
            angle = x[0, g.index] if g.source == "feature" else w[g.index]
            rebuilt.append(rot[g.name](angle)(q[g.wires[0]]))
    values = dict(zip([*spec.feature_symbols, *spec.weight_symbols], [*x[0], *w], strict=True))
    original = cirq.resolve_parameters(spec.circuit(), values)
    np.testing.assert_allclose(cirq.unitary(rebuilt), cirq.unitary(original), atol=1e-12)


def test_gates_refuse_untranslatable_operations(monkeypatch):
    spec = HybridModelSpec(n_qubits=2, layers=1)
    q = spec.qubits
    monkeypatch.setattr(HybridModelSpec, "circuit",
                        lambda self: cirq.Circuit(cirq.H(q[0]), cirq.CZ(*q)))
    with pytest.raises(ValueError, match="cannot translate"):
        spec.gates()


def test_cirq_backend_matches_finite_differences_and_known_values(case):
    spec, x, w, f_ref, g_ref = case
    h = 1e-6
    backend = to_cirq(spec)
    for k in (0, spec.n_weights // 2, spec.n_weights - 1):
        e = np.zeros(spec.n_weights)
        e[k] = h
        fd = (backend.forward(x, w + e) - backend.forward(x, w - e)) / (2 * h)
        np.testing.assert_allclose(g_ref.weights[:, k], fd, atol=1e-7)
    for i in range(spec.n_qubits):
        e = np.zeros_like(x)
        e[:, i] = h
        fd = (backend.forward(x + e, w) - backend.forward(x - e, w)) / (2 * h)
        np.testing.assert_allclose(g_ref.inputs[:, i], fd, atol=1e-7)
    assert np.all(np.abs(f_ref) <= sum(abs(c) for c, _ in spec.observable) + 1e-12)


def test_cirq_backend_at_zero_angles():
    spec = HybridModelSpec(n_qubits=3, layers=2, observable=[(1.0, "ZZI"), (0.5, "IIX")])
    backend = to_cirq(spec)
    # All angles 0: the state stays |000>, <Z0 Z1> = 1 and <X2> = 0.
    np.testing.assert_allclose(backend.forward(np.zeros((2, 3)), np.zeros(18)), [1.0, 1.0],
                               atol=1e-12)
    assert backend.model.evaluations == 2
    # X0 rotation by π flips qubit 0: <Z0 Z1> = -1.
    assert backend.forward([[np.pi, 0.0, 0.0]], np.zeros(18))[0] == pytest.approx(-1.0)


# --------------------------------------------------------------------------------------------
# agreement between toolkits
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def qml():
    return pytest.importorskip("pennylane")


@pytest.mark.parametrize("device", ["default.qubit", "lightning.qubit"])
def test_pennylane_agrees_with_cirq(case, qml, device):
    backend = to_pennylane(case[0], device=device)
    assert backend.name == ("pennylane-default" if device == "default.qubit"
                            else "pennylane-lightning")
    _compare(backend, case, FLOAT64_ATOL)


def test_pennylane_parameter_shift_agrees_with_cirq(small_case, qml):
    _compare(to_pennylane(small_case[0], diff_method="parameter-shift"), small_case,
             FLOAT64_ATOL)


@pytest.fixture(scope="module")
def tfq():
    return pytest.importorskip("tensorflow_quantum")


def test_tfq_agrees_with_cirq_to_1e_5(case, tfq):
    backend = to_tfq(case[0])
    assert backend.precision == "float32"
    assert backend.layer.circuit == case[0].circuit()
    _compare(backend, case, TFQ_ATOL)
    # The Keras model is the QuantumLayer with the weights just set.
    np.testing.assert_allclose(backend.layer.get_weights()[0], case[2], atol=1e-6)


def test_tfq_adjoint_agrees_to_its_documented_accuracy(small_case, tfq):
    # TFQ's Adjoint differentiates gates by finite differences: ~5e-5 (see test_gradients).
    backend = to_tfq(small_case[0], differentiator="adjoint")
    assert backend.gradient_method.endswith("Adjoint")
    _compare(backend, small_case, 1e-4)


def test_qiskit_agrees_with_cirq(case):
    pytest.importorskip("qiskit")
    pytest.importorskip("qiskit_machine_learning")
    backend = to_qiskit(case[0])
    _compare(backend, case, FLOAT64_ATOL)


def test_every_available_backend_agrees(small_case):
    names = available_backends()
    assert names[0] == "cirq" and set(names) <= set(BACKENDS)
    for name in names:
        backend = make_backend(name, small_case[0])
        assert backend.name == name
        _compare(backend, small_case,
                 TFQ_ATOL if backend.precision == "float32" else FLOAT64_ATOL)


def test_gradient_returns_model_gradient():
    spec = HybridModelSpec(n_qubits=2, layers=1)
    g = to_cirq(spec).gradient([[0.1, 0.2]], np.zeros(8))
    assert isinstance(g, ModelGradient)
    assert "cirq" in repr(to_cirq(spec))


# --------------------------------------------------------------------------------------------
# registry and line counts
# --------------------------------------------------------------------------------------------


def test_available_backends_follow_installed_modules(monkeypatch):
    real = interop.importlib.util.find_spec
    monkeypatch.setattr(interop.importlib.util, "find_spec",
                        lambda m: None if m.startswith("qiskit") else real(m))
    assert "qiskit" not in available_backends()
    with pytest.raises(ImportError, match=r"qmlkit\[interop\]"):
        make_backend("qiskit", HybridModelSpec(n_qubits=2, layers=1))
    with pytest.raises(ImportError, match=r"qmlkit\[interop\]"):
        to_qiskit(HybridModelSpec(n_qubits=2, layers=1))


def test_line_counts():
    assert source_line_count(to_cirq) == 1
    assert adapter_line_count("cirq") == 3  # three statements, one spread over two lines
    counts = {name: adapter_line_count(name) for name in BACKENDS}
    assert all(c > 0 for c in counts.values())
    assert counts["pennylane-default"] == counts["pennylane-lightning"]
    with pytest.raises(TypeError, match="obj"):
        source_line_count(3)
    with pytest.raises(ValueError, match="name"):
        adapter_line_count("braket")


# --------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(n_qubits=0, layers=1), ValueError, "n_qubits"),
    (dict(n_qubits=2.0, layers=1), TypeError, "n_qubits"),
    (dict(n_qubits=2, layers=-1), ValueError, "layers"),
    (dict(n_qubits=2, layers=1, rotation="W"), ValueError, "rotation"),
    (dict(n_qubits=2, layers=1, ansatz_rotations=()), TypeError, "ansatz_rotations"),
    (dict(n_qubits=2, layers=1, ansatz_rotations=("Y", "Q")), ValueError, "ansatz_rotations"),
    (dict(n_qubits=2, layers=1, entangler="CX"), ValueError, "entangler"),
    (dict(n_qubits=2, layers=1, connectivity="star"), ValueError, "connectivity"),
    (dict(n_qubits=2, layers=1, observable="ZZI"), ValueError, "2 letters"),
    (dict(n_qubits=2, layers=1, observable="ZA"), ValueError, "observable"),
    (dict(n_qubits=2, layers=1, observable="zz"), ValueError, "observable"),
    (dict(n_qubits=2, layers=1, observable="II"), ValueError, "identity"),
    (dict(n_qubits=2, layers=1, observable=3), TypeError, "observable"),
    (dict(n_qubits=2, layers=1, observable=[]), TypeError, "observable"),
    (dict(n_qubits=2, layers=1, observable=[("ZZ", 1.0)]), TypeError, "coefficient"),
    (dict(n_qubits=2, layers=1, observable=["ZZ"]), TypeError, "pair"),
    (dict(n_qubits=2, layers=1, observable=[(1.0, 5)]), TypeError, "word"),
    (dict(n_qubits=2, layers=1, observable=[(1.0, "ZZ"), (2.0, "ZZ")]), ValueError, "repeats"),
    (dict(n_qubits=2, layers=1, observable=[(0.0, "ZZ")]), ValueError, "zero"),
    (dict(n_qubits=2, layers=1, observable=[(float("nan"), "ZZ")]), ValueError, "finite"),
    (dict(n_qubits=2, layers=1, observable=1j * cirq.Z(cirq.LineQubit(0))), ValueError,
     "Hermitian"),
    (dict(n_qubits=2, layers=1, observable=cirq.Z(cirq.LineQubit(2))), ValueError,
     "LineQubit"),
    (dict(n_qubits=2, layers=1, observable=cirq.Z(cirq.GridQubit(0, 0))), ValueError,
     "LineQubit"),
])
def test_spec_refuses_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        HybridModelSpec(**kwargs)


@pytest.mark.parametrize("features, weights, error, match", [
    ([0.1, 0.2], np.zeros(8), ValueError, "features"),
    (np.zeros((0, 2)), np.zeros(8), ValueError, "batch"),
    ([[0.1, 0.2, 0.3]], np.zeros(8), ValueError, "features"),
    ([[0.1, np.nan]], np.zeros(8), ValueError, "features"),
    ([["a", "b"]], np.zeros(8), TypeError, "features"),
    ([[0.1, 0.2]], np.zeros(7), ValueError, "weights"),
    ([[0.1, 0.2]], np.zeros((1, 8)), ValueError, "weights"),
    ([[0.1, 0.2]], [np.inf] * 8, ValueError, "weights"),
])
def test_backends_refuse_bad_inputs(features, weights, error, match):
    backend = to_cirq(HybridModelSpec(n_qubits=2, layers=1))
    with pytest.raises(error, match=match):
        backend.forward(features, weights)
    with pytest.raises(error, match=match):
        backend.gradient(features, weights)


def test_adapters_refuse_bad_options(qml, tfq):
    spec = HybridModelSpec(n_qubits=2, layers=1)
    with pytest.raises(TypeError, match="spec"):
        to_cirq({"n_qubits": 2})
    with pytest.raises(ValueError, match="name"):
        make_backend("braket", spec)
    with pytest.raises(ValueError, match="device"):
        to_pennylane(spec, device="default.mixed")
    with pytest.raises(ValueError, match="diff_method"):
        to_pennylane(spec, diff_method="finite-diff")
    with pytest.raises(ValueError, match="backprop"):
        to_pennylane(spec, device="lightning.qubit", diff_method="backprop")
    with pytest.raises(ValueError, match="differentiator"):
        to_tfq(spec, differentiator="finite_difference")


def test_random_inputs_checks_its_arguments():
    spec = HybridModelSpec(n_qubits=2, layers=1)
    with pytest.raises(TypeError, match="rng"):
        spec.random_inputs(batch=2, rng=0)
    with pytest.raises(ValueError, match="batch"):
        spec.random_inputs(batch=0, rng=np.random.default_rng(0))
    x, w = spec.random_inputs(batch=5, rng=np.random.default_rng(0))
    assert np.all(np.abs(x) <= np.pi) and np.all((w >= 0) & (w < 2 * np.pi))
