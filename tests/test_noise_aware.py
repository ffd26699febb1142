"""qmlkit.noise_aware: mitigated costs, the training loop, its shot accounting and its checks."""

from __future__ import annotations

import warnings

import cirq
import numpy as np
import pytest

from qmlkit import mitigation as M
from qmlkit import noise as N
from qmlkit.ansatz import hardware_efficient_ansatz
from qmlkit.noise_aware import MitigatedCost, measurement_groups, train_noise_aware

Q = cirq.LineQubit(0)
A, B = cirq.LineQubit.range(2)
#: H = Z + X on one qubit: ground energy -√2 at θ = -3π/4 for R_y(θ)|0>.
H1 = cirq.Z(Q) + cirq.X(Q)
E0 = -np.sqrt(2.0)

pytestmark = pytest.mark.filterwarnings("ignore:The input circuit is very short")


def build(theta):
    return cirq.Circuit(cirq.ry(theta[0])(Q), cirq.I(Q))


def ideal_energy(theta):
    return float(np.cos(theta[0]) + np.sin(theta[0]))


def rotate_to_z(qubit, pauli):
    assert pauli == cirq.X
    return cirq.ry(-np.pi / 2)(qubit)


class Recorder:
    """An executor factory that keeps every executor it made (for shot accounting)."""

    def __init__(self, noise=None, shots=None, seed=0):
        self.noise, self.shots, self.seed = noise, shots, seed
        self.made = []

    def __call__(self, observable):
        if self.shots is None:
            ex = N.DensityMatrixExecutor(observable, self.noise)
        else:
            ex = N.SamplingExecutor(observable, self.noise, shots=self.shots,
                                    rng=np.random.default_rng([self.seed, len(self.made)]))
        self.made.append(ex)
        return ex


# --------------------------------------------------------------------------------------------
# Measurement groups and the mitigated cost
# --------------------------------------------------------------------------------------------

def test_measurement_groups_split_qubitwise_commuting_terms():
    h = (-cirq.Z(A) * cirq.Z(B) - 0.5 * cirq.X(A) + 2.0 * cirq.Z(B) - 0.5 * cirq.X(B)
         + 0.25 * cirq.PauliString())
    constant, groups = measurement_groups(h)
    assert constant == 0.25
    assert [len(g) for g in groups] == [2, 2]
    assert sum(groups, cirq.PauliSum()) + 0.25 == h
    assert measurement_groups(cirq.Y(A)) == (0.0, [cirq.PauliSum.from_pauli_strings(cirq.Y(A))])


@pytest.mark.parametrize("observable, error, match", [
    ("Z", TypeError, "observable must be a cirq.PauliString"),
    (cirq.PauliString(cirq.Z(A), coefficient=1j), ValueError, "observable must be Hermitian"),
])
def test_measurement_groups_bad_input(observable, error, match):
    with pytest.raises(error, match=match):
        measurement_groups(observable)


def test_noiseless_cost_is_the_exact_energy_and_counts_executions():
    factory = Recorder()
    f = MitigatedCost(build, H1, factory, mitigation="none", rng=np.random.default_rng(0))
    assert f([0.7]) == pytest.approx(ideal_energy([0.7]), abs=1e-12)
    assert (f.evaluations, f.executions, f.shots) == (1, 2, 0)
    assert len(factory.made) == 2  # one executor per measurement group (Z, X)
    g = MitigatedCost(build, H1, Recorder(), mitigation="none", rng=np.random.default_rng(0),
                      basis_change=rotate_to_z)
    assert g([0.7]) == pytest.approx(ideal_energy([0.7]), abs=1e-12)


def test_basis_change_is_folded_and_checked():
    noise = N.DepolarizingNoise(p1=0.02)
    plain = MitigatedCost(build, cirq.X(Q), Recorder(noise), mitigation="zne",
                          rng=np.random.default_rng(0))
    folded = MitigatedCost(build, cirq.X(Q), Recorder(noise), mitigation="zne",
                           rng=np.random.default_rng(0), basis_change=rotate_to_z)
    ideal = np.sin(0.7)
    # the executor's own rotation is noisy but not folded: the basis change in the circuit is
    assert abs(folded([0.7]) - ideal) < abs(plain([0.7]) - ideal) / 2
    with pytest.raises(ValueError, match=r"basis_change.*must rotate X to Z"):
        MitigatedCost(build, cirq.X(Q), Recorder(), rng=np.random.default_rng(0),
                      basis_change=lambda q, p: cirq.ry(np.pi / 2)(q))
    with pytest.raises(ValueError, match="must act on"):
        MitigatedCost(build, cirq.X(Q), Recorder(), rng=np.random.default_rng(0),
                      basis_change=lambda q, p: cirq.ry(-np.pi / 2)(B))


