"""Train a :class:`~spacetime.models.autoencoder.FrameAutoencoder` on ShapesWorld or a folder.

::

    config = load_autoencoder_config("configs/autoencoder-shapes.yaml", ["steps=200"])
    metrics = train_autoencoder(config, "runs/ae")     # resumes runs/ae/checkpoint if present
    ae = load_autoencoder("runs/ae/autoencoder")        # scaled latents, ready for diffusion

The loss of a batch of frames ``x`` with posterior ``q(z|x)`` and reconstruction
``y = D(z)``, ``z ~ q(z|x)`` (Kingma & Welling 2014; Rombach et al. 2022, App. G without the
adversarial and LPIPS terms, which need downloaded weights) is

    L = |y - x|_1 + mse_weight * |y - x|_2^2
        + edge_weight * (|dy/du - dx/du|_1 + |dy/dv - dx/dv|_1) + kl_weight * KL

all as means (per pixel; per latent value for the KL). The squared error matters on
ShapesWorld: small saturated shapes cover a few % of the pixels, so under L1 alone a grey blob
in their place costs less than the background's small errors, and the network learns colour
last; the squared term weighs those large errors up (and is what PSNR measures). The edge
term is the gradient difference loss of Mathieu et al. 2016 ("Deep multi-scale video
prediction beyond mean square error", Eq. 5 with alpha = 1): a cheap stand-in for a
perceptual loss that rewards sharp edges.
With ``sample_posterior=False``, ``z`` is the posterior mean (a plain autoencoder; the KL term
then only penalises large latents).
Frames are random ``crop x crop`` windows of random frames of the training clips (the preset
networks are fully convolutional, so a crop costs a quarter of a 64x64 frame and teaches the
same filters).

Run folder ``OUT``: ``config.yaml`` (resolved config), ``log.jsonl`` (loss terms, lr, held-out
PSNR every ``eval_every`` steps), ``checkpoint/`` (atomic, :mod:`~spacetime.training.checkpoint`;
``checkpoint/pipeline`` holds the EMA autoencoder), and at the end ``autoencoder/`` (EMA
weights with the scaling factor estimated on training clips) and ``metrics.json`` (held-out
PSNR). Every random draw of step ``s`` comes from ``(seed, s)``, so resume = rerun the same
command and reaches the weights of an uninterrupted run bit for bit on CPU.

The recipe (:class:`AutoencoderTrainConfig`, its loading, checks and the resume check) is
:mod:`spacetime.training.autoencoder_config`; its public names are re-exported here.
"""

from __future__ import annotations

import copy
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from accelerate import Accelerator
from torch import nn
from tqdm.auto import tqdm

from spacetime.errors import SpacetimeError
from spacetime.models.autoencoder import (
    FrameAutoencoder,
    build_autoencoder,
    estimate_scaling,
    psnr,
)
from spacetime.training.autoencoder_config import (
    AutoencoderTrainConfig,
    check_resume,
    load_autoencoder_config,
    validate_autoencoder_config,
)
from spacetime.training.checkpoint import TrainingState, find_checkpoint, load_state
from spacetime.training.checkpoint import save_checkpoint as save_training_checkpoint
from spacetime.training.dataclass_yaml import dataclass_to_dict
from spacetime.training.ema import EMA
from spacetime.training.monitor import RunLog
from spacetime.training.optim import build_optimizer, build_scheduler
from spacetime.training.seeding import derive_seed, stream

__all__ = [
    "AutoencoderLoss",
    "AutoencoderTrainConfig",
    "FramePool",
    "evaluate_autoencoder",
    "load_autoencoder_config",
    "train_autoencoder",
]

# ShapesWorld base seed of the held-out clips: fixed, so PSNRs of different runs compare.
_HELDOUT_SEED = derive_seed(0, "autoencoder-heldout")


# ------------------------------------------------------------------------------- data


