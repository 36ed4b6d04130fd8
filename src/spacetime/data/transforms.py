"""Pixel-level transforms between files and the library's tensor layout (DESIGN.md contracts).

These bring frames of any size to the size a model was trained at (resize the shorter side,
then center-crop, as torchvision's ``Resize`` + ``CenterCrop`` do, so the aspect is never
distorted). The conversion between ``uint8`` pixels and the library's ``[-1, 1]`` floats is
on the ground floor, :mod:`spacetime.contracts.pixels`.
"""

from __future__ import annotations

import numpy as np

from spacetime.errors import SpacetimeError
from spacetime.video.frames import parse_size, resize_frame

Size = int | tuple[int, int]


def as_hw(size: Size, *, name: str = "size") -> tuple[int, int]:
    """``size`` as ``(height, width)`` pixels; an int means a square. Raises on non-positive."""
    try:
        hw = parse_size(size)
    except SpacetimeError as err:
        raise SpacetimeError(f"{name}: {err}") from None
    if hw is None:
        raise SpacetimeError(f"{name} must be an int or (height, width); got None")
    return hw


def resize_center_crop(frames: np.ndarray, size: Size) -> np.ndarray:
    """Resize ``frames`` uint8 (T, H, W, 3) so they cover ``size``, then center-crop to it.

    The scale is ``max(h / H, w / W)``, so the crop loses as little as possible and the aspect
    ratio is kept; the resampling is :func:`spacetime.video.frames.resize_frame` (area when
    shrinking, bilinear when enlarging). Returns uint8 (T, h, w, 3).
    """
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise SpacetimeError(f"expected frames (T, H, W, 3); got shape {frames.shape}")
    height, width = as_hw(size)
    _, src_h, src_w, _ = frames.shape
    if (src_h, src_w) == (height, width):
        return np.ascontiguousarray(frames)
    scale = max(height / src_h, width / src_w)
    cover = (max(height, round(src_h * scale)), max(width, round(src_w * scale)))
    top, left = (cover[0] - height) // 2, (cover[1] - width) // 2
    out = np.empty((frames.shape[0], height, width, 3), dtype=np.uint8)
    for i, frame in enumerate(frames):
        out[i] = resize_frame(frame, cover)[top : top + height, left : left + width]
    return out
