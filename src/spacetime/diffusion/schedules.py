"""Discrete Gaussian noise schedules: betas, ᾱ_t and the signal-to-noise ratio.

A schedule is the table ``ᾱ_t = ∏_{s≤t} (1 - β_s)`` over the ``N`` training timesteps
``t = 0 … N-1`` (DDPM, Ho et al. 2020, eq. 4: ``q(x_t | x_0) = N(√ᾱ_t x_0, (1-ᾱ_t) I)``).
The beta formulas are the ones diffusers uses (``linear``, ``scaled_linear``,
``squaredcos_cap_v2``), so a schedule here and a diffusers scheduler with the same settings
agree; they are computed in float64 here (diffusers uses float32).

Timestep units: ``t`` is the discrete index in ``[0, N-1]``; a fractional ``t`` interpolates
``ᾱ`` linearly between neighbouring indices (exact at the integer timesteps every sampler uses).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from spacetime.errors import SpacetimeError

#: Our schedule names -> the ``beta_schedule`` name of diffusers' schedulers.
BETA_SCHEDULES: dict[str, str] = {
    "linear": "linear",
    "scaled-linear": "scaled_linear",
    "cosine": "squaredcos_cap_v2",
}

#: Default (beta_start, beta_end) per schedule: DDPM's linear; Stable Diffusion's scaled-linear.
DEFAULT_BETA_RANGE: dict[str, tuple[float, float]] = {
    "linear": (1e-4, 0.02),
    "scaled-linear": (0.00085, 0.012),
    "cosine": (1e-4, 0.02),  # unused by the cosine formula; kept for a uniform config
}


def make_betas(
    name: str, num_train_timesteps: int, beta_start: float, beta_end: float
) -> torch.Tensor:
    """Betas ``(N,)`` float64 of schedule ``name`` (a key of :data:`BETA_SCHEDULES`).

    - ``linear``: ``β_t`` evenly spaced in ``[beta_start, beta_end]`` (Ho et al. 2020).
    - ``scaled-linear``: ``√β_t`` evenly spaced (Latent/Stable Diffusion, Rombach et al. 2022).
    - ``cosine``: ``ᾱ(τ) = cos²((τ + s)/(1 + s) · π/2)``, ``s = 0.008``, ``β`` capped at 0.999
      (Nichol & Dhariwal 2021, eq. 17).
    """
    if name not in BETA_SCHEDULES:
        raise SpacetimeError(
            f"unknown noise schedule {name!r}; expected one of {', '.join(BETA_SCHEDULES)}"
        )
    if num_train_timesteps < 2:
        raise SpacetimeError(f"num_train_timesteps must be >= 2, got {num_train_timesteps}")
    n = num_train_timesteps
    if name == "linear":
        return torch.linspace(beta_start, beta_end, n, dtype=torch.float64)
    if name == "scaled-linear":
        return torch.linspace(beta_start**0.5, beta_end**0.5, n, dtype=torch.float64) ** 2

    def alpha_bar(tau: float) -> float:
        return math.cos((tau + 0.008) / 1.008 * math.pi / 2) ** 2

    betas = [min(1 - alpha_bar((i + 1) / n) / alpha_bar(i / n), 0.999) for i in range(n)]
    return torch.tensor(betas, dtype=torch.float64)


def rescale_zero_terminal_snr(betas: torch.Tensor) -> torch.Tensor:
    """Rescale ``betas`` so that ``ᾱ_{N-1} = 0`` exactly (Lin et al. 2024, "Common Diffusion
    Noise Schedules and Sample Steps are Flawed", Algorithm 1).

    ``√ᾱ`` is shifted so its last value is 0 and scaled so its first value is unchanged; the
    last timestep then carries no signal at all, so training sees the pure noise it starts from
    at sampling time.
    """
    sqrt_ab = torch.cumprod(1.0 - betas, dim=0).sqrt()
    first, last = sqrt_ab[0].clone(), sqrt_ab[-1].clone()
    sqrt_ab = (sqrt_ab - last) * first / (first - last)
    ab = sqrt_ab**2
    alphas = torch.cat([ab[:1], ab[1:] / ab[:-1]])
    return 1.0 - alphas


def shift_alphas_cumprod(alphas_cumprod: torch.Tensor, shift: float) -> torch.Tensor:
    """ᾱ with the signal-to-noise ratio divided by ``shift²`` at every timestep.

    ``SNR'(t) = SNR(t) / shift²``, i.e. ``ᾱ' = ᾱ / (ᾱ + shift² (1 - ᾱ))``: the shifted schedule of
    "simple diffusion" (Hoogeboom et al. 2023, sec. 3.1: ``logSNR`` shifted by ``-2 log shift``)
    and SD3's resolution-dependent timestep shift (Esser et al. 2024, sec. 5.3.2, eq. 23, whose
    ``t' = s t / (1 + (s - 1) t)`` divides the SNR by ``s²``). ``shift > 1`` adds noise at every
    ``t``: for small or redundant images (flat backgrounds, tiny latents) it moves the
    timesteps where the global layout is still undecided — where the caption matters — from
    the last few percent of ``[0, N-1]`` to a larger share of it.
    """
    if shift <= 0 or not math.isfinite(shift):
        raise SpacetimeError(f"schedule shift must be a positive number, got {shift}")
    if shift == 1.0:
        return alphas_cumprod
    return alphas_cumprod / (alphas_cumprod + shift**2 * (1.0 - alphas_cumprod))


def betas_from_alphas_cumprod(alphas_cumprod: torch.Tensor) -> torch.Tensor:
    """The betas ``(N,)`` whose cumulative product of ``1 - β`` is ``alphas_cumprod``."""
    alphas = torch.cat([alphas_cumprod[:1], alphas_cumprod[1:] / alphas_cumprod[:-1]])
    return 1.0 - alphas


@dataclass(frozen=True)
class NoiseSchedule:
    """A discrete variance-preserving schedule: ``alphas_cumprod`` ``(N,)`` float64, ᾱ_t.

    Build with :meth:`create`. ``alpha_bar(t)`` / ``snr(t)`` accept ``t`` of any shape in
    timestep units ``[0, N-1]`` and return the same shape.
    """

    alphas_cumprod: torch.Tensor

    @staticmethod
    def create(
        name: str,
        num_train_timesteps: int = 1000,
        beta_start: float | None = None,
        beta_end: float | None = None,
        zero_terminal_snr: bool = False,
        shift: float = 1.0,
    ) -> NoiseSchedule:
        """The schedule ``name`` (see :func:`make_betas`), optionally with zero terminal SNR,
        then with its SNR divided by ``shift²`` (:func:`shift_alphas_cumprod`)."""
        default_start, default_end = DEFAULT_BETA_RANGE.get(name, (1e-4, 0.02))
        betas = make_betas(
            name,
            num_train_timesteps,
            default_start if beta_start is None else beta_start,
            default_end if beta_end is None else beta_end,
        )
        if zero_terminal_snr:
            betas = rescale_zero_terminal_snr(betas)
        return NoiseSchedule(shift_alphas_cumprod(torch.cumprod(1.0 - betas, dim=0), shift))

    @property
    def betas(self) -> torch.Tensor:
        """``(N,)`` float64 betas of this schedule (what diffusers' ``trained_betas`` takes)."""
        return betas_from_alphas_cumprod(self.alphas_cumprod)

    @property
    def num_train_timesteps(self) -> int:
        """``N``, the number of discrete training timesteps."""
        return self.alphas_cumprod.shape[0]

    def alpha_bar(self, t: torch.Tensor) -> torch.Tensor:
        """ᾱ at timesteps ``t`` (any shape, float, in ``[0, N-1]``), linearly interpolated.

        Computed in float64 (float32 on devices without float64) on ``t``'s device.
        """
        dtype = torch.float32 if t.device.type == "mps" else torch.float64
        table = self.alphas_cumprod.to(t.device, dtype)
        t = t.to(dtype).clamp(0, self.num_train_timesteps - 1)
        lo = t.floor().long()
        hi = (lo + 1).clamp(max=self.num_train_timesteps - 1)
        frac = t - lo.to(dtype)
        return table[lo] * (1 - frac) + table[hi] * frac

    def snr(self, t: torch.Tensor) -> torch.Tensor:
        """Signal-to-noise ratio ``ᾱ_t / (1 - ᾱ_t)`` at ``t`` (inf where ᾱ = 1, 0 where ᾱ = 0)."""
        ab = self.alpha_bar(t)
        return ab / (1 - ab)
