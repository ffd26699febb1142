"""The installed environment is exactly the lock, with exactly one documented conflict."""

# No `from __future__ import annotations` here: mitiq reads executors' return annotations at
# run time and does not understand string annotations ("Could not parse executed results").

import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import lockfile  # noqa: E402

PINS = lockfile.read_pins()

#: The only conflict `pip check` may report; see requirements/README.md.
DOCUMENTED_CONFLICT = "mitiq 1.1.0 has requirement cirq-core<1.7.0,>=1.6.0, but you have cirq-core 1.5.0."


@pytest.mark.parametrize("dist", ["tensorflow", "tensorflow-quantum", "cirq-core", "cirq-google",
                                  "mitiq", "tf-keras", "pennylane", "numpy"])
def test_core_versions_are_the_locked_ones(dist):
    assert metadata.version(dist) == PINS[dist]


def test_the_stack_pins_are_the_ones_tfq_needs():
    assert PINS["tensorflow-quantum"] == "0.7.6"
    assert PINS["tensorflow"].startswith("2.18.")
    assert PINS["cirq-core"] == PINS["cirq-google"] == "1.5.0"
    assert PINS["mitiq"] == "1.1.0"


def test_every_locked_package_is_installed_at_its_locked_version():
    wrong = {}
    for name, version in PINS.items():
        try:
            got = metadata.version(name)
        except metadata.PackageNotFoundError:
            got = "missing"
        if got != version:
            wrong[name] = (version, got)
    assert not wrong, f"installed versions differ from requirements/lock.txt: {wrong}"


def test_pip_check_reports_only_the_documented_conflict():
    out = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True,
                         check=False)
    lines = [ln.strip() for ln in (out.stdout + out.stderr).splitlines() if ln.strip()]
    assert lines == [DOCUMENTED_CONFLICT]


def test_override_is_documented_where_it_is_applied():
    overrides = (ROOT / "requirements" / "overrides.txt").read_text()
    assert "cirq-core==1.5.0" in overrides.splitlines()
    assert "cirq-core==1.5.0" in (ROOT / "requirements" / "base.in").read_text()
    assert "override" in (ROOT / "README.md").read_text().lower()


def test_environment_yml_agrees_with_the_lock():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    assert "python=3.11" in deps and "pip" in deps
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict))
    assert "-e ." in pip_section
    pinned = dict(line.split("==") for line in pip_section if "==" in line)
    pinned = {lockfile.normalise(k): v for k, v in pinned.items()}
    expected = {k: v for k, v in PINS.items() if k not in lockfile.NO_DEPS_PACKAGES}
    assert pinned == expected
    postbuild = (ROOT / "postBuild").read_text()
    for name in lockfile.NO_DEPS_PACKAGES:
        assert f"--no-deps {name}=={PINS[name]}" in postbuild


def test_generated_files_are_up_to_date():
    assert (ROOT / "environment.yml").read_text() == lockfile.environment_yml(PINS)
    assert (ROOT / "postBuild").read_text() == lockfile.postbuild(PINS)


def test_lock_is_complete_for_the_top_level_requirements():
    for line in (ROOT / "requirements" / "base.in").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name = lockfile.normalise(line.split("==")[0].split(">")[0].split("<")[0].split("[")[0])
            assert name in PINS, f"{name} from base.in is not in the lock"


def test_mitiq_zne_works_on_cirq_1_5():
    """Smoke test of the override: mitiq's ZNE runs on cirq-core 1.5.0 (full tests: mitigation)."""
    import cirq
    from mitiq import zne

    q = cirq.LineQubit(0)
    circuit = cirq.Circuit([cirq.X(q)] * 10)

    def executor(c: cirq.Circuit) -> float:
        rho = cirq.DensityMatrixSimulator(noise=cirq.depolarize(0.01)).simulate(c)
        return float(rho.final_density_matrix[0, 0].real)

    noisy = executor(circuit)
    mitigated = zne.execute_with_zne(circuit, executor)
    assert abs(mitigated - 1.0) < abs(noisy - 1.0)
