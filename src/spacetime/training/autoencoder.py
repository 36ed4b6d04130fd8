"""Train a :class:`~spacetime.models.autoencoder.FrameAutoencoder` on ShapesWorld or a folder, on
the skeleton of :mod:`spacetime.training.loop` (resume, accumulation, clipping, EMA, logging,
divergence check, atomic checkpoints, progress, DDP). ::

    config = load_autoencoder_config("autoencoder-shapes", ["steps=200"])  # a bundled recipe
    metrics = train_autoencoder(config, "runs/ae")     # resumes runs/ae/checkpoint if present
    ae = load_autoencoder("runs/ae/autoencoder")        # scaled latents, ready for diffusion

What this module adds to the skeleton: the network (``build_autoencoder(config.preset)``, its
initial weights seeded by ``(seed, "autoencoder-init")``), the data (a step's global batch of
frame crops drawn from ``(seed, "batch", step)`` out of :class:`~.autoencoder_data.FramePool`,
cut into shards), the loss (:class:`~.autoencoder_loss.AutoencoderLoss`, the posterior noise of
a shard from ``(seed, "posterior", step, shard)``), the held-out PSNR every ``eval_every``
steps and what a finished run leaves.

Run folder ``OUT`` (beside the skeleton's ``config.yaml``, ``log.jsonl`` with the loss terms
``l1``, ``mse``, ``edge``, ``kl`` and ``heldout_psnr``, and ``checkpoint/``, whose
``pipeline/`` holds the EMA autoencoder): at the end ``autoencoder/`` (EMA weights with the
scaling factor estimated on training clips) and ``metrics.json`` (held-out PSNR).

The recipe (:class:`AutoencoderTrainConfig`, its loading and checks) is
:mod:`spacetime.training.autoencoder_config`; its public names are re-exported here, as are the
data and the loss.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from spacetime.models.autoencoder import FrameAutoencoder, build_autoencoder, estimate_scaling
from spacetime.training.autoencoder_config import (
    RESUMABLE,
    AutoencoderTrainConfig,
    load_autoencoder_config,
    validate_autoencoder_config,
)
from spacetime.training.autoencoder_data import FramePool
from spacetime.training.autoencoder_loss import AutoencoderLoss, evaluate_autoencoder
from spacetime.training.loop import TrainLoop, make_accelerator
from spacetime.training.seeding import derive_seed, stream

__all__ = [
    "AutoencoderLoss",
    "AutoencoderTrainConfig",
    "AutoencoderTrainer",
    "FramePool",
    "evaluate_autoencoder",
    "load_autoencoder_config",
    "train_autoencoder",
]


@dataclass
class FrameBatch:
    """One micro-batch: ``frames`` (m, 3, crop, crop) in [-1, 1], shard ``shard`` of ``step``."""

    frames: torch.Tensor
    step: int
    shard: int


class AutoencoderTrainer(TrainLoop):
    """Train the autoencoder of ``config`` in the run folder ``out`` (resumed if it holds a
    checkpoint); :meth:`finish` then writes ``autoencoder/`` and ``metrics.json``."""

    name, unit, resumable = "autoencoder", "frames", RESUMABLE
    config: AutoencoderTrainConfig
    system: AutoencoderLoss

    def __init__(self, config: AutoencoderTrainConfig, out: str | Path) -> None:
        validate_autoencoder_config(config)
        super().__init__(config, out, make_accelerator("no"))
        torch.manual_seed(derive_seed(config.seed, "autoencoder-init"))
        self.autoencoder = build_autoencoder(config.preset, chunk_size=config.chunk_size)
        system = AutoencoderLoss(
            self.autoencoder, config.edge_weight, config.kl_weight,
            mse_weight=config.mse_weight, sample_posterior=config.sample_posterior,
        )  # fmt: skip
        self.pool = FramePool.build(config)
        self.start(system.to(self.accelerator.device))

    def batches(self, end: int) -> Iterator[FrameBatch]:
        cfg, micro = self.config, self.plan.micro
        for step in range(self.step, end):
            # The global batch of the step, then this process's shards of it.
            frames = self.pool.batch(stream(cfg.seed, "batch", step), cfg.batch_size, cfg.crop)
            for shard in self.plan.local_shards():
                yield FrameBatch(frames[shard * micro : (shard + 1) * micro], step, shard)

    def forward(self, batch: FrameBatch) -> dict[str, torch.Tensor]:
        device = self.accelerator.device
        noise = stream(self.config.seed, "posterior", batch.step, batch.shard, device=device)
        return self.model(batch.frames.to(device), noise)

    def ema_model(self) -> FrameAutoencoder:
        """A copy of the autoencoder holding the EMA weights (eval mode)."""
        system = copy.deepcopy(self.system)
        self.ema.copy_to(system)
        return system.autoencoder.eval()

    def periodic(self) -> dict[str, Any]:
        """The held-out PSNR of the EMA weights every ``eval_every`` steps (main process)."""
        cfg = self.config
        if not (cfg.eval_every and self.step % cfg.eval_every == 0 and self.is_main):
            return {}
        return {"heldout_psnr": evaluate_autoencoder(self.ema_model(), self.pool.heldout)["psnr"]}

    def summary(self, end: int) -> list[str]:
        cfg, ae = self.config, self.autoencoder
        params = sum(p.numel() for p in ae.parameters())
        return [
            f"spacetime train-autoencoder: {cfg.preset} ({params / 1e6:.2f}M parameters, "
            f"f={ae.spatial_factor}, c={ae.latent_channels}) on {self.accelerator.device} "
            f"x{self.accelerator.num_processes}; {cfg.batch_size} frames/step "
            f"({cfg.crop or cfg.size}px crops), steps {self.step} -> {end}"
        ]

    def finish(self) -> dict[str, Any]:
        """Estimate the latent scaling, score the held-out clips, write ``autoencoder/`` and
        ``metrics.json`` (main process); returns the metrics."""
        cfg, pool, autoencoder = self.config, self.pool, self.ema_model()
        videos = pool.train[: cfg.scaling_clips].permute(0, 2, 1, 3, 4)  # (N, 3, T, H, W) uint8
        batches = (v.unsqueeze(0).float().div(127.5).sub(1.0) for v in videos)
        scale, shift = estimate_scaling(autoencoder, batches)
        autoencoder.set_scaling(scale, shift)
        metrics = {
            "step": self.step,
            "preset": cfg.preset,
            "data": cfg.data,
            **evaluate_autoencoder(autoencoder, pool.heldout),
            "heldout_clips": len(pool.heldout),
            "scaling_factor": scale,
            "shift_factor": shift,
            "parameters": sum(p.numel() for p in autoencoder.parameters()),
            "seconds_per_step": self.run_seconds / self.run_steps if self.run_steps else None,
        }
        if self.is_main:
            _atomic_save(autoencoder, self.out / "autoencoder")
            tmp = self.out / ".metrics.json.tmp"
            tmp.write_text(json.dumps(metrics, indent=2))
            tmp.replace(self.out / "metrics.json")
        self.accelerator.wait_for_everyone()
        return metrics


def _atomic_save(autoencoder: FrameAutoencoder, folder: Path) -> None:
    """``save_pretrained`` into ``folder`` via a temporary sibling and a rename."""
    tmp = folder.with_name(f".{folder.name}.tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    autoencoder.save_pretrained(tmp)
    if folder.exists():
        shutil.rmtree(folder)
    tmp.rename(folder)


def train_autoencoder(
    config: AutoencoderTrainConfig, out: str | Path, *, stop_at: int | None = None
) -> dict[str, Any]:
    """Train (or resume) in the run folder ``out``; returns the metrics of ``metrics.json``.

    ``stop_at`` ends the run after that step with a checkpoint, as an interrupted run would;
    the final evaluation, scaling estimate and ``out/autoencoder`` are then skipped and the
    returned dict holds only ``{"step": ...}``.
    """
    trainer = AutoencoderTrainer(config, out)
    step = trainer.train(stop_at)
    if step < config.steps:
        return {"step": step}
    return trainer.finish()
