"""Data-parallel training: 2 processes (torchrun, gloo on CPU) = 1 process, same global batch.

The run is a latent-space one (tiny frozen autoencoder): it goes through every step of a pixel
run plus the per-process encoding, so one test covers both.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from spacetime.training.checkpoint import load_state
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
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("trained 3 steps") == 1  # only the main process reports

    Trainer(load_config("shapes-tiny", None, sets), one).train()
    a, b = load_state(two / "checkpoint"), load_state(one / "checkpoint")
    assert (a.meta["processes"], b.meta["processes"]) == (2, 1)
    assert a.step == b.step == 3
    assert a.meta["autoencoder"] == b.meta["autoencoder"] is not None  # the same latent space
    for part in ("model", "ema"):
        for k, v in getattr(a, part).items():
            # Same clips, noise and masks per shard; only the gradient sum order differs.
            torch.testing.assert_close(v, getattr(b, part)[k], rtol=1e-4, atol=1e-6)
