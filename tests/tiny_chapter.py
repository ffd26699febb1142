"""A tiny chapter notebook for the tests of qmlkit.sweep and qmlkit.cli (seconds per run).

It has the structure of a real chapter: a ``parameters`` cell with ``results_dir``, a cell that
validates every parameter with qmlkit._validation, and a ChapterRecord saved to ``results_dir``.
Each execution appends ``"<i> <unix time>"`` to ``log_path`` first (so tests can count how
often each run started), then sleeps ``sleep`` seconds, then raises if ``i == fail_on``.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

PARAMETERS = '''\
i = 0  # the grid index of the run
sleep = 0.0  # seconds to sleep in the middle of the run
fail_on = -1  # the run with this index i raises (-1: none)
label = "a"  # a string parameter (also recorded as a result of the same name)
log_path = ""  # if set, each start appends a line "<i> <time>" to this file
results_dir = ""  # if set, the record is written there as JSON
'''

VALIDATE = '''\
import time
from qmlkit._validation import check_float, check_int
from qmlkit.records import ChapterRecord
i = check_int("i", i, minimum=0)
sleep = check_float("sleep", sleep, minimum=0)
fail_on = check_int("fail_on", fail_on)
if log_path:
    with open(log_path, "a") as fh:
        fh.write(f"{i} {time.time()}\\n")
'''

SLEEP = "time.sleep(sleep)"

FAIL = '''\
if i == fail_on:
    raise RuntimeError(f"run {i} fails on purpose")
'''

RECORD = '''\
record = ChapterRecord("tiny", parameters=dict(i=i, sleep=sleep, fail_on=fail_on, label=label))
record.log("square", i * i)
record.log("half", i / 2, digits=3)
record.log("label", label.upper())
record.save(results_dir)
print(record.to_json())
'''


def write_tiny_chapter(directory: Path, *, full_profile: dict | None = None) -> Path:
    """Write ``directory/tiny.ipynb`` (and ``params/tiny.full.yaml``) and return its path."""
    cells = [new_markdown_cell("# Tiny test chapter"), new_code_cell(PARAMETERS)]
    cells[1].metadata["tags"] = ["parameters"]
    cells += [new_code_cell(VALIDATE), new_code_cell(SLEEP), new_code_cell(FAIL),
              new_code_cell(RECORD),
              new_markdown_cell("## What this chapter shows, and its limits\n\nNothing.")]
    nb = new_notebook(cells=cells, metadata={"kernelspec": {
        "display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}})
    path = Path(directory) / "tiny.ipynb"
    nbformat.write(nb, path)
    params = Path(directory) / "params"
    params.mkdir(exist_ok=True)
    profile = full_profile if full_profile is not None else {"i": 5, "label": "full"}
    (params / "tiny.full.yaml").write_text(
        "".join(f"{k}: {v!r}\n" if not isinstance(v, str) else f"{k}: '{v}'\n"
                for k, v in profile.items()))
    return path


def starts(log_path: Path) -> dict[int, int]:
    """How many times each run index started, from the log the tiny chapter appends to."""
    counts: dict[int, int] = {}
    if log_path.exists():
        for line in log_path.read_text().splitlines():
            i = int(line.split()[0])
            counts[i] = counts.get(i, 0) + 1
    return counts
