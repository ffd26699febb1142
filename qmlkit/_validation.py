"""Argument checks shared by qmlkit's public functions.

Every check raises :class:`TypeError` for a value of the wrong type and :class:`ValueError` for a
value of the right type but outside its domain, and the message names the argument. Chapters run
their papermill parameters through the same functions, so a bad parameter fails on the first
cell that uses it, with the parameter's name.
"""

from __future__ import annotations

import itertools
import numbers
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

#: Bytes of one complex128 amplitude.
_AMPLITUDE_BYTES = 16


def check_int(name: str, value: Any, *, minimum: int | None = None,
              maximum: int | None = None) -> int:
    """Return ``value`` as ``int`` if it is an integer (not a bool) within bounds.

    Example:
        >>> check_int("shots", 100, minimum=1)
        100
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_float(name: str, value: Any, *, minimum: float | None = None,
                maximum: float | None = None) -> float:
    """Return ``value`` as a finite ``float`` within bounds (integers are accepted).

    Example:
        >>> check_float("theta", 1)
        1.0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_int_sequence(name: str, value: Any, *, minimum: int | None = None,
                       nonempty: bool = True) -> list[int]:
    """Return ``value`` as a list of checked integers.

    Example:
        >>> check_int_sequence("shots_grid", [10, 100], minimum=1)
        [10, 100]
    """
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a sequence of integers, got {type(value).__name__}")
    if nonempty and len(value) == 0:
        raise ValueError(f"{name} must not be empty")
    return [check_int(f"{name}[{i}]", v, minimum=minimum) for i, v in enumerate(value)]


def check_float_sequence(name: str, value: Any, *, minimum: float | None = None,
                         maximum: float | None = None, positive: bool = False,
                         length: int | None = None, min_length: int = 1,
                         increasing: bool = False) -> list[float]:
    """Return ``value`` as a list of checked floats (integers are accepted).

    Args:
        name: the argument's name, for the error messages.
        value: a sequence of real numbers (a papermill list parameter, say).
        minimum, maximum: inclusive bounds of every entry.
        positive: every entry must be > 0.
        length: the exact number of entries, if given.
        min_length: the least number of entries.
        increasing: the entries must be strictly increasing.

    Raises:
        TypeError: if ``value`` is not a sequence of real numbers.
        ValueError: for entries out of range, the wrong number of entries, or an order that is
            not increasing.

    Example:
        >>> check_float_sequence("field_range", [0.2, 2], length=2, increasing=True)
        [0.2, 2.0]
    """
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a sequence of numbers, got {type(value).__name__} "
                        f"{value!r}")
    if length is not None and len(value) != length:
        raise ValueError(f"{name} must hold exactly {length} numbers, got {len(value)}")
    if len(value) < min_length:
        raise ValueError(f"{name} must hold at least {min_length} numbers, got {len(value)}")
    out = [check_float(f"{name}[{i}]", v, minimum=minimum, maximum=maximum)
           for i, v in enumerate(value)]
    if positive and any(v <= 0 for v in out):
        raise ValueError(f"{name} must be positive, got {out}")
    if increasing and any(b <= a for a, b in itertools.pairwise(out)):
        raise ValueError(f"{name} must be strictly increasing, got {out}")
    return out


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of the strings ``choices``.

    Example:
        >>> check_choice("rotation", "X", ("X", "Y", "Z"))
        'X'
    """
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {tuple(choices)}, got {value!r}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is a bool (numpy bools included; 0/1 are refused)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__} {value!r}")
    return bool(value)


def check_identifier(name: str, value: Any) -> str:
    """Return ``value`` if it is an identifier-like string (a symbol prefix, say)."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}")
    if not value.isidentifier():
        raise ValueError(f"{name} must be a non-empty identifier-like string, got {value!r}")
    return value


def check_rng(name: str, value: Any) -> np.random.Generator:
    """Require an explicit :class:`numpy.random.Generator` (qmlkit has no global RNG state).

    Example:
        >>> check_rng("rng", np.random.default_rng(0))  # doctest: +ELLIPSIS
        Generator(PCG64) at 0x...
    """
    if not isinstance(value, np.random.Generator):
        raise TypeError(
            f"{name} must be a numpy.random.Generator (e.g. numpy.random.default_rng(seed)), "
            f"got {type(value).__name__}"
        )
    return value


def check_finite_array(name: str, value: Any, *, ndim: int | None = None,
                       dtype: Any = float) -> np.ndarray:
    """Return ``value`` as an array with no NaN or infinity.

    Example:
        >>> check_finite_array("x", [0.1, 0.2], ndim=1)
        array([0.1, 0.2])
    """
    try:
        arr = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be numeric array-like: {exc}") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def available_memory_bytes() -> int:
    """Physical memory of this machine in bytes (a conservative bound for simulations)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 * 2**30


def statevector_bytes(n_qubits: int) -> int:
    """Bytes needed for one complex128 state vector of ``n_qubits`` qubits.

    Example:
        >>> statevector_bytes(10)
        16384
    """
    return _AMPLITUDE_BYTES * 2 ** int(n_qubits)


def check_n_qubits(name: str, value: Any, *, copies: int = 4,
                   memory_fraction: float = 0.5) -> int:
    """Check a qubit count and refuse sizes whose state vectors cannot fit in memory.

    Args:
        name: the argument's name, for the message.
        value: the number of qubits.
        copies: how many state vectors the computation holds at once.
        memory_fraction: the share of physical memory the computation may use.

    Example:
        >>> check_n_qubits("n_qubits", 3)
        3
    """
    n = check_int(name, value, minimum=1)
    need = copies * statevector_bytes(n) if n < 64 else float("inf")
    budget = memory_fraction * available_memory_bytes()
    if need > budget:
        raise ValueError(
            f"{name}={n} needs about {need / 2**30:.3g} GiB for {copies} state vectors, more than "
            f"{budget / 2**30:.3g} GiB ({memory_fraction:.0%} of this machine's memory)"
        )
    return n
