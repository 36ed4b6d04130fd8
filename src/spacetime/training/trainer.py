"""The training loop on 🤗 accelerate: one :class:`Trainer` per run folder.

::

    trainer = Trainer(load_config("shapes-tiny"), "runs/tiny")
    trainer.train()            # resumes from runs/tiny/checkpoint when there is one

A step: each process runs its micro-batches (gradient accumulation, DDP sync only on the
last), the loss is averaged over processes and checked (a NaN/inf stops the run before the
weights change, leaving the last checkpoint intact), gradients are clipped, AdamW steps, the
learning-rate schedule advances and the EMA follows. Every random draw of step ``s`` comes from
generators seeded by ``(seed, s, shard)`` (:mod:`~spacetime.training.seeding`), so

- resume = rerun the same command, and reaches bit-exactly the weights of an uninterrupted run
  on CPU (a run killed at any moment keeps its last complete checkpoint);
- the result depends on the global batch and ``micro_batch_size``, not on the number of
  processes: 2 processes of 1 micro-batch each = 1 process accumulating 2 micro-batches.

Latent-space runs (``autoencoder.path`` set, :mod:`~spacetime.training.latent`) encode every
micro-batch with the frozen autoencoder before the loss; the autoencoder is not trained and not
part of the training state, but it is saved with the published pipeline, which decodes samples.

Run folder: ``config.yaml`` (resolved config), ``log.jsonl`` (one JSON per log step: loss, lr,
gradient norm, throughput, the latent cache's hit rate, and sample metrics on sampling steps),
``samples/`` and ``checkpoint/`` (``pipeline/`` holds the EMA weights, see :mod:`.checkpoint`).
"""

from __future__ import annotations

import contextlib
import copy
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
import yaml
from accelerate import Accelerator
from accelerate.state import AcceleratorState
from accelerate.utils import DistributedDataParallelKwargs
from tqdm.auto import tqdm

from spacetime.errors import SpacetimeError
from spacetime.training.batches import (
    BatchPlan,
    MicroBatch,
    StepShards,
    drop_captions,
    make_loader,
)
from spacetime.training.checkpoint import (
    TrainingState,
    find_checkpoint,
    load_state,
    save_checkpoint,
)
from spacetime.training.components import Components, DiffusionSystem, build_components
from spacetime.training.config import (
    RESUMABLE_KEYS,
    TrainConfig,
    config_from_dict,
    diff_configs,
    dump_config,
    validate_config,
)
from spacetime.training.ema import EMA
from spacetime.training.latent import LatentCache, autoencoder_fingerprint, encode_latents
from spacetime.training.latent_data import cache_latents
from spacetime.training.monitor import RunLog, SampleMonitor
from spacetime.training.optim import build_optimizer, build_scheduler
from spacetime.training.probe import TextUseProbe
from spacetime.training.seeding import derive_seed, stream
from spacetime.training.stages import apply_finetune, load_init, lr_scales

__all__ = ["Trainer", "TrainingDivergedError"]


class TrainingDivergedError(SpacetimeError):
    """The loss became NaN or infinite; the last checkpoint is left as it was."""


def make_accelerator(mixed_precision: str) -> Accelerator:
    """An ``Accelerator`` for this process (DDP when launched by torchrun / accelerate).

    ``find_unused_parameters``: image steps bypass the temporal layers, and an all-empty
    caption batch leaves the text encoder unused, so some parameters may get no gradient.
    """
    if mixed_precision == "fp16" and not torch.cuda.is_available():
        raise SpacetimeError("mixed_precision=fp16 needs a CUDA GPU; use bf16 or no on CPU")
    shared = AcceleratorState._shared_state
    if shared and shared.get("_mixed_precision") != mixed_precision:
        # accelerate keeps one state per process; a later run with another precision (in a
        # notebook, or the tests) replaces it instead of failing.
        AcceleratorState._reset_state()
    ddp = DistributedDataParallelKwargs(find_unused_parameters=True)
    # Without a GPU, cpu=True lets accelerate see torchrun's WORLD_SIZE (MULTI_CPU over gloo).
    cpu = not torch.accelerator.is_available()
    return Accelerator(mixed_precision=mixed_precision, cpu=cpu, kwargs_handlers=[ddp])


