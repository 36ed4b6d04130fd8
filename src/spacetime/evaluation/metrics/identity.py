"""``identity_drift``: how far content that stays tracked has moved away from its first look."""

from __future__ import annotations

import cv2
import numpy as np

from spacetime.evaluation.metrics.context import AnalysisClip
from spacetime.evaluation.metrics.tracks import sample, seed_points

REGIONS = 4
"""Track changes are averaged over a REGIONS x REGIONS grid of frame regions."""

LAB_TO_8BIT = np.array([255.0 / 100.0, 1.0, 1.0], np.float32)

ABRUPT_MADS = 3.0
"""A one-frame descriptor change more than ABRUPT_MADS robust standard deviations (1.4826 MAD)
above the frame's median change ends a track (:func:`abrupt`) ..."""

ABRUPT_MIN = 10.0
"""... if it is also above ABRUPT_MIN Lab levels: two different surfaces differ by tens of
levels, while a look that drifts by 10 levels within one frame is no longer a slow drift (a
clip with almost no noise must not end tracks on small changes)."""

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


def abrupt(steps: np.ndarray) -> np.ndarray:
    """``(N,)`` bool: the tracks whose one-frame descriptor change ``steps`` ``(N, 4)`` is an
    outlier among this frame's (Hampel's rule, :data:`ABRUPT_MADS` robust deviations above
    the median size of a change, at least :data:`ABRUPT_MIN` levels). Drift is gradual; a
    surface that changes its look at once has been covered, uncovered or slipped off."""
    steps = steps - np.median(steps, axis=0)  # a change every track shares is not abrupt
    size = np.linalg.norm(steps[:, :3], axis=-1) + np.abs(steps[:, 3])
    median = float(np.median(size))
    spread = 1.4826 * float(np.median(np.abs(size - median)))
    return size > max(median + ABRUPT_MADS * spread, ABRUPT_MIN)


class _Descriptors:
    """Patch descriptors (:func:`patch_statistics`) of the frames of ``clip`` at given points.

    Colours are read from a copy downscaled by ~radius / 2 (area averaging = the smoothing
    over the lattice spacing), much cheaper than blurring the full frame; the Lab copy of
    the last frame asked for is kept, as each frame is described twice (tracks that go on,
    tracks that start again)."""

    def __init__(self, clip: AnalysisClip) -> None:
        self.clip = clip
        radius = PATCH_RADIUS * clip.diagonal / 100.0
        factor = max(1.0, radius / 2.0)
        height, width = clip.rgb.shape[1:3]
        self.small = (max(1, round(width / factor)), max(1, round(height / factor)))
        self.scale = np.array([self.small[0] / width, self.small[1] / height], np.float32)
        self.offsets = patch_offsets(radius) * self.scale  # (9, 2) in downscaled pixels
        self._frame, self._lab = -1, np.zeros(0, np.float32)

    def __call__(self, t: int, points: np.ndarray) -> np.ndarray:
        if t != self._frame:
            rgb = cv2.resize(self.clip.rgb[t], self.small, interpolation=cv2.INTER_AREA)
            lab = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
            self._frame, self._lab = t, lab * LAB_TO_8BIT  # OpenCV's float Lab to 8-bit levels
        scaled = (points + 0.5) * self.scale - 0.5  # (N, 2) in downscaled pixels
        return patch_statistics(self._lab, scaled, self.offsets)  # (N, 4)


def identity_drift(clip: AnalysisClip) -> np.ndarray:
    """Appearance change of content since it was first tracked, ``(T - 1,)`` in 8-bit Lab
    levels.

    Patches seeded on a grid are carried along the forward flow. A patch is described by
    its mean colour (CIE Lab, 8-bit levels) and its texture contrast (standard deviation of
    L) over a 3x3 lattice of points (:func:`patch_statistics`): statistics that a sub-pixel
    tracking error barely moves. Drift is measured only on content that *stays tracked*: a
    track ends, and its slot starts a new one at its seed on the next frame, when its point
    leaves the frame, fails the forward-backward test (it is being covered or uncovered) or
    its descriptor changes abruptly in one frame (:func:`abrupt`: it slipped onto another
    surface, or something passed over it). Content that enters, leaves or is revealed thus
    starts a new track instead of counting as a change. For every track alive for at least
    one frame, the change of its descriptor since its first frame is taken; the median
    change over all tracks (a global exposure or white-balance change) is removed, and
    entry ``t`` is the :func:`regional_drift` of these changes on frame ``t + 1``. Because
    the reference is the first appearance, a slow drift that no frame-to-frame metric
    notices accumulates here; 0 means every tracked surface keeps its look. Natural effects
    it does not ignore: a surface that really changes its look slowly (walking into shade,
    a slow dimming of part of the scene).
    """
    describe = _Descriptors(clip)
    height, width = clip.gray.shape[1:]
    seeds = seed_points(height, width)
    positions = seeds.copy()
    reference = describe(0, positions)
    previous = reference.copy()
    age = np.zeros(len(seeds), np.int64)
    out = np.zeros(clip.num_transitions)
    for t in range(clip.num_transitions):
        pair = clip.flow[t]
        moved = positions + sample(pair.forward, positions)  # (N, 2) on frame t + 1
        inside = (
            (moved[:, 0] >= 0)
            & (moved[:, 0] <= width - 1)
            & (moved[:, 1] >= 0)
            & (moved[:, 1] <= height - 1)
        )
        rows = np.clip(np.round(positions[:, 1]).astype(int), 0, height - 1)
        cols = np.clip(np.round(positions[:, 0]).astype(int), 0, width - 1)
        moved = np.where(inside[:, None], moved, seeds)
        descriptor = describe(t + 1, moved)
        kept = inside & pair.valid[rows, cols] & ~abrupt(descriptor - previous)
        age = np.where(kept, age + 1, 0)
        old = age > 0
        if old.any():
            diff = descriptor[old] - reference[old]  # (n, 4)
            # A change shared by most tracks (camera exposure, white balance, focus) is not a
            # change of identity: remove the median change over tracks.
            diff -= np.median(diff, axis=0)
            out[t] = regional_drift(diff, moved[old], height, width)
        # Ended tracks start again at their seeds, described there.
        positions = np.where(kept[:, None], moved, seeds)
        fresh = ~kept
        if fresh.any():
            descriptor[fresh] = describe(t + 1, positions[fresh])
            reference[fresh] = descriptor[fresh]
        previous = descriptor
    return out
