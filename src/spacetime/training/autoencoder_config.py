"""The recipe of an autoencoder training run: :class:`AutoencoderTrainConfig`, its loading
from a YAML file and ``--set key=value`` overrides, and its checks.

::

    config = load_autoencoder_config("autoencoder-shapes", ["steps=200"])  # a bundled recipe

The training itself is :mod:`spacetime.training.autoencoder` (on the skeleton of
:mod:`spacetime.training.loop`, which also refuses to resume a run with other settings than
the :data:`RESUMABLE` ones); it re-exports the names of this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from spacetime.contracts.dataclass_yaml import apply_overrides, merge, read_yaml
from spacetime.contracts.presets import config_file
from spacetime.errors import SpacetimeError
from spacetime.models.autoencoder import AUTOENCODER_PRESETS
from spacetime.training.config import OptimConfig

__all__ = [
    "RESUMABLE",
    "AutoencoderTrainConfig",
    "load_autoencoder_config",
    "validate_autoencoder_config",
]


@dataclass
class AutoencoderTrainConfig:
    """One autoencoder training run (``OUT/config.yaml`` holds the resolved copy)."""

    preset: str = "shapes-f4"  # architecture: a name in AUTOENCODER_PRESETS
    data: str = "shapes"  # "shapes" (rendered on the fly) or a video / frame-folder path
    size: int = 64  # frame side in pixels (folder data: resized to cover, center-cropped)
    clip_frames: int = 16  # frames per clip (ShapesWorld render length; held-out clip length)
    train_clips: int = 256  # clips in the in-memory training pool (ShapesWorld: rendered once)
    frames_per_video: int = 64  # folder data: frames read from the start of each video
    crop: int = 32  # train on random crop x crop windows (0 = whole frames)
    batch_size: int = 16  # frames (crops) per optimizer step, over all processes
    micro_batch_size: int = 0  # frames per forward pass per process (0 = batch_size / processes)
    steps: int = 1500  # optimizer steps in total
    optim: OptimConfig = field(
        default_factory=lambda: OptimConfig(
            lr=2e-3, weight_decay=0.0, warmup_steps=100, schedule="cosine", min_lr_ratio=0.1
        )
    )  # AdamW; a small network tolerates a high peak rate
    mse_weight: float = 10.0  # squared error, relative to L1: large (colour) errors first
    edge_weight: float = 0.5  # gradient difference loss (sharp edges), relative to L1
    kl_weight: float = 1e-5  # KL to N(0, I) per latent value: keeps the latent space tame
    sample_posterior: bool = True  # decode z ~ q(z|x) (a VAE); False: the mean (an AE whose
    # KL term is then an L2 penalty on the latents), which trains faster with a tiny KL weight
    ema_decay: float = 0.999  # EMA of the weights (0 = publish the raw weights)
    ema_warmup: bool = True  # decay ramps up as (1 + n) / (10 + n) early in training
    eval_clips: int = 8  # held-out clips for the PSNR (ShapesWorld: a fixed set for all runs)
    eval_every: int = 250  # steps between held-out PSNR log lines (0 = only at the end)
    scaling_clips: int = 32  # training clips used to estimate the latent scaling factor
    chunk_size: int = 16  # frames per forward pass when encoding / decoding whole clips
    seed: int = 0  # every random stream is seeded from (seed, step, shard)
    log_every: int = 50  # steps between lines of OUT/log.jsonl
    checkpoint_every: int = 250  # steps between checkpoints (always one at the end)
    snapshot_every: int = 0  # steps between kept copies of the EMA autoencoder
    # (OUT/snapshots/step_0001000/); 0 = keep only the latest checkpoint
    progress: bool = True  # progress bar with the loss


# Keys a resumed run may change: bookkeeping only, the weights do not depend on them.
RESUMABLE = frozenset(
    {
        "steps",
        "log_every",
        "checkpoint_every",
        "snapshot_every",
        "eval_every",
        "eval_clips",
        "progress",
    }
)


def load_autoencoder_config(
    file: str | Path | None = None, overrides: list[str] | None = None
) -> AutoencoderTrainConfig:
    """Defaults <- YAML ``file`` (a path, or a bundled recipe's name such as
    ``autoencoder-shapes``) <- ``overrides`` (``key.sub=value``), checked.

    Unknown keys and badly typed values raise :class:`SpacetimeError` naming them.
    """
    config = AutoencoderTrainConfig()
    if file is not None:
        path = config_file(file)
        config = merge(config, read_yaml(path), source=str(path))
    config = apply_overrides(config, overrides or [])
    validate_autoencoder_config(config)
    return config


def validate_autoencoder_config(config: AutoencoderTrainConfig) -> None:
    """Ranges the types do not check; raises :class:`SpacetimeError` naming the key."""
    if config.preset not in AUTOENCODER_PRESETS:
        raise SpacetimeError(
            f"preset: unknown autoencoder preset {config.preset!r}; expected one of: "
            f"{', '.join(AUTOENCODER_PRESETS)}"
        )
    positive = ("size", "clip_frames", "train_clips", "frames_per_video", "batch_size", "steps")
    for key in (*positive, "eval_clips", "scaling_clips", "chunk_size", "log_every"):
        if getattr(config, key) < 1:
            raise SpacetimeError(f"{key} must be >= 1, got {getattr(config, key)}")
    non_negative = ("crop", "micro_batch_size", "eval_every", "checkpoint_every", "snapshot_every")
    for key in (*non_negative, "seed"):
        if getattr(config, key) < 0:
            raise SpacetimeError(f"{key} must be >= 0, got {getattr(config, key)}")
    factor = 2 ** (len(AUTOENCODER_PRESETS[config.preset]["block_out_channels"]) - 1)
    for key in ("size", "crop"):
        if getattr(config, key) % factor:
            raise SpacetimeError(
                f"{key}={getattr(config, key)} must be a multiple of the spatial factor "
                f"{factor} of preset {config.preset}"
            )
    if config.crop > config.size:
        raise SpacetimeError(f"crop={config.crop} must be <= size={config.size} (or 0)")
    if not 0.0 <= config.ema_decay < 1.0:
        raise SpacetimeError(f"ema_decay must be in [0, 1), got {config.ema_decay}")
    if min(config.kl_weight, config.edge_weight, config.mse_weight) < 0 or not config.optim.lr > 0:
        raise SpacetimeError("kl_weight, edge_weight, mse_weight must be >= 0 and optim.lr > 0")
