"""Package-level behaviour: light import, TensorFlow environment, about()."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

import qmlkit
from qmlkit import _environment


def _fresh(code: str, env: dict[str, str] | None = None) -> str:
    full_env = {k: v for k, v in os.environ.items()
                if k not in ("TF_USE_LEGACY_KERAS", "TF_CPP_MIN_LOG_LEVEL")}
    full_env.update(env or {})
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=full_env, check=True, timeout=300)
    return out.stdout.strip()


def test_import_is_light():
    out = _fresh("import sys, qmlkit, qmlkit.circuits, qmlkit.measurement, qmlkit.records; "
                 "print(sorted(m for m in ('tensorflow', 'pennylane', 'mitiq', "
                 "'tensorflow_quantum') if m in sys.modules))")
    assert out == "[]"


def test_import_sets_tensorflow_environment_defaults():
    out = _fresh("import os, qmlkit; print(os.environ['TF_USE_LEGACY_KERAS'], "
                 "os.environ['TF_CPP_MIN_LOG_LEVEL'])")
    assert out == "1 3"


def test_user_setting_wins():
    out = _fresh("import os, qmlkit; print(os.environ['TF_CPP_MIN_LOG_LEVEL'])",
                 env={"TF_CPP_MIN_LOG_LEVEL": "1"})
    assert out == "1"


@pytest.mark.slow
def test_tensorflow_imported_through_qmlkit_uses_keras_2():
    out = _fresh("import qmlkit._environment as e; tf = e.import_tensorflow(); import tf_keras; "
                 "print(tf.keras.Model is tf_keras.Model, tf_keras.__version__)")
    assert out == "True 2.18.0"


@pytest.mark.slow
def test_tensorflow_start_up_lines_are_silenced():
    full_env = {k: v for k, v in os.environ.items()
                if k not in ("TF_USE_LEGACY_KERAS", "TF_CPP_MIN_LOG_LEVEL")}
    out = subprocess.run(
        [sys.executable, "-c", "import qmlkit._environment as e; e.import_tensorflow(); "
         "import tensorflow_quantum"],
        capture_output=True, text=True, env=full_env, check=True, timeout=300)
    assert "cuda" not in out.stderr.lower() and "absl" not in out.stderr.lower(), out.stderr


def test_import_tensorflow_refuses_keras_3_process(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow", object())
    monkeypatch.setenv("TF_USE_LEGACY_KERAS", "0")
    with pytest.raises(RuntimeError, match="TF_USE_LEGACY_KERAS"):
        _environment.import_tensorflow()


def test_about_reports_every_required_version():
    buf = io.StringIO()
    qmlkit.about(file=buf)
    text = buf.getvalue()
    for key in ("python", "platform", "tensorflow", "tf-keras", "tensorflow-quantum",
                "cirq-core", "cirq-google", "mitiq", "pennylane", "numpy", "scipy",
                "jupyter-book", "papermill", "nbval", "git commit"):
        assert f"\n{key} " in text or text.startswith(key), key
    versions = qmlkit.versions()
    assert versions["tensorflow-quantum"] == "0.7.6"
    assert versions["qmlkit"] == qmlkit.__version__


def test_about_does_not_import_tensorflow():
    out = _fresh("import sys, qmlkit; qmlkit.about(file=open(__import__('os').devnull, 'w')); "
                 "print('tensorflow' in sys.modules)")
    assert out == "False"


def test_git_commit_outside_a_checkout(tmp_path):
    from qmlkit._about import _git_commit

    assert _git_commit(tmp_path) is None


def test_quiet_native_stderr_drops_fd2_writes_and_restores_it(capfd):
    import os

    with _environment.quiet_native_stderr():
        os.write(2, b"native noise\n")
    os.write(2, b"after\n")
    err = capfd.readouterr().err
    assert "native noise" not in err and "after" in err
