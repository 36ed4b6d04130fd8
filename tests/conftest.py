"""Shared fixtures. Real footage lives in ../shared/data (not shipped with a clone)."""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

import pytest

# Two pytest workers share two cores: one thread each avoids oversubscription.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# torch takes the smaller of the two: MKL follows OMP unless the caller set it
os.environ.setdefault("MKL_NUM_THREADS", os.environ["OMP_NUM_THREADS"])

# Shared helpers (tests/helpers.py) import as `from helpers import ...`: --import-mode=importlib
# puts no test folder on sys.path, so add this one.
TESTS = str(Path(__file__).resolve().parent)
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _fixed_global_rng() -> None:
    """Every test starts from the same global RNG state (torch, NumPy, random): a draw without
    an explicit generator then gives the same numbers whichever tests ran before, in any order
    and in any pytest-xdist worker."""
    # Imported here, not at the top: torch must first see OMP_NUM_THREADS set above.
    import numpy as np
    import torch

    torch.manual_seed(0)
    np.random.seed(0)
    random.seed(0)


@pytest.fixture(scope="session")
def real_dir() -> Path:
    """``../shared/data/real`` (real camera clips); skips when the clone has no ../shared."""
    path = SHARED_DATA / "real"
    if not path.is_dir():
        pytest.skip(f"real footage not available: {path} is absent (only in the dev workspace)")
    return path


@pytest.fixture(scope="session")
def digits_file() -> Path:
    """``../shared/data/digits/mnist5k_28x28_uint8.npz``; skips when absent."""
    path = SHARED_DATA / "digits" / "mnist5k_28x28_uint8.npz"
    if not path.is_file():
        pytest.skip(f"MNIST digits not available: {path} is absent (only in the dev workspace)")
    return path


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--reverse",
        action="store_true",
        help="run the tests in reverse collection order (the suite must not depend on order)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--reverse"):
        items.reverse()
