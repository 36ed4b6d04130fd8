"""Data-parallel training: 2 processes (torchrun, gloo on CPU) = 1 process, same global batch,
for every trainer.

The diffusion run is a latent-space one (tiny frozen autoencoder): it goes through every step of
a pixel run plus the per-process encoding, so one test covers both.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from spacetime.training.autoencoder import load_autoencoder_config, train_autoencoder
from spacetime.training.checkpoint import TrainingState, load_state
from spacetime.training.config import load_config
from spacetime.training.trainer import Trainer

# 4 clips per step in 2 micro-batches of 2: one per process, or 2 accumulation rounds on one.
SETS = ["steps=3", "micro_batch_size=2", "checkpoint_every=3", "log_every=1", "progress=false"]


@pytest.mark.slow
def test_two_processes_train_like_one(tmp_path: Path, tiny_autoencoder: Path) -> None:
    two, one = tmp_path / "two", tmp_path / "one"
    sets = [*SETS, f"autoencoder.path={tiny_autoencoder}", "model.overrides.patch_size=2"]
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        "-m", "spacetime", "train", "--preset", "shapes-tiny", "--out", str(two),
        *[f"--set={s}" for s in sets],
    ]  # fmt: skip
    done = _torchrun(command)
    assert done.stdout.count("trained 3 steps") == 1  # only the main process reports

    Trainer(load_config("shapes-tiny", None, sets), one).train()
    a, b = load_state(two / "checkpoint"), load_state(one / "checkpoint")
    assert a.meta["autoencoder"] == b.meta["autoencoder"] is not None  # the same latent space
    _assert_alike(a, b)


# 4 frames per step in 2 micro-batches of 2; the posterior noise is drawn per shard.
AUTOENCODER = ["size=32", "clip_frames=4", "crop=16", "train_clips=4", "eval_clips=1",
               "scaling_clips=1", "batch_size=4", "micro_batch_size=2", "steps=3",
               "checkpoint_every=3", "log_every=1", "progress=false"]  # fmt: skip


@pytest.mark.slow
def test_two_processes_train_the_autoencoder_like_one(tmp_path: Path) -> None:
    two, one = tmp_path / "two", tmp_path / "one"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        "-m", "spacetime", "train-autoencoder", "--out", str(two),
        *[f"--set={s}" for s in AUTOENCODER],
    ]  # fmt: skip
    _torchrun(command)
    train_autoencoder(load_autoencoder_config(None, AUTOENCODER), one)
    _assert_alike(load_state(two / "checkpoint"), load_state(one / "checkpoint"))


def _torchrun(command: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _assert_alike(two: TrainingState, one: TrainingState) -> None:
    """A 2-process and a 1-process state of the same 3 steps: alike up to float summation."""
    assert (two.meta["processes"], one.meta["processes"]) == (2, 1)
    assert two.step == one.step == 3
    for part in ("model", "ema"):
        assert getattr(two, part).keys() == getattr(one, part).keys()
        for k, v in getattr(two, part).items():
            # Same data and noise per shard; only the gradient sum order differs.
            torch.testing.assert_close(v, getattr(one, part)[k], rtol=1e-4, atol=1e-6)