def test_rem_calibration_is_measured_once_and_counted():
    noise = N.ReadoutNoise(0.05, 0.1)
    factory = Recorder(noise, shots=2000, seed=3)
    f = MitigatedCost(build, cirq.Z(Q), factory, mitigation="rem", rng=np.random.default_rng(1))
    value = f([0.4])
    assert value == pytest.approx(np.cos(0.4), abs=0.06)
    assert f.calibration_shots == 4000 and f.calibration_executions == 2
    f([0.4])
    assert f.shots == 4000 + 2 * 2000 == sum(ex.shots for ex in factory.made)
    assert f.executions == 2 + 2


# --------------------------------------------------------------------------------------------
# The training loop
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mitigation, optimizer", [("none", "adam"), ("zne", "adam"),
                                                   ("zne", "spsa"), ("rem+zne", "adam")])
def test_shot_accounting_is_exact_and_within_budget(mitigation, optimizer):
    noise = N.compose_noise(N.DepolarizingNoise(p1=0.01), N.ReadoutNoise(0.02, 0.04))
    factory = Recorder(noise, shots=200, seed=5)
    budget = 30_000
    h = train_noise_aware(build, [0.3], observable=H1, executor_factory=factory,
                          rng=np.random.default_rng(2), mitigation=mitigation,
                          optimizer=optimizer, shot_budget=budget, basis_change=rotate_to_z,
                          evaluate_every=2)
    spent = sum(ex.shots for ex in factory.made)
    per_eval = h.attrs["shots_per_evaluation"]
    executions = {"none": 1, "zne": 2, "rem+zne": 2}[mitigation]
    assert per_eval == 2 * executions * 200  # two groups, λ = 1, 3 for ZNE
    assert int(h["shots"].iloc[-1]) == spent <= budget
    assert spent == h.attrs["calibration_shots"] + per_eval * int(h["evaluations"].iloc[-1])
    assert h.attrs["stopped"] == "shot_budget"
    step = (2 * 1 if optimizer == "adam" else 2) + 1
    assert spent + step * per_eval > budget  # one more step would not have fitted
    assert list(h["iteration"]) == list(range(len(h)))
    assert not np.isnan(h["estimate"].iloc[-1]) and not np.isnan(h["estimate"].iloc[0])
    assert h["shots"].is_monotonic_increasing


def test_training_is_reproducible_from_its_generators():
    def run():
        return train_noise_aware(build, [0.3], observable=H1,
                                 executor_factory=Recorder(N.DepolarizingNoise(p1=0.02),
                                                           shots=300, seed=9),
                                 rng=np.random.default_rng(4), optimizer="spsa",
                                 max_iterations=8)
    a, b = run(), run()
    assert a.drop(columns="theta").equals(b.drop(columns="theta"))
    assert list(a["theta"]) == list(b["theta"])
    assert a.attrs["stopped"] == "max_iterations" and len(a) == 9


@pytest.mark.slow
def test_mitigation_reduces_the_final_error_on_a_toy_problem():
    """Depolarizing noise on the circuit and its (folded) basis change biases the energy and moves
    the noisy minimum; ZNE in the loop fixes the estimate and the parameters (exact values)."""
    noise = N.DepolarizingNoise(p1=0.03)
    final = {}
    for mitigation in ("none", "zne"):
        h = train_noise_aware(build, [0.2], observable=H1, executor_factory=Recorder(noise),
                              rng=np.random.default_rng(0), mitigation=mitigation,
                              basis_change=rotate_to_z, max_iterations=150, learning_rate=0.05,
                              monitor=ideal_energy)
        final[mitigation] = h.iloc[-1]
        assert h.attrs["shots_per_evaluation"] == 0
    none, zne = final["none"], final["zne"]
    assert abs(zne["estimate"] - E0) < abs(none["estimate"] - E0) / 5  # the energy reported
    assert zne["monitor"] - E0 < (none["monitor"] - E0) / 5  # the true energy of the parameters
    assert none["monitor"] - E0 > 1e-4


