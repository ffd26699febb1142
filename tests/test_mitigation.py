"""qmlkit.mitigation: every Mitiq feature qmlkit uses, on Cirq 1.5 (the documented override).

Each ZNE scaling and factory, PEC, REM and REM + ZNE is run here against exact density-matrix
or seeded sampling executors, so an incompatibility of Mitiq 1.1.0 with cirq-core 1.5.0 fails a
named test.
"""

from __future__ import annotations
import __future__

import cirq
import mitiq
import numpy as np
import pytest
import sympy

from qmlkit import mitigation as M
from qmlkit import noise as N
from qmlkit.gradients import finite_difference_gradient

Q = cirq.LineQubit.range(2)
ZZ = cirq.Z(Q[0]) * cirq.Z(Q[1])
#: Equal one- and two-qubit strengths on fully packed moments: every scaling is exact.
NOISE = N.DepolarizingNoise(p1=0.01, p2=0.01)


def _half() -> cirq.Circuit:
    return cirq.Circuit(
        cirq.Moment(cirq.ry(0.7)(Q[0]), cirq.rx(1.1)(Q[1])),
        cirq.Moment(cirq.CZ(*Q)),
        cirq.Moment(cirq.rx(0.4)(Q[0]), cirq.ry(-0.9)(Q[1])),
        cirq.Moment(cirq.CNOT(*Q)),
    )


@pytest.fixture(scope="module")
def mirror() -> cirq.Circuit:
    """A packed two-qubit circuit followed by its inverse: the ideal <Z0 Z1> is 1."""
    half = _half()
    return half + cirq.inverse(half)


def _exact(noise=NOISE) -> N.DensityMatrixExecutor:
    return N.DensityMatrixExecutor(ZZ, noise)


# --------------------------------------------------------------------------------------------
# The `from __future__ import annotations` pitfall
# --------------------------------------------------------------------------------------------

def test_mitigation_and_noise_modules_keep_real_annotations():
    for module in (M, N):
        assert getattr(module, "annotations", None) is not __future__.annotations, module
    assert mitiq.Executor(N.DensityMatrixExecutor(ZZ))._executor_return_type is float
    sampler = N.SamplingExecutor(ZZ, shots=10, rng=np.random.default_rng(0))
    wrapped = M.as_mitiq_executor(sampler, returns="measurements")
    assert wrapped._executor_return_type is mitiq.MeasurementResult


def test_stringified_executor_fails_in_mitiq_but_works_through_qmlkit(mirror):
    namespace: dict = {}
    exec(compile("from __future__ import annotations\n"
                 "import cirq\n"
                 "class Stringy:\n"
                 "    def __init__(self, inner): self.inner = inner\n"
                 "    def __call__(self, circuit: cirq.Circuit) -> float:\n"
                 "        return self.inner(circuit)\n", "<stringy>", "exec"), namespace)
    stringy = namespace["Stringy"](_exact())
    with pytest.raises(ValueError, match="Could not parse executed results"):
        mitiq.zne.execute_with_zne(mirror, stringy)
    res = M.zne_expectation(mirror, stringy)
    assert res.value == pytest.approx(M.zne_expectation(mirror, _exact()).value, abs=1e-12)
    assert M.as_mitiq_executor(stringy)._executor_return_type is float


def test_executors_work_directly_with_mitiq(mirror):
    value = mitiq.zne.execute_with_zne(mirror, _exact(),
                                       scale_noise=mitiq.zne.scaling.fold_global)
    assert abs(value - 1) < abs(_exact()(mirror) - 1)


# --------------------------------------------------------------------------------------------
# ZNE: every scaling x factories
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("scaling", M.SCALINGS)
@pytest.mark.parametrize("factory", ["linear", "richardson"])
def test_each_scaling_and_factory_reduces_the_error(mirror, scaling, factory):
    ex = _exact()
    noisy_error = abs(ex(mirror) - 1.0)
    res = M.zne_expectation(mirror, ex, factory=factory, scaling=scaling,
                            rng=np.random.default_rng(11))
    assert abs(res.value - 1.0) < 0.5 * noisy_error, res
    assert res.method == f"zne/{factory}/{scaling}"


