"""Classifier-free guidance: the formula, scale 1 and 0, channels, per-frame scales, rescale."""

from __future__ import annotations

import pytest
import torch

from spacetime.diffusion.guidance import classifier_free_guidance, guidance_scale
from spacetime.errors import SpacetimeError


def _pair(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(2, 3, 4, 5, 5, generator=g), torch.randn(2, 3, 4, 5, 5, generator=g)


def test_scale_one_is_exactly_the_conditional_output() -> None:
    cond, uncond = _pair()
    assert torch.equal(classifier_free_guidance(cond, uncond, 1.0), cond)
    assert torch.equal(classifier_free_guidance(cond, uncond * 1e6, torch.tensor(1.0)), cond)


def test_formula_and_scale_zero() -> None:
    cond, uncond = _pair(1)
    torch.testing.assert_close(classifier_free_guidance(cond, uncond, 0.0), uncond)
    expected = uncond + 7.5 * (cond - uncond)  # Ho & Salimans 2022, eq. 6 with w = 7.5
    torch.testing.assert_close(classifier_free_guidance(cond, uncond, 7.5), expected)


def test_guidance_acts_on_every_channel_alike() -> None:
    cond, uncond = _pair(2)
    guided = classifier_free_guidance(cond, uncond, 4.0)
    for c in range(cond.shape[1]):
        per_channel = classifier_free_guidance(cond[:, c : c + 1], uncond[:, c : c + 1], 4.0)
        torch.testing.assert_close(guided[:, c : c + 1], per_channel)
        assert bool((guided[:, c] != cond[:, c]).all())


def test_per_frame_scale_broadcasts_along_time() -> None:
    cond, uncond = _pair(3)
    scale = torch.tensor([1.0, 2.0, 3.0, 0.0])
    guided = classifier_free_guidance(cond, uncond, scale)
    assert torch.equal(guided[:, :, 0], cond[:, :, 0])
    for i, w in enumerate(scale.tolist()):
        torch.testing.assert_close(
            guided[:, :, i], classifier_free_guidance(cond[:, :, i], uncond[:, :, i], w)
        )
    with pytest.raises(SpacetimeError, match=r"one value per frame \(4,\); got shape \(3,\)"):
        classifier_free_guidance(cond, uncond, torch.ones(3))
    with pytest.raises(SpacetimeError, match="no time axis"):
        classifier_free_guidance(cond[:, :, 0], uncond[:, :, 0], torch.ones(4))


def test_rescale_matches_the_conditional_std() -> None:
    cond, uncond = _pair(4)
    plain = classifier_free_guidance(cond, uncond, 6.0)
    full = classifier_free_guidance(cond, uncond, 6.0, rescale=1.0)
    torch.testing.assert_close(full.std(dim=(1, 3, 4)), cond.std(dim=(1, 3, 4)))
    half = classifier_free_guidance(cond, uncond, 6.0, rescale=0.5)
    torch.testing.assert_close(half, 0.5 * full + 0.5 * plain)
    assert torch.equal(classifier_free_guidance(cond, uncond, 6.0, rescale=0.0), plain)
    with pytest.raises(SpacetimeError, match="rescale"):
        classifier_free_guidance(cond, uncond, 6.0, rescale=1.5)


def test_guidance_scale_validation() -> None:
    assert guidance_scale(3, 4).ndim == 0
    assert guidance_scale([1.0, 2.0], 2).shape == (2,)
    with pytest.raises(SpacetimeError, match=r"one value per frame \(4,\)"):
        guidance_scale(torch.ones(2, 2), 4)
    cond, uncond = _pair()
    with pytest.raises(SpacetimeError, match="same shape"):
        classifier_free_guidance(cond, uncond[:1], 2.0)
