"""Synthetic reports for the report tests: exact numbers, no decoding needed."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from spacetime.evaluation.metrics import METRIC_NAMES
from spacetime.evaluation.report import VideoReport


def synthetic_report(
    video: str = "clip.mp4",
    *,
    frames: int = 9,
    level: float = 1.0,
    spike_at: int = 4,
    motion: float = 2.0,
    caption: str | None = None,
    oracle: dict | None = None,
) -> VideoReport:
    """A report whose failure metrics are ``level`` per transition with a 5x spike at
    ``spike_at``, and ``dynamic_degree`` constant at ``motion``."""
    metrics = {}
    for name in METRIC_NAMES:
        if name == "dynamic_degree":
            values = np.full(frames - 1, motion)
        else:
            values = np.full(frames - 1, level)
            values[spike_at] = 5 * level
        metrics[name] = {
            "mean": float(values.mean()),
            "p95": float(np.percentile(values, 95)),
            "max": float(values.max()),
            "worst_frame": int(np.argmax(values)),
            "per_frame": values.tolist(),
        }
    return VideoReport(
        video=video,
        frames=frames,
        height=32,
        width=48,
        fps=8.0,
        metrics=metrics,
        caption=caption,
        oracle=oracle,
    )


@pytest.fixture
def make_report() -> Callable[..., VideoReport]:
    """The :func:`synthetic_report` factory."""
    return synthetic_report
