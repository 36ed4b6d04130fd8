"""spacetime.training: the trainer on 🤗 accelerate, its typed config, checkpoints and EMA.

- ``loop``: the one training skeleton (:class:`~spacetime.training.loop.TrainLoop`) — gradient
  accumulation, clipping, EMA, mixed precision, logging, divergence check, atomic checkpoints
  and bit-exact resume; DDP under ``torchrun`` / ``accelerate launch``. Each trainer says only
  what it trains and on which data:
- :class:`Trainer` (``trainer``): the diffusion model — caption dropout, frame masks, joint
  image–video steps, latent-space runs, stages (``stages``: init, inflate, frozen weights),
  periodic samples and the text-use probe (``probe``);
- ``autoencoder`` (the frame autoencoder's trainer), ``autoencoder_config`` (its recipe),
  ``autoencoder_data`` (its frames) and ``autoencoder_loss`` (its loss and held-out PSNR).
- :class:`TrainConfig` and :func:`load_config` (``config``): dataclasses, YAML presets shipped
  in ``spacetime/configs/`` (found by ``presets``), ``--set key=value`` overrides (merged and
  type-checked by ``dataclass_yaml``).
- ``checkpoint`` (safetensors + JSON, atomic), ``ema``, ``optim`` (AdamW + warm-up),
  ``batches`` (who trains on which clip), ``seeding`` (``(seed, step, shard)`` streams),
  ``monitor`` (run log, step timer, scored samples), ``components`` (parts built from a config),
  ``latent`` (the frozen autoencoder of latent-space runs and its latent cache).
"""

from spacetime.training.checkpoint import TrainingState, find_checkpoint, load_state
from spacetime.training.config import (
    TrainConfig,
    dump_config,
    list_presets,
    load_config,
    validate_config,
)
from spacetime.training.ema import EMA
from spacetime.training.trainer import Trainer, TrainingDivergedError

__all__ = [
    "EMA",
    "TrainConfig",
    "Trainer",
    "TrainingDivergedError",
    "TrainingState",
    "dump_config",
    "find_checkpoint",
    "list_presets",
    "load_config",
    "load_state",
    "validate_config",
]
