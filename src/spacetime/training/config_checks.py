"""Checks of a resolved :class:`~spacetime.training.config.TrainConfig` that its types alone
do not make: choices, ranges, and settings that only make sense together.

Names owned by other packages (model presets, objective kinds, mask strategies) are checked by
the builders of those packages when the run starts; NaN and infinities are refused earlier,
when YAML or ``--set`` values are read (:mod:`spacetime.contracts.dataclass_yaml`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from spacetime.diffusion.masks import MASK_STRATEGIES
from spacetime.errors import SpacetimeError

if TYPE_CHECKING:
    from spacetime.training.config import TrainConfig

__all__ = ["validate_config"]

CHOICES: dict[str, tuple[str, ...]] = {
    "text.kind": ("word", "hf"),
    "objective.kind": ("gaussian", "flow"),
    "data.kind": ("shapes", "video_folder", "image_folder"),
    "optim.schedule": ("constant", "cosine"),
    "finetune.spatial": ("train", "frozen", "scaled"),
    "mixed_precision": ("no", "bf16", "fp16"),
}


def validate_config(config: TrainConfig) -> None:
    """Check values and ranges that the types alone do not; raises :class:`SpacetimeError`
    naming the first offending key."""
    _check_choices(config)
    _check_ranges(config)
    _check_sampling_and_masks(config)
    _check_paths(config)
    _check_super_resolution(config)
    _check_staging(config)


def _check_choices(config: TrainConfig) -> None:
    flat = {
        "text.kind": config.text.kind,
        "objective.kind": config.objective.kind,
        "data.kind": config.data.kind,
        "optim.schedule": config.optim.schedule,
        "finetune.spatial": config.finetune.spatial,
        "mixed_precision": config.mixed_precision,
    }
    for key, value in flat.items():
        if value not in CHOICES[key]:
            raise SpacetimeError(f"{key} must be one of {', '.join(CHOICES[key])}; got {value!r}")


def _check_ranges(config: TrainConfig) -> None:
    positive = {
        "batch_size": config.batch_size,
        "steps": config.steps,
        "data.frames": config.data.frames,
        "data.size": config.data.size,
        "log_every": config.log_every,
        "checkpoint_every": config.checkpoint_every,
        "text.dim": config.text.dim,
        "text.layers": config.text.layers,
        "text.heads": config.text.heads,
        "autoencoder.chunk_size": config.autoencoder.chunk_size,
    }
    for key, value in positive.items():
        if value < 1:
            raise SpacetimeError(f"{key} must be >= 1, got {value}")
    non_negative = {
        "micro_batch_size": config.micro_batch_size,
        "sample_every": config.sample_every,
        "sample_count": config.sample_count,
        "probe_every": config.probe_every,
        "snapshot_every": config.snapshot_every,
        "optim.warmup_steps": config.optim.warmup_steps,
        "optim.grad_clip": config.optim.grad_clip,
        "optim.weight_decay": config.optim.weight_decay,
        "data.num_workers": config.data.num_workers,
        "autoencoder.cache_clips": config.autoencoder.cache_clips,
        "seed": config.seed,
    }
    for key, value in non_negative.items():
        if value < 0:
            raise SpacetimeError(f"{key} must be >= 0, got {value}")
    unit = {
        "text.caption_dropout": config.text.caption_dropout,
        "data.image_ratio": config.data.image_ratio,
        "ema_decay": config.ema_decay,
        "optim.min_lr_ratio": config.optim.min_lr_ratio,
        "finetune.spatial_lr_scale": config.finetune.spatial_lr_scale,
        "optim.betas[0]": config.optim.betas[0],
        "optim.betas[1]": config.optim.betas[1],
    }
    for key, value in unit.items():
        if not 0.0 <= value <= 1.0:
            raise SpacetimeError(f"{key} must be in [0, 1], got {value}")
    if config.data.kind == "shapes" and config.data.shapes_count < 1:
        raise SpacetimeError(f"data.shapes_count must be >= 1, got {config.data.shapes_count}")
    if config.optim.lr <= 0:
        raise SpacetimeError(f"optim.lr must be > 0, got {config.optim.lr}")


def _check_sampling_and_masks(config: TrainConfig) -> None:
    if config.sample_every and (config.sample_steps < 1 or config.sample_count < 1):
        raise SpacetimeError(
            f"sample_every={config.sample_every} needs sample_steps >= 1 and sample_count >= 1 "
            f"(got {config.sample_steps} and {config.sample_count}); or set sample_every=0"
        )
    probs = config.masks.probs
    unknown = sorted(set(probs) - set(MASK_STRATEGIES))
    if unknown:
        raise SpacetimeError(
            f"unknown frame-mask strategy {', '.join(unknown)} in masks.probs; expected keys "
            f"among {', '.join(MASK_STRATEGIES)}"
        )
    if any(p < 0 for p in probs.values()) or sum(probs.values()) <= 0:
        raise SpacetimeError(f"masks.probs must be >= 0 with a positive sum, got {probs}")


def _check_paths(config: TrainConfig) -> None:
    if config.data.kind != "shapes" and not config.data.path:
        raise SpacetimeError(f"data.kind={config.data.kind} needs data.path (a directory)")
    if config.text.kind == "hf" and not config.text.path:
        raise SpacetimeError("text.kind=hf needs text.path (a local Hugging Face model directory)")
    if config.init.inflate and not config.init.path:
        raise SpacetimeError("init.inflate needs init.path (the per-frame model to inflate)")


def _check_super_resolution(config: TrainConfig) -> None:
    sr = config.super_resolution
    if sr.factor < 1 or not 0 <= sr.augment_max < 1000 or not 0 <= sr.noise_level < 1000:
        raise SpacetimeError(
            f"super_resolution needs factor >= 1 and augment_max, noise_level in [0, 1000); "
            f"got {sr.factor}, {sr.augment_max}, {sr.noise_level}"
        )
    if sr.crop < 0 or sr.crop % sr.factor or sr.crop > config.data.size:
        raise SpacetimeError(
            f"super_resolution.crop must be 0 or a multiple of the factor {sr.factor} up to "
            f"data.size={config.data.size}; got {sr.crop}"
        )


def _check_staging(config: TrainConfig) -> None:
    if config.finetune.spatial != "train" and not config.model.temporal:
        raise SpacetimeError(
            f"finetune.spatial={config.finetune.spatial} keeps only temporal layers at full "
            "rate, but model.temporal=false has none"
        )
