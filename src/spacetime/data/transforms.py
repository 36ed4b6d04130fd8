"""Pixel-level transforms between files and the library's tensor layout (DESIGN.md contracts).

On disk and at the API edge a clip is ``uint8 (T, H, W, 3)``; inside the library it is
``float32 (C, T, H, W)`` in ``[-1, 1]``. These helpers convert between the two and bring
frames of any size to the size a model was trained at (resize the shorter side, then
center-crop, as torchvision's ``Resize`` + ``CenterCrop`` do, so the aspect is never distorted).
"""

from __future__ import annotations

import numpy as np
import torch

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


def to_model_range(frames: np.ndarray) -> torch.Tensor:
    """uint8 (T, H, W, 3) in [0, 255] -> float32 (C=3, T, H, W) in [-1, 1]: ``x / 127.5 - 1``."""
    if frames.dtype != np.uint8 or frames.ndim != 4:
        raise SpacetimeError(
            f"expected uint8 frames (T, H, W, 3); got {frames.dtype} shape {frames.shape}"
        )
    pixels = torch.from_numpy(np.require(frames, requirements="CW"))  # (T, H, W, C), own copy
    video = pixels.permute(3, 0, 1, 2)  # (C, T, H, W)
    return video.float().div_(127.5).sub_(1.0)


def to_uint8(video: torch.Tensor) -> np.ndarray:
    """float (B, C, T, H, W) or (C, T, H, W) in [-1, 1] -> uint8 (B, T, H, W, C) / (T, H, W, C).

    Values outside [-1, 1] are clipped; rounding is to nearest, so ``to_uint8(to_model_range(x))``
    returns ``x`` exactly.
    """
    if video.ndim not in (4, 5):
        raise ValueError(f"expected (B, C, T, H, W) or (C, T, H, W); got {tuple(video.shape)}")
    pixels = ((video.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    order = (0, 2, 3, 4, 1) if video.ndim == 5 else (1, 2, 3, 0)
    return pixels.permute(*order).contiguous().numpy()
