"""Versions of everything the compendium's numbers depend on (in the spirit of ``mitiq.about``)."""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

#: Distributions reported by :func:`about`, in display order.
REPORTED_DISTRIBUTIONS: tuple[str, ...] = (
    "qmlkit",
    "tensorflow",
    "tf-keras",
    "tensorflow-quantum",
    "cirq-core",
    "cirq-google",
    "mitiq",
    "pennylane",
    "pennylane-lightning",
    "numpy",
    "scipy",
    "scikit-learn",
    "jupyter-book",
    "papermill",
    "nbval",
)


def _git_commit(path: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and commit else None


def versions() -> dict[str, str]:
    """Return Python, platform, package versions and the git commit of the checkout.

    Versions are read from the installed distributions' metadata, so nothing (TensorFlow in
    particular) is imported. A package that is not installed is reported as ``"not installed"``.

    Example:
        >>> v = versions()
        >>> v["qmlkit"]
        '0.1.0'
    """
    info: dict[str, str] = {
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }
    for dist in REPORTED_DISTRIBUTIONS:
        try:
            info[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            info[dist] = "not installed"
    info["git commit"] = _git_commit(Path(__file__).resolve().parent) or "not a git checkout"
    return info


def about(file=None) -> None:
    """Print :func:`versions` as an aligned table.

    Args:
        file: a text stream; standard output by default.

    Example:
        >>> about()  # doctest: +ELLIPSIS
        qmlkit: the executable companion to the QML review
        ...
    """
    stream = sys.stdout if file is None else file
    info = versions()
    width = max(len(k) for k in info)
    print("qmlkit: the executable companion to the QML review", file=stream)
    print("=" * 52, file=stream)
    for key, value in info.items():
        print(f"{key.ljust(width)} : {value}", file=stream)
