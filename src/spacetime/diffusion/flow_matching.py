"""Flow matching / rectified flow on the straight path ``x_σ = (1 - σ) x0 + σ ε``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from diffusers import SchedulerMixin

from spacetime.diffusion.objectives import Objective, broadcast_t
from spacetime.errors import SpacetimeError

TIME_SAMPLINGS = ("uniform", "logit-normal")


@dataclass(frozen=True)
class FlowMatchingObjective(Objective):
    """Rectified flow / flow matching: ``x_σ = (1 - σ) x0 + σ ε``; the network predicts the
    velocity ``u = dx_σ/dσ = ε - x0`` (Liu et al. 2023; Lipman et al. 2023; Esser et al. 2024).

    Args:
        time_sampling: training density of σ: ``"uniform"`` or ``"logit-normal"``
            (σ = sigmoid(m + s·n), n ~ N(0, 1); SD3, Esser et al. 2024, eq. 19).
        logit_mean, logit_std: m and s of the logit-normal density.
        shift: sampling timestep shift ``σ' = shift·σ / (1 + (shift-1)·σ)`` (SD3 eq. 23);
            >1 spends more steps at high noise, which large frames and long clips need.
        num_train_timesteps: the network's ``t`` is ``σ · N`` (N = 1000, diffusers' units).
        per_frame_t: draw an independent σ per frame during training.
    """

    family: ClassVar[str] = "flow"
    time_sampling: str = "uniform"
    logit_mean: float = 0.0
    logit_std: float = 1.0
    shift: float = 1.0
    num_train_timesteps: int = 1000
    per_frame_t: bool = False

    def __post_init__(self) -> None:
        if self.time_sampling not in TIME_SAMPLINGS:
            raise SpacetimeError(
                f"unknown time_sampling {self.time_sampling!r}; expected one of "
                f"{', '.join(TIME_SAMPLINGS)}"
            )
        if self.logit_std <= 0 or self.shift <= 0:
            raise SpacetimeError(
                f"logit_std and shift must be > 0, got {self.logit_std} and {self.shift}"
            )

    def sigma(self, t: torch.Tensor) -> torch.Tensor:
        """Noise fraction ``σ = t / N`` in [0, 1]."""
        return t / self.num_train_timesteps

    def _sigma(self, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.sigma(broadcast_t(t, x)).to(x.dtype)

    def _draw_t(self, shape: tuple[int, ...], draw: dict[str, Any]) -> torch.Tensor:
        """``t = N·σ`` with σ uniform or logit-normal (SD3, Esser et al. 2024, Sec. 3.1)."""
        if self.time_sampling == "uniform":
            sigma = torch.rand(shape, **draw)
        else:
            sigma = torch.sigmoid(self.logit_mean + self.logit_std * torch.randn(shape, **draw))
        return sigma * self.num_train_timesteps

    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        s = self._sigma(t, x0)
        return (1 - s) * x0 + s * noise

    def target(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return noise - x0

    def to_x0(self, x_t: torch.Tensor, t: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        return x_t - self._sigma(t, x_t) * output

    def to_eps(self, x_t: torch.Tensor, t: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        return x_t + (1 - self._sigma(t, x_t)) * output

    def loss_weight(self, t: torch.Tensor) -> torch.Tensor:
        """1: the time density (``time_sampling``) already carries the weighting."""
        return torch.ones_like(t, dtype=torch.float32)

    def scheduler(
        self, name: str, steps: int, *, device: torch.device | str | None = None
    ) -> SchedulerMixin:
        spec = self._sampler_spec(name, steps)
        sched = spec.scheduler(
            num_train_timesteps=self.num_train_timesteps, shift=self.shift, **spec.options
        )
        sched.set_timesteps(steps, device=device)
        return sched
