"""Small real denoisers for the diffusion tests, handed out as fixtures."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from spacetime.contracts.conditioning import FrameCondition, TextEmbedding
from spacetime.diffusion.flow_matching import FlowMatchingObjective
from spacetime.diffusion.gaussian import GaussianObjective
from spacetime.diffusion.objectives import Objective


class OracleDenoiser(nn.Module):
    """The exact optimal denoiser for data ``x0 ~ N(x_star, std² I)``, ``x_star`` (C, T, H, W);
    ``std = 0`` is the point mass at ``x_star``.

    With ``x_t = α x0 + σ ε`` (Gaussian: α = √ᾱ, σ = √(1-ᾱ); flow: α = 1-σ), the posterior
    mean is ``x̂0 = x* + α s² / (α² s² + σ²) · (x_t - α x*)`` and ``ε̂ = (x_t - α x̂0) / σ``;
    the optimal output is the objective's (linear) target at ``(x̂0, ε̂)``. Counts its calls
    and records the ``t`` it was given.
    """

    def __init__(self, objective: Objective, x_star: torch.Tensor, std: float = 0.0) -> None:
        super().__init__()
        self.objective = objective
        self.register_buffer("x_star", x_star)
        self.std = std
        self.calls = 0
        self.seen_t: list[torch.Tensor] = []

    def forward(
        self,
        x_t: torch.Tensor,
        t: torch.Tensor,
        *,
        text: TextEmbedding | None = None,
        frames: FrameCondition | None = None,
    ) -> torch.Tensor:
        self.calls += 1
        self.seen_t.append(t.detach().clone())
        x0 = self.x_star.to(x_t.dtype).expand_as(x_t)  # (B, C, T, H, W)
        tb = t[:, None, None, None, None] if t.ndim == 1 else t[:, None, :, None, None]
        if isinstance(self.objective, GaussianObjective):
            ab = self.objective.noise_schedule.alpha_bar(tb).to(x_t.dtype)
            alpha, sigma = ab.sqrt(), (1 - ab).sqrt()
        else:
            assert isinstance(self.objective, FlowMatchingObjective)
            sigma = self.objective.sigma(tb).to(x_t.dtype).clamp_min(1e-12)
            alpha = 1 - sigma
        s2 = self.std**2
        x0_hat = x0 + alpha * s2 / (alpha**2 * s2 + sigma**2) * (x_t - alpha * x0)
        eps = (x_t - alpha * x0_hat) / sigma
        return self.objective.target(x0_hat, eps, t)


class TinyDenoiser(nn.Module):
    """Two 3D convolutions with the per-frame ``t / 1000`` as an extra input channel and the
    mean-pooled text as a per-channel bias: a small, batch-independent real network."""

    def __init__(self, channels: int = 3, hidden: int = 8, text_dim: int = 8) -> None:
        super().__init__()
        self.inp = nn.Conv3d(channels + 1, hidden, 3, padding=1)
        self.text = nn.Linear(text_dim, hidden)
        self.out = nn.Conv3d(hidden, channels, 3, padding=1)

    def forward(
        self,
        x: torch.Tensor,
        t: torch.Tensor,
        *,
        text: TextEmbedding | None = None,
        frames: FrameCondition | None = None,
    ) -> torch.Tensor:
        b, _, n, h, w = x.shape
        tt = (t[:, None].expand(b, n) if t.ndim == 1 else t).to(x.dtype) / 1000  # (B, T)
        tmap = tt[:, None, :, None, None].expand(b, 1, n, h, w)  # (B, 1, T, H, W)
        hidden = torch.nn.functional.silu(self.inp(torch.cat([x, tmap], dim=1)))  # (B, D, T, H, W)
        if text is not None:
            m = text.mask[..., None].to(x.dtype)  # (B, L, 1)
            pooled = (text.tokens.to(x.dtype) * m).sum(1) / m.sum(1).clamp_min(1)  # (B, E)
            hidden = hidden + self.text(pooled)[:, :, None, None, None]
        return self.out(hidden)  # (B, C, T, H, W)


@pytest.fixture
def oracle_denoiser() -> type[OracleDenoiser]:
    """The :class:`OracleDenoiser` class."""
    return OracleDenoiser


@pytest.fixture
def tiny_denoiser() -> type[TinyDenoiser]:
    """The :class:`TinyDenoiser` class."""
    return TinyDenoiser
