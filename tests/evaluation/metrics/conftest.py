"""Synthetic clips for the metric tests: smooth random textures moved by known amounts."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest


def make_texture(height: int, width: int, seed: int = 0, sigma: float = 2.0) -> np.ndarray:
    """``(height, width, 3)`` uint8 smooth random colour texture (full contrast)."""
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(
        rng.uniform(0, 255, (height, width, 3)).astype(np.float32), (0, 0), sigma
    )
    return cv2.normalize(noise, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)


def make_pan(frames: int = 10, size: int = 64, step: tuple[int, int] = (2, 1), seed: int = 0):
    """A camera panning over a texture by ``step`` = (dx, dy) integer pixels per frame."""
    dx, dy = step
    margin = frames * max(abs(dx), abs(dy)) + 1
    big = make_texture(size + 2 * margin, size + 2 * margin, seed)
    return np.stack(
        [
            big[margin + t * dy : margin + t * dy + size, margin + t * dx : margin + t * dx + size]
            for t in range(frames)
        ]
    )


@pytest.fixture
def texture() -> Callable[..., np.ndarray]:
    return make_texture


@pytest.fixture
def pan() -> Callable[..., np.ndarray]:
    return make_pan
