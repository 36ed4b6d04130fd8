"""Cascade configuration: YAML round trip and errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from spacetime.errors import SpacetimeError
from spacetime.pipelines.cascade import Cascade


def test_yaml_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "frames: 64\nlong: {method: sliding, overlap: 4}\n"
        "super_resolution: {path: runs/sr, noise_level: 50}\n"
    )
    cascade = Cascade.from_yaml(path)
    assert cascade.frames == 64 and cascade.long.method == "sliding"
    assert cascade.long.settings().overlap == 4 and cascade.super_resolution.noise_level == 50.0
    cascade.to_yaml(tmp_path / "again.yaml")
    assert Cascade.from_yaml(tmp_path / "again.yaml") == cascade
    assert Cascade.from_yaml(_write(tmp_path, "{}")) == Cascade()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lenght: 3", "lenght"),
        ("long: {method: zoom}", "unknown long-video method 'zoom'"),
        ("frames: many", "frames"),
    ],
)
def test_bad_cascade_files(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SpacetimeError, match=message):
        Cascade.from_yaml(_write(tmp_path, text))


def test_bundled_cascade_by_name_and_missing_files(tmp_path: Path) -> None:
    bundled = Cascade.from_yaml("cascade-shapes")  # spacetime/configs/cascade-shapes.yaml
    assert bundled.frames == 128 and bundled.long.method == "keyframes"
    with pytest.raises(SpacetimeError, match=r"nope\.yaml does not exist"):
        Cascade.from_yaml(tmp_path / "nope.yaml")


def _write(folder: Path, text: str) -> Path:
    path = folder / "cascade.yaml"
    path.write_text(text + "\n")
    return path
