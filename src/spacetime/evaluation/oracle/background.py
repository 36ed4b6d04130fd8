"""The static background: how stable it is over time, and which ShapesWorld pattern it is.

Background samples are the pixels of each frame away from objects (:func:`.segment.object_mask`)
and from the pillar. Each pixel's reference is its temporal median over the frames where it is
background, so a background that holds still scores 1 whatever its pattern.
"""

from __future__ import annotations

import numpy as np

from spacetime.data.shapes.palette import PATTERN_GRAYS
from spacetime.evaluation.oracle.segment import object_mask
from spacetime.evaluation.oracle.thresholds import Thresholds

PATTERN_CONTRAST = float(PATTERN_GRAYS[1] - PATTERN_GRAYS[0])  # 22 gray levels
PLAIN_STD = 0.25 * PATTERN_CONTRAST  # a pattern's gray levels spread far more than this
DIAGONAL_SPLIT = 0.25  # |gx gy| / (gx^2 + gy^2): 1/2 on 45-degree stripes, 0 on a checker


def masked_median(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Median over axis 0 of ``values`` (T, ...) where ``valid`` (T, ...); NaN where none is."""
    ordered = np.sort(np.where(valid, values, np.inf), axis=0)  # valid values first
    n = valid.sum(axis=0)
    lo = np.take_along_axis(ordered, np.maximum((n - 1) // 2, 0)[None], axis=0)[0]
    hi = np.take_along_axis(ordered, np.minimum(n // 2, len(values) - 1)[None], axis=0)[0]
    return np.where(n > 0, 0.5 * (lo + hi), np.nan)


def background_stability(
    frames: np.ndarray,
    pillar: tuple[int, int, int, int] | None,
    limits: Thresholds,
    labelled: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[float, np.ndarray]:
    """Share of background samples within ``background_tol`` gray levels (any channel) of their
    pixel's temporal median, and that median background ``(H, W, 3)`` (NaN where never seen).

    ``labelled`` is :func:`.segment.palette_labels` of ``frames`` when the caller has it.
    """
    mask = object_mask(frames, limits, labelled)  # (T, H, W) True on objects
    if pillar is not None:
        x0, y0, x1, y1 = pillar
        mask[:, max(y0 - 1, 0) : y1 + 1, max(x0 - 1, 0) : x1 + 1] = True
    values = frames.astype(np.float32)  # (T, H, W, 3)
    median = masked_median(values, np.broadcast_to(~mask[..., None], values.shape))  # (H, W, 3)
    dev = np.abs(values - median[None]).max(axis=-1)  # (T, H, W)
    samples = dev[~mask]
    stability = float(np.mean(samples <= limits.background_tol)) if samples.size else 1.0
    return stability, median


def classify_background(median: np.ndarray) -> str | None:
    """ "plain", "stripes" or "checkered" from a median background ``(H, W, 3)`` (NaN allowed),
    or None when less than a fifth of it was ever seen.

    Plain when the gray levels spread less than ``PLAIN_STD``; otherwise the pattern's edges
    decide: the 45-degree stripes vary along x + y, so ``|gx gy| / (gx^2 + gy^2)`` is 1/2 on
    them, while a checker's edges are vertical or horizontal (0).
    """
    gray = median.mean(axis=-1)  # (H, W)
    seen = np.isfinite(gray)
    if seen.mean() < 0.2:
        return None
    if gray[seen].std() < PLAIN_STD:
        return "plain"
    gy, gx = np.gradient(gray)  # NaN next to unseen pixels
    energy = gx * gx + gy * gy
    edges = np.isfinite(energy) & (energy > PLAIN_STD**2)
    if not edges.any():
        return "plain"
    ratio = float(np.abs(gx * gy)[edges].sum() / energy[edges].sum())
    return "stripes" if ratio > DIAGONAL_SPLIT else "checkered"