class Trainer:
    """Train the diffusion model described by ``config`` in the run folder ``out``.

    Args:
        config: the resolved run configuration.
        out: run folder; an existing checkpoint there is resumed.
        components: prebuilt parts (default: :func:`build_components` of ``config``).
        accelerator: an existing ``Accelerator`` (default: one for ``config.mixed_precision``).
    """

    def __init__(
        self,
        config: TrainConfig,
        out: str | Path,
        *,
        components: Components | None = None,
        accelerator: Accelerator | None = None,
    ) -> None:
        validate_config(config)
        self.config, self.out = config, Path(out)
        self.accelerator = accelerator or make_accelerator(config.mixed_precision)
        acc = self.accelerator
        self.plan = BatchPlan(
            config.batch_size, config.micro_batch_size, acc.num_processes, acc.process_index
        )
        if components is None and config.data.latents:
            self._ensure_latents()
        self.parts = components or build_components(config)
        self.autoencoder = self.parts.autoencoder  # frozen latent space, or None (pixels)
        self.autoencoder_id, self.latents = None, None
        if self.autoencoder is not None:
            self.autoencoder.requires_grad_(False).eval().to(acc.device)
            self.autoencoder_id = autoencoder_fingerprint(self.autoencoder)
            self.latents = LatentCache(self.autoencoder, config.autoencoder.cache_clips)
        self.init_id = load_init(self.parts.denoiser, self.parts.text_encoder, config.init)
        self.system = DiffusionSystem(
            self.parts.denoiser, self.parts.text_encoder, self.parts.objective
        ).to(acc.device)
        self.frozen = apply_finetune(self.system, config.finetune)
        scales = lr_scales(self.system, config.finetune)
        self.optimizer = build_optimizer(self.system, config.optim, scales)
        self.scheduler = build_scheduler(self.optimizer, config.optim, config.steps)
        self.ema = EMA(self.system, config.ema_decay, warmup=config.ema_warmup)
        self.step = 0
        self.cpu_seconds = 0.0  # CPU time of the training steps so far (all threads), resumed
        self.history: list[float] = []  # loss of every step run by this object
        self.probe: TextUseProbe | None = None  # built on first use (main process)
        self.log = RunLog(self.out / "log.jsonl")
        self._resume()
        self.model, self.optimizer = acc.prepare(self.system, self.optimizer)

    # ------------------------------------------------------------------ setup and resume

    def _ensure_latents(self) -> None:
        """Encode the training clips into ``data.latents`` once, when the folder has no
        complete latent dataset yet (main process; the others wait)."""
        folder = Path(self.config.data.latents)
        if self.is_main and not (folder / "index.json").is_file():
            self.accelerator.print(f"encoding the training clips once into {folder}")
            cache_latents(self.config, folder, progress=self.config.progress)
        self.accelerator.wait_for_everyone()

    @property
    def is_main(self) -> bool:
        """Whether this is the process that writes files."""
        return self.accelerator.is_main_process

    def _resume(self) -> None:
        checkpoint = find_checkpoint(self.out)
        saved = self.out / "config.yaml"
        if checkpoint is not None and saved.is_file():
            before = config_from_dict(yaml.safe_load(saved.read_text()) or {})
            changed = [k for k in diff_configs(before, self.config) if k not in RESUMABLE_KEYS]
            if changed:
                raise SpacetimeError(
                    f"{self.out} holds a run with a different config ({', '.join(changed)} "
                    f"changed); resume with the same settings or use a new --out folder"
                )
        if checkpoint is not None:
            state = load_state(checkpoint)
            self._load(state)
        self.accelerator.wait_for_everyone()
        if self.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
            dump_config(self.config, saved)
            self.log.truncate_after(self.step)

    def _load(self, state: TrainingState) -> None:
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
        missing, unexpected = self.system.load_state_dict(state.model, strict=False)
        frozen = {k for k, _ in self.system.named_parameters() if k not in self.ema.shadow}
        if unexpected or set(missing) - frozen:
            raise SpacetimeError(
                f"checkpoint of {self.out} does not match the model: missing "
                f"{sorted(set(missing) - frozen)[:5]}, unexpected {sorted(unexpected)[:5]}"
            )
        self.optimizer.load_state_dict(state.optimizer)
        self.scheduler.load_state_dict(state.meta["scheduler"])
        self.ema.load_state_dict(
            {k: v.to(self.accelerator.device) for k, v in state.ema.items()},
            state.meta["ema_updates"],
        )
        self.step = state.step
        self.cpu_seconds = float(state.meta.get("cpu_seconds", 0.0))

    # ------------------------------------------------------------------------ one step

    def _micro_step(self, batch: MicroBatch, sync: bool) -> torch.Tensor:
        """Forward + backward of one micro-batch; returns the detached loss."""
        cfg, key = self.config, (batch.step, batch.shard)
        m, frames = batch.video.shape[0], batch.video.shape[2]
        dropout = stream(cfg.seed, "captions", *key)
        captions = drop_captions(batch.caption, cfg.text.caption_dropout, dropout)
        mask = None
        if self.system.denoiser.config.frame_conditioning:
            mask = torch.zeros(m, frames, dtype=torch.bool)
            if not batch.image:  # an image has no other frame to be given
                mask = self.config.masks.sample(
                    m, frames, generator=stream(cfg.seed, "masks", *key)
                )
            mask = mask.to(self.accelerator.device)
        # Dropout inside the network draws from the global generator: reseed it per shard.
        torch.manual_seed(derive_seed(cfg.seed, "dropout", *key))
        video = batch.video.to(self.accelerator.device)  # (m, 3, T, H, W) pixels
        if self.latents is not None and not self.parts.encoded:
            video = self.latents(video)  # (m, c, T, H/f, W/f) latents
        noise = stream(cfg.seed, "noise", *key)
        ctx = contextlib.nullcontext() if sync else self.accelerator.no_sync(self.model)
        with ctx:
            loss = self.model(video, captions, mask, noise)
            self.accelerator.backward(loss / self.plan.accum)
        return loss.detach().float()

    def _optimizer_step(self, loss: torch.Tensor) -> float | None:
        """Check the averaged loss, clip, step; returns the gradient norm (None: no clip)."""
        if not torch.isfinite(loss):
            checkpoint = find_checkpoint(self.out)
            where = f"{checkpoint} (step {load_state(checkpoint).step})" if checkpoint else "none"
            raise TrainingDivergedError(
                f"loss is {loss.item()} at step {self.step}: training stopped before updating "
                f"the weights. Last good checkpoint: {where}, left intact. Lower optim.lr, "
                f"keep optim.grad_clip > 0 or use mixed_precision=no/bf16, then rerun."
            )
        norm = None
        if self.config.optim.grad_clip > 0:
            norm = float(
                self.accelerator.clip_grad_norm_(
                    self.system.parameters(), self.config.optim.grad_clip
                )
            )
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        if not self.accelerator.optimizer_step_was_skipped:  # fp16 overflow: scaler backs off
            self.scheduler.step()
        return norm

    # ------------------------------------------------------------------------ the loop

    def train(self, stop_at: int | None = None) -> int:
        """Train until ``config.steps`` (or until step ``stop_at``, then checkpoint and return,
        as a stopped run would). Returns the number of completed steps."""
        cfg, acc = self.config, self.accelerator
        end = cfg.steps if stop_at is None else min(stop_at, cfg.steps)
        if self.step >= end:
            return self.step
        shards = StepShards(
            self.parts.videos, self.parts.images, self.plan, seed=cfg.seed, start=self.step,
            steps=end, image_ratio=cfg.data.image_ratio,
        )  # fmt: skip
        batches = iter(make_loader(shards, cfg.data.num_workers))
        self._print_summary(end)
        bar = tqdm(
            total=end, initial=self.step, desc="train", dynamic_ncols=True,
            disable=not (self.is_main and cfg.progress),
        )  # fmt: skip
        window: list[float] = []  # losses since the last log line
        image_steps = 0
        timer = StepTimer()  # wall time of the steps, and of what is not the network in them
        clock, started = time.perf_counter(), self.step
        self.model.train()
        while self.step < end:
            cpu_clock = time.process_time()
            timer.start()
            total = torch.zeros((), device=acc.device)
            for round_ in range(self.plan.accum):
                with timer.overhead():
                    batch = next(batches)
                assert batch.step == self.step, (batch.step, self.step)
                total += self._micro_step(batch, sync=round_ == self.plan.accum - 1)
            loss = acc.reduce(total / self.plan.accum, reduction="mean")
            lr = self.optimizer.param_groups[0]["lr"]
            norm = self._optimizer_step(loss)
            with timer.overhead():
                self.ema.update(self.system)
            timer.stop()
            self.cpu_seconds += time.process_time() - cpu_clock
            self.step += 1
            self.history.append(loss.item())
            window.append(loss.item())
            image_steps += int(batch.image)
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.4f}", lr=f"{lr:.2e}")
            record: dict[str, Any] = {}
            if self.step % cfg.log_every == 0 or self.step == end:
                elapsed = time.perf_counter() - clock
                record = {
                    "step": self.step, "loss": sum(window) / len(window), "lr": lr,
                    "grad_norm": norm, "image_steps": image_steps,
                    "cpu_minutes": self.cpu_seconds / 60,
                    "clips_per_s": (self.step - started) * cfg.batch_size / max(elapsed, 1e-9),
                    **timer.report(),
                }  # fmt: skip
                if self.latents is not None and self.latents.max_clips:
                    record["latent_cache_hit_rate"] = self.latents.hit_rate
                window, image_steps = [], 0
            if cfg.probe_every and self.step % cfg.probe_every == 0:
                record = {"step": self.step, **record, **self.run_probe()}
            if cfg.sample_every and self.step % cfg.sample_every == 0:
                record = {"step": self.step, **record, "samples": self.sample()}
            if record and self.is_main:
                self.log.append(record)
            snapshot = bool(cfg.snapshot_every) and self.step % cfg.snapshot_every == 0
            if snapshot or self.step % cfg.checkpoint_every == 0 or self.step == end:
                self.save(snapshot=snapshot)
        bar.close()
        return self.step

    # ------------------------------------------------------------------ EMA, save, sample

    def ema_pipeline(self) -> Any:
        """A :class:`VideoPipeline` on copies of the parts holding the EMA weights (eval mode)."""
        from spacetime.pipelines.video_pipeline import VideoPipeline

        parts = DiffusionSystem(
            copy.deepcopy(self.system.denoiser),
            copy.deepcopy(self.system.text_encoder),
            self.system.objective,
        )
        self.ema.copy_to(parts)
        parts.eval()
        return VideoPipeline(
            parts.denoiser, parts.text_encoder, parts.objective, self.autoencoder,
            sample_frames=self.config.data.frames, sample_size=self.config.data.size,
        )  # fmt: skip

    def training_state(self) -> TrainingState:
        """Everything a resume needs (weights, EMA, optimizer, schedule, step)."""
        model = self.accelerator.get_state_dict(self.model)
        frozen = {k for k, p in self.system.named_parameters() if not p.requires_grad}
        return TrainingState(
            model={k: v for k, v in model.items() if k not in frozen},
            ema=self.ema.state_dict(),
            optimizer=self.optimizer.state_dict(),
            meta={
                "step": self.step,
                "seed": self.config.seed,
                "clips_seen": self.step * self.config.batch_size,
                "ema_updates": self.ema.num_updates,
                "scheduler": self.scheduler.state_dict(),
                "processes": self.accelerator.num_processes,
                "autoencoder": self.autoencoder_id,  # fingerprint of the latent space
                "init": self.init_id,  # fingerprint of the starting weights (None: random)
                "cpu_seconds": self.cpu_seconds,  # of this process's training steps
            },
        )

    def save(self, snapshot: bool = False) -> Path | None:
        """Write the checkpoint atomically (main process); every process waits for it.

        With ``snapshot`` the EMA pipeline is also kept as ``RUN/snapshots/step_0001000/`` (for
        learning curves: every snapshot is a complete pipeline folder)."""
        state = self.training_state()
        path = None
        if self.is_main:
            pipeline = self.ema_pipeline()
            path = save_checkpoint(self.out, state, pipeline.save_pretrained)
            if snapshot:
                pipeline.save_pretrained(self.out / "snapshots" / f"step_{self.step:07d}")
        self.accelerator.wait_for_everyone()
        return path

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
            ema = self.ema_pipeline()
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
            entry = monitor(self.ema_pipeline(), self.step)
        self.accelerator.wait_for_everyone()
        return entry

    def _print_summary(self, end: int) -> None:
        if not (self.is_main and self.config.progress):
            return
        params = sum(p.numel() for p in self.ema.shadow.values())
        p = self.plan
        self.accelerator.print(
            f"spacetime train: {params / 1e6:.2f}M trainable parameters on "
            f"{self.accelerator.device} x{self.accelerator.num_processes} "
            f"({self.config.mixed_precision} precision); {self.config.batch_size} clips/step = "
            f"{p.shards} micro-batches of {p.micro} ({p.accum} accumulation rounds per "
            f"process); steps {self.step} -> {end}"
        )
        if self.autoencoder is not None:
            d, ae = self.config.data, self.autoencoder
            c, t, h, w = ae.latent_shape(d.frames, d.size, d.size)
            self.accelerator.print(
                f"latent space: 3x{d.frames}x{d.size}x{d.size} pixels -> {c}x{t}x{h}x{w} "
                f"latents (frozen autoencoder {self.config.autoencoder.path}, "
                f"{sum(p.numel() for p in ae.parameters()) / 1e6:.2f}M parameters)"
            )


class StepTimer:
    """Wall time of the training steps since the last report, and the share of it spent outside
    the network (reading the batch, the EMA update): what a faster data path could save."""

    def __init__(self) -> None:
        self.steps, self.total, self.outside = 0, 0.0, 0.0
        self._begin = 0.0

    def start(self) -> None:
        self._begin = time.perf_counter()

    def stop(self) -> None:
        self.total += time.perf_counter() - self._begin
        self.steps += 1

    @contextlib.contextmanager
    def overhead(self) -> Iterator[None]:
        tic = time.perf_counter()
        try:
            yield
        finally:
            self.outside += time.perf_counter() - tic

    def report(self) -> dict[str, float]:
        """``{"step_seconds": mean wall per step, "overhead": outside share}``; then resets."""
        out = {
            "step_seconds": self.total / max(self.steps, 1),
            "overhead": self.outside / max(self.total, 1e-9),
        }
        self.steps, self.total, self.outside = 0, 0.0, 0.0
        return out


def _short(fingerprint: str | None) -> str:
    """A fingerprint for messages: its first 12 hex digits, or 'none' for pixel space."""
    return "none (pixel space)" if fingerprint is None else fingerprint[:12]
