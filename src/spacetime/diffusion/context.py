"""Conditioning a window on frames it did not generate: reconstruction guidance and noisy context.

Both are *denoiser wrappers*: callables with the denoiser's signature
``model(x_t, t, *, text, frames) -> output`` that :func:`spacetime.diffusion.sample` drives
exactly like the network, so every sampler, classifier-free guidance (the wrapper sees the
2B batch of both branches) and per-sample seeds work unchanged.

- :class:`ReconstructionGuidance` — Video Diffusion Models (Ho et al. 2022, Sec. 3.1, eq. 7).
  The given frames ``x^a`` are *not* shown to the network through its frame mask: at every step
  their part of the state is replaced by a fresh draw of ``q(z^a_t | x^a)`` (the replacement
  method), and the model's estimate of the other frames is corrected along the gradient of the
  given frames' reconstruction error::

      x̃^b = x̂^b - (w_r α_t / 2) ∇_{z^b_t} ‖x^a - x̂^a(z_t)‖²

  With ``w_r = 0`` this is exactly VDM's replacement baseline. It needs no frame-conditioned
  training, and one backward pass through the network per step.
- :class:`NoisyContext` — Diffusion Forcing (Chen et al. 2024): the given frames are shown
  through the frame mask but *noised to a small level* ``t_ctx`` (their per-frame ``t``), so the
  model does not trust them as exact, and errors carried from one window to the next do not
  accumulate as they do with clean context. ``t_ctx = 0`` is plain frame conditioning.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch

from spacetime.contracts.conditioning import FrameCondition, TextEmbedding
from spacetime.diffusion.objectives import Denoiser, Objective
from spacetime.errors import SpacetimeError

__all__ = ["NoisyContext", "ReconstructionGuidance", "noised_frames", "signal_noise_scales"]


def signal_noise_scales(
    objective: Objective, t: torch.Tensor, like: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(α_t, σ_t)`` of ``x_t = α_t x0 + σ_t ε`` for any objective, shaped to broadcast against
    ``like`` (B, C, T, H, W): read off ``add_noise`` (α = add_noise(1, 0), σ = add_noise(0, 1)),
    so VP Gaussian (√ᾱ, √(1-ᾱ)) and flow matching (1-σ, σ) need no special case."""
    b, _, n = like.shape[:3]
    ones = torch.ones(b, 1, n, 1, 1, dtype=like.dtype, device=like.device)
    zeros = torch.zeros_like(ones)
    return objective.add_noise(ones, zeros, t), objective.add_noise(zeros, ones, t)


def _per_sample_noise(
    generators: Sequence[torch.Generator], shape: tuple[int, ...], like: torch.Tensor
) -> torch.Tensor:
    """``(len(generators) * r, *shape)``: one standard-normal draw per generator (CPU), tiled
    ``r = like.shape[0] / len(generators)`` times (the two branches of classifier-free guidance
    are the same samples)."""
    draws = torch.stack([torch.randn(shape, generator=g) for g in generators])
    reps = like.shape[0] // len(generators)
    return draws.repeat(reps, *([1] * len(shape))).to(like)


def _batched(given: FrameCondition, batch: int) -> FrameCondition:
    """``given`` tiled to ``batch`` rows (its own batch must divide it)."""
    n = given.mask.shape[0]
    if batch % n:
        raise SpacetimeError(f"given frames have batch {n}, which does not divide {batch}")
    reps = batch // n
    return FrameCondition(given.mask.repeat(reps, 1), given.values.repeat(reps, 1, 1, 1, 1))


def noised_frames(
    objective: Objective,
    given: FrameCondition,
    level: float,
    seeds: Sequence[int],
) -> FrameCondition:
    """``given`` with its frames' values noised to the training time ``level`` (per-sample noise
    from ``seeds``; one seed per row of ``given``). ``level = 0`` returns ``given`` unchanged."""
    if level == 0:
        return given
    values = given.values
    noise = _per_sample_noise(
        [torch.Generator().manual_seed(int(s)) for s in seeds], tuple(values.shape[1:]), values
    )
    t = torch.full((values.shape[0],), float(level), device=values.device)
    return FrameCondition(given.mask, objective.add_noise(values, noise, t))


