"""qmlkit.records: rounding, atomic JSON writes."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from qmlkit.records import ChapterRecord, round_significant, write_json_atomic


def test_round_significant():
    assert round_significant(123456.0, 2) == 120000.0
    assert round_significant(-0.000123456, 3) == -0.000123
    assert round_significant(0.0, 3) == 0.0


def test_log_rounds_prints_and_stores(capsys):
    rec = ChapterRecord("x", {"seed": 1})
    rec.log("a", np.float64(1.23456), digits=2)
    rec.log("b", -1e-17, decimals=6)
    rec.log("c", np.int64(7))
    assert capsys.readouterr().out == "a = 1.2\nb = 0.0\nc = 7\n"
    assert rec.results == {"a": 1.2, "b": 0.0, "c": 7}
    assert json.loads(rec.to_json())["parameters"] == {"seed": 1}
    with pytest.raises(ValueError, match="digits or decimals"):
        rec.log("d", 1.0, digits=1, decimals=1)
    with pytest.raises(TypeError, match="key"):
        rec.log("", 1.0)


def test_save_writes_atomically_and_skips_empty_dir(tmp_path):
    rec = ChapterRecord("02_background")
    rec.log("x", 1)
    assert rec.save("") is None
    path = rec.save(tmp_path / "out")
    assert json.loads(path.read_text())["results"] == {"x": 1}
    assert [p.name for p in path.parent.iterdir()] == ["02_background.json"]


def test_write_json_atomic_leaves_old_file_on_failure(tmp_path):
    target = tmp_path / "r.json"
    write_json_atomic(target, {"ok": True})
    with pytest.raises(TypeError):
        write_json_atomic(target, {"bad": object()})
    assert json.loads(target.read_text()) == {"ok": True}
    assert sorted(os.listdir(tmp_path)) == ["r.json"]
