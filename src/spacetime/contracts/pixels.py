"""Pixels at the API edge (``uint8 (T, H, W, 3)`` in ``[0, 255]``) <-> videos inside the library
(float ``(C, T, H, W)`` / ``(B, C, T, H, W)`` in ``[-1, 1]``), the two layouts of DESIGN.md."""

from __future__ import annotations

import numpy as np
import torch

from spacetime.errors import SpacetimeError

__all__ = ["to_model_range", "to_uint8"]


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