class NoisyContext:
    """Show the given frames at noise level ``level`` (training units) instead of ``t = 0``.

    Pass it to :func:`~spacetime.diffusion.sample` as the model, with
    ``frames = noised_frames(objective, given, level, seeds)``: the sampler pastes those noisy
    values into the state and sets their ``t`` to 0, and this wrapper tells the network their
    true level. Diffusion Forcing (Chen et al. 2024, Sec. 3.3) keeps context "slightly noisy"
    this way so that a model need not take accumulated errors as ground truth.
    """

    def __init__(self, model: Denoiser, level: float) -> None:
        if level < 0:
            raise SpacetimeError(f"context noise level must be >= 0; got {level}")
        self.model, self.level = model, float(level)

    def __call__(
        self,
        x: torch.Tensor,
        t: torch.Tensor,
        *,
        text: TextEmbedding | None = None,
        frames: FrameCondition | None = None,
    ) -> torch.Tensor:
        if frames is not None and self.level > 0:
            b, n = x.shape[0], x.shape[2]
            t = t[:, None].expand(b, n) if t.ndim == 1 else t  # (B, T)
            t = t.masked_fill(frames.mask.to(t.device), self.level)
        return self.model(x, t, text=text, frames=frames)


class ReconstructionGuidance:
    """VDM reconstruction guidance (Ho et al. 2022, Sec. 3.1, eq. 7) as a denoiser.

    Args:
        model: the network (called with ``frames=None``: the given frames reach it only as the
            replaced part of the state).
        objective: converts outputs to x0 estimates and back; supplies ``α_t``.
        given: the given frames ``x^a``: mask (n, T) and values (n, C, T, H, W), n = 1 or the
            number of samples; rows are tiled to the batch the sampler calls with.
        weight: ``w_r``; 0 is the replacement method alone. VDM reports that larger weights
            (``w_r > 1``) condition better; the gradient is taken per sample.
        seeds: one seed per sample, for the fresh draws of ``q(z^a_t | x^a)`` at every step.

    The guided estimate is returned in the objective's own parameterisation (eps, v, x0 or
    velocity): ``ε = (z_t - α_t x̃) / σ_t`` and ``output = objective.target(x̃, ε, t)``, which for
    every objective is the output whose x0 estimate is ``x̃`` at ``z_t``.
    """

    needs_grad = True
    """The sampler must leave autograd on (no inference mode): the guidance differentiates the
    network's output with respect to its input."""

    def __init__(
        self,
        model: Denoiser,
        objective: Objective,
        given: FrameCondition,
        *,
        weight: float,
        seeds: Sequence[int],
    ) -> None:
        if weight < 0:
            raise SpacetimeError(f"reconstruction guidance weight must be >= 0; got {weight}")
        self.model, self.objective, self.given = model, objective, given
        self.weight = float(weight)
        self.generators = [torch.Generator().manual_seed(int(s)) for s in seeds]

    def rows(self, part: slice) -> ReconstructionGuidance:
        """The guidance of samples ``part`` only (the sampler calls one sample at a time on the
        CPU); it shares their generators, so the noise sequence is the batch's."""
        guide = copy.copy(self)
        if self.given.mask.shape[0] > 1:
            guide.given = self.given.index(part)
        guide.generators = self.generators[part]
        return guide

    def __call__(
        self,
        x: torch.Tensor,
        t: torch.Tensor,
        *,
        text: TextEmbedding | None = None,
        frames: FrameCondition | None = None,
    ) -> torch.Tensor:
        if frames is not None:
            raise SpacetimeError(
                "reconstruction guidance conditions through the gradient; sample it with "
                "frames=None (the given frames belong to ReconstructionGuidance)"
            )
        b, n = x.shape[0], x.shape[2]
        given = _batched(self.given, b)
        keep = given.mask[:, None, :, None, None].to(x.device)  # (B, 1, T, 1, 1)
        values = given.values.to(x)  # (B, C, T, H, W)
        t = t[:, None].expand(b, n) if t.ndim == 1 else t  # (B, T)
        noise = _per_sample_noise(self.generators, tuple(x.shape[1:]), x)
        z = torch.where(keep, self.objective.add_noise(values, noise, t), x)  # z^a_t ~ q(.|x^a)
        if self.weight == 0:
            with torch.no_grad():
                return self.model(z, t, text=text)
        with torch.enable_grad():
            z = z.detach().requires_grad_(True)
            out = self.model(z, t, text=text)  # (B, C, T, H, W)
            x0 = self.objective.to_x0(z, t, out)
            error = ((values - x0).square() * keep).sum()  # Σ_samples ‖x^a - x̂^a(z_t)‖²
            (grad,) = torch.autograd.grad(error, z)  # rows are independent samples
        z, out, x0 = z.detach(), out.detach(), x0.detach()
        alpha, sigma = signal_noise_scales(self.objective, t, z)
        guided = torch.where(keep, values, x0 - self.weight * alpha / 2 * grad)  # x̃ (eq. 7)
        eps = (z - alpha * guided) / sigma
        return self.objective.target(guided, eps, t)