@pytest.mark.filterwarnings("ignore::mitiq.zne.inference.ExtrapolationWarning")
@pytest.mark.parametrize(("factory", "kwargs"), [
    ("poly", {"scale_factors": [1, 1.5, 2, 2.5, 3], "order": 2}),
    ("exp", {"asymptote": 0.0}),
    ("exp", {}),
    ("adaexp", {"asymptote": 0.0, "scale_factors": [1, 2, 3]}),
])
def test_other_factories_reduce_the_error(mirror, factory, kwargs):
    ex = _exact()
    noisy_error = abs(ex(mirror) - 1.0)
    res = M.zne_expectation(mirror, ex, factory=factory, **kwargs)
    assert abs(res.value - 1.0) < 0.25 * noisy_error, res


def test_zne_cost_accounting(mirror, rng):
    ex = N.SamplingExecutor(ZZ, NOISE, shots=500, rng=rng)
    res = M.zne_expectation(mirror, ex, scale_factors=[1, 2, 3, 4], factory="richardson",
                            scaling="gates_at_random", num_to_average=3, rng=rng)
    assert res.executions == 4 * 3 == ex.executions
    assert res.shots == 4 * 3 * 500 == ex.shots
    assert res.scale_factors == (1.0, 2.0, 3.0, 4.0)
    np.testing.assert_allclose(res.coefficients, [4, -6, 4, -1], atol=1e-9)
    assert res.variance_amplification == pytest.approx((16 + 36 + 16 + 1) / 3)
    assert res.value == pytest.approx(np.dot(res.coefficients, res.noisy_values), abs=1e-9)


def test_linear_coefficients_and_variance():
    gamma = M.extrapolation_coefficients([1, 2, 3], order=1)
    np.testing.assert_allclose(gamma, [4 / 3, 1 / 3, -2 / 3])
    res = M.zne_expectation(_half(), _exact(), factory="linear")
    assert res.variance_amplification == pytest.approx(21 / 9)
    assert res.value == pytest.approx(np.dot(gamma, res.noisy_values))


def test_adaptive_factory_executes_its_steps(mirror):
    res = M.zne_expectation(mirror, _exact(), factory="adaexp", scale_factors=[1, 2, 4, 6],
                            asymptote=0.0)
    assert res.executions == 4 and len(res.scale_factors) == 4
    assert res.coefficients is None and res.variance_amplification is None


def test_random_folding_is_reproducible_from_the_generator(mirror):
    def run(seed):
        ex = N.SamplingExecutor(ZZ, NOISE, shots=200, rng=np.random.default_rng(seed))
        return M.zne_expectation(mirror, ex, scaling="gates_at_random", num_to_average=2,
                                 scale_factors=[1, 1.5, 2.5],
                                 rng=np.random.default_rng(seed)).value
    assert run(3) == run(3)
    assert run(3) != run(4)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"factory": "quadratic"}, ValueError, "factory"),
    ({"scaling": "fold_everything"}, ValueError, "scaling"),
    ({"scale_factors": [0.5, 2]}, ValueError, r"scale_factors\[0\] must be >= 1"),
    ({"scale_factors": [1]}, ValueError, "at least 2"),
    ({"scale_factors": [1, 1]}, ValueError, "distinct"),
    ({"scale_factors": "123"}, TypeError, "scale_factors"),
    ({"scaling": "layer", "scale_factors": [1, 2]}, ValueError, "odd integers"),
    ({"scaling": "identity", "scale_factors": [1, 1.5]}, ValueError, "integers"),
    ({"num_to_average": 0}, ValueError, "num_to_average"),
    ({"factory": "adaexp", "scaling": "layer"}, ValueError, "adaexp"),
    ({"factory": "adaexp", "scale_factors": [1, 2, 3]}, ValueError, "adaexp"),
    ({"factory": "poly", "order": 5}, ValueError, "order"),
    ({"scaling": "gates_at_random"}, TypeError, "rng"),
    ({"readout": "calibrated"}, TypeError, "readout"),
])
def test_zne_bad_input_names_the_argument(mirror, kwargs, error, match):
    with pytest.raises(error, match=match):
        M.zne_expectation(mirror, _exact(), **kwargs)


def test_bad_circuit_and_executor():
    with pytest.raises(TypeError, match="circuit"):
        M.zne_expectation("H 0", _exact())
    with pytest.raises(ValueError, match="measurements"):
        M.zne_expectation(cirq.Circuit(cirq.measure(Q[0])), _exact())
    with pytest.raises(TypeError, match="executor"):
        M.zne_expectation(_half(), 1.0)


# --------------------------------------------------------------------------------------------
# PEC
# --------------------------------------------------------------------------------------------

