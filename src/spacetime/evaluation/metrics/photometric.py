"""Photometric metrics: ``flicker`` and ``warp_error`` (8-bit intensity levels).

Both compare frame ``t`` with frame ``t + 1`` warped back along the forward flow,
``r_t = I_t - I_{t+1}(x + F_t(x))``, on the pixels that pass the forward–backward occlusion
test, so camera and object motion do not count, only the change that motion cannot explain.
"""

from __future__ import annotations

import cv2
import numpy as np

from spacetime.evaluation.metrics.context import AnalysisClip

FLICKER_BLOCKS = 8
"""Flicker is measured on a FLICKER_BLOCKS x FLICKER_BLOCKS grid of blocks (any resolution)."""


def compensated_next(clip: AnalysisClip, t: int) -> np.ndarray:
    """``(h, w, 2)`` float32: frame ``t + 1``'s gray levels and edge map warped back onto frame
    ``t`` along the forward flow (computed in the flow pass, see ``FlowPair.compensated``)."""
    return clip.flow[t].compensated


def warp_residual(clip: AnalysisClip, t: int) -> tuple[np.ndarray, np.ndarray]:
    """``(r, valid)``: the ``(h, w)`` float32 residual ``I_t - warp(I_{t+1}, F_t)`` in levels
    and its ``(h, w)`` bool occlusion mask (flicker, warp_error and teleport share it)."""
    cache: dict[int, np.ndarray] = clip.__dict__.setdefault("_residuals", {})
    if t not in cache:
        cache[t] = clip.gray[t] - compensated_next(clip, t)[..., 0]
    return cache[t], clip.flow[t].valid


def block_means(values: np.ndarray, weights: np.ndarray, blocks: int) -> tuple[np.ndarray, ...]:
    """Weighted means of ``values`` over a ``blocks x blocks`` grid: ``(means, weight_sums)``,
    both ``(blocks, blocks)``; weight sums are fractions of the block area."""
    size = (blocks, blocks)
    num = cv2.resize(values * weights, size, interpolation=cv2.INTER_AREA)
    den = cv2.resize(weights, size, interpolation=cv2.INTER_AREA)
    return num / np.maximum(den, 1e-6), den


def flicker(clip: AnalysisClip) -> np.ndarray:
    """Flow-compensated brightness change per transition, ``(T - 1,)`` in 8-bit levels.

    The signed residual ``r_t`` is averaged inside each block of an 8x8 grid (visible pixels
    only): motion-compensation errors at edges have both signs and cancel, a brightness
    change (global gain, a region that pulses) does not. The value is the mean absolute block
    mean, weighted by the visible area of each block: a uniform brightness step of ``k``
    levels gives ``k``; a moving but steadily lit scene gives ~0.
    """
    out = np.zeros(clip.num_transitions)
    for t in range(clip.num_transitions):
        residual, valid = warp_residual(clip, t)
        means, weight = block_means(residual, valid.astype(np.float32), FLICKER_BLOCKS)
        out[t] = float((np.abs(means) * weight).sum() / max(weight.sum(), 1e-6))
    return out


def warp_error(clip: AnalysisClip) -> np.ndarray:
    """Mean absolute warping error per transition, ``(T - 1,)`` in 8-bit levels.

    The L1 form of the warping error of Lai et al. ("Learning Blind Video Temporal
    Consistency", ECCV 2018, Eq. 7) on luma: ``mean_{x visible} |r_t(x)|``. Any temporally
    incoherent change (flicker, noise, texture that boils, shimmer) raises it.
    """
    out = np.zeros(clip.num_transitions)
    for t in range(clip.num_transitions):
        residual, valid = warp_residual(clip, t)
        out[t] = float(np.abs(residual[valid]).mean()) if valid.any() else 0.0
    return out
