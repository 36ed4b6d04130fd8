"""TextEmbedding and FrameCondition: the conditioning contract shared by models and samplers."""

from __future__ import annotations

import pytest
import torch

from spacetime.contracts.conditioning import FrameCondition, TextEmbedding


def test_text_embedding_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match=r"tokens \(B, L, D\) and mask \(B, L\)"):
        TextEmbedding(torch.zeros(2, 3, 4), torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(ValueError):
        TextEmbedding(torch.zeros(2, 3), torch.ones(2, 3, dtype=torch.bool))


def test_text_embedding_cat_pads_to_the_longest_with_masked_tokens() -> None:
    a = TextEmbedding(torch.ones(1, 2, 4), torch.ones(1, 2, dtype=torch.bool))
    b = TextEmbedding(2 * torch.ones(2, 5, 4), torch.ones(2, 5, dtype=torch.bool))
    both = TextEmbedding.cat([a, b])
    assert both.tokens.shape == (3, 5, 4) and both.mask.shape == (3, 5)
    assert both.mask[0].tolist() == [True, True, False, False, False]
    assert torch.equal(both.tokens[0, :2], a.tokens[0])
    assert torch.equal(both.tokens[0, 2:], torch.zeros(3, 4))
    assert torch.equal(both.tokens[1:], b.tokens)
    assert torch.equal(both.index(slice(1, 3)).tokens, b.tokens)


def test_frame_condition_validates_batch_and_frames() -> None:
    values = torch.zeros(2, 3, 4, 8, 8)
    with pytest.raises(ValueError, match="does not match"):
        FrameCondition(torch.zeros(2, 5, dtype=torch.bool), values)
    with pytest.raises(ValueError, match=r"mask \(B, T\)"):
        FrameCondition(torch.zeros(2, 4, 1, dtype=torch.bool), values)


def test_frame_condition_apply_replaces_exactly_the_given_frames() -> None:
    gen = torch.Generator().manual_seed(0)
    values = torch.randn(2, 3, 4, 8, 8, generator=gen)
    x = torch.randn(2, 3, 4, 8, 8, generator=gen)
    mask = torch.tensor([[True, False, False, True], [False, False, False, False]])
    out = FrameCondition(mask, values).apply(x)
    assert torch.equal(out[0, :, 0], values[0, :, 0]) and torch.equal(out[0, :, 3], values[0, :, 3])
    assert torch.equal(out[0, :, 1:3], x[0, :, 1:3])
    assert torch.equal(out[1], x[1])
    picked = FrameCondition(mask, values).index(torch.tensor([1]))
    assert picked.mask.shape == (1, 4) and torch.equal(picked.values, values[1:])


def test_the_readme_import_paths_name_the_same_classes() -> None:
    import spacetime.models
    import spacetime.models.conditioning as old

    assert old.FrameCondition is spacetime.models.FrameCondition is FrameCondition
    assert old.TextEmbedding is spacetime.models.TextEmbedding is TextEmbedding
