"""Sliding-window denoising and FreeNoise noise (spacetime.diffusion.windowed)."""

from __future__ import annotations

import pytest
import torch

from spacetime.contracts.conditioning import FrameCondition
from spacetime.diffusion.windowed import (
    WindowedDenoiser,
    freenoise_noise,
    window_starts,
    window_weights,
)
from spacetime.errors import SpacetimeError


def test_window_starts_cover_the_clip() -> None:
    assert window_starts(16, 16, 8) == [0]
    assert window_starts(40, 16, 8) == [0, 8, 16, 24]
    assert window_starts(30, 16, 8) == [0, 8, 14]  # the last window ends at the clip's end
    with pytest.raises(SpacetimeError, match="stride"):
        window_starts(30, 16, 17)
    w = window_weights(6)
    assert torch.equal(w, w.flip(0)) and bool((w > 0).all()) and w.argmax() in (2, 3)


def test_fusion_is_exact_for_a_per_frame_denoiser() -> None:
    """A denoiser that treats frames independently gives the same output on windows as on the
    whole clip: the fusion weights are normalised, every frame is covered."""
    calls = []

    def per_frame(x, t, *, text=None, frames=None):
        calls.append(x.shape[2])
        shift = 0.0 if frames is None else frames.mask[:, None, :, None, None].float()
        return torch.sin(x) * (1 + t[:, None, :, None, None] / 1000) + shift

    x = torch.randn(2, 3, 21, 2, 2)
    t = torch.rand(2, 21) * 1000
    cond = FrameCondition(torch.rand(2, 21) > 0.5, torch.randn(2, 3, 21, 2, 2))
    fused = WindowedDenoiser(per_frame, 8, 5)
    torch.testing.assert_close(fused(x, t, frames=cond), per_frame(x, t, frames=cond))
    assert calls[:-1] == [8, 8, 8, 8]  # starts 0, 5, 10, 13


def test_freenoise_reuses_shuffled_noise_and_depends_on_the_seed_only() -> None:
    noise = freenoise_noise([3, 4], (2, 20, 1, 1), window=8, stride=4)  # (2, 2, 20, 1, 1)
    alone = freenoise_noise([4], (2, 20, 1, 1), window=8, stride=4)
    assert torch.equal(noise[1], alone[0])
    first = noise[0, 0, :, 0, 0]
    for f in range(8, 20, 4):  # each later chunk is a permutation of one window earlier
        earlier, chunk = first[f - 8 : f - 4], first[f : f + 4]
        assert torch.equal(chunk.sort().values, earlier.sort().values)
    assert not torch.equal(first[8:12], first[0:4])  # shuffled (fixed seed)
