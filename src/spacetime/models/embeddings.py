"""Position and timestep embeddings shared by the denoisers.

- :func:`timestep_embedding` / :class:`TimestepEmbedder`: sinusoidal features of a *float*
  diffusion time (Vaswani et al. 2017, sec. 3.5; as used by DDPM and ADM), evaluated per frame.
- :func:`sincos_2d`: fixed 2D sin-cos position of spatial patches (MAE / DiT).
- :func:`rotary_cos_sin` / :func:`apply_rotary`: rotary position (RoFormer, Su et al. 2021,
  eq. 34) — a *relative* position: ``<R(m) q, R(n) k>`` depends on ``m - n`` only.
- :class:`RelativePositionBias`: bucketed relative position bias (T5, Raffel et al. 2020,
  sec. 2.1), the temporal position of Video Diffusion Models (Ho et al. 2022, sec. 3).
"""

from __future__ import annotations

import math

import torch
from torch import nn


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """Sinusoidal features of a continuous time.

    Args:
        t: float tensor of any shape ``(...)``, in the objective's units (e.g. [0, 1000]).
        dim: number of features (even or odd; an odd ``dim`` gets one zero feature).
        max_period: the longest period, in units of ``t``.

    Returns:
        ``(..., dim)``: ``[cos(t w_0) .. cos(t w_{k-1}), sin(t w_0) .. sin(t w_{k-1})]`` with
        ``w_i = max_period ** (-i / k)`` and ``k = dim // 2``.
    """
    half = dim // 2
    freqs = torch.exp(
        -math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half
    )  # (k,)
    args = t.float()[..., None] * freqs  # (..., k)
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)  # (..., 2k)
    if dim % 2:
        emb = torch.nn.functional.pad(emb, (0, 1))
    return emb


class TimestepEmbedder(nn.Module):
    """Sinusoidal features of ``t`` followed by a two-layer SiLU MLP (DiT's ``TimestepEmbedder``).

    Args:
        dim: output width.
        frequency_dim: width of the sinusoidal features fed to the MLP.
    """

    def __init__(self, dim: int, frequency_dim: int = 256) -> None:
        super().__init__()
        self.frequency_dim = frequency_dim
        self.mlp = nn.Sequential(nn.Linear(frequency_dim, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        """``t`` (...) float -> ``(..., dim)``; per-frame times (B, T) give (B, T, dim)."""
        freq = timestep_embedding(t, self.frequency_dim)  # (..., F)
        return self.mlp(freq.to(self.mlp[0].weight.dtype))  # (..., dim)


def sincos_1d(positions: torch.Tensor, dim: int) -> torch.Tensor:
    """Fixed sin-cos features ``(N, dim)`` of ``positions`` (N,) (``dim`` even)."""
    assert dim % 2 == 0, "sin-cos position needs an even width"
    omega = 1.0 / 10_000 ** (torch.arange(dim // 2, dtype=torch.float64) / (dim // 2))  # (D/2,)
    args = positions.double()[:, None] * omega[None].to(positions.device)  # (N, D/2)
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1).float()  # (N, D)


def sincos_2d(
    height: int, width: int, dim: int, device: torch.device | None = None
) -> torch.Tensor:
    """2D sin-cos position of a ``height x width`` grid, row-major: ``(height * width, dim)``.

    Half of the features encode the row, half the column (MAE, He et al. 2022; DiT).
    ``dim`` must be divisible by 4.
    """
    assert dim % 4 == 0, "2D sin-cos position needs a width divisible by 4"
    rows = torch.arange(height, device=device).repeat_interleave(width)  # (H*W,)
    cols = torch.arange(width, device=device).repeat(height)  # (H*W,)
    return torch.cat([sincos_1d(rows, dim // 2), sincos_1d(cols, dim // 2)], dim=1)  # (H*W, D)


def rotary_cos_sin(
    positions: torch.Tensor, dim: int, base: float = 10_000.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotary tables for integer or float ``positions`` (N,): ``cos``, ``sin`` each ``(N, dim)``.

    Channel ``i`` and ``i + dim/2`` form one rotating pair with frequency
    ``base ** (-2 (i mod dim/2) / dim)`` (RoFormer eq. 15, "rotate-half" layout).
    """
    assert dim % 2 == 0, "rotary position needs an even head width"
    inv_freq = base ** (
        -torch.arange(0, dim, 2, dtype=torch.float32, device=positions.device) / dim
    )
    angles = positions.float()[:, None] * inv_freq[None]  # (N, D/2)
    angles = torch.cat([angles, angles], dim=-1)  # (N, D)
    return angles.cos(), angles.sin()


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate ``x`` (..., N, D) by the tables of :func:`rotary_cos_sin` (N, D) (RoFormer eq. 34)."""
    x1, x2 = x.chunk(2, dim=-1)  # (..., N, D/2) each
    rotated = torch.cat([-x2, x1], dim=-1)  # (..., N, D)
    dtype = torch.promote_types(x.dtype, torch.float32)  # half precision up; float64 stays
    return (x.to(dtype) * cos + rotated.to(dtype) * sin).to(x.dtype)


class RelativePositionBias(nn.Module):
    """Learned per-head bias of the signed distance ``j - i`` between two positions (T5).

    Distances up to ``num_buckets / 4`` in each direction get their own bucket; larger ones
    share log-spaced buckets up to ``max_distance``, beyond which they saturate, so any
    sequence length is accepted.

    Args:
        heads: number of attention heads (one bias per head).
        num_buckets: buckets over both directions (even).
        max_distance: distance at which the log-spaced buckets saturate.
    """

    def __init__(self, heads: int, num_buckets: int = 32, max_distance: int = 64) -> None:
        super().__init__()
        self.num_buckets = num_buckets
        self.max_distance = max_distance
        self.table = nn.Embedding(num_buckets, heads)

    def bucket(self, distance: torch.Tensor) -> torch.Tensor:
        """Bucket index (int64, same shape) of the signed ``distance = j - i``."""
        half = self.num_buckets // 2
        offset = (distance > 0).long() * half  # the two directions use separate halves
        n = distance.abs()
        exact = half // 2
        log_ratio = torch.log(n.float().clamp(min=1) / exact) / math.log(self.max_distance / exact)
        far = exact + (log_ratio * (half - exact)).long()
        far = far.clamp(max=half - 1)
        return offset + torch.where(n < exact, n, far)

    def forward(self, q_pos: torch.Tensor, k_pos: torch.Tensor) -> torch.Tensor:
        """Bias ``(heads, Nq, Nk)`` for query positions ``q_pos`` (Nq,), key positions (Nk,)."""
        distance = k_pos[None, :].long() - q_pos[:, None].long()  # (Nq, Nk)
        return self.table(self.bucket(distance)).permute(2, 0, 1)  # (heads, Nq, Nk)
