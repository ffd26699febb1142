"""Argument checks: wrong types raise TypeError, bad values ValueError, naming the argument."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qmlkit import _validation as v


@pytest.mark.parametrize("bad", [1.5, "3", None, True, [1]])
def test_check_int_rejects_non_integers(bad):
    with pytest.raises(TypeError, match="shots"):
        v.check_int("shots", bad)


def test_check_int_bounds_and_numpy_integers():
    assert v.check_int("shots", np.int64(5), minimum=1) == 5
    with pytest.raises(ValueError, match="shots must be >= 1"):
        v.check_int("shots", 0, minimum=1)
    with pytest.raises(ValueError, match="shots must be <= 3"):
        v.check_int("shots", 4, maximum=3)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_check_float_rejects_non_finite(bad):
    with pytest.raises(ValueError, match="theta must be finite"):
        v.check_float("theta", bad)


def test_check_float_types_and_bounds():
    assert v.check_float("theta", 2) == 2.0
    with pytest.raises(TypeError, match="theta"):
        v.check_float("theta", "1.0")
    with pytest.raises(ValueError, match="p must be <= 1"):
        v.check_float("p", 1.5, maximum=1)


def test_check_int_sequence():
    assert v.check_int_sequence("grid", (1, 2)) == [1, 2]
    with pytest.raises(TypeError, match="grid"):
        v.check_int_sequence("grid", "12")
    with pytest.raises(ValueError, match="grid must not be empty"):
        v.check_int_sequence("grid", [])
    with pytest.raises(ValueError, match=r"grid\[1\] must be >= 1"):
        v.check_int_sequence("grid", [4, 0], minimum=1)


def test_check_float_sequence():
    assert v.check_float_sequence("steps", (1, 0.5)) == [1.0, 0.5]
    assert v.check_float_sequence("r", [0.1, 2], length=2, increasing=True) == [0.1, 2.0]
    with pytest.raises(TypeError, match="steps must be a sequence"):
        v.check_float_sequence("steps", "0.1")
    with pytest.raises(TypeError, match=r"steps\[1\] must be a real number"):
        v.check_float_sequence("steps", [0.1, "x"])
    with pytest.raises(ValueError, match="at least 3"):
        v.check_float_sequence("steps", [0.1, 0.2], min_length=3)
    with pytest.raises(ValueError, match="exactly 2"):
        v.check_float_sequence("r", [0.1, 0.2, 0.3], length=2)
    with pytest.raises(ValueError, match="steps must be positive"):
        v.check_float_sequence("steps", [0.1, 0.0], positive=True)
    with pytest.raises(ValueError, match=r"r\[0\] must be >= 0"):
        v.check_float_sequence("r", [-1, 1], minimum=0.0)
    with pytest.raises(ValueError, match="strictly increasing"):
        v.check_float_sequence("r", [2, 1], increasing=True)
    with pytest.raises(ValueError, match="finite"):
        v.check_float_sequence("r", [float("nan")])


def test_check_rng_requires_generator():
    with pytest.raises(TypeError, match=r"rng must be a numpy\.random\.Generator"):
        v.check_rng("rng", 42)
    with pytest.raises(TypeError, match="rng"):
        v.check_rng("rng", np.random.RandomState(0))


def test_check_finite_array():
    with pytest.raises(ValueError, match="features contains NaN"):
        v.check_finite_array("features", [0.0, np.nan])
    with pytest.raises(ValueError, match="features must have 2 dimension"):
        v.check_finite_array("features", [0.0], ndim=2)
    with pytest.raises(TypeError, match="features"):
        v.check_finite_array("features", ["a"])


def test_memory_guard_refuses_too_many_qubits():
    assert v.check_n_qubits("n_qubits", 20) == 20
    with pytest.raises(ValueError, match=r"n_qubits=40 needs about .* GiB"):
        v.check_n_qubits("n_qubits", 40)
    with pytest.raises(ValueError, match="n_qubits"):
        v.check_n_qubits("n_qubits", 200)
    with pytest.raises(ValueError, match="n_qubits must be >= 1"):
        v.check_n_qubits("n_qubits", 0)


def test_statevector_bytes():
    assert v.statevector_bytes(1) == 32
    assert v.statevector_bytes(30) == 16 * 2**30
