"""The ``spacetime.data`` package: lazy re-exports (PEP 562) that keep torch out of ShapesWorld."""

from __future__ import annotations

import subprocess
import sys

import pytest

import spacetime.data as data


def _modules_after(statement: str) -> set[str]:
    """Top-level modules loaded by a fresh interpreter after running ``statement``."""
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return {name.split(".")[0] for name in out.stdout.split()}


def test_shapes_and_the_report_do_not_import_torch() -> None:
    loaded = _modules_after("import spacetime.data.shapes; import spacetime.evaluation.report")
    assert "spacetime" in loaded
    assert not {"torch", "scipy", "matplotlib"} & loaded


def test_names_resolve_on_first_access() -> None:
    from spacetime.data import ShapesDataset
    from spacetime.data.shapes_dataset import ShapesDataset as direct

    assert ShapesDataset is direct
    assert data.read_image is __import__("spacetime.video", fromlist=["read_image"]).read_image
    assert set(data.__all__) <= set(dir(data))
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = data.Nope
