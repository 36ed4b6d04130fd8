"""What the benchmark scripts share: the ``main`` wrapper that turns user errors into exit 2,
and a store of computed results keyed by their settings.

The scripts run as ``python benchmarks/NAME.py``, which puts this folder on ``sys.path``; the
tests load them by file path with this folder added by ``tests/benchmarks/conftest.py``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def cached(store: Path, key: dict[str, Any], compute: Callable[[], Any]) -> Any:
    """``compute()``'s JSON result, kept in ``store`` under a digest of ``key`` (settings and
    weights): a rerun with the same key reads it back instead of computing it again."""
    text = json.dumps(key, sort_keys=True, default=str)
    path = store / f"{hashlib.sha256(text.encode()).hexdigest()[:20]}.json"
    if path.is_file():
        saved = json.loads(path.read_text(encoding="utf-8"))
        if saved.get("key") == json.loads(text):
            return saved["value"]
    value = compute()
    store.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"key": json.loads(text), "value": value}, indent=1), "utf-8")
    tmp.replace(path)  # written last: a killed run leaves no half point
    return value
