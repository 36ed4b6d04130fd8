"""Pixel-level transforms between files and the library's tensor layout (DESIGN.md contracts).

On disk and at the API edge a clip is ``uint8 (T, H, W, 3)``; inside the library it is
``float32 (C, T, H, W)`` in ``[-1, 1]``. These helpers convert between the two and bring
frames of any size to the size a model was trained at (resize the shorter side, then
center-crop, as torchvision's ``Resize`` + ``CenterCrop`` do, so the aspect is never distorted).
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from spacetime.errors import SpacetimeError

Size = int | tuple[int, int]


def as_hw(size: Size, *, name: str = "size") -> tuple[int, int]:
    """``size`` as ``(height, width)`` pixels; an int means a square. Raises on non-positive."""
    if isinstance(size, int | np.integer):
        height = width = int(size)
    elif isinstance(size, tuple | list) and len(size) == 2:
        height, width = int(size[0]), int(size[1])
    else:
        raise SpacetimeError(f"{name} must be an int or (height, width); got {size!r}")
    if height < 1 or width < 1:
        raise SpacetimeError(f"{name} must be positive; got {size!r}")
    return height, width


def resize_center_crop(frames: np.ndarray, size: Size) -> np.ndarray:
    """Resize ``frames`` uint8 (T, H, W, 3) so they cover ``size``, then center-crop to it.

    The scale is ``max(h / H, w / W)`` so the crop loses as little as possible; downscaling uses
    area interpolation (no aliasing), upscaling bicubic. Returns uint8 (T, h, w, 3).
    """
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise SpacetimeError(f"expected frames (T, H, W, 3); got shape {frames.shape}")
    height, width = as_hw(size)
    _, src_h, src_w, _ = frames.shape
    if (src_h, src_w) == (height, width):
        return np.ascontiguousarray(frames)
    scale = max(height / src_h, width / src_w)
    new_h = max(height, round(src_h * scale))
    new_w = max(width, round(src_w * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    top, left = (new_h - height) // 2, (new_w - width) // 2
    out = np.empty((frames.shape[0], height, width, 3), dtype=np.uint8)
    for i, frame in enumerate(frames):
        resized = cv2.resize(frame, (new_w, new_h), interpolation=interp)
        out[i] = resized[top : top + height, left : left + width]
    return out


def to_model_range(frames: np.ndarray) -> torch.Tensor:
    """uint8 (T, H, W, 3) in [0, 255] -> float32 (C=3, T, H, W) in [-1, 1]: ``x / 127.5 - 1``."""
    if frames.dtype != np.uint8 or frames.ndim != 4:
        raise SpacetimeError(
            f"expected uint8 frames (T, H, W, 3); got {frames.dtype} shape {frames.shape}"
        )
    video = torch.from_numpy(np.ascontiguousarray(frames)).permute(3, 0, 1, 2)  # (C, T, H, W)
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