def test_an_ansatz_is_accepted_and_its_shift_rule_checked():
    ansatz = hardware_efficient_ansatz(1, layers=0, rotations=("Y",))
    h = train_noise_aware(ansatz, [0.2], observable=cirq.Z(ansatz.qubits[0]),
                          executor_factory=Recorder(), rng=np.random.default_rng(0),
                          mitigation="none", max_iterations=60, learning_rate=0.2)
    assert h["estimate"].iloc[0] > 0.9 and h["estimate"].iloc[-1] < -0.9
    with pytest.raises(ValueError, match="theta0 must have length 1"):
        train_noise_aware(ansatz, [0.2, 0.1], observable=cirq.Z(ansatz.qubits[0]),
                          executor_factory=Recorder(), rng=np.random.default_rng(0),
                          max_iterations=1)


def _train(**overrides):
    kwargs = dict(cost_builder=build, theta0=[0.3], observable=H1,
                  executor_factory=Recorder(shots=100), rng=np.random.default_rng(0),
                  shot_budget=10_000)
    kwargs.update(overrides)
    return train_noise_aware(kwargs.pop("cost_builder"), kwargs.pop("theta0"), **kwargs)


@pytest.mark.parametrize("overrides, error, match", [
    ({"theta0": []}, ValueError, "theta0 must not be empty"),
    ({"theta0": [np.nan]}, ValueError, "theta0 contains NaN"),
    ({"mitigation": "pec"}, ValueError, "mitigation must be one of"),
    ({"optimizer": "lbfgs"}, ValueError, "optimizer must be one of"),
    ({"shot_budget": 0}, ValueError, "shot_budget must be >= 1"),
    ({"shot_budget": 1.5}, TypeError, "shot_budget must be an integer"),
    ({"shot_budget": None}, ValueError, "give shot_budget or max_iterations"),
    ({"max_iterations": 0}, ValueError, "max_iterations must be >= 1"),
    ({"rng": 0}, TypeError, "rng must be a numpy.random.Generator"),
    ({"learning_rate": -0.1}, ValueError, "learning_rate must be > 0"),
    ({"beta1": 1.0}, ValueError, "beta1 must be < 1"),
    ({"spsa_c": 0.0}, ValueError, "spsa_c must be > 0"),
    ({"evaluate_every": 0}, ValueError, "evaluate_every must be >= 1"),
    ({"executor_factory": 3}, TypeError, "executor_factory must be callable"),
    ({"executor_factory": lambda o: 3}, TypeError, "executor_factory must return a callable"),
    ({"cost_builder": "circuit"}, TypeError, "cost_builder must be a callable"),
    ({"cost_builder": lambda t: "circuit"}, TypeError, "cost_builder must return a cirq.Circuit"),
    ({"observable": "H"}, TypeError, "observable must be a cirq.PauliString"),
    ({"observable": 2.0 * cirq.PauliString()}, ValueError, "no non-identity term"),
    ({"mitigation_options": {"folds": 3}}, ValueError, "mitigation_options has unknown keys"),
    ({"mitigation_options": [1, 3]}, TypeError, "mitigation_options must be a mapping"),
    ({"mitigation": "none", "mitigation_options": {"factory": "linear"}}, ValueError,
     "mitigation_options are ZNE options"),
    ({"basis_change": 1}, TypeError, "basis_change must be callable"),
    ({"readout_calibration": "exact"}, TypeError, "readout_calibration must be a Readout"),
    ({"monitor": 1}, TypeError, "monitor must be callable"),
    ({"frequencies": [1.0, 1.0]}, ValueError, "frequencies must hold 1 values"),
    ({"executor_factory": Recorder()}, ValueError, "shot_budget needs executors that count"),
    ({"shot_budget": 100}, ValueError, "does not cover one cost evaluation"),
])
def test_bad_input_raises_naming_the_argument(overrides, error, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error, match=match):
            _train(**overrides)


def test_rem_without_a_sampling_executor_fails_clearly():
    with pytest.raises(TypeError, match="measure"):
        _train(executor_factory=Recorder(), shot_budget=None, max_iterations=1,
               mitigation="rem")
    cal = M.ReadoutCalibration.from_noise_model(N.ReadoutNoise(0.1), [Q])
    h = _train(executor_factory=Recorder(N.ReadoutNoise(0.1), shots=500), mitigation="rem",
               readout_calibration=cal, shot_budget=20_000)
    assert h.attrs["calibration_shots"] == 0
