"""Read the exact lock and derive the conda/Binder files from it.

Usage:
    python tools/lockfile.py write-env     # regenerate environment.yml and postBuild from the lock

``requirements/lock.txt`` is the single source of truth. conda's pip section cannot pass
``--no-deps``, so the packages whose declared requirements the documented override contradicts
(``mitiq``) are left out of ``environment.yml`` and installed by ``postBuild`` with ``--no-deps``;
repo2docker (Binder) runs ``postBuild`` after creating the environment.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements" / "lock.txt"
OVERRIDES = ROOT / "requirements" / "overrides.txt"
ENVIRONMENT = ROOT / "environment.yml"
POSTBUILD = ROOT / "postBuild"

#: Packages installed without dependency resolution, because their metadata conflicts with the
#: documented override.
NO_DEPS_PACKAGES = ("mitiq",)

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")


def read_pins(path: Path = LOCK) -> dict[str, str]:
    """Return ``{normalised name: version}`` for every ``name==version`` line of a lock file."""
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        m = _PIN.match(line.strip())
        if m:
            pins[normalise(m.group(1))] = m.group(2)
    return pins


def normalise(name: str) -> str:
    """PEP 503 normalised distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def environment_yml(pins: dict[str, str]) -> str:
    lines = [
        "# Generated from requirements/lock.txt by `make lock` (tools/lockfile.py): do not edit.",
        "# conda/Binder view of the exact lock. mitiq is installed by postBuild with --no-deps",
        "# (see requirements/README.md: it declares cirq-core>=1.6, the lock pins 1.5.0).",
        "# After `conda env create -f environment.yml`, run `bash postBuild` in the environment.",
        "name: qmlkit",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        "  - python=3.11",
        "  - pip",
        "  - pip:",
    ]
    lines += [f"      - {name}=={v}" for name, v in sorted(pins.items())
              if name not in NO_DEPS_PACKAGES]
    lines.append("      - -e .")
    return "\n".join(lines) + "\n"


def postbuild(pins: dict[str, str]) -> str:
    specs = " ".join(f"{n}=={pins[n]}" for n in NO_DEPS_PACKAGES)
    return (
        "#!/usr/bin/env bash\n"
        "# Generated from requirements/lock.txt by `make lock` (tools/lockfile.py): do not edit.\n"
        "# Packages whose declared requirements conflict with the documented override\n"
        "# (requirements/overrides.txt) are installed without dependency resolution.\n"
        "set -euo pipefail\n"
        f"python -m pip install --no-deps {specs}\n"
    )


def main(argv: list[str]) -> int:
    if argv[1:] != ["write-env"]:
        print(__doc__, file=sys.stderr)
        return 2
    pins = read_pins()
    ENVIRONMENT.write_text(environment_yml(pins))
    POSTBUILD.write_text(postbuild(pins))
    POSTBUILD.chmod(0o755)
    print(f"wrote {ENVIRONMENT.name} ({len(pins)} pins) and {POSTBUILD.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
