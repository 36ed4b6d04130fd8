"""Point tracks carried along the flow, shared by the metrics that follow material points."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from spacetime.evaluation.metrics.context import AnalysisClip

TRACK_GRID = 12
"""Tracks are seeded at the centres of a TRACK_GRID x TRACK_GRID grid of cells."""


@dataclass(frozen=True)
class Tracks:
    """Points seeded on a grid at frame 0 and carried along the forward flow.

    Each of the ``N`` slots holds one track at a time. A track ends when its point leaves the
    frame; its slot is then re-seeded at its cell centre on the next frame, which becomes the
    new track's first appearance. Tracks are *not* ended at occlusions: ending them there
    would re-seed most tracks of a busy clip within a few frames and forget their first
    appearance, which is what identity drift compares against; an occluded point follows
    the occluder, which a long clip averages out.

    Attributes:
        positions: ``(T, N, 2)`` float32 (x, y) in analysis pixels.
        born: ``(T, N)`` bool, True on the frame where the slot's current track started.
    """

    positions: np.ndarray
    born: np.ndarray

    @property
    def age(self) -> np.ndarray:
        """``(T, N)`` int, frames since the slot's current track started (0 on its birth)."""
        age = np.zeros(self.born.shape, np.int64)
        for t in range(1, len(age)):
            age[t] = np.where(self.born[t], 0, age[t - 1] + 1)
        return age


def sample(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Bilinear samples of ``image`` ``(h, w[, C])`` at ``points`` ``(N, 2)`` -> ``(N[, C])``."""
    xs = np.ascontiguousarray(points[:, 0:1], np.float32)
    ys = np.ascontiguousarray(points[:, 1:2], np.float32)
    out = cv2.remap(image, xs, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out[:, 0]


def seed_points(height: int, width: int, grid: int = TRACK_GRID) -> np.ndarray:
    """``(grid * grid, 2)`` float32 cell centres (x, y) of a regular grid over the frame."""
    xs = (np.arange(grid) + 0.5) * width / grid
    ys = (np.arange(grid) + 0.5) * height / grid
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=-1).astype(np.float32)


def track(clip: AnalysisClip) -> Tracks:
    """The :class:`Tracks` of ``clip`` (cached on it)."""
    cached = clip.__dict__.get("_tracks")
    if cached is not None:
        return cached
    height, width = clip.gray.shape[1:]
    seeds = seed_points(height, width)
    positions = np.empty((clip.num_frames, len(seeds), 2), np.float32)
    born = np.zeros((clip.num_frames, len(seeds)), bool)
    positions[0], born[0] = seeds, True
    for t in range(clip.num_transitions):
        pair = clip.flow[t]
        current = positions[t]
        moved = current + sample(pair.forward, current)  # (N, 2)
        inside = (
            (moved[:, 0] >= 0)
            & (moved[:, 0] <= width - 1)
            & (moved[:, 1] >= 0)
            & (moved[:, 1] <= height - 1)
        )
        positions[t + 1] = np.where(inside[:, None], moved, seeds)
        born[t + 1] = ~inside
    result = Tracks(positions, born)
    clip.__dict__["_tracks"] = result
    return result