def test_pec_is_unbiased_within_its_statistical_error(mirror):
    noise = N.DepolarizingNoise(p1=0.01, p2=0.03)
    ex = _exact(noise)
    noisy = ex(mirror)
    res = M.pec_expectation(mirror, ex, noise_level=noise, num_samples=400,
                            rng=np.random.default_rng(5))
    assert abs(res.value - 1.0) < 4 * res.std_error + 1e-9
    assert abs(res.value - 1.0) < 0.5 * abs(noisy - 1.0)
    # the one-norm is the product of the gates' norms, as Mitiq computes it
    reps = M.pec_representations(mirror, noise)
    _, _, norm = mitiq.pec.construct_circuits(mirror, reps, num_samples=1, full_output=True)
    assert res.one_norm == pytest.approx(norm)
    assert res.variance_amplification == pytest.approx(norm**2)
    assert res.executions == 400 and res.shots == 0


def test_pec_representations_accept_every_noise_level_form(mirror):
    forms = [N.DepolarizingNoise(p1=0.01, p2=0.03), (0.01, 0.03),
             lambda op: 0.01 if len(op.qubits) == 1 else 0.03]
    norms = [[r.norm for r in M.pec_representations(mirror, f)] for f in forms]
    assert norms[0] == norms[1] == norms[2]
    uniform = M.pec_representations(mirror, 0.02)
    assert len(uniform) == len(set(mirror.all_operations()))
    assert M.pec_representations(mirror, 0.0) == []


def test_pec_is_reproducible_and_counts_shots(mirror):
    def run():
        ex = N.SamplingExecutor(ZZ, NOISE, shots=100, rng=np.random.default_rng(1))
        return M.pec_expectation(mirror, ex, noise_level=NOISE, num_samples=30,
                                 rng=np.random.default_rng(2))
    a, b = run(), run()
    assert a.value == b.value and a.shots == 30 * 100


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"noise_level": 1.5}, ValueError, "noise_level"),
    ({"noise_level": -0.1}, ValueError, "noise_level"),
    ({"noise_level": 0.8}, ValueError, "0.75"),
    ({"noise_level": (0.1, 0.2, 0.3)}, ValueError, "noise_level"),
    ({"num_samples": 0}, ValueError, "num_samples"),
    ({"rng": 3}, TypeError, "rng"),
])
def test_pec_bad_input(mirror, kwargs, error, match):
    args = {"noise_level": 0.01, "num_samples": 5, "rng": np.random.default_rng(0)}
    with pytest.raises(error, match=match):
        M.pec_expectation(mirror, _exact(), **{**args, **kwargs})


def test_pec_refuses_three_qubit_gates():
    c = cirq.Circuit(cirq.CCX(*cirq.LineQubit.range(3)))
    with pytest.raises(ValueError, match="two-qubit"):
        M.pec_representations(c, 0.01)


# --------------------------------------------------------------------------------------------
# REM and REM + ZNE
# --------------------------------------------------------------------------------------------

READOUT = N.ReadoutNoise(0.05, 0.1)


def test_rem_inverts_a_known_confusion():
    c = cirq.Circuit(cirq.X(Q[0]), cirq.I(Q[1]))  # ideal <Z0 Z1> = -1
    ex = N.SamplingExecutor(ZZ, READOUT, shots=20_000, rng=np.random.default_rng(4))
    cal = M.ReadoutCalibration.from_noise_model(READOUT, Q)
    np.testing.assert_allclose(
        cal.inverse_confusion_matrix(Q) @ np.kron(READOUT.confusion_matrix(),
                                                  READOUT.confusion_matrix()),
        np.eye(4), atol=1e-12)
    noisy = ex(c)
    res = M.rem_expectation(c, ex, calibration=cal, rng=np.random.default_rng(5))
    assert abs(noisy + 0.72) < 0.02  # (1 - 0.05 - 0.1)... = -(0.8)(0.9)
    assert abs(res.value + 1.0) < 0.03
    assert (res.executions, res.shots, res.method) == (1, 20_000, "rem")


def test_calibrate_readout_measures_the_confusion(rng):
    ex = N.SamplingExecutor(cirq.Z(Q[0]), READOUT, shots=40_000, rng=rng)
    cal = M.calibrate_readout(ex, Q)
    for c in cal.confusion_matrices:
        np.testing.assert_allclose(c, READOUT.confusion_matrix(), atol=0.01)
    assert (cal.executions, cal.shots) == (2, 80_000)


