"""The benchmark scripts import ``benchmarks/_common.py`` as ``_common``: as when they run as
``python benchmarks/NAME.py``, their folder must be on ``sys.path`` when a test loads them."""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = str(Path(__file__).resolve().parents[2] / "benchmarks")
if BENCHMARKS not in sys.path:
    sys.path.insert(0, BENCHMARKS)
