"""Frame-mask strategies: the shape of each strategy, mixtures, reproducibility, errors."""

from __future__ import annotations

import pytest
import torch

from spacetime.diffusion.masks import (
    MASK_STRATEGIES,
    FrameMaskConfig,
    sample_frame_mask,
    strategy_mask,
)
from spacetime.errors import SpacetimeError

T = 8


def _masks(name: str, batch: int = 200, **kw) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return sample_frame_mask(batch, T, generator=g, probs={name: 1}, **kw)


def test_strategy_mask_deterministic_forms() -> None:
    def bits(m: torch.Tensor) -> str:
        return "".join("x" if v else "." for v in m.tolist())

    assert bits(strategy_mask("none", 6)) == "......"
    assert bits(strategy_mask("first", 6)) == "x....."
    assert bits(strategy_mask("last", 6, k=2)) == "....xx"
    assert bits(strategy_mask("first-last", 6)) == "x....x"
    assert bits(strategy_mask("every-k", 7, k=3)) == "x..x..x"
    with pytest.raises(SpacetimeError, match="gives all 4 frames"):
        strategy_mask("every-k", 4, k=1)


@pytest.mark.parametrize(
    ("name", "frames", "k", "given"),
    [("first", 4, 4, 4), ("last", 3, 5, 5), ("first-last", 6, 3, 6), ("first-last", 4, 3, 6)],
)
def test_k_too_large_for_the_clip_is_an_error(name: str, frames: int, k: int, given: int) -> None:
    # "last" with k > frames used to slice from a negative index: a wrong, partial mask.
    with pytest.raises(SpacetimeError, match=f"gives {given} of {frames} frames"):
        strategy_mask(name, frames, k=k)


def test_largest_k_leaves_one_frame() -> None:
    assert strategy_mask("last", 5, k=4).tolist() == [False, True, True, True, True]
    assert strategy_mask("first-last", 5, k=2).tolist() == [True, True, False, True, True]


def test_unknown_and_random_strategies_have_no_fixed_mask() -> None:
    with pytest.raises(SpacetimeError, match="expected one of none, first, last"):
        strategy_mask("middle", 4)
    with pytest.raises(SpacetimeError, match="use sample_frame_mask"):
        strategy_mask("random", 4)


def test_none_gives_nothing() -> None:
    assert not _masks("none").any()


@pytest.mark.parametrize("name", ["first", "last"])
def test_first_and_last_give_a_contiguous_end(name: str) -> None:
    masks = _masks(name, max_context=3)
    counts = masks.sum(1)
    assert set(counts.tolist()) == {1, 2, 3}
    for row, k in zip(masks, counts.tolist(), strict=True):
        assert torch.equal(row, strategy_mask(name, T, k=k))


def test_first_last_gives_both_ends_equally() -> None:
    masks = _masks("first-last")
    for row in masks:
        k = int(row.sum()) // 2
        assert k >= 1 and torch.equal(row, strategy_mask("first-last", T, k=k))


def test_every_k_gives_key_frames_at_a_stride() -> None:
    masks = _masks("every-k", strides=(2, 3, 5, 9))  # 9 >= T is never used
    seen = set()
    for row in masks:
        idx = row.nonzero().flatten().tolist()
        stride = idx[1] - idx[0]
        seen.add(stride)
        assert idx[0] == 0 and torch.equal(row, strategy_mask("every-k", T, k=stride))
    assert seen == {2, 3, 5}


def test_random_never_gives_every_frame() -> None:
    masks = sample_frame_mask(
        500, 3, generator=torch.Generator().manual_seed(1), probs={"random": 1}, random_rate=0.9
    )
    assert not masks.all(dim=1).any()
    assert masks.any(dim=1).float().mean() > 0.99  # at rate 0.9 nearly every clip gives some
    assert 0.5 < masks.float().mean() < 0.67  # ≈ 0.9 clipped to at most 2 of 3


def test_mixture_frequencies_and_reproducibility() -> None:
    probs = {"none": 3.0, "first": 1.0}
    g = torch.Generator().manual_seed(2)
    masks = sample_frame_mask(4000, T, generator=g, probs=probs)
    assert masks.shape == (4000, T) and masks.dtype == torch.bool
    frac_none = (~masks.any(1)).float().mean().item()
    assert abs(frac_none - 0.75) < 0.03
    again = sample_frame_mask(4000, T, generator=torch.Generator().manual_seed(2), probs=probs)
    assert torch.equal(masks, again)
    # the default training mixture uses every strategy and never gives all frames
    mixed = FrameMaskConfig().sample(2000, T, generator=torch.Generator().manual_seed(3))
    assert not mixed.all(1).any() and mixed.any(1).float().mean() > 0.35


def test_bad_probabilities_and_short_clips() -> None:
    g = torch.Generator().manual_seed(0)
    with pytest.raises(SpacetimeError, match="unknown frame-mask strategy middle"):
        sample_frame_mask(2, T, generator=g, probs={"middle": 1.0})
    with pytest.raises(SpacetimeError, match=">= 0 and not all 0"):
        sample_frame_mask(2, T, generator=g, probs={"first": -1.0, "none": 2.0})
    with pytest.raises(SpacetimeError, match="'first-last' needs at least 3 frames"):
        sample_frame_mask(2, 2, generator=g, probs={"first-last": 1.0})
    assert set(MASK_STRATEGIES) == {"none", "first", "last", "first-last", "every-k", "random"}
