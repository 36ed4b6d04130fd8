"""Reconstruction guidance and noisy context (spacetime.diffusion.context) on analytic denoisers."""

from __future__ import annotations

import pytest
import torch

from spacetime.contracts.conditioning import FrameCondition
from spacetime.diffusion import GaussianObjective, sample
from spacetime.diffusion.context import (
    NoisyContext,
    ReconstructionGuidance,
    noised_frames,
    signal_noise_scales,
)
from spacetime.diffusion.flow_matching import FlowMatchingObjective

V = GaussianObjective(prediction="v", schedule="cosine")


def exact_denoiser(objective):
    """The exact denoiser of videos whose T frames all equal one value c ~ N(0, 1) per pixel:
    from z_f = α c + σ ε_f, E[c | z] = α Σ_f z_f / (T α² + σ²), on every frame. It is linear
    in z, so the gradient in eq. 7 has a closed form."""

    def model(z, t, *, text=None, frames=None):
        alpha, sigma = signal_noise_scales(objective, t, z)
        n = z.shape[2]
        x0 = (alpha * z.sum(dim=2, keepdim=True) / (n * alpha**2 + sigma**2)).expand_as(z)
        return objective.target(x0, (z - alpha * x0) / sigma, t)

    return model


@pytest.mark.parametrize(
    "objective", [V, GaussianObjective(prediction="eps"), FlowMatchingObjective()]
)
def test_scales_match_add_noise(objective) -> None:
    x0, eps = torch.randn(2, 3, 4, 2, 2), torch.randn(2, 3, 4, 2, 2)
    t = torch.tensor([[100.0, 300, 500, 900], [10, 20, 30, 40]])
    alpha, sigma = signal_noise_scales(objective, t, x0)
    torch.testing.assert_close(alpha * x0 + sigma * eps, objective.add_noise(x0, eps, t))


@pytest.mark.parametrize(
    "objective", [V, GaussianObjective(prediction="eps"), FlowMatchingObjective()]
)
def test_guidance_moves_new_frames_along_the_reconstruction_gradient(objective) -> None:
    """On the exact denoiser above, eq. 7 has the closed form
    x̃^b = x̂^b + w α² / (T α² + σ²) Σ_a (x^a - x̂^a): the new frames move towards the given ones."""
    torch.manual_seed(0)
    b, c, n = 2, 3, 6
    z = torch.randn(b, c, n, 2, 2)
    t = torch.full((b,), 400.0)
    mask = torch.tensor([[True, True, False, False, False, False]] * b)
    values = torch.randn(b, c, n, 2, 2)
    model, weight = exact_denoiser(objective), 1.5
    guide = ReconstructionGuidance(
        model, objective, FrameCondition(mask, values), weight=weight, seeds=[0, 1]
    )
    out = guide(z, t)
    # the state the guide saw: frames a replaced by their noisy draws (same seeds)
    gens = [torch.Generator().manual_seed(s) for s in (0, 1)]
    noise = torch.stack([torch.randn(z.shape[1:], generator=g) for g in gens])
    tt = t[:, None].expand(b, n)
    za = torch.where(mask[:, None, :, None, None], objective.add_noise(values, noise, tt), z)
    x0 = objective.to_x0(za, tt, model(za, tt))
    alpha, sigma = signal_noise_scales(objective, tt, z)
    gain = weight * alpha**2 / (n * alpha**2 + sigma**2)
    expected = x0 + gain * ((values - x0) * mask[:, None, :, None, None]).sum(2, True)
    got = objective.to_x0(za, tt, out)
    torch.testing.assert_close(got[:, :, 2:], expected[:, :, 2:], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(got[:, :, :2], values[:, :, :2], atol=1e-4, rtol=1e-4)


def test_guided_sampling_follows_the_given_frames_better_than_replacement() -> None:
    """VDM's finding on the toy prior (all frames equal): with replacement alone the new frames
    only partly follow the given frame; reconstruction guidance pulls them onto it."""
    model = exact_denoiser(V)
    given = FrameCondition(torch.tensor([[True] + [False] * 7]), torch.full((1, 1, 8, 1, 1), 0.8))
    errors = {}
    for weight in (0.0, 4.0):
        guide = ReconstructionGuidance(model, V, given, weight=weight, seeds=range(16))
        out = sample(guide, V, shape=(1, 8, 1, 1), seeds=range(100, 116), steps=20, progress=False)
        errors[weight] = (out[:, :, 1:] - 0.8).abs().mean().item()
    assert errors[4.0] < 0.5 * errors[0.0], errors


def test_noisy_context_level_zero_is_plain_frame_conditioning() -> None:
    seen = []

    def model(z, t, *, text=None, frames=None):
        seen.append(t.clone())
        return z * 0.5

    cond = FrameCondition(torch.tensor([[True, False, False]]), torch.randn(1, 2, 3, 1, 1))
    x, t = torch.randn(1, 2, 3, 1, 1), torch.tensor([[0.0, 500.0, 500.0]])
    assert noised_frames(V, cond, 0.0, [0]) is cond
    torch.testing.assert_close(NoisyContext(model, 0.0)(x, t, frames=cond), model(x, t))
    NoisyContext(model, 120.0)(x, t, frames=cond)
    assert seen[-1].tolist() == [[120.0, 500.0, 500.0]]
    noisy = noised_frames(V, cond, 120.0, [7])
    gen = torch.Generator().manual_seed(7)
    expected = V.add_noise(
        cond.values, torch.randn(2, 3, 1, 1, generator=gen)[None], torch.tensor([120.0])
    )
    torch.testing.assert_close(noisy.values, expected)
