"""Which clips every micro-batch of a run holds: a pure function of ``(seed, step, shard)``.

A step trains on ``batch_size`` clips split into ``shards = batch_size / micro_batch_size``
micro-batches. Process ``rank`` of ``world`` runs shards ``rank * accum ... rank * accum +
accum - 1`` (``accum = shards / world`` gradient-accumulation rounds). The clips are read in
epochs: a permutation of the dataset per epoch, seeded by ``(seed, "epoch", epoch)``; the clip
at global position ``p`` gets its augmentation seed from ``(seed, "item", p)``. So the data
position of a resumed run is just its step, and one process sees exactly the clips that
several processes would see together.

Joint image–video training (Ho et al. 2022, "Video Diffusion Models", Sec. 3.3): a step is an
image step with probability ``image_ratio`` (drawn from ``(seed, "kind", step)``, the same on
every process); its micro-batches are still images as ``T = 1`` clips, taken from an image
dataset or as one random frame of each clip.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from spacetime.data.clip_dataset import ClipDataset, collate_clips
from spacetime.errors import SpacetimeError
from spacetime.training.seeding import derive_seed, stream

__all__ = [
    "BatchPlan",
    "MicroBatch",
    "StepShards",
    "drop_captions",
    "is_image_step",
    "make_loader",
]


@dataclass(frozen=True)
class BatchPlan:
    """How a run's global batch is cut into shards and spread over processes.

    Args:
        batch_size: clips per optimizer step over all processes (global batch).
        micro_batch_size: clips per forward pass; 0 means ``batch_size / world``.
        world: number of processes.
        rank: this process, ``0 <= rank < world``.
    """

    batch_size: int
    micro_batch_size: int
    world: int = 1
    rank: int = 0

    def __post_init__(self) -> None:
        micro = self.micro
        if micro < 1 or self.batch_size % micro:
            raise SpacetimeError(
                f"batch_size={self.batch_size} must be a multiple of micro_batch_size={micro}"
            )
        if self.shards % self.world:
            raise SpacetimeError(
                f"batch_size={self.batch_size} / micro_batch_size={micro} = {self.shards} "
                f"micro-batches per step cannot be split evenly over {self.world} processes"
            )

    @property
    def micro(self) -> int:
        """Clips per micro-batch."""
        if self.micro_batch_size:
            return self.micro_batch_size
        if self.batch_size % self.world:
            raise SpacetimeError(
                f"batch_size={self.batch_size} is not divisible by {self.world} processes"
            )
        return self.batch_size // self.world

    @property
    def shards(self) -> int:
        """Micro-batches per optimizer step over all processes."""
        return self.batch_size // self.micro

    @property
    def accum(self) -> int:
        """Gradient-accumulation rounds per step on each process."""
        return self.shards // self.world

    def local_shards(self) -> range:
        """Shard indices this process runs each step."""
        return range(self.rank * self.accum, (self.rank + 1) * self.accum)


@dataclass
class MicroBatch:
    """One forward pass worth of clips: ``video`` (m, C, T, H, W) in [-1, 1], m captions."""

    video: torch.Tensor
    caption: list[str]
    step: int
    shard: int
    image: bool  # True on image steps (T = 1, temporal layers bypassed)


def is_image_step(seed: int, step: int, image_ratio: float) -> bool:
    """Whether ``step`` trains on still images (same answer on every process)."""
    if image_ratio <= 0.0:
        return False
    draw = torch.rand((), generator=stream(seed, "kind", step))
    return bool(draw < image_ratio)


class StepShards(Dataset):
    """Map-style dataset whose item ``i`` is this process's ``i``-th micro-batch from ``start``.

    Args:
        videos: the clip dataset.
        images: still images for image steps; None takes one random frame of each clip.
        plan: the batch split.
        seed: run seed.
        start: first step (the resumed step).
        steps: last step (exclusive).
        image_ratio: probability of an image step.
    """

    def __init__(
        self,
        videos: ClipDataset,
        images: ClipDataset | None,
        plan: BatchPlan,
        *,
        seed: int,
        start: int,
        steps: int,
        image_ratio: float = 0.0,
    ) -> None:
        if len(videos) == 0:
            raise SpacetimeError("the training dataset is empty")
        self.videos, self.images, self.plan = videos, images, plan
        self.seed, self.start, self.steps, self.image_ratio = seed, start, steps, image_ratio
        self._perms: dict[tuple[int, int], torch.Tensor] = {}

    def __len__(self) -> int:
        return max(0, self.steps - self.start) * self.plan.accum

    def _index(self, dataset: ClipDataset, kind: int, position: int) -> int:
        """Dataset index at global ``position`` of the epoch-permuted stream ``kind``."""
        n = len(dataset)
        epoch, offset = divmod(position, n)
        key = (kind, epoch)
        if key not in self._perms:
            if len(self._perms) > 4:
                self._perms.clear()
            self._perms[key] = torch.randperm(n, generator=stream(self.seed, "epoch", kind, epoch))
        return int(self._perms[key][offset])

    def __getitem__(self, i: int) -> MicroBatch:
        step = self.start + i // self.plan.accum
        shard = self.plan.local_shards()[i % self.plan.accum]
        image = is_image_step(self.seed, step, self.image_ratio)
        first = step * self.plan.batch_size + shard * self.plan.micro
        items: list[dict[str, Any]] = []
        for position in range(first, first + self.plan.micro):
            item_seed = derive_seed(self.seed, "item", position)
            if image and self.images is not None:
                index = self._index(self.images, 1, position)
                items.append(dict(self.images.item(index, item_seed)))
                continue
            clip = dict(self.videos.item(self._index(self.videos, 0, position), item_seed))
            if image:  # one random frame of the clip, as a T = 1 clip
                frames = clip["video"].shape[1]
                pick = int(torch.randint(frames, (), generator=stream(item_seed, "frame")))
                clip["video"] = clip["video"][:, pick : pick + 1]
            items.append(clip)
        batch = collate_clips(items)
        return MicroBatch(batch["video"], batch["caption"], step, shard, image)


def drop_captions(captions: list[str], p: float, generator: torch.Generator) -> list[str]:
    """Replace each caption by ``""`` with probability ``p`` (one draw per caption).

    Trains the unconditional branch used by classifier-free guidance (Ho & Salimans 2022).
    """
    draws = torch.rand(len(captions), generator=generator)
    return ["" if float(d) < p else c for d, c in zip(draws, captions, strict=True)]


def _identity(batch: MicroBatch) -> MicroBatch:
    return batch


def make_loader(shards: StepShards, num_workers: int = 0) -> DataLoader:
    """A ``DataLoader`` over :class:`StepShards` in order (workers prefetch micro-batches)."""
    return DataLoader(
        shards,
        batch_size=None,
        shuffle=False,
        num_workers=num_workers,
        collate_fn=_identity,
        persistent_workers=False,
    )
