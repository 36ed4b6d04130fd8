"""The diffusion trainer: a text(+frames)->video denoiser on clips, on the skeleton of
:mod:`spacetime.training.loop` (resume, accumulation, clipping, EMA, logging, divergence check,
atomic checkpoints, progress, DDP). ::

    trainer = Trainer(load_config("shapes-tiny"), "runs/tiny")
    trainer.train()            # resumes from runs/tiny/checkpoint when there is one

What this module adds to the skeleton: the parts (:func:`~.components.build_components`; with
``init.path`` the starting weights, inflated or not, and with ``finetune`` the frozen weights and
learning-rate factors, :mod:`.stages`), the data (:class:`~.batches.StepShards`: clips, joint
image steps, a latent dataset encoded once when ``data.latents`` is set) and the loss of a
micro-batch (caption dropout, a frame mask, the objective's noise, all drawn from
``(seed, step, shard)`` streams). A run never resumes on other starting weights or another latent
space: their fingerprints are in the state.

Latent-space runs (``autoencoder.path`` set, :mod:`~spacetime.training.latent`) encode every
micro-batch with the frozen autoencoder before the loss; the autoencoder is not trained and not
part of the training state, but it is saved with the published pipeline, which decodes samples.

Run folder (beside the skeleton's ``config.yaml``, ``log.jsonl``, ``checkpoint/`` and
``snapshots/``): ``samples/`` (periodic samples scored with the evaluator); log lines add the
image steps, the latent cache's hit rate, the text-use probe and the sample metrics.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator

from spacetime.errors import SpacetimeError
from spacetime.training.batches import (
    MicroBatch,
    StepShards,
    drop_captions,
    is_image_step,
    make_loader,
)
from spacetime.training.checkpoint import TrainingState
from spacetime.training.components import Components, DiffusionSystem, build_components
from spacetime.training.config import RESUMABLE_KEYS, TrainConfig, validate_config
from spacetime.training.latent import LatentCache, autoencoder_fingerprint, encode_latents
from spacetime.training.latent_data import cache_latents
from spacetime.training.loop import TrainingDivergedError, TrainLoop, make_accelerator
from spacetime.training.monitor import SampleMonitor
from spacetime.training.probe import TextUseProbe
from spacetime.training.seeding import stream
from spacetime.training.stages import apply_finetune, load_init, lr_scales
from spacetime.training.super_resolution import build_system, is_super_resolution, sr_pipeline

__all__ = ["Trainer", "TrainingDivergedError"]


class Trainer(TrainLoop):
    """Train the diffusion model described by ``config`` in the run folder ``out``.

    Args:
        config: the resolved run configuration.
        out: run folder; an existing checkpoint there is resumed.
        components: prebuilt parts (default: :func:`build_components` of ``config``).
        accelerator: an existing ``Accelerator`` (default: one for ``config.mixed_precision``).
    """

    name, unit, resumable = "train", "clips", RESUMABLE_KEYS
    divergence_hint = (
        "Lower optim.lr, keep optim.grad_clip > 0 or use mixed_precision=no/bf16, then rerun."
    )
    config: TrainConfig
    system: DiffusionSystem

    def __init__(
        self,
        config: TrainConfig,
        out: str | Path,
        *,
        components: Components | None = None,
        accelerator: Accelerator | None = None,
    ) -> None:
        validate_config(config)
        super().__init__(config, out, accelerator or make_accelerator(config.mixed_precision))
        device = self.accelerator.device
        if components is None and config.data.latents:
            self._ensure_latents()
        self.parts = components or build_components(config)
        self.autoencoder = self.parts.autoencoder  # frozen latent space, or None (pixels)
        self.autoencoder_id, self.latents = None, None
        if self.autoencoder is not None:
            self.autoencoder.requires_grad_(False).eval().to(device)
            self.autoencoder_id = autoencoder_fingerprint(self.autoencoder)
            self.latents = LatentCache(self.autoencoder, config.autoencoder.cache_clips)
        self.init_id = load_init(self.parts.denoiser, self.parts.text_encoder, config.init)
        system = build_system(config, self.parts).to(device)
        self.frozen = apply_finetune(system, config.finetune)
        self.probe: TextUseProbe | None = None  # built on first use (main process)
        self.start(system, lr_scales(system, config.finetune))

    def _ensure_latents(self) -> None:
        """Encode the training clips into ``data.latents`` once, when the folder has no
        complete latent dataset yet (main process; the others wait)."""
        folder = Path(self.config.data.latents)
        if self.is_main and not (folder / "index.json").is_file():
            self.accelerator.print(f"encoding the training clips once into {folder}")
            cache_latents(self.config, folder, progress=self.config.progress)
        self.accelerator.wait_for_everyone()

    def check_state(self, state: TrainingState) -> None:
        """The state must come from the same starting weights and latent space."""
        if state.meta.get("init") != self.init_id:
            raise SpacetimeError(
                f"{self.out} started from other weights than init.path {self.config.init.path!r} "
                "holds now; use the original starting weights or a new --out folder"
            )
        saved_id = state.meta.get("autoencoder")
        if saved_id != self.autoencoder_id:
            raise SpacetimeError(
                f"{self.out} was trained on a different latent space (autoencoder "
                f"{_short(saved_id)}, this config gives {_short(self.autoencoder_id)}): the "
                f"weights at autoencoder.path changed; use the original autoencoder or a new "
                f"--out folder"
            )

    def state_meta(self) -> dict[str, Any]:
        return {
            "autoencoder": self.autoencoder_id,  # fingerprint of the latent space
            "init": self.init_id,  # fingerprint of the starting weights (None: random)
        }

    # ------------------------------------------------------------------- data and loss

    def batches(self, end: int) -> Iterator[MicroBatch]:
        cfg = self.config
        shards = StepShards(
            self.parts.videos, self.parts.images, self.plan, seed=cfg.seed, start=self.step,
            steps=end, image_ratio=cfg.data.image_ratio,
        )  # fmt: skip
        return iter(make_loader(shards, cfg.data.num_workers))

    def forward(self, batch: MicroBatch) -> dict[str, torch.Tensor]:
        """The objective's loss of one micro-batch: captions dropped, a frame mask drawn and
        pixels encoded to latents (latent runs) first."""
        cfg, key = self.config, (batch.step, batch.shard)
        m, frames = batch.video.shape[0], batch.video.shape[2]
        dropout = stream(cfg.seed, "captions", *key)
        captions = drop_captions(batch.caption, cfg.text.caption_dropout, dropout)
        mask = None
        if self.system.denoiser.config.frame_conditioning:
            mask = torch.zeros(m, frames, dtype=torch.bool)
            if not batch.image:  # an image has no other frame to be given
                mask = cfg.masks.sample(m, frames, generator=stream(cfg.seed, "masks", *key))
            mask = mask.to(self.accelerator.device)
        video = batch.video.to(self.accelerator.device)  # (m, 3, T, H, W) pixels
        if self.latents is not None and not self.parts.encoded:
            video = self.latents(video)  # (m, c, T, H/f, W/f) latents
        noise = stream(cfg.seed, "noise", *key)
        return {"loss": self.model(video, captions, mask, noise)}

    # ------------------------------------------------------------- what is logged, saved

    def log_entries(self, steps: range) -> dict[str, Any]:
        cfg = self.config
        entry: dict[str, Any] = {
            "image_steps": sum(is_image_step(cfg.seed, s, cfg.data.image_ratio) for s in steps)
        }
        if self.latents is not None and self.latents.max_clips:
            entry["latent_cache_hit_rate"] = self.latents.hit_rate
        return entry

    def periodic(self) -> dict[str, Any]:
        """The text-use probe every ``probe_every`` steps, samples every ``sample_every``."""
        cfg, entry = self.config, {}
        if cfg.probe_every and self.step % cfg.probe_every == 0:
            entry.update(self.run_probe())
        if cfg.sample_every and self.step % cfg.sample_every == 0:
            entry["samples"] = self.sample()
        return entry

    def ema_model(self) -> Any:
        """A :class:`VideoPipeline` on copies of the parts holding the EMA weights (eval mode)."""
        from spacetime.pipelines.video_pipeline import VideoPipeline

        parts = DiffusionSystem(
            copy.deepcopy(self.system.denoiser),
            copy.deepcopy(self.system.text_encoder),
            self.system.objective,
        )
        self.ema.copy_to(parts)
        parts.eval()
        if is_super_resolution(self.config):
            return sr_pipeline(self.config, parts)
        return VideoPipeline(
            parts.denoiser, parts.text_encoder, parts.objective, self.autoencoder,
            sample_frames=self.config.data.frames, sample_size=self.config.data.size,
        )  # fmt: skip

    def run_probe(self) -> dict[str, Any]:
        """The text-use probe (:mod:`.probe`) of the raw and the EMA weights (main process)."""
        entry: dict[str, Any] = {}
        if self.is_main:
            if self.probe is None:
                self.probe = self._build_probe()
            was_training = self.system.training
            self.system.eval()
            entry["text_probe"] = self.probe(self.system.denoiser, self.system.encode)
            self.system.train(was_training)
            ema = self.ema_model()
            entry["text_probe_ema"] = self.probe(ema.denoiser, ema.text_encoder)
        self.accelerator.wait_for_everyone()
        return entry

    def _build_probe(self) -> TextUseProbe:
        """Held-out clips of the run's data (ShapesWorld: a disjoint seed) as the model sees
        them: one frame each for image-only runs, latents for latent runs."""
        cfg, n = self.config, 16
        if cfg.data.kind == "shapes":
            from spacetime.data.shapes_dataset import ShapesDataset

            data = ShapesDataset(size=cfg.data.size, frames=cfg.data.frames, length=n,
                                 seed=cfg.seed + 1)  # fmt: skip
        else:
            data = self.parts.videos
        items = [data[i] for i in range(min(n, len(data)))]
        clips = torch.stack([it["video"] for it in items]).to(self.accelerator.device)
        if cfg.data.image_ratio >= 1.0:
            clips = clips[:, :, :1]  # an image-only run: frames one at a time
        if self.autoencoder is not None and not (cfg.data.kind != "shapes" and self.parts.encoded):
            clips = encode_latents(self.autoencoder, clips)  # (n, c, T, h, w)
        return TextUseProbe(clips, [str(it["caption"]) for it in items], self.system.objective,
                            seed=cfg.seed)  # fmt: skip

    def sample(self) -> dict[str, Any] | None:
        """Generate and score the periodic samples (main process); the log entry."""
        entry = None
        if self.is_main:
            monitor = SampleMonitor(
                self.out, self.parts.validation_captions or [""] * self.config.sample_count,
                seed=self.config.seed, steps=self.config.sample_steps,
                guidance=self.config.sample_guidance, oracle=self.config.data.kind == "shapes",
            )  # fmt: skip
            entry = monitor(self.ema_model(), self.step)
        self.accelerator.wait_for_everyone()
        return entry

    def summary(self, end: int) -> list[str]:
        params = sum(p.numel() for p in self.ema.shadow.values())
        p, cfg, acc = self.plan, self.config, self.accelerator
        lines = [
            f"spacetime train: {params / 1e6:.2f}M trainable parameters on {acc.device} "
            f"x{acc.num_processes} ({cfg.mixed_precision} precision); {cfg.batch_size} "
            f"clips/step = {p.shards} micro-batches of {p.micro} ({p.accum} accumulation "
            f"rounds per process); steps {self.step} -> {end}"
        ]
        if self.autoencoder is not None:
            d, ae = cfg.data, self.autoencoder
            c, t, h, w = ae.latent_shape(d.frames, d.size, d.size)
            lines.append(
                f"latent space: 3x{d.frames}x{d.size}x{d.size} pixels -> {c}x{t}x{h}x{w} "
                f"latents (frozen autoencoder {cfg.autoencoder.path}, "
                f"{sum(p.numel() for p in ae.parameters()) / 1e6:.2f}M parameters)"
            )
        return lines


def _short(fingerprint: str | None) -> str:
    """A fingerprint for messages: its first 12 hex digits, or 'none' for pixel space."""
    return "none (pixel space)" if fingerprint is None else fingerprint[:12]
