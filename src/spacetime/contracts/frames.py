"""The API-edge video, ``uint8 (T, H, W, 3)`` RGB (DESIGN.md), and its one validator.

Readers return it, writers accept only it, and the metrics, the oracle and the corruptions
measure it; each of them calls :func:`check_frames` with its own name and minimum size, so a
float or channels-first array is a :class:`~spacetime.errors.VideoError` naming the input
rather than a silently wrong file or score. Numpy only: the evaluation half never loads torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spacetime.errors import VideoError

__all__ = ["check_frames"]


def check_frames(
    frames: Any,
    *,
    what: str = "frames",
    min_frames: int = 1,
    min_side: int = 1,
    needs: str | None = None,
) -> np.ndarray:
    """Return ``frames`` as a ``uint8`` ndarray ``(T, H, W, 3)`` (the array itself when it is
    one: no copy) with ``T >= min_frames`` and ``H, W >= min_side``.

    Raises :class:`~spacetime.errors.VideoError` (a ``SpacetimeError``) naming ``what`` for any
    other dtype or shape: nothing is cast, because a float array in ``[0, 1]`` or ``[-1, 1]``
    written as bytes is a black video. ``needs`` names what requires ``min_frames`` /
    ``min_side`` in those two messages (e.g. ``"temporal metrics"``).
    """
    array = np.asarray(frames)
    if array.dtype != np.uint8:
        got = f"dtype {array.dtype}"
        if not isinstance(frames, np.ndarray):
            got = f"{type(frames).__name__} (not a numpy array) of {got}"
        raise VideoError(
            f"{what} must be uint8 (T, H, W, 3) RGB, got {got}; convert [-1, 1] floats with "
            "((x + 1) * 127.5).round().clip(0, 255).astype(np.uint8)"
        )
    if array.ndim != 4 or array.shape[-1] != 3:
        raise VideoError(f"{what} must have shape (T, H, W, 3), got {tuple(array.shape)}")
    if min(array.shape[:3]) < 1:
        raise VideoError(f"{what} must have T, H, W >= 1, got shape {tuple(array.shape)}")
    t, h, w = array.shape[:3]
    if t < min_frames:
        subject = f"{needs} need" if needs else f"{what} must have"
        raise VideoError(f"{subject} at least {min_frames} frames, got {t} (shape {array.shape})")
    if min(h, w) < min_side:
        raise VideoError(
            f"{what} must be at least {min_side}x{min_side} pixels"
            f"{f' for {needs}' if needs else ''}, got {h}x{w}"
        )
    return array
