"""What a run trains, built from its :class:`TrainConfig`: denoiser, text encoder, objective, data
and, for latent-space runs, the frozen autoencoder (:mod:`spacetime.training.latent`).

:class:`DiffusionSystem` puts the trainable parts in one ``nn.Module`` whose ``forward`` returns
the loss, so that accelerate's DDP / FSDP wrapper sees every trainable parameter (denoiser and
word-level text encoder) and synchronises their gradients in one place. The autoencoder stays
outside it: it has nothing to train, and FSDP need not shard it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from spacetime.contracts.conditioning import FrameCondition, TextEmbedding
from spacetime.data.augment import TemporalAugment
from spacetime.data.clip_dataset import ClipDataset
from spacetime.diffusion.objectives import Objective
from spacetime.diffusion.registry import build_objective
from spacetime.errors import SpacetimeError
from spacetime.models.autoencoder import FrameAutoencoder
from spacetime.training.config import TrainConfig
from spacetime.training.latent import latent_size, load_frozen_autoencoder

__all__ = [
    "Components",
    "DiffusionSystem",
    "build_components",
    "build_datasets",
    "latent_source",
    "objective_config",
]


@dataclass
class Components:
    """The parts of a run. ``images`` is the still-image set of joint training (or None);
    ``autoencoder`` the frozen latent space (None: the denoiser works on pixels)."""

    denoiser: nn.Module
    text_encoder: nn.Module | None
    objective: Objective
    videos: ClipDataset
    images: ClipDataset | None = None
    validation_captions: list[str] | None = None  # prompts of the periodic samples
    autoencoder: FrameAutoencoder | None = None
    encoded: bool = False  # True: ``videos`` holds latents already (``data.latents``)


class DiffusionSystem(nn.Module):
    """Denoiser + text encoder; ``forward`` is the training loss of one micro-batch.

    Args:
        denoiser: ``model(x_t, t, *, text, frames) -> (B, C, T, H, W)``.
        text_encoder: ``(list[str]) -> TextEmbedding``, or None for unconditional models.
        objective: owns noising, target and loss weighting.
    """

    def __init__(
        self, denoiser: nn.Module, text_encoder: nn.Module | None, objective: Objective
    ) -> None:
        super().__init__()
        self.denoiser = denoiser
        self.text_encoder = text_encoder
        self.objective = objective

    def encode(self, captions: list[str]) -> TextEmbedding | None:
        """Text embedding of ``captions`` (B strings), or None without a text encoder."""
        if self.text_encoder is None:
            return None
        trainable = any(p.requires_grad for p in self.text_encoder.parameters())
        with torch.set_grad_enabled(trainable and torch.is_grad_enabled()):
            return self.text_encoder(captions)

    def forward(
        self,
        video: torch.Tensor,
        captions: list[str],
        frame_mask: torch.Tensor | None,
        generator: torch.Generator,
    ) -> torch.Tensor:
        """Loss of clean clips ``video`` (B, C, T, H, W): pixels in [-1, 1], or latents of
        a latent-space run (encoded by the trainer); a float32 scalar.

        ``frame_mask`` (B, T) bool marks given frames (None: the model takes no frames);
        ``generator`` draws the timesteps and the noise.
        """
        text = self.encode(captions)  # tokens (B, L, D), mask (B, L)
        frames = None if frame_mask is None else FrameCondition(frame_mask, video)
        return self.objective.loss(
            self.denoiser, video, text=text, frames=frames, generator=generator
        )


def objective_config(config: TrainConfig) -> dict[str, Any]:
    """The ``build_objective`` mapping of ``config.objective``."""
    obj = config.objective
    if obj.kind == "gaussian":
        base: dict[str, Any] = {"kind": "gaussian", "prediction": obj.prediction}
        base["schedule"] = obj.schedule
        return {**base, **obj.options}
    return {"kind": obj.kind, **obj.options}


def uses_frames(config: TrainConfig) -> bool:
    """Whether the model is trained with given frames (any mask strategy but 'none')."""
    return any(p > 0 for name, p in config.masks.probs.items() if name != "none")


def latent_source(config: TrainConfig) -> dict[str, Any]:
    """What a latent dataset of ``config``'s training clips was encoded from (JSON): the data
    settings that decide the clips, and the run seed."""
    d = config.data
    keys = ("kind", "path", "frames", "size", "augment", "shapes_count")
    return {"data": {k: getattr(d, k) for k in keys}, "seed": config.seed}


def _encoded_videos(config: TrainConfig, autoencoder: FrameAutoencoder | None) -> ClipDataset:
    """The latent dataset at ``data.latents``, checked against the run's data and latent space."""
    from spacetime.data.latent_dataset import LatentDataset
    from spacetime.training.latent import autoencoder_fingerprint

    if autoencoder is None:
        raise SpacetimeError(
            "data.latents needs autoencoder.path: the latent space the clips were encoded in "
            "(it also decodes the samples)"
        )
    dataset = LatentDataset(config.data.latents)
    expected = latent_source(config)
    if dataset.source != expected:
        raise SpacetimeError(
            f"data.latents {config.data.latents!r} was encoded from {dataset.source}, but this "
            f"run's data is {expected}; encode it again with `spacetime cache-latents` and "
            "the same config"
        )
    if dataset.fingerprint != autoencoder_fingerprint(autoencoder):
        raise SpacetimeError(
            f"data.latents {config.data.latents!r} was encoded with another autoencoder than "
            f"autoencoder.path {config.autoencoder.path!r}"
        )
    return dataset


