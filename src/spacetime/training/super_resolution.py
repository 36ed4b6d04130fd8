"""Training a spatial super-resolution stage with the same :class:`~spacetime.training.Trainer`.

A run with ``super_resolution.factor > 1`` trains :func:`~spacetime.models.super_resolution.
build_sr_model`'s network on the run's clips (pixels, ``data.size`` is the *high* resolution):
each clip is box-downsampled by the factor, upsampled back bicubically, noised to a random
conditioning-augmentation level ``s ~ U[0, augment_max]`` (Cascaded Diffusion Models, Ho et al.
2022, Sec. 4.1; Imagen Video Sec. 2.5), and the objective's loss is taken on the high-resolution
clip with that conditioning bound. Everything else (resume, EMA, checkpoints, accumulation,
processes) is the trainer's; the published pipeline is a
:class:`~spacetime.pipelines.super_resolution.SuperResolutionPipeline`::

    spacetime train --preset sr-shapes --out runs/sr
"""

from __future__ import annotations

from typing import Any

import torch

from spacetime.diffusion.registry import build_objective
from spacetime.errors import SpacetimeError
from spacetime.models.super_resolution import LowResConditioned, build_sr_model, downsample
from spacetime.models.super_resolution import upsample as upsample_video
from spacetime.training.components import Components, DiffusionSystem, objective_config
from spacetime.training.config import TrainConfig

__all__ = ["SuperResolutionSystem", "build_sr_components", "is_super_resolution", "sr_pipeline"]


def is_super_resolution(config: TrainConfig) -> bool:
    """Whether ``config`` trains a super-resolution stage."""
    return config.super_resolution.factor > 1


class SuperResolutionSystem(DiffusionSystem):
    """The denoiser (no text encoder) whose loss conditions on the degraded clip.

    Args:
        denoiser: a network from :func:`build_sr_model`.
        objective: noising, target and weighting of the high-resolution clip.
        factor: the downsampling factor of the conditioning.
        augment_max: the largest conditioning-augmentation level (training units).
        crop: side of the random square crop trained on (0: whole frames).
    """

    def __init__(
        self,
        denoiser: torch.nn.Module,
        objective: Any,
        factor: int,
        augment_max: float,
        crop: int = 0,
    ) -> None:
        super().__init__(denoiser, None, objective)
        self.factor, self.augment_max, self.crop = int(factor), float(augment_max), int(crop)

    def forward(
        self,
        video: torch.Tensor,
        captions: list[str],
        frame_mask: torch.Tensor | None,
        generator: torch.Generator,
    ) -> torch.Tensor:
        """Loss of high-resolution clips ``video`` (B, C, T, H, W) in [-1, 1]; captions and
        frame masks do not apply. ``generator`` draws the crop and the augmentation, then ``t``
        and noise."""
        if self.crop:
            h, w = video.shape[-2:]
            top, left = (
                int(torch.randint(0, (n - self.crop) // self.factor + 1, (1,),
                                  generator=generator)) * self.factor
                for n in (h, w)
            )  # fmt: skip
            video = video[..., top : top + self.crop, left : left + self.crop]
        b = video.shape[0]
        low = upsample_video(downsample(video, self.factor), self.factor)  # (B, C, T, H, W)
        level = torch.rand(b, generator=generator, device=generator.device) * self.augment_max
        level = level.to(video.device)
        noise = torch.randn(low.shape, generator=generator, device=generator.device)
        low = self.objective.add_noise(low, noise.to(low), level)
        bound = LowResConditioned(self.denoiser, low, level)
        return self.objective.loss(bound, video, generator=generator)


def build_sr_components(config: TrainConfig) -> Components:
    """The parts of a super-resolution run (pixels only; no text encoder)."""
    from spacetime.training.components import build_datasets

    if config.autoencoder.path:
        raise SpacetimeError("super_resolution works on pixels: drop autoencoder.path")
    if config.data.size % config.super_resolution.factor:
        raise SpacetimeError(
            f"data.size={config.data.size} is not a multiple of super_resolution.factor="
            f"{config.super_resolution.factor}"
        )
    torch.manual_seed(config.seed)  # initial weights
    videos, _, _ = build_datasets(config)
    denoiser = build_sr_model(config.model.name, temporal=config.model.temporal,
                              **config.model.overrides)  # fmt: skip
    objective = build_objective(objective_config(config))
    return Components(denoiser, None, objective, videos, validation_captions=[""])


def build_system(config: TrainConfig, parts: Components) -> DiffusionSystem:
    """The trainable system of a run: super-resolution or the usual denoiser + text encoder."""
    if is_super_resolution(config):
        sr = config.super_resolution
        return SuperResolutionSystem(
            parts.denoiser, parts.objective, sr.factor, sr.augment_max, sr.crop
        )
    return DiffusionSystem(parts.denoiser, parts.text_encoder, parts.objective)


def sr_pipeline(config: TrainConfig, system: DiffusionSystem) -> Any:
    """The published pipeline of a super-resolution run around ``system``'s denoiser."""
    from spacetime.pipelines.super_resolution import SuperResolutionPipeline

    sr = config.super_resolution
    return SuperResolutionPipeline(
        system.denoiser, system.objective, factor=sr.factor, noise_level=sr.noise_level,
        window=config.data.frames,
    )  # fmt: skip
