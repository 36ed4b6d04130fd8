"""Variance-preserving Gaussian diffusion with eps, v or x0 prediction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from diffusers import SchedulerMixin

from spacetime.diffusion.objectives import Objective, broadcast_t
from spacetime.diffusion.schedules import BETA_SCHEDULES, DEFAULT_BETA_RANGE, NoiseSchedule
from spacetime.errors import SpacetimeError

PREDICTIONS: dict[str, str] = {"eps": "epsilon", "v": "v_prediction", "x0": "sample"}
"""Gaussian prediction targets -> diffusers' ``prediction_type``."""

LOSS_WEIGHTINGS = ("uniform", "min-snr")


@dataclass(frozen=True)
class GaussianObjective(Objective):
    """Variance-preserving Gaussian diffusion, ``x_t = √ᾱ_t x0 + √(1-ᾱ_t) ε`` (DDPM eq. 4).

    Args:
        prediction: what the network predicts: ``"eps"`` (Ho et al. 2020), ``"v"``
            (``v = √ᾱ ε - √(1-ᾱ) x0``, Salimans & Ho 2022, §4; Imagen Video) or ``"x0"``.
        schedule: ``"linear"``, ``"cosine"`` or ``"scaled-linear"`` (see ``schedules``).
        num_train_timesteps: ``N``; the network's ``t`` is an index in ``[0, N-1]``.
        beta_start, beta_end: beta range of the linear schedules (None: the schedule's default).
        zero_terminal_snr: rescale so ``ᾱ_{N-1} = 0`` (Lin et al. 2024); needs ``"v"``/``"x0"``.
        loss_weighting: ``"uniform"`` (plain MSE on the prediction) or ``"min-snr"``
            (Min-SNR-γ, Hang et al. 2023: weight ``min(SNR, γ)`` on the x0 error).
        snr_gamma: γ of Min-SNR-γ (5 in the paper).
        per_frame_t: draw an independent ``t`` per frame during training (Diffusion Forcing).
        shift: divide the schedule's SNR by ``shift²`` at every timestep (simple diffusion's
            shifted schedule / SD3's timestep shift; see
            :func:`~spacetime.diffusion.schedules.shift_alphas_cumprod`); 1 is the plain
            schedule. Training and every sampler use the shifted schedule.
    """

    family: ClassVar[str] = "gaussian"
    prediction: str = "eps"
    schedule: str = "linear"
    num_train_timesteps: int = 1000
    beta_start: float | None = None
    beta_end: float | None = None
    zero_terminal_snr: bool = False
    loss_weighting: str = "uniform"
    snr_gamma: float = 5.0
    per_frame_t: bool = False
    shift: float = 1.0
    noise_schedule: NoiseSchedule = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.prediction not in PREDICTIONS:
            raise SpacetimeError(
                f"unknown prediction {self.prediction!r}; expected one of {', '.join(PREDICTIONS)}"
            )
        if self.loss_weighting not in LOSS_WEIGHTINGS:
            raise SpacetimeError(
                f"unknown loss_weighting {self.loss_weighting!r}; expected one of "
                f"{', '.join(LOSS_WEIGHTINGS)}"
            )
        if self.snr_gamma <= 0:
            raise SpacetimeError(f"snr_gamma must be > 0, got {self.snr_gamma}")
        if self.zero_terminal_snr and self.prediction == "eps":
            raise SpacetimeError(
                "zero_terminal_snr needs prediction 'v' or 'x0': at SNR 0 an eps prediction "
                "carries no information about x0 (Lin et al. 2024, §3.2)"
            )
        if self.shift != 1.0 and self.zero_terminal_snr:
            raise SpacetimeError(
                "shift and zero_terminal_snr cannot be combined: a shifted schedule is given to "
                "the samplers as a beta table, and ᾱ = 0 at the last step would divide by zero"
            )
        if self.schedule not in BETA_SCHEDULES:
            raise SpacetimeError(
                f"unknown schedule {self.schedule!r}; expected one of {', '.join(BETA_SCHEDULES)}"
            )
        start, end = DEFAULT_BETA_RANGE[self.schedule]
        if self.beta_start is not None:
            start = self.beta_start
        if self.beta_end is not None:
            end = self.beta_end
        object.__setattr__(self, "beta_start", float(start))
        object.__setattr__(self, "beta_end", float(end))
        object.__setattr__(
            self,
            "noise_schedule",
            NoiseSchedule.create(
                self.schedule,
                self.num_train_timesteps,
                self.beta_start,
                self.beta_end,
                self.zero_terminal_snr,
                self.shift,
            ),
        )

    def _scales(self, t: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(√ᾱ_t, √(1-ᾱ_t))`` broadcast against ``x`` and in its dtype."""
        ab = self.noise_schedule.alpha_bar(broadcast_t(t, x))
        return ab.sqrt().to(x.dtype), (1 - ab).sqrt().to(x.dtype)

    def _draw_t(self, shape: tuple[int, ...], draw: dict[str, Any]) -> torch.Tensor:
        """Uniform integer timesteps in ``[0, N-1]`` (DDPM, Ho et al. 2020, Alg. 1)."""
        return torch.randint(0, self.num_train_timesteps, shape, **draw)

    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        a, s = self._scales(t, x0)
        return a * x0 + s * noise

    def target(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if self.prediction == "eps":
            return noise
        if self.prediction == "x0":
            return x0
        a, s = self._scales(t, x0)
        return a * noise - s * x0  # v (Salimans & Ho 2022, eq. 9 with α = √ᾱ, σ = √(1-ᾱ))

    def to_x0(self, x_t: torch.Tensor, t: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        if self.prediction == "x0":
            return output
        a, s = self._scales(t, x_t)
        if self.prediction == "eps":
            return (x_t - s * output) / a
        return a * x_t - s * output

    def to_eps(self, x_t: torch.Tensor, t: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        if self.prediction == "eps":
            return output
        a, s = self._scales(t, x_t)
        if self.prediction == "x0":
            return (x_t - a * output) / s
        return s * x_t + a * output

    def to_v(self, x_t: torch.Tensor, t: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        """The v estimate ``√ᾱ ε̂ - √(1-ᾱ) x̂0`` implied by ``output``."""
        if self.prediction == "v":
            return output
        a, s = self._scales(t, x_t)
        return a * self.to_eps(x_t, t, output) - s * self.to_x0(x_t, t, output)

    def loss_weight(self, t: torch.Tensor) -> torch.Tensor:
        """1 (uniform), or Min-SNR-γ expressed for the prediction: ``min(SNR, γ) / SNR`` (eps),
        ``min(SNR, γ) / (SNR + 1)`` (v), ``min(SNR, γ)`` (x0) (Hang et al. 2023, eq. 8)."""
        if self.loss_weighting == "uniform":
            return torch.ones_like(t, dtype=torch.float32)
        snr = self.noise_schedule.snr(t)
        clipped = snr.clamp(max=self.snr_gamma)
        if self.prediction == "eps":
            weight = torch.where(snr > 0, clipped / snr, torch.ones_like(snr))
        elif self.prediction == "v":
            weight = clipped / (snr + 1)
        else:
            weight = clipped
        return weight.float()

    def scheduler(
        self, name: str, steps: int, *, device: torch.device | str | None = None
    ) -> SchedulerMixin:
        spec = self._sampler_spec(name, steps)
        betas: dict[str, Any] = {
            "beta_schedule": BETA_SCHEDULES[self.schedule],
            "beta_start": self.beta_start,
            "beta_end": self.beta_end,
            "rescale_betas_zero_snr": self.zero_terminal_snr,
        }
        if self.shift != 1.0:  # a table diffusers has no formula for: give the betas
            betas = {"trained_betas": self.noise_schedule.betas.numpy()}
        sched = spec.scheduler(
            num_train_timesteps=self.num_train_timesteps,
            prediction_type=PREDICTIONS[self.prediction],
            timestep_spacing="trailing",
            **betas,
            **spec.options,
        )
        sched.set_timesteps(steps, device=device)
        return sched
