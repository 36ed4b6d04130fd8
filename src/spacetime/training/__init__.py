"""spacetime.training: the trainer on 🤗 accelerate, its typed config, checkpoints and EMA.

- :class:`Trainer` (``trainer``): the loop — gradient accumulation, clipping, EMA, mixed
  precision, caption dropout, frame masks, joint image–video steps, periodic samples, atomic
  checkpoints and bit-exact resume; DDP under ``torchrun`` / ``accelerate launch``.
- :class:`TrainConfig` and :func:`load_config` (``config``): dataclasses, YAML presets in
  ``configs/``, ``--set key=value`` overrides (merged and type-checked by ``dataclass_yaml``).
- ``autoencoder`` (the frame autoencoder's training loop) and ``autoencoder_config`` (its
  recipe).
- ``checkpoint`` (safetensors + JSON, atomic), ``ema``, ``optim`` (AdamW + warm-up),
  ``batches`` (who trains on which clip), ``seeding`` (``(seed, step, shard)`` streams),
  ``monitor`` (run log, scored samples), ``components`` (parts built from a config),
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
