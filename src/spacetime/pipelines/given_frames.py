"""Given frames: the images a clip must contain exactly (image->video, interpolation,
extension), as :class:`~spacetime.pipelines.VideoPipeline` takes them, merged and laid out.

A clip's given frames are ``{frame index: uint8 (H, W, 3)}`` with negative indices counted from
the end; ``image`` is shorthand for frame 0. Either may be one mapping shared by every prompt
or a list with one per prompt.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from spacetime.contracts.pixels import to_model_range
from spacetime.data.transforms import resize_center_crop
from spacetime.errors import SpacetimeError

__all__ = ["GivenFrames", "beyond_window", "given_pixels", "merge_given"]

GivenFrames = Mapping[int, np.ndarray]
"""Given frames of one clip: ``{frame index (negative from the end): uint8 (H, W, 3)}``."""


def given_pixels(
    given: GivenFrames, frames: int, size: tuple[int, int]
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(mask (T,), pixels (3, T, H, W))`` of a ``frames``-frame clip at ``size``: each given
    frame resized to cover ``size`` and center-cropped, as training data is, in [-1, 1]; the
    other frames are zero and False in the mask."""
    mask = torch.zeros(frames, dtype=torch.bool)
    pixels = torch.zeros(3, frames, *size)
    for index, frame in given.items():
        if not -frames <= index < frames:
            raise SpacetimeError(f"given frame index {index} is outside a {frames}-frame clip")
        frame = np.asarray(frame)
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[-1] != 3:
            raise SpacetimeError(
                f"given frame {index} must be uint8 (H, W, 3) RGB; got {frame.dtype} {frame.shape}"
            )
        mask[index] = True
        pixels[:, index] = to_model_range(resize_center_crop(frame[None], size))[:, 0]
    return mask, pixels


def beyond_window(frames: int, trained: int) -> str:
    """What happens when a clip of ``frames`` is asked of a model trained on ``trained``-frame
    clips: one longer window, which the model never saw. The one place this is said, so that
    the long-video path is offered wherever it applies."""
    return (
        f"{frames} frames is more than the {trained} this model was trained on: they are "
        f"sampled as one {frames}-frame window, which it never saw, so motion and identity "
        f"may fall apart; for a longer video, make it {trained} frames at a time with "
        "`spacetime generate --long extend|guided|noisy|sliding|keyframes` "
        "(spacetime.pipelines.generate_long)"
    )


def _one_per_prompt(value: Any, count: int, name: str) -> list[Any]:
    """``value`` repeated ``count`` times, or a list/tuple checked to hold ``count`` items."""
    if isinstance(value, list | tuple):
        if len(value) != count:
            raise SpacetimeError(
                f"{name} has {len(value)} entries for {count} prompts; give one per prompt "
                "(None where a prompt has none) or a single one shared by all"
            )
        return list(value)
    return [value] * count


def merge_given(
    image: Any, given_frames: Any, count: int
) -> dict[int, np.ndarray] | list[dict[int, np.ndarray]]:
    """Merge ``image`` into ``given_frames`` (as frame 0): one shared mapping, or one per sample
    when either argument is a list (see :meth:`~spacetime.pipelines.VideoPipeline.__call__`)."""
    if not isinstance(image, list | tuple) and not isinstance(given_frames, list | tuple):
        shared = dict(given_frames or {})
        if image is not None:
            shared[0] = image
        return shared
    rows = []
    for frames, first in zip(
        _one_per_prompt(given_frames, count, "given_frames"),
        _one_per_prompt(image, count, "image"),
        strict=True,
    ):
        row = dict(frames or {})
        if first is not None:
            row[0] = first
        rows.append(row)
    return rows
