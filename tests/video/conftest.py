"""Fixtures for the video tests: small synthetic clips whose frames can be told apart."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from spacetime.video import write_mp4

LEVEL0, LEVEL_STEP = 20, 8  # frame i of an "indexed" clip is uniformly grey at 20 + 8 i


def _indexed(count: int, height: int = 32, width: int = 48) -> np.ndarray:
    levels = LEVEL0 + LEVEL_STEP * np.arange(count)
    return np.broadcast_to(levels[:, None, None, None], (count, height, width, 3)).astype(np.uint8)


@pytest.fixture
def indexed_frames() -> Callable[..., np.ndarray]:
    """``make(count, height, width)`` -> uint8 (T, H, W, 3), frame i grey at 20 + 8 i."""
    return _indexed


@pytest.fixture
def frame_index() -> Callable[[np.ndarray], list[int]]:
    """Recover the frame indices of a decoded indexed clip from its mean grey level."""

    def recover(frames: np.ndarray) -> list[int]:
        means = frames.reshape(len(frames), -1).mean(axis=1)
        return [round((m - LEVEL0) / LEVEL_STEP) for m in means]

    return recover


@pytest.fixture
def smooth_frames() -> np.ndarray:
    """uint8 (12, 48, 64, 3): slowly moving colour gradients (what H.264 compresses well)."""
    yy, xx = np.mgrid[:48, :64].astype(np.float64)
    frames = [
        np.stack(
            [
                128 + 80 * np.sin(xx / 20 + t / 5),
                128 + 80 * np.cos(yy / 15 - t / 7),
                128 + 50 * np.sin((xx + yy) / 25 - t / 4),
            ],
            axis=-1,
        )
        for t in range(12)
    ]
    return np.stack(frames).round().astype(np.uint8)


@pytest.fixture
def indexed_mp4(tmp_path: Path) -> Path:
    """24 frames at 8 fps (3 s) of the indexed clip, as H.264 (crf 10)."""
    return write_mp4(tmp_path / "indexed.mp4", _indexed(24), fps=8.0, crf=10)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB between two uint8 arrays."""
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / max(mse, 1e-12)))


@pytest.fixture
def psnr_db() -> Callable[[np.ndarray, np.ndarray], float]:
    """PSNR in dB between two uint8 arrays."""
    return psnr
