"""The objective interface: Gaussian diffusion (``gaussian``) and flow matching (``flow_matching``)
implement it, and :mod:`.registry` builds either from its config.

The objective owns everything about the parameterisation — noising, the regression target,
the loss weighting, conversions between predictions, and the diffusers scheduler that samples
it — so the denoiser is a plain network ``model(x_t, t, *, text, frames)`` that never sees it
(the split of k-diffusion's ``Denoiser`` wrapper).

Timestep units seen by the network (``t`` is ``(B,)`` or per-frame ``(B, T)``, float):

- Gaussian: ``t`` is the discrete training index in ``[0, N-1]`` (N = 1000 by default), the
  same units as diffusers' ``scheduler.timesteps``.
- Flow matching: ``t = 1000·σ`` with ``σ ∈ [0, 1]`` the noise fraction, the units of
  diffusers' ``FlowMatchEulerDiscreteScheduler.timesteps``.

Given (conditioning) frames are clean: their ``t`` is 0 and ``x_t = x_0`` there, and they are
left out of the loss (Diffusion Forcing-style per-frame noise levels, Chen et al. 2024).
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

import torch
from diffusers import SchedulerMixin

from spacetime.contracts.conditioning import FrameCondition, TextEmbedding
from spacetime.diffusion.samplers import SAMPLERS, SamplerSpec, resolve_sampler
from spacetime.errors import SpacetimeError

__all__ = ["SAMPLERS", "Denoiser", "Objective", "broadcast_t", "randn"]

#: A denoiser: ``model(x_t (B, C, T, H, W), t (B,) | (B, T), *, text, frames) -> (B, C, T, H, W)``.
Denoiser = Callable[..., torch.Tensor]


def broadcast_t(t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``t`` (B,) -> (B, 1, 1, 1, 1); per-frame ``t`` (B, T) -> (B, 1, T, 1, 1), like ``x``."""
    b = x.shape[0]
    if t.ndim == 1 and t.shape[0] == b:
        return t.reshape(b, *([1] * (x.ndim - 1)))
    if t.ndim == 2 and x.ndim == 5 and tuple(t.shape) == (b, x.shape[2]):
        return t[:, None, :, None, None]
    raise SpacetimeError(
        f"timesteps t must be (B,) or (B, T) for x of shape {tuple(x.shape)}; got {tuple(t.shape)}"
    )


def randn(
    shape: torch.Size | tuple[int, ...],
    generator: torch.Generator | None,
    device: torch.device,
    dtype: torch.dtype,
) -> torch.Tensor:
    """Standard normal noise drawn on the generator's device, then moved to ``device``."""
    draw_device = generator.device if generator is not None else device
    return torch.randn(shape, generator=generator, device=draw_device, dtype=dtype).to(device)


class Objective(ABC):
    """A training objective and its sampling parameterisation (see the module docstring)."""

    #: ``"gaussian"`` or ``"flow"``: which samplers of :data:`SAMPLERS` integrate it.
    family: ClassVar[str]
    num_train_timesteps: int
    per_frame_t: bool

    def sample_t(
        self,
        batch: int,
        frames: int,
        *,
        generator: torch.Generator | None = None,
        per_frame: bool = False,
        device: torch.device | str | None = None,
    ) -> torch.Tensor:
        """Training timesteps: ``(B,)``, or ``(B, T)`` independent per frame; float on ``device``.

        Drawn on the generator's device (so a CPU generator gives the same draw whatever
        ``device`` is) by :meth:`_draw_t`, the objective's distribution.
        """
        shape = (batch, frames) if per_frame else (batch,)
        draw = {"generator": generator, "device": generator.device if generator else device}
        return self._draw_t(shape, draw).float().to(device)

    @abstractmethod
    def _draw_t(self, shape: tuple[int, ...], draw: dict[str, Any]) -> torch.Tensor:
        """Timesteps of ``shape`` in ``[0, N]`` from the objective's training distribution;
        ``draw`` (``generator``, ``device``) goes to the ``torch.rand*`` call."""

    @abstractmethod
    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """``x_t`` from clean ``x0`` and standard normal ``noise`` (B, C, T, H, W) at ``t``."""

    @abstractmethod
    def target(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """What the network regresses at ``x_t = add_noise(x0, noise, t)``."""

    @abstractmethod
    def to_x0(self, x_t: torch.Tensor, t: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        """The clean-data estimate implied by a network ``output`` at ``(x_t, t)``."""

    @abstractmethod
    def to_eps(self, x_t: torch.Tensor, t: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        """The noise estimate implied by a network ``output`` at ``(x_t, t)``."""

    @abstractmethod
    def loss_weight(self, t: torch.Tensor) -> torch.Tensor:
        """Per-timestep loss weight, same shape as ``t``."""

    @abstractmethod
    def scheduler(
        self, name: str, steps: int, *, device: torch.device | str | None = None
    ) -> SchedulerMixin:
        """A fresh diffusers scheduler ``name`` (key of :data:`SAMPLERS`) configured like this
        objective, with ``steps`` timesteps already set."""

    def to_config(self) -> dict[str, Any]:
        """A JSON-serialisable config; :func:`build_objective` inverts it."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}
        return {"kind": self.family, **values}

    def _sampler_spec(self, name: str, steps: int) -> SamplerSpec:
        return resolve_sampler(name, self.family, steps, self.num_train_timesteps)

    def loss(
        self,
        model: Denoiser,
        x0: torch.Tensor,
        *,
        text: TextEmbedding | None = None,
        frames: FrameCondition | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Weighted mean squared error of ``model`` on clean videos ``x0`` (B, C, T, H, W).

        Draws ``t`` (per frame when ``per_frame_t``) and the noise from ``generator``. Frames
        given by ``frames`` get ``t = 0`` and their clean values, and are excluded from the
        mean, so they contribute neither loss nor gradient. Returns a float32 scalar.
        """
        if x0.ndim != 5:
            raise SpacetimeError(f"x0 must be (B, C, T, H, W), got shape {tuple(x0.shape)}")
        b, _, n_frames = x0.shape[:3]
        t = self.sample_t(
            b, n_frames, generator=generator, per_frame=self.per_frame_t, device=x0.device
        )
        noise = randn(x0.shape, generator, x0.device, x0.dtype)
        free = torch.ones(b, n_frames, dtype=torch.bool, device=x0.device)  # (B, T)
        if frames is not None:
            if tuple(frames.mask.shape) != (b, n_frames):
                raise SpacetimeError(
                    f"frame mask {tuple(frames.mask.shape)} does not match x0 {tuple(x0.shape)}"
                )
            given = frames.mask.to(x0.device)
            t = (t[:, None].expand(b, n_frames) if t.ndim == 1 else t).masked_fill(given, 0.0)
            free = ~given
        x_t = self.add_noise(x0, noise, t)  # (B, C, T, H, W)
        if frames is not None:
            x_t = frames.apply(x_t)
        output = model(x_t, t, text=text, frames=frames)  # (B, C, T, H, W)
        target = self.target(x0, noise, t)
        err = (output.float() - target.float()).pow(2).mean(dim=(1, 3, 4))  # (B, T)
        weight = self.loss_weight(t).float()
        weight = weight[:, None].expand(b, n_frames) if weight.ndim == 1 else weight  # (B, T)
        keep = free.float()
        return (weight * err * keep).sum() / keep.sum().clamp_min(1.0)
