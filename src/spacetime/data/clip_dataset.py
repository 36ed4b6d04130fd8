"""The dataset contract every training source follows, and batching.

An item is ``{"video": float32 (C, T, H, W) in [-1, 1], "caption": str}`` (still images have
``T = 1``). Its randomness (clip start, stride, flip) comes only from an explicit seed:
``dataset.item(index, seed)`` is a pure function of its arguments, so a trainer reproduces or
resumes a run bit for bit by passing the same seeds. ``dataset[index]`` is ``item(index,
seed=index)``; ``dataset.seeded(epoch_seed)`` is a view whose ``[index]`` uses a seed mixed
from ``(epoch_seed, index)``, which a ``DataLoader`` can consume directly to get fresh
augmentations each epoch.
"""

from __future__ import annotations

import abc
from typing import Any, TypedDict

import numpy as np
import torch
from torch.utils.data import Dataset


class Clip(TypedDict):
    """One training item."""

    video: torch.Tensor  # float32 (C, T, H, W) in [-1, 1]
    caption: str


class Batch(TypedDict):
    """A collated batch: ``video`` (B, C, T, H, W) and one caption per row."""

    video: torch.Tensor
    caption: list[str]


def mix_seed(seed: int, index: int) -> int:
    """A 63-bit seed derived from ``(seed, index)`` with NumPy's SeedSequence hash.

    Distinct pairs give statistically independent streams, unlike ``seed + index`` (where run
    seed 1 at index 0 would repeat run seed 0 at index 1).
    """
    if seed < 0 or index < 0:
        raise ValueError(f"seed and index must be >= 0; got seed={seed}, index={index}")
    state = np.random.SeedSequence([seed, index]).generate_state(2, dtype=np.uint32)
    return (int(state[0]) << 31) ^ int(state[1])


def generator(seed: int) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded with ``seed``."""
    return torch.Generator().manual_seed(int(seed))


class ClipDataset(Dataset, abc.ABC):
    """Base class of spacetime's datasets (see the module docstring for the contract)."""

    @abc.abstractmethod
    def __len__(self) -> int: ...

    @abc.abstractmethod
    def _item(self, index: int, generator: torch.Generator) -> Clip:
        """The item at a valid ``index`` >= 0, with every random draw from ``generator``."""

    def item(self, index: int, seed: int) -> Clip:
        """Item ``index`` (negative counts from the end) with its randomness drawn from ``seed``."""
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"index {index} out of range for a dataset of {n} items")
        return self._item(index % n, generator(seed))

    def __getitem__(self, index: int) -> Clip:
        return self.item(index, seed=index % max(len(self), 1))

    def seeded(self, seed: int) -> SeededView:
        """A view whose item ``i`` is ``self.item(i, mix_seed(seed, i))``."""
        return SeededView(self, seed)


class SeededView(Dataset):
    """``dataset`` with per-item seeds mixed from a base ``seed`` (e.g. ``run_seed + epoch``)."""

    def __init__(self, dataset: ClipDataset, seed: int) -> None:
        self.dataset = dataset
        self.seed = int(seed)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> Clip:
        index = index % max(len(self), 1) if index < 0 else index
        return self.dataset.item(index, mix_seed(self.seed, index))


def collate_clips(items: list[Clip] | list[dict[str, Any]]) -> Batch:
    """Stack ``video`` into (B, C, T, H, W) and keep captions as a list of B strings.

    Captions differ in length, so they stay strings here; the text encoder pads them. Raises
    ``ValueError`` naming the shapes when the clips differ in size.
    """
    if not items:
        raise ValueError("cannot collate an empty batch")
    shapes = {tuple(it["video"].shape) for it in items}
    if len(shapes) != 1:
        raise ValueError(f"clips in a batch must share one shape (C, T, H, W); got {shapes}")
    return Batch(
        video=torch.stack([it["video"] for it in items]),
        caption=[str(it["caption"]) for it in items],
    )
