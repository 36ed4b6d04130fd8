"""Tests for spacetime.data.shapes_dataset: ShapesWorld clips as a seeded dataset."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spacetime.contracts.pixels import to_uint8
from spacetime.data import shapes
from spacetime.data.clip_dataset import collate_clips
from spacetime.data.shapes_dataset import ShapesDataset
from spacetime.errors import SpacetimeError


def test_items_are_the_shapesworld_scene_of_their_seed() -> None:
    data = ShapesDataset(size=32, frames=4, length=3, seed=5)
    assert len(data) == 3
    item = data[2]
    assert item["video"].shape == (3, 4, 32, 32) and item["video"].dtype == torch.float32
    clip = shapes.generate(data.scene_seed(2), size=32, frames=4, fps=8.0)
    assert np.array_equal(to_uint8(item["video"]), clip.video)
    assert item["caption"] == clip.caption and shapes.is_shapes_caption(item["caption"])


def test_deterministic_per_index_and_independent_across_base_seeds() -> None:
    a, again, other = (ShapesDataset(32, 4, 6, seed=s) for s in (0, 0, 1))
    assert all(torch.equal(a[i]["video"], again[i]["video"]) for i in range(6))
    pairs = [(i, j) for i in range(3) for j in range(3)]
    assert not any(torch.equal(a[i]["video"], other[j]["video"]) for i, j in pairs)
    assert len({a[i]["caption"] for i in range(6)}) > 1  # scenes vary with the index


def test_flip_mirrors_the_clip_and_its_motion_words() -> None:
    plain = ShapesDataset(32, 4, 40, seed=0)
    flipping = ShapesDataset(32, 4, 40, seed=0, flip=1.0)
    index = next(i for i in range(40) if "moves left" in plain[i]["caption"])
    mirrored = flipping.item(index, seed=7)
    assert torch.equal(mirrored["video"], plain[index]["video"].flip(-1))
    assert mirrored["caption"] == plain[index]["caption"].replace("moves left", "moves right")
    batch = collate_clips([mirrored, plain[index]])
    assert batch["video"].shape == (2, 3, 4, 32, 32)


def test_bad_arguments_are_user_errors() -> None:
    with pytest.raises(SpacetimeError, match="length"):
        ShapesDataset(32, 4, length=0)
    with pytest.raises(SpacetimeError, match="size"):
        ShapesDataset(size=7)
