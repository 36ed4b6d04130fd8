"""``background_swim``: motion left over once the dominant camera motion is removed."""

from __future__ import annotations

import cv2
import numpy as np

from spacetime.evaluation.metrics.context import AnalysisClip

SAMPLE_STRIDE = 8
"""Flow vectors are sampled every SAMPLE_STRIDE analysis pixels (both for the fit and the score)."""

BLOCKS = 8
"""The residual motion is averaged over a BLOCKS x BLOCKS grid of blocks."""

OUTLIER_MADS = 3.0
"""Blocks whose residual speed exceeds the median by more than OUTLIER_MADS robust standard
deviations (1.4826 MAD) are the moving subject, not background (Hampel's outlier rule)."""

RANSAC_THRESHOLD = 0.5
"""RANSAC inlier threshold of the homography fit, in percent of the image diagonal."""


def camera_residual(
    flow: np.ndarray, valid: np.ndarray, diagonal: float, texture: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Residual flow after removing a RANSAC homography, at the visible samples of a grid.

    Args:
        flow: ``(h, w, 2)`` forward flow (pixels); valid: ``(h, w)`` occlusion mask.
        diagonal: image diagonal in pixels (sets the RANSAC threshold).
        texture: optional ``(h, w)`` edge strength; if given, only samples at least as
            textured as the median sample are used (flow is only measurable on texture).

    Returns:
        ``(residual, points)``: ``(N, 2)`` float32 ``F(x) - (H(x) - x)`` in pixels and the
        ``(N, 2)`` sample positions ``x`` (a grid of stride :data:`SAMPLE_STRIDE`, visible
        samples only). The homography ``H`` (Hartley & Zisserman, 2004, ch. 4) is the camera
        model for a rotating camera or a planar scene, fitted with RANSAC (Fischler & Bolles,
        1981) so that the moving subject does not bend it. Empty when < 8 samples are visible.
    """
    s = SAMPLE_STRIDE
    ys, xs = np.mgrid[s // 2 : flow.shape[0] : s, s // 2 : flow.shape[1] : s]
    keep = valid[ys, xs]
    if texture is not None:
        sampled = texture[ys, xs]
        keep &= sampled >= np.median(sampled)
    src = np.stack([xs[keep], ys[keep]], axis=-1).astype(np.float32)  # (N, 2)
    if len(src) < 8:
        return np.zeros((0, 2), np.float32), src
    motion = flow[ys, xs][keep]  # (N, 2)
    dst = src + motion
    threshold = RANSAC_THRESHOLD * diagonal / 100.0
    homography, _ = cv2.findHomography(src, dst, cv2.RANSAC, threshold, maxIters=500)
    if homography is None:  # degenerate (e.g. collinear samples): fall back to a translation
        predicted = src + np.median(motion, axis=0)
    else:
        predicted = cv2.perspectiveTransform(src[None], homography)[0]
    return dst - predicted, src


def block_mean_vectors(
    vectors: np.ndarray, points: np.ndarray, height: int, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Mean of ``vectors`` ``(N, 2)`` inside each cell of a :data:`BLOCKS` x :data:`BLOCKS` grid:
    ``(means (B*B, 2), counts (B*B,))``, cells indexed row-major by ``points`` ``(N, 2)``."""
    col = np.minimum((points[:, 0] * BLOCKS / width).astype(int), BLOCKS - 1)
    row = np.minimum((points[:, 1] * BLOCKS / height).astype(int), BLOCKS - 1)
    cell = row * BLOCKS + col
    counts = np.bincount(cell, minlength=BLOCKS * BLOCKS).astype(np.float64)
    sums = np.stack(
        [np.bincount(cell, weights=vectors[:, i], minlength=BLOCKS * BLOCKS) for i in (0, 1)], -1
    )
    return sums / np.maximum(counts, 1)[:, None], counts


def background_swim(clip: AnalysisClip) -> np.ndarray:
    """Non-rigid background motion per transition, ``(T - 1,)`` in percent of the diagonal.

    The dominant camera motion (a homography) is fitted to the forward flow with RANSAC and
    the residual flow is averaged, as vectors, inside each block of an 8x8 grid: flow noise
    cancels there, while a swimming background -- a smooth warp that no camera makes --
    survives. The value is the mean residual speed of the background blocks (all but the
    outliers of :data:`OUTLIER_MADS`, which are the moving subject), weighted by their
    number of trusted samples: visible, and textured (at least the frame's median edge
    strength), since flow is only measurable on texture. A static, panning, zooming or
    rotating camera over a rigid scene gives ~0.
    """
    height, width = clip.gray.shape[1:]
    out = np.zeros(clip.num_transitions)
    for t in range(clip.num_transitions):
        pair = clip.flow[t]
        residual, points = camera_residual(
            pair.forward, pair.valid, clip.diagonal, texture=clip.edges[t]
        )
        if residual.size == 0:
            continue
        means, counts = block_mean_vectors(residual, points, height, width)
        speed = np.linalg.norm(means, axis=-1)
        seen = counts > 0
        median = np.median(speed[seen])
        spread = OUTLIER_MADS * 1.4826 * np.median(np.abs(speed[seen] - median))
        used = seen & (speed <= median + spread)  # the moving subject is an outlier
        swim = float((speed[used] * counts[used]).sum() / counts[used].sum())
        out[t] = float(clip.to_percent_diag(swim))
    return out