@dataclass
class FramePool:
    """Training frames and held-out clips, in memory.

    ``train``: uint8 ``(N, T, 3, H, W)`` clips; a batch draws random frames and crops of them.
    ``heldout``: float ``(C, T, H, W)`` clips in [-1, 1], never trained on.
    """

    train: torch.Tensor
    heldout: list[torch.Tensor]

    @classmethod
    def build(cls, config: AutoencoderTrainConfig) -> FramePool:
        """ShapesWorld clips (``data="shapes"``) or the videos at the path ``config.data``."""
        if config.data == "shapes":
            return cls._shapes(config)
        return cls._folder(config)

    @classmethod
    def _shapes(cls, config: AutoencoderTrainConfig) -> FramePool:
        from spacetime.data.shapes_dataset import ShapesDataset

        def clips(seed: int, count: int) -> list[torch.Tensor]:
            data = ShapesDataset(config.size, config.clip_frames, count, seed)
            return [data[i]["video"] for i in range(count)]  # (3, T, H, W) each

        train = clips(derive_seed(config.seed, "autoencoder-train"), config.train_clips)
        return cls(_to_uint8_pool(train), clips(_HELDOUT_SEED, config.eval_clips))

    @classmethod
    def _folder(cls, config: AutoencoderTrainConfig) -> FramePool:
        from spacetime.data.captions import warn_skipped
        from spacetime.data.transforms import resize_center_crop, to_model_range
        from spacetime.video import VideoError, list_videos, read_video

        root = Path(config.data)
        if not root.exists():
            raise SpacetimeError(
                f"--data {root}: no such file or folder (expected 'shapes' or a path of videos)"
            )
        paths = list_videos(root, recursive=True)
        if not paths:
            raise SpacetimeError(f"--data {root}: no videos or frame folders found")
        videos, unreadable = [], []
        for path in paths:
            try:
                frames = read_video(path, max_frames=config.frames_per_video).frames
            except VideoError:
                unreadable.append(path)
                continue
            videos.append(to_model_range(resize_center_crop(frames, config.size)))
        # (3, T_i, size, size) each; a bad file is skipped (one warning), not the whole run
        warn_skipped("unreadable videos", unreadable, "not a decodable video")
        if not videos:
            raise SpacetimeError(
                f"--data {root}: none of its {len(paths)} videos can be decoded "
                f"(e.g. {unreadable[0]}); expected video files or frame folders"
            )
        # Held out: whole videos when there are several, else the tail of the only one.
        n_out = min(config.eval_clips, max(1, len(videos) // 10)) if len(videos) > 1 else 0
        train, heldout = videos[: len(videos) - n_out], videos[len(videos) - n_out :]
        if not heldout:
            frames = videos[0].shape[1]
            if frames < 2:
                raise SpacetimeError(f"--data {root}: one frame is too little to hold any out")
            cut = max(1, frames - min(config.clip_frames, frames // 4 or 1))
            train, heldout = [videos[0][:, :cut]], [videos[0][:, cut:]]
        heldout = [clip[:, : config.clip_frames] for clip in heldout]
        # One frame per pool "clip" so videos of any length mix into one tensor.
        singles = [clip[:, t : t + 1] for clip in train for t in range(clip.shape[1])]
        return cls(_to_uint8_pool(singles), heldout)

    def batch(self, generator: torch.Generator, size: int, crop: int) -> torch.Tensor:
        """``size`` random frames, each a random ``crop`` window (0 = whole frame), as float
        ``(size, 3, crop, crop)`` in [-1, 1]; every draw comes from ``generator``."""
        n, t, _, h, w = self.train.shape
        clip = torch.randint(0, n, (size,), generator=generator)
        frame = torch.randint(0, t, (size,), generator=generator)
        frames = self.train[clip, frame]  # (size, 3, H, W) uint8
        if crop and (crop < h or crop < w):
            top = torch.randint(0, h - crop + 1, (size,), generator=generator).tolist()
            left = torch.randint(0, w - crop + 1, (size,), generator=generator).tolist()
            frames = torch.stack(
                [
                    f[:, y : y + crop, x : x + crop]
                    for f, y, x in zip(frames, top, left, strict=True)
                ]
            )
        return frames.float().div_(127.5).sub_(1.0)


def _to_uint8_pool(clips: list[torch.Tensor]) -> torch.Tensor:
    """Float (3, T, H, W) clips in [-1, 1] -> uint8 (N, T, 3, H, W) (4x less memory)."""
    stacked = torch.stack(clips).permute(0, 2, 1, 3, 4)  # (N, T, 3, H, W)
    return ((stacked + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)


# ------------------------------------------------------------------------------- loss


def _spatial_gradients(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward differences along H and W of ``(N, C, H, W)``."""
    return x[..., 1:, :] - x[..., :-1, :], x[..., :, 1:] - x[..., :, :-1]


class AutoencoderLoss(nn.Module):
    """The training loss of the module docstring, as a module so DDP syncs its gradients.

    ``forward(frames (N, 3, H, W) in [-1, 1], generator) -> {"loss", "l1", "mse", "edge", "kl"}``
    (scalars; ``loss`` is the weighted sum that is minimised).
    """

    def __init__(
        self,
        autoencoder: FrameAutoencoder,
        edge_weight: float,
        kl_weight: float,
        *,
        mse_weight: float = 0.0,
        sample_posterior: bool = True,
    ) -> None:
        super().__init__()
        self.autoencoder = autoencoder
        self.edge_weight, self.kl_weight, self.mse_weight = edge_weight, kl_weight, mse_weight
        self.sample_posterior = sample_posterior

    def forward(self, frames: torch.Tensor, generator: torch.Generator) -> dict[str, torch.Tensor]:
        posterior = self.autoencoder.posterior(frames)  # latents (N, c, h, w)
        z = posterior.sample(generator=generator) if self.sample_posterior else posterior.mode()
        recon = self.autoencoder.vae.decode(z).sample  # (N, 3, H, W)
        l1 = (recon - frames).abs().mean()
        mse = (recon - frames).pow(2).mean()
        (ry, rx), (fy, fx) = _spatial_gradients(recon), _spatial_gradients(frames)
        edge = (ry - fy).abs().mean() + (rx - fx).abs().mean()
        kl = posterior.kl().mean() / z[0].numel()  # per latent value
        loss = l1 + self.mse_weight * mse + self.edge_weight * edge + self.kl_weight * kl
        return {"loss": loss, "l1": l1, "mse": mse, "edge": edge, "kl": kl}


# ------------------------------------------------------------------------ evaluation


@torch.no_grad()
def evaluate_autoencoder(
    autoencoder: FrameAutoencoder, clips: list[torch.Tensor]
) -> dict[str, Any]:
    """Reconstruction PSNR (dB, 8-bit pixels, :func:`~spacetime.models.autoencoder.psnr`) of
    each ``(C, T, H, W)`` clip in [-1, 1]: ``{"psnr": mean, "psnr_min": worst, "psnr_per_clip"}``.
    """
    was_training = autoencoder.training
    autoencoder.eval()
    values = []
    for clip in clips:
        video = clip.unsqueeze(0)  # (1, C, T, H, W)
        values.append(float(psnr(video, autoencoder.reconstruct(video))[0]))
    autoencoder.train(was_training)
    return {
        "psnr": float(np.mean(values)),
        "psnr_min": float(np.min(values)),
        "psnr_per_clip": values,
    }


# ---------------------------------------------------------------------------- training


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
    validate_autoencoder_config(config)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    check_resume(config, out)
    (out / "config.yaml").write_text(yaml.safe_dump(dataclass_to_dict(config), sort_keys=False))
    acc = Accelerator()
    if config.batch_size % acc.num_processes:
        raise SpacetimeError(
            f"batch_size={config.batch_size} must be divisible by the {acc.num_processes} processes"
        )
    shard = config.batch_size // acc.num_processes

    torch.manual_seed(derive_seed(config.seed, "autoencoder-init"))
    autoencoder = build_autoencoder(config.preset, chunk_size=config.chunk_size)
    criterion = AutoencoderLoss(
        autoencoder,
        config.edge_weight,
        config.kl_weight,
        mse_weight=config.mse_weight,
        sample_posterior=config.sample_posterior,
    )
    optimizer = build_optimizer(criterion, config.optim)
    scheduler = build_scheduler(optimizer, config.optim, config.steps)
    ema = EMA(criterion, config.ema_decay)
    step = 0
    log = RunLog(out / "log.jsonl")
    if (checkpoint := find_checkpoint(out)) is not None:
        state = load_state(checkpoint)
        criterion.load_state_dict(state.model, strict=True)
        optimizer.load_state_dict(state.optimizer)
        scheduler.load_state_dict(state.meta["scheduler"])
        ema.load_state_dict(state.ema, state.meta["ema_updates"])
        step = state.step
    log.truncate_after(step)
    criterion.to(acc.device)
    model, optimizer = acc.prepare(criterion, optimizer)

    def ema_autoencoder() -> FrameAutoencoder:
        copy_ = copy.deepcopy(criterion)
        ema.copy_to(copy_)
        return copy_.autoencoder.eval()

    def save() -> None:
        if acc.is_main_process:
            params = {k: v.detach() for k, v in criterion.named_parameters()}
            state = TrainingState(
                model=params,
                ema=ema.state_dict(),
                optimizer=optimizer.state_dict(),
                meta={
                    "step": step,
                    "seed": config.seed,
                    "ema_updates": ema.num_updates,
                    "scheduler": scheduler.state_dict(),
                },
            )
            save_training_checkpoint(out, state, ema_autoencoder().save_pretrained)
        acc.wait_for_everyone()

    end = config.steps if stop_at is None else min(stop_at, config.steps)
    pool = FramePool.build(config)
    if acc.is_main_process and config.progress:
        params = sum(p.numel() for p in autoencoder.parameters())
        acc.print(
            f"spacetime train-autoencoder: {config.preset} ({params / 1e6:.2f}M parameters, "
            f"f={autoencoder.spatial_factor}, c={autoencoder.latent_channels}) on {acc.device}; "
            f"{config.batch_size} frames/step ({config.crop or config.size}px crops), "
            f"steps {step} -> {end}"
        )
    bar = tqdm(
        total=end, initial=step, desc="autoencoder", dynamic_ncols=True,
        disable=not (acc.is_main_process and config.progress),
    )  # fmt: skip
    model.train()
    clock, started, window = time.perf_counter(), step, []
    while step < end:
        # The global batch of the step, then this process's slice: independent of #processes.
        frames = pool.batch(stream(config.seed, "batch", step), config.batch_size, config.crop)
        frames = frames[acc.process_index * shard : (acc.process_index + 1) * shard]
        noise = stream(config.seed, "posterior", step, acc.process_index, device=acc.device)
        terms = model(frames.to(acc.device), noise)
        if not torch.isfinite(terms["loss"]):
            raise SpacetimeError(
                f"loss became {terms['loss'].item()} at step {step}; lower optim.lr "
                f"(now {config.optim.lr}) and rerun in a new folder"
            )
        acc.backward(terms["loss"])
        lr = optimizer.param_groups[0]["lr"]
        norm = float("nan")
        if config.optim.grad_clip > 0:
            norm = float(acc.clip_grad_norm_(criterion.parameters(), config.optim.grad_clip))
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        scheduler.step()
        ema.update(criterion)
        step += 1
        window.append({k: float(v.detach()) for k, v in terms.items()})
        bar.update(1)
        bar.set_postfix(loss=f"{window[-1]['loss']:.4f}")
        record: dict[str, Any] = {}
        if step % config.log_every == 0 or step == end:
            seconds = (time.perf_counter() - clock) / max(step - started, 1)
            record = {k: float(np.mean([w[k] for w in window])) for k in window[0]}
            record.update(step=step, lr=lr, grad_norm=norm, s_per_step=seconds)
            window = []
        if config.eval_every and step % config.eval_every == 0 and acc.is_main_process:
            record = {"step": step, **record}
            record["heldout_psnr"] = evaluate_autoencoder(ema_autoencoder(), pool.heldout)["psnr"]
            bar.set_postfix(psnr=f"{record['heldout_psnr']:.2f}")
        if record and acc.is_main_process:
            log.append(record)
        if (config.checkpoint_every and step % config.checkpoint_every == 0) or step == end:
            save()
    bar.close()
    elapsed = time.perf_counter() - clock
    if step < config.steps:
        return {"step": step}
    return _finish(config, out, ema_autoencoder(), pool, step, elapsed, started)


def _finish(
    config: AutoencoderTrainConfig,
    out: Path,
    autoencoder: FrameAutoencoder,
    pool: FramePool,
    step: int,
    elapsed: float,
    started: int,
) -> dict[str, Any]:
    """Estimate the latent scaling, score the held-out clips, write ``autoencoder/`` and
    ``metrics.json``."""
    videos = pool.train[: config.scaling_clips].permute(0, 2, 1, 3, 4)  # (N, 3, T, H, W) uint8
    batches = (v.unsqueeze(0).float().div(127.5).sub(1.0) for v in videos)
    scale, shift = estimate_scaling(autoencoder, batches)
    autoencoder.set_scaling(scale, shift)
    metrics = {
        "step": step,
        "preset": config.preset,
        "data": config.data,
        **evaluate_autoencoder(autoencoder, pool.heldout),
        "heldout_clips": len(pool.heldout),
        "scaling_factor": scale,
        "shift_factor": shift,
        "parameters": sum(p.numel() for p in autoencoder.parameters()),
        "seconds_per_step": elapsed / (step - started) if step > started else None,
    }
    _atomic_save(autoencoder, out / "autoencoder")
    tmp = out / ".metrics.json.tmp"
    tmp.write_text(json.dumps(metrics, indent=2))
    tmp.replace(out / "metrics.json")
    return metrics
