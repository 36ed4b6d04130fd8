"""``ShapesDataset``: ShapesWorld clips rendered on the fly, deterministic per index.

ShapesWorld (:mod:`spacetime.data.shapes`) draws a scene from a seed and renders it with its
caption, so the dataset stores nothing: item ``i`` of a dataset with base ``seed`` is the scene
of ``mix_seed(seed, i)``, whatever the order or worker it is read in. Datasets with different
base seeds are independent, so ``ShapesDataset(seed=0)`` and ``ShapesDataset(seed=1)`` make a
train/validation split.
"""

from __future__ import annotations

import torch

from spacetime.contracts.pixels import to_model_range
from spacetime.data import shapes
from spacetime.data.augment import TemporalAugment
from spacetime.data.clip_dataset import Clip, ClipDataset, mix_seed
from spacetime.data.shapes.scene import check_resolution
from spacetime.errors import SpacetimeError


class ShapesDataset(ClipDataset):
    """``length`` ShapesWorld clips ``{"video": float32 (3, frames, size, size), "caption"}``.

    Args:
        size: frame side in pixels (ShapesWorld renders 32 to 256).
        frames: clip length T.
        length: number of distinct scenes (the dataset's ``len``).
        seed: base seed; scene ``i`` is ``shapes.generate(mix_seed(seed, i), ...)``.
        fps: frame rate the scenes are simulated at (frames/second); sets the motion per frame.
        flip: probability of a horizontal flip, drawn from the item seed; the caption's
            left/right (and clockwise) words are mirrored with it.
    """

    def __init__(
        self,
        size: int = 64,
        frames: int = 16,
        length: int = 10_000,
        seed: int = 0,
        *,
        fps: float = 8.0,
        flip: float = 0.0,
    ) -> None:
        check_resolution(size, frames, fps)
        if length < 1 or seed < 0:
            raise SpacetimeError(
                f"ShapesDataset needs length >= 1 and seed >= 0; got length={length}, seed={seed}"
            )
        self.size = size
        self.frames = frames
        self.length = length
        self.seed = seed
        self.fps = fps
        self.augment = TemporalAugment(flip=flip)

    def __len__(self) -> int:
        return self.length

    def scene_seed(self, index: int) -> int:
        """The ShapesWorld seed of item ``index``."""
        return mix_seed(self.seed, index)

    def _item(self, index: int, generator: torch.Generator) -> Clip:
        clip = shapes.generate(
            self.scene_seed(index), size=self.size, frames=self.frames, fps=self.fps
        )
        video = to_model_range(clip.video)  # (3, T, size, size)
        video, caption = self.augment.maybe_flip(video, clip.caption, generator)
        return Clip(video=video, caption=caption)
