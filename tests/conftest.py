"""Shared fixtures: seeded random generators, in PennyLane's style (no global RNG state)."""

from __future__ import annotations

import numpy as np
import pytest

import qmlkit  # noqa: F401  (sets TF_USE_LEGACY_KERAS before any test imports TensorFlow)

#: The seed every test starts from unless it asks for another.
DEFAULT_SEED = 20251217


@pytest.fixture
def seed() -> int:
    """The default seed of a test."""
    return DEFAULT_SEED


@pytest.fixture
def rng(seed: int) -> np.random.Generator:
    """A fresh, seeded :class:`numpy.random.Generator` for each test."""
    return np.random.default_rng(seed)
