"""Autoencoder training: the loss falls, runs resume bit-exactly, outputs are complete."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from safetensors.torch import load_file

from helpers import assert_same_state
from spacetime.errors import SpacetimeError
from spacetime.models.autoencoder import build_autoencoder, load_autoencoder
from spacetime.training.autoencoder import (
    AutoencoderTrainer,
    FramePool,
    evaluate_autoencoder,
    load_autoencoder_config,
    train_autoencoder,
)
from spacetime.training.checkpoint import find_checkpoint, load_state
from spacetime.training.loop import TrainingDivergedError

# 32x32 ShapesWorld clips of 4 frames, 16x16 crops: a step costs a few ms of CPU.
TINY = [
    "size=32", "clip_frames=4", "crop=16", "train_clips=8", "eval_clips=2", "scaling_clips=2",
    "batch_size=8", "optim.warmup_steps=5", "optim.lr=5e-3", "progress=false",
]  # fmt: skip


def _weights(folder: Path) -> dict[str, torch.Tensor]:
    return load_file(str(next(folder.glob("*.safetensors"))))


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, dict]:
    """A 40-step run (EMA off, so the published weights are the trained ones)."""
    out = tmp_path_factory.mktemp("ae") / "run"
    config = load_autoencoder_config(None, [*TINY, "steps=40", "log_every=5", "ema_decay=0"])
    return out, train_autoencoder(config, out)


def test_training_clearly_reduces_the_reconstruction_loss(trained) -> None:
    out, metrics = trained
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    l1 = [r["l1"] for r in log if "l1" in r]
    assert len(l1) == 8
    assert l1[-1] < 0.75 * l1[0], l1  # mean |y - x| over steps 36-40 vs steps 1-5
    # Held-out PSNR beats the same network before training by a clear margin.
    torch.manual_seed(0)
    pool = FramePool.build(load_autoencoder_config(None, TINY))
    before = evaluate_autoencoder(build_autoencoder("shapes-f4"), pool.heldout)["psnr"]
    assert metrics["psnr"] > before + 2.0, (before, metrics["psnr"])


def test_outputs_metrics_and_scaled_autoencoder(trained) -> None:
    out, metrics = trained
    on_disk = json.loads((out / "metrics.json").read_text())
    assert on_disk == metrics  # JSON round-trips floats exactly
    assert on_disk["step"] == 40 and on_disk["heldout_clips"] == 2
    assert len(on_disk["psnr_per_clip"]) == 2
    assert on_disk["psnr"] == pytest.approx(np.mean(on_disk["psnr_per_clip"]))
    ae = load_autoencoder(out / "autoencoder")
    assert ae.scaling_factor == pytest.approx(metrics["scaling_factor"])
    assert ae.shift_factor == pytest.approx(metrics["shift_factor"])
    # The scaling was fitted on the first training clips: their latents are standardised.
    pool = FramePool.build(load_autoencoder_config(None, TINY))
    clips = pool.train[:2].permute(0, 2, 1, 3, 4).float().div(127.5).sub(1)  # (2, 3, T, H, W)
    with torch.no_grad():
        z = ae.encode(clips).double()
    assert abs(z.mean().item()) < 1e-3 and z.std().item() == pytest.approx(1.0, abs=1e-2)
    # The published PSNR is reproducible from the saved folder.
    assert evaluate_autoencoder(ae, pool.heldout)["psnr"] == pytest.approx(metrics["psnr"])
    saved = yaml.safe_load((out / "config.yaml").read_text())
    assert saved["steps"] == 40 and saved["crop"] == 16


def test_resume_reaches_the_uninterrupted_weights_exactly(tmp_path: Path) -> None:
    config = load_autoencoder_config(None, [*TINY, "steps=6", "checkpoint_every=2"])
    full = train_autoencoder(config, tmp_path / "full")
    assert train_autoencoder(config, tmp_path / "split", stop_at=3) == {"step": 3}
    assert not (tmp_path / "split" / "autoencoder").exists()
    resumed = train_autoencoder(config, tmp_path / "split")  # rerun the same command
    assert resumed["psnr"] == full["psnr"]
    a, b = _weights(tmp_path / "full" / "autoencoder"), _weights(tmp_path / "split" / "autoencoder")
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    steps = [
        json.loads(r)["step"] for r in (tmp_path / "split" / "log.jsonl").read_text().splitlines()
    ]
    assert steps == sorted(set(steps))  # resumed steps are not logged twice
    # Another seed trains other weights.
    other = load_autoencoder_config(None, [*TINY, "steps=6", "seed=1"])
    train_autoencoder(other, tmp_path / "seed1")
    c = _weights(tmp_path / "seed1" / "autoencoder")
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_resume_refuses_a_changed_recipe(tmp_path: Path) -> None:
    config = load_autoencoder_config(None, [*TINY, "steps=2"])
    train_autoencoder(config, tmp_path, stop_at=1)
    changed = load_autoencoder_config(None, [*TINY, "steps=2", "optim.lr=1e-3"])
    with pytest.raises(SpacetimeError, match=r"different config \(optim.lr changed\)"):
        train_autoencoder(changed, tmp_path)
    longer = load_autoencoder_config(None, [*TINY, "steps=3"])  # more steps: allowed
    assert train_autoencoder(longer, tmp_path)["step"] == 3


def test_nan_loss_stops_and_keeps_the_last_checkpoint(tmp_path: Path) -> None:
    trainer = AutoencoderTrainer(load_autoencoder_config(None, [*TINY, "steps=4"]), tmp_path)
    trainer.train(stop_at=2)
    before = load_state(find_checkpoint(tmp_path))
    with torch.no_grad():  # weights blown up, as after a too-large step
        trainer.autoencoder.vae.encoder.conv_in.weight.fill_(float("nan"))
    with pytest.raises(TrainingDivergedError, match=r"loss is nan at step 2.*\(step 2\)"):
        trainer.train()
    assert trainer.step == 2
    assert_same_state(before, load_state(find_checkpoint(tmp_path)))