def test_rem_handles_constant_terms_and_checks_input(rng):
    c = cirq.Circuit(cirq.X(Q[0]), cirq.I(Q[1]))
    ex = N.SamplingExecutor(cirq.Z(Q[0]) + 0.5, READOUT, shots=20_000, rng=rng)
    cal = M.ReadoutCalibration.from_noise_model(READOUT, Q)
    assert M.rem_expectation(c, ex, calibration=cal, rng=rng).value == pytest.approx(-0.5,
                                                                                     abs=0.03)
    with pytest.raises(TypeError, match="calibration"):
        M.rem_expectation(c, ex, calibration=np.eye(2), rng=rng)
    with pytest.raises(TypeError, match="measure"):
        M.rem_expectation(c, _exact(), calibration=cal, rng=rng)
    with pytest.raises(ValueError, match="not calibrated"):
        M.ReadoutCalibration.from_noise_model(READOUT, Q[:1]).inverse_confusion_matrix(Q)
    with pytest.raises(ValueError, match="column-stochastic"):
        M.ReadoutCalibration((Q[0],), (np.array([[0.9, 0.9], [0.2, 0.1]]),))


def test_rem_plus_zne_beats_either_alone(mirror):
    noise = N.compose_noise(N.DepolarizingNoise(0.01, 0.02), READOUT)
    cal = M.ReadoutCalibration.from_noise_model(noise, Q)

    def executor(seed):
        return N.SamplingExecutor(ZZ, noise, shots=50_000, rng=np.random.default_rng(seed))

    noisy = _exact(noise)(mirror)
    zne = M.zne_expectation(mirror, _exact(noise)).value  # exact: only the read-out bias left
    ex = executor(1)
    both = M.zne_expectation(mirror, ex, readout=cal, rng=np.random.default_rng(2))
    rem = M.rem_expectation(mirror, executor(3), calibration=cal, rng=np.random.default_rng(4))
    assert both.method == "zne/richardson/global+rem"
    assert (both.executions, both.shots) == (3, 150_000)
    assert abs(both.value - 1) < 0.06
    assert abs(both.value - 1) < abs(zne - 1) < abs(noisy - 1)
    assert abs(both.value - 1) < abs(rem.value - 1)
    with pytest.raises(TypeError, match="rng"):
        M.zne_expectation(mirror, ex, readout=cal)


# --------------------------------------------------------------------------------------------
# Mitigated cost functions
# --------------------------------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore:The input circuit is very short")
def test_mitigated_expectation_fn_from_a_symbolic_circuit():
    a = sympy.Symbol("a")
    c = cirq.Circuit(cirq.rx(a)(Q[0]), cirq.CNOT(*Q), cirq.CNOT(*Q))
    ex = N.DensityMatrixExecutor(cirq.Z(Q[0]), N.DepolarizingNoise(0.01, 0.03))
    f = M.mitigated_expectation_fn(c, ex, symbols=[a], scale_factors=[1, 3, 5])
    plain = M.mitigated_expectation_fn(c, ex, symbols=["a"], method="none")
    theta = np.array([0.8])
    assert abs(f(theta) - np.cos(0.8)) < 0.25 * abs(plain(theta) - np.cos(0.8))
    assert (f.evaluations, f.executions) == (1, 3)
    assert f.last_result.method == "zne/richardson/global"
    grad = finite_difference_gradient(f, theta, step=1e-3, method="central").gradient
    assert grad[0] == pytest.approx(-np.sin(0.8), abs=0.02)
    with pytest.raises(ValueError, match="length 1"):
        f([0.1, 0.2])


def test_mitigated_expectation_fn_from_a_builder_and_checks():
    ex = _exact()

    def build(theta):
        return cirq.Circuit(cirq.ry(theta[0])(Q[0]), cirq.CZ(*Q), cirq.ry(-theta[0])(Q[0]))
    f = M.mitigated_expectation_fn(build, ex, method="pec", noise_level=NOISE, num_samples=20,
                                   rng=np.random.default_rng(0))
    assert isinstance(f([0.3]), float) and f.executions == 20
    with pytest.raises(ValueError, match="method"):
        M.mitigated_expectation_fn(build, ex, method="cdr")
    with pytest.raises(TypeError, match="symbols"):
        M.mitigated_expectation_fn(cirq.Circuit(cirq.rx(sympy.Symbol("a"))(Q[0])), ex)
    with pytest.raises(ValueError, match="missing"):
        M.mitigated_expectation_fn(cirq.Circuit(cirq.rx(sympy.Symbol("a"))(Q[0])), ex,
                                   symbols=["b"])
    with pytest.raises(TypeError, match=r"return a cirq\.Circuit"):
        M.mitigated_expectation_fn(lambda t: None, ex)([0.1])
