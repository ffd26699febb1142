"""Machine-readable results of a chapter run.

Each chapter records its key numbers in a :class:`ChapterRecord`: they are printed with stable
rounding (so nbval can compare them), kept with the run's parameters, and written atomically as
JSON when the chapter is given a ``results_dir`` (papermill runs, sweeps, the claims scoreboard).

Example:
    >>> rec = ChapterRecord("02_background", parameters={"seed": 1})
    >>> rec.log("fitted exponent", -0.50123, digits=3)
    fitted exponent = -0.501
    >>> rec.log("<Z0>", 4.3e-17, decimals=6)
    <Z0> = 0.0
    >>> rec.results
    {'fitted exponent': -0.501, '<Z0>': 0.0}
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from qmlkit._validation import check_int

__all__ = ["ChapterRecord", "round_significant", "write_json_atomic"]


def round_significant(value: float, digits: int) -> float:
    """Round ``value`` to ``digits`` significant digits.

    Example:
        >>> round_significant(0.0123456, 3)
        0.0123
    """
    digits = check_int("digits", digits, minimum=1)
    if value == 0 or not math.isfinite(value):
        return float(value)
    return round(float(value), digits - 1 - math.floor(math.log10(abs(value))))


def write_json_atomic(path: str | os.PathLike, payload: Any) -> Path:
    """Write ``payload`` as JSON to ``path`` atomically (temporary file, then rename).

    A reader sees either the old file or the complete new one, never a partial write.

    Example:
        >>> import tempfile, pathlib
        >>> p = write_json_atomic(pathlib.Path(tempfile.mkdtemp()) / "r.json", {"a": 1})
        >>> p.read_text()
        '{\\n  "a": 1\\n}\\n'
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(payload, fh, indent=2, sort_keys=False)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


class ChapterRecord:
    """The key results of one chapter run, with the parameters that produced them.

    Args:
        chapter: the chapter's file stem, e.g. ``"02_background"``.
        parameters: the papermill parameters of the run (JSON-serialisable).
    """

    def __init__(self, chapter: str, parameters: dict[str, Any] | None = None) -> None:
        if not isinstance(chapter, str) or not chapter:
            raise TypeError("chapter must be a non-empty string")
        self.chapter = chapter
        self.parameters = dict(parameters or {})
        self.results: dict[str, Any] = {}

    def log(self, key: str, value: Any, *, digits: int | None = None,
            decimals: int | None = None, unit: str = "") -> None:
        """Record ``value`` under ``key`` and print ``key = value``.

        Floats are rounded before they are stored and printed: to ``digits`` significant digits,
        or to ``decimals`` decimal places (use this for values that are zero up to rounding
        noise, such as 4e-17, which significant digits would keep). The rounded value is
        ``self.results[key]``.
        """
        if not isinstance(key, str) or not key:
            raise TypeError("key must be a non-empty string")
        if digits is not None and decimals is not None:
            raise ValueError("give digits or decimals, not both")
        if isinstance(value, (float, np.floating)):
            value = float(value)
            if digits is not None:
                value = round_significant(value, digits)
            elif decimals is not None:
                value = round(value, check_int("decimals", decimals, minimum=0)) + 0.0
        elif isinstance(value, np.integer):
            value = int(value)
        self.results[key] = value
        print(f"{key} = {value}{' ' + unit if unit else ''}")

    def to_dict(self) -> dict[str, Any]:
        """The record as a JSON-serialisable dict."""
        return {"chapter": self.chapter, "parameters": self.parameters, "results": self.results}

    def to_json(self) -> str:
        """The record as indented JSON text."""
        return json.dumps(self.to_dict(), indent=2)

    def save(self, results_dir: str | os.PathLike | None) -> Path | None:
        """Write ``<results_dir>/<chapter>.json`` atomically; do nothing if ``results_dir`` is
        empty or ``None``. Returns the path written, if any."""
        if not results_dir:
            return None
        return write_json_atomic(Path(results_dir) / f"{self.chapter}.json", self.to_dict())
