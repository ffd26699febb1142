"""Re-execute chapters in place, refreshing the outputs that nbval compares against.

Usage:
    python tools/execute_chapters.py [chapters/NN_name.ipynb ...]   # default: every chapter

Runs each notebook top to bottom in a fresh kernel (working directory ``chapters/``) with its
default parameters, fails on the first error, and writes the outputs back. Run it after changing
a chapter or qmlkit code that a chapter prints, then review the diff of the outputs.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"


def execute(path: Path, timeout: int = 1800) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(CHAPTERS)}}).execute()
    for cell in nb.cells:  # keep diffs to outputs only
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)
    return time.perf_counter() - start


def main(argv: list[str]) -> int:
    paths = [Path(a).resolve() for a in argv[1:]] or sorted(CHAPTERS.glob("[0-9][0-9]_*.ipynb"))
    for p in paths:
        print(f"executing {p.relative_to(ROOT)} ...", flush=True)
        print(f"  done in {execute(p):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
