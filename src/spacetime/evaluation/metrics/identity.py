"""``identity_drift``: how far tracked regions have moved away from their first appearance."""

from __future__ import annotations

import cv2
import numpy as np

from spacetime.evaluation.metrics.context import AnalysisClip
from spacetime.evaluation.metrics.tracks import sample, track

REGIONS = 4
"""Track changes are averaged over a REGIONS x REGIONS grid of frame regions."""

LAB_TO_8BIT = np.array([255.0 / 100.0, 1.0, 1.0], np.float32)

PATCH_RADIUS = 2.0
"""Half-size of a tracked patch, in percent of the image diagonal (~7 px at 256x256)."""


def patch_offsets(radius: float) -> np.ndarray:
    """``(9, 2)`` float32 offsets of a 3x3 lattice spanning ``[-radius, radius]^2`` (pixels)."""
    steps = np.array([-radius, 0.0, radius], np.float32)
    gx, gy = np.meshgrid(steps, steps)
    return np.stack([gx.ravel(), gy.ravel()], axis=-1)


def patch_statistics(lab: np.ndarray, points: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """``(N, 4)`` descriptor of the patches centred on ``points`` ``(N, 2)``: mean L, a, b over
    the lattice ``offsets`` ``(K, 2)`` and the standard deviation of L (texture contrast)."""
    lattice = (points[:, None, :] + offsets[None]).reshape(-1, 2)
    values = sample(lab, lattice).reshape(len(points), len(offsets), 3)  # (N, K, 3)
    return np.concatenate([values.mean(axis=1), values[..., :1].std(axis=1)], axis=-1)


def regional_drift(diff: np.ndarray, points: np.ndarray, height: int, width: int) -> float:
    """Mean appearance change of the regions of a REGIONS x REGIONS grid (Lab levels).

    The descriptor changes ``diff`` ``(n, 4)`` of the tracks at ``points`` ``(n, 2)`` are
    averaged, as vectors, per region of the frame: a surface that changes its look moves its
    tracks' descriptors the same way and survives the average, while the scatter of
    individual tracks (a point slipping onto a neighbouring surface) cancels. A region's
    change is ``|mean dLab| + |mean dcontrast|``; regions are weighted by their track count.
    """
    col = np.minimum((points[:, 0] * REGIONS / width).astype(int), REGIONS - 1)
    row = np.minimum((points[:, 1] * REGIONS / height).astype(int), REGIONS - 1)
    region = np.clip(row, 0, REGIONS - 1) * REGIONS + np.clip(col, 0, REGIONS - 1)
    counts = np.bincount(region, minlength=REGIONS * REGIONS).astype(np.float64)
    sums = np.stack(
        [np.bincount(region, weights=diff[:, c], minlength=REGIONS * REGIONS) for c in range(4)],
        axis=-1,
    )
    means = sums / np.maximum(counts, 1.0)[:, None]  # (R*R, 4)
    change = np.linalg.norm(means[:, :3], axis=-1) + np.abs(means[:, 3])
    return float((change * counts).sum() / counts.sum())


def identity_drift(clip: AnalysisClip) -> np.ndarray:
    """Appearance change of tracked patches since their first appearance, ``(T - 1,)``.

    Patches seeded on a grid are carried along the flow (:func:`~.tracks.track`). A patch is
    described by its mean colour (CIE Lab, 8-bit levels) and its texture contrast (standard
    deviation of L) over a 3x3 lattice of points (:func:`patch_statistics`): statistics that
    a sub-pixel tracking error barely moves. For each track alive for at least one frame, the
    change of its descriptor on frame ``t + 1`` since the frame where it started is taken;
    the median change over all tracks (a global exposure or white-balance change) is removed,
    and entry ``t`` is the :func:`regional_drift` of these changes, in 8-bit Lab levels.
    Because the reference is the *first* appearance, a slow drift that no frame-to-frame
    metric notices accumulates here; 0 means every surface keeps its look.
    """
    tracks = track(clip)
    radius = PATCH_RADIUS * clip.diagonal / 100.0
    # Colours are read from a copy downscaled by ~radius / 2 (area averaging = the smoothing
    # over the lattice spacing), which is much cheaper than blurring the full frame.
    factor = max(1.0, radius / 2.0)
    height, width = clip.rgb.shape[1:3]
    small = (max(1, round(width / factor)), max(1, round(height / factor)))
    scale = np.array([small[0] / width, small[1] / height], np.float32)
    offsets = patch_offsets(radius) * scale  # (9, 2) in downscaled pixels
    reference = np.zeros((tracks.positions.shape[1], 4), np.float32)
    age = tracks.age
    out = np.zeros(clip.num_transitions)
    for t in range(clip.num_frames):
        rgb = cv2.resize(clip.rgb[t], small, interpolation=cv2.INTER_AREA)
        lab = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
        lab *= LAB_TO_8BIT  # OpenCV's float Lab (L 0..100, a/b ~ -127..127) to 8-bit levels
        points = (tracks.positions[t] + 0.5) * scale - 0.5  # (N, 2) in downscaled pixels
        descriptor = patch_statistics(lab, points, offsets)  # (N, 4)
        reborn = tracks.born[t]
        reference[reborn] = descriptor[reborn]
        if t == 0:
            continue
        old = age[t] > 0
        if old.any():
            diff = descriptor[old] - reference[old]  # (n, 4)
            # A change shared by most tracks (camera exposure, white balance, focus) is not a
            # change of identity: remove the median change over tracks.
            diff -= np.median(diff, axis=0)
            out[t - 1] = regional_drift(diff, tracks.positions[t][old], height, width)
    return out
