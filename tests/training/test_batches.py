"""The batch plan: shards, process split, epochs, image steps — all from (seed, step, shard)."""

from __future__ import annotations

import pytest
import torch

from spacetime.data.clip_dataset import Clip, ClipDataset
from spacetime.errors import SpacetimeError
from spacetime.training.batches import (
    BatchPlan,
    StepShards,
    drop_captions,
    is_image_step,
    make_loader,
)


class Numbered(ClipDataset):
    """Clip ``i`` is constant ``i / 100`` plus a seeded jitter, so items identify themselves."""

    def __init__(self, n: int, frames: int = 3) -> None:
        self.n, self.frames = n, frames

    def __len__(self) -> int:
        return self.n

    def _item(self, index: int, generator: torch.Generator) -> Clip:
        jitter = torch.rand((), generator=generator) * 1e-3
        video = torch.full((1, self.frames, 2, 2), index / 100) + jitter
        return Clip(video=video, caption=f"clip {index}")


def test_plan_arithmetic_and_errors() -> None:
    plan = BatchPlan(batch_size=8, micro_batch_size=2, world=2, rank=1)
    assert (plan.micro, plan.shards, plan.accum) == (2, 4, 2)
    assert list(plan.local_shards()) == [2, 3]
    assert BatchPlan(batch_size=8, micro_batch_size=0, world=2).micro == 4
    with pytest.raises(SpacetimeError, match="multiple of micro_batch_size=3"):
        BatchPlan(batch_size=8, micro_batch_size=3)
    with pytest.raises(SpacetimeError, match="cannot be split evenly over 3 processes"):
        BatchPlan(batch_size=8, micro_batch_size=2, world=3)


def _captions(plan: BatchPlan, start: int = 0, steps: int = 6) -> list[tuple[int, int, str]]:
    shards = StepShards(Numbered(10), None, plan, seed=5, start=start, steps=steps)
    return [(b.step, b.shard, c) for b in make_loader(shards) for c in b.caption]


def test_processes_together_see_what_one_process_sees() -> None:
    single = _captions(BatchPlan(4, 2, world=1))
    split = sorted(_captions(BatchPlan(4, 2, world=2, rank=0)) + _captions(BatchPlan(4, 2, 2, 1)))
    assert sorted(single) == split
    # Resuming at step 3 replays exactly the tail.
    assert _captions(BatchPlan(4, 2), start=3) == [x for x in single if x[0] >= 3]


def test_each_epoch_is_a_permutation() -> None:
    rows = _captions(BatchPlan(5, 5), steps=4)  # 20 positions = 2 epochs of 10 clips
    first, second = [c for *_, c in rows[:10]], [c for *_, c in rows[10:]]
    assert sorted(first) == sorted(second) == sorted(f"clip {i}" for i in range(10))
    assert first != second  # a fresh order each epoch


def test_item_seeds_follow_position_and_items_are_deterministic() -> None:
    shards = StepShards(Numbered(10), None, BatchPlan(2, 1), seed=1, start=0, steps=20)
    again = StepShards(Numbered(10), None, BatchPlan(2, 1), seed=1, start=0, steps=20)
    assert torch.equal(shards[7].video, again[7].video)
    other_seed = StepShards(Numbered(10), None, BatchPlan(2, 1), seed=2, start=0, steps=20)
    assert [shards[i].caption for i in range(10)] != [other_seed[i].caption for i in range(10)]


def test_image_steps_are_single_frames() -> None:
    flags = [is_image_step(0, s, 0.3) for s in range(400)]
    assert 0.2 < sum(flags) / 400 < 0.4
    assert not any(is_image_step(0, s, 0.0) for s in range(50))
    shards = StepShards(Numbered(10, frames=4), None, BatchPlan(2, 2), seed=0, start=0, steps=40,
                        image_ratio=0.5)  # fmt: skip
    kinds = {b.image: b.video.shape for b in (shards[i] for i in range(40))}
    assert kinds == {True: (2, 1, 1, 2, 2), False: (2, 1, 4, 2, 2)}
    images = Numbered(3, frames=1)
    with_images = StepShards(Numbered(10, frames=4), images, BatchPlan(2, 2), seed=0, start=0,
                             steps=40, image_ratio=1.0)  # fmt: skip
    assert all(c in {"clip 0", "clip 1", "clip 2"} for c in with_images[0].caption)


def test_caption_dropout_rate_and_determinism() -> None:
    captions = [f"clip {i}" for i in range(2000)]
    dropped = drop_captions(captions, 0.25, torch.Generator().manual_seed(0))
    rate = sum(c == "" for c in dropped) / len(captions)
    assert 0.22 < rate < 0.28
    assert all(d in ("", c) for d, c in zip(dropped, captions, strict=True))
    assert dropped == drop_captions(captions, 0.25, torch.Generator().manual_seed(0))
    assert drop_captions(captions[:5], 0.0, torch.Generator()) == captions[:5]
    assert drop_captions(captions[:5], 1.0, torch.Generator()) == [""] * 5
