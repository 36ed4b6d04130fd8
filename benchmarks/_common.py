"""What the benchmark scripts share: the ``main`` wrapper that turns user errors into exit 2.

The scripts run as ``python benchmarks/NAME.py``, which puts this folder on ``sys.path``; the
tests load them by file path with this folder added by ``tests/benchmarks/conftest.py``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from spacetime.errors import SpacetimeError


def run_main(name: str, run: Callable[[], object]) -> int:
    """Call ``run()`` and return the exit status: 0, or 2 after printing
    ``NAME: error: MESSAGE`` to stderr when it raises :class:`SpacetimeError`."""
    try:
        run()
    except SpacetimeError as err:
        print(f"{name}: error: {err}", file=sys.stderr)
        return 2
    return 0
