"""Calibration on real footage: every injected failure moves its metric, monotonically.

A fast version of ``benchmarks/calibration.py`` (short, downscaled clips). Each corruption
must move its target metric strictly in the expected direction at every strength, starting
from the clean clip (so even the weakest one separates), on every clip: no expected failures.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spacetime.evaluation.corruptions import CORRUPTIONS, CalibrationRow, calibrate
from spacetime.evaluation.metrics.context import analysis_shape
from spacetime.video import read_video, resize_frames

CLIPS = (
    "01_dog.mp4",
    "02_cups.mp4",
    "03_blocks.mp4",
    "04_coffee.mp4",
    "05_default_juggle.mp4",
    "armwrestling.mp4",
    "bedroom.mp4",
    "cockatoo.mp4",
    "kinetics_test.mp4",
    "realshort.mp4",
)
"""Every clip of ``shared/data/real``: handheld, static, water, repeating textures, fast hands."""
FRAMES, SIZE, STRENGTHS = 16, 160, (0.25, 0.5, 1.0)

_rows: dict[str, dict[str, CalibrationRow]] = {}


def _calibrated(real_dir: Path, name: str) -> dict[str, CalibrationRow]:
    """All corruptions of one clip, computed once per test session."""
    if name not in _rows:
        frames = read_video(real_dir / name, max_frames=FRAMES).frames
        height, width = analysis_shape(frames.shape[1], frames.shape[2], SIZE)
        frames = resize_frames(frames, (height, width))
        rows = calibrate(frames, clip=name, strengths=STRENGTHS, analysis_size=SIZE)
        _rows[name] = {r.corruption: r for r in rows}
    return _rows[name]


@pytest.mark.parametrize("corruption", list(CORRUPTIONS))
@pytest.mark.parametrize("clip", CLIPS)
def test_corruption_moves_its_metric_monotonically(real_dir, clip, corruption):
    row = _calibrated(real_dir, clip)[corruption]
    values = np.array((row.clean, *row.values))
    assert row.passed, (
        f"{clip} {corruption}: {row.metric}.{row.statistic} over strengths "
        f"(0, {', '.join(map(str, row.strengths))}) = {np.round(values, 3).tolist()}"
    )