def build_datasets(
    config: TrainConfig,
) -> tuple[ClipDataset, ClipDataset | None, list[str] | None]:
    """Training clips (pixels), still images (joint training) and validation prompts."""
    from spacetime.data.image_folder import ImageFolderDataset
    from spacetime.data.shapes_dataset import ShapesDataset
    from spacetime.data.video_folder import VideoFolderDataset

    data = config.data
    flip = 0.5 if data.augment else 0.0
    validation: list[str] | None = None
    videos: ClipDataset
    if data.kind == "shapes":
        videos = ShapesDataset(
            size=data.size, frames=data.frames, length=data.shapes_count, seed=config.seed,
            flip=flip,
        )  # fmt: skip
        # A disjoint scene seed: held-out prompts the oracle can score against.
        held_out = ShapesDataset(
            size=data.size, frames=data.frames, length=64, seed=config.seed + 1
        )
        validation = [held_out[i]["caption"] for i in range(config.sample_count)]
    elif data.kind == "video_folder":
        augment = TemporalAugment.training(flip=flip) if data.augment else TemporalAugment()
        videos = VideoFolderDataset(
            data.path, frames=data.frames, size=data.size, augment=augment, short="loop"
        )
    else:  # image_folder: a clip per image, T = 1
        if data.frames != 1:
            raise SpacetimeError(
                f"data.kind=image_folder trains on still images: set data.frames=1 "
                f"(got {data.frames})"
            )
        videos = ImageFolderDataset(data.path, size=data.size, flip=flip)
    images = None
    if data.image_ratio > 0 and data.image_path:
        images = ImageFolderDataset(data.image_path, size=data.size, flip=flip)
    return videos, images, validation


def _captions(dataset: ClipDataset) -> list[str]:
    """Every caption of a folder dataset, read from its entries (no decoding)."""
    out = []
    for entry in getattr(dataset, "entries", []):
        caption = entry[1] if isinstance(entry, tuple) else getattr(entry, "caption", "")
        out.append(str(caption or ""))
    return out


def _text_encoder(config: TrainConfig, datasets: list[ClipDataset]) -> nn.Module:
    text = config.text
    if text.kind == "hf":
        from spacetime.models.text import load_text_encoder

        encoder = load_text_encoder(text.path)
        encoder.requires_grad_(False)  # a pretrained encoder stays frozen (Imagen, Sec. 2.1)
        return encoder
    from spacetime.models.text import WordTextEncoder

    options = {"dim": text.dim, "layers": text.layers, "heads": text.heads}
    if config.data.kind == "shapes":
        from spacetime.data.shapes import vocabulary

        # Every word ShapesWorld can say; captions are at most a few clauses long.
        return WordTextEncoder.from_captions(vocabulary(), max_length=64, **options)
    corpus = [c for d in datasets for c in _captions(d)]
    return WordTextEncoder.from_captions(corpus, **options)


def _latent_options(config: TrainConfig, autoencoder: FrameAutoencoder | None) -> dict[str, Any]:
    """``build_model`` options fixed by the latent space: ``in_channels`` = latent channels."""
    if autoencoder is None:
        return {}
    latent_size(autoencoder, config.data.size)  # raises unless f divides data.size
    channels = autoencoder.latent_channels
    given = config.model.overrides.get("in_channels", channels)
    if given != channels:
        raise SpacetimeError(
            f"model.overrides.in_channels={given} contradicts the autoencoder's "
            f"{channels} latent channels; drop the override (latent runs set it)"
        )
    return {"in_channels": channels}


def _check_latent_grid(denoiser: nn.Module, config: TrainConfig, latent: int) -> None:
    """The denoiser must take the latent frames (U-Net downsampling, DiT patches)."""
    multiple = int(getattr(denoiser, "spatial_multiple", 1))
    if latent % multiple:
        raise SpacetimeError(
            f"data.size={config.data.size} pixels gives {latent}x{latent} latents, but model "
            f"{config.model.name} needs multiples of {multiple}; choose data.size as a "
            f"multiple of {config.data.size // latent * multiple}"
        )


def build_components(config: TrainConfig) -> Components:
    """Build every part of the run described by ``config`` (seeded by ``config.seed``)."""
    from spacetime.models import build_model

    if config.super_resolution.factor > 1:  # a spatial super-resolution stage
        from spacetime.training.super_resolution import build_sr_components

        return build_sr_components(config)

    autoencoder = load_frozen_autoencoder(config.autoencoder)  # None: pixel space
    torch.manual_seed(config.seed)  # initial weights of the text encoder and the denoiser
    videos, images, validation = build_datasets(config)
    encoded = bool(config.data.latents)
    if encoded:
        videos = _encoded_videos(config, autoencoder)
    encoder = _text_encoder(config, [d for d in (videos, images) if d is not None])
    text_dim = int(encoder.dim)
    denoiser = build_model(
        config.model.name,
        temporal=config.model.temporal,
        text_dim=text_dim,
        frame_conditioning=uses_frames(config),
        **{**config.model.overrides, **_latent_options(config, autoencoder)},
    )
    if autoencoder is not None:
        _check_latent_grid(denoiser, config, latent_size(autoencoder, config.data.size))
    objective = build_objective(objective_config(config))
    if validation is None:
        validation = [videos[i]["caption"] for i in range(min(config.sample_count, len(videos)))]
    return Components(
        denoiser, encoder, objective, videos, images, validation, autoencoder, encoded
    )
