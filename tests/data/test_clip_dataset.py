"""Tests for spacetime.data.clip_dataset: the seed contract, seeded views and collation."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader

from spacetime.data.clip_dataset import Clip, ClipDataset, collate_clips, mix_seed


class NoiseClips(ClipDataset):
    """Items whose pixels are draws from the item generator (so seeds are visible)."""

    def __len__(self) -> int:
        return 5

    def _item(self, index: int, generator: torch.Generator) -> Clip:
        video = torch.rand(3, 2, 4, 4, generator=generator) * 2 - 1
        return Clip(video=video, caption="x" * (index + 1))


def test_item_is_a_pure_function_of_index_and_seed() -> None:
    data = NoiseClips()
    assert torch.equal(data.item(1, 9)["video"], data.item(1, 9)["video"])
    assert not torch.equal(data.item(1, 9)["video"], data.item(1, 10)["video"])
    assert torch.equal(data[3]["video"], data.item(3, seed=3)["video"])
    assert torch.equal(data[-1]["video"], data[4]["video"])
    with pytest.raises(IndexError):
        data.item(5, 0)
    assert len(list(iter(data))) == 5  # the legacy iteration protocol stops at IndexError


def test_seeded_views_differ_per_epoch_and_repeat_per_seed() -> None:
    data = NoiseClips()
    epoch0, epoch0_again, epoch1 = data.seeded(0), data.seeded(0), data.seeded(1)
    assert len(epoch0) == 5
    assert torch.equal(epoch0[2]["video"], epoch0_again[2]["video"])
    assert torch.equal(epoch0[2]["video"], data.item(2, mix_seed(0, 2))["video"])
    assert not torch.equal(epoch0[2]["video"], epoch1[2]["video"])


def test_mix_seed_separates_neighbouring_pairs() -> None:
    seeds = {mix_seed(s, i) for s in range(20) for i in range(20)}
    assert len(seeds) == 400 and all(0 <= s < 2**63 for s in seeds)
    assert mix_seed(1, 0) != mix_seed(0, 1)
    with pytest.raises(ValueError, match="seed"):
        mix_seed(-1, 0)


def test_collate_through_a_dataloader_with_workers_is_order_independent() -> None:
    data = NoiseClips()
    loader = DataLoader(data.seeded(4), batch_size=2, collate_fn=collate_clips, num_workers=0)
    batches = list(loader)
    assert [b["video"].shape for b in batches] == [(2, 3, 2, 4, 4)] * 2 + [(1, 3, 2, 4, 4)]
    assert batches[0]["caption"] == ["x", "xx"]
    # The same item read alone equals its row in the batch: the batch does not change the draw.
    assert torch.equal(batches[1]["video"][1], data.seeded(4)[3]["video"])


def test_collate_rejects_mixed_shapes_and_empty_batches() -> None:
    a = Clip(video=torch.zeros(3, 1, 4, 4), caption="a")
    b = Clip(video=torch.zeros(3, 2, 4, 4), caption="b")
    with pytest.raises(ValueError, match="share one shape"):
        collate_clips([a, b])
    with pytest.raises(ValueError, match="empty"):
        collate_clips([])
