"""Nothing lost under faults: a kill inside a checkpoint write, a full disk, a torn log line,
a damaged checkpoint. (Ten kills at random moments: ``benchmarks/kill_resume.py``.)"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import safetensors.torch

from helpers import run_cli, same_threads_env
from spacetime.training.checkpoint import CheckpointWriteError, find_checkpoint, load_state
from spacetime.training.monitor import RunLog
from spacetime.training.trainer import Trainer
from training.test_trainer import RESUME, assert_same_state, tiny

SETS = [f"--set={s}" for s in RESUME if not s.startswith(("steps=", "checkpoint_every="))]


@pytest.mark.slow
def test_kill_inside_a_checkpoint_write_then_rerun_is_bit_exact(tmp_path: Path) -> None:
    """SIGKILL while ``.checkpoint.tmp`` is being written (a checkpoint every step, so there
    is always one in flight); the rerun must reach the weights of an uninterrupted run."""
    run = tmp_path / "run"
    command = [sys.executable, "-m", "spacetime", "train", "--preset", "shapes-tiny",
               "--steps=1000", f"--out={run}", "--set=progress=false",
               "--set=checkpoint_every=1", *SETS]  # fmt: skip
    process = subprocess.Popen(command, env=same_threads_env())
    deadline = time.monotonic() + 300
    try:  # wait for the second write to be in flight: a previous checkpoint exists
        while not (find_checkpoint(run) and (run / ".checkpoint.tmp" / "state").exists()):
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.001)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert (run / ".checkpoint.tmp").exists()  # killed with a half-written checkpoint
    killed_at = load_state(find_checkpoint(run)).step
    steps = [f"steps={killed_at + 2}", "checkpoint_every=1"]
    Trainer(tiny(*RESUME, *steps), tmp_path / "straight").train()
    resumed = Trainer(tiny(*RESUME, *steps), run)
    assert resumed.step == killed_at
    resumed.train()
    assert_same_state(
        load_state(tmp_path / "straight" / "checkpoint"), load_state(run / "checkpoint")
    )
    assert not (run / ".checkpoint.tmp").exists()


def test_full_disk_keeps_the_previous_checkpoint_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    run = tmp_path / "run"
    Trainer(tiny("steps=2", "checkpoint_every=1"), run).train()
    before = load_state(find_checkpoint(run))
    real_save = safetensors.torch.save_file

    def disk_full(tensors, filename, *args, **kwargs):  # the OS refuses the write midway
        real_save(tensors, filename, *args, **kwargs)
        os.truncate(filename, os.path.getsize(filename) // 2)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), filename)

    monkeypatch.setattr("spacetime.training.checkpoint.save_file", disk_full)
    with pytest.raises(CheckpointWriteError) as info:
        Trainer(tiny("steps=3", "checkpoint_every=1"), run).train()
    message = str(info.value)
    assert "could not write the checkpoint of step 3" in message and "No space left" in message
    assert f"the previous checkpoint {run / 'checkpoint'} (step 2) is intact" in message
    assert_same_state(before, load_state(find_checkpoint(run)))
    assert not (run / ".checkpoint.tmp").exists()  # the partial write is cleaned up
    # Through the CLI: one line, exit 2.
    argv = ["train", "--preset", "shapes-tiny", "--steps", "3", "--out", str(run)]
    sets = ["--set", "progress=false", "--set", "checkpoint_every=1"]
    code, _, err = run_cli([*argv, *sets], capsys)
    assert code == 2 and err.count("\n") == 1 and "(step 2) is intact" in err
    monkeypatch.undo()  # space again: the rerun continues from step 2
    assert Trainer(tiny("steps=3", "checkpoint_every=1"), run).step == 2


def test_a_damaged_training_checkpoint_is_named(tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    Trainer(tiny("steps=1"), run).train()
    weights = run / "checkpoint" / "state" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    code, _, err = run_cli(["train", "--preset", "shapes-tiny", "--steps", "2", "--out", str(run),
                            "--set", "progress=false"], capsys)  # fmt: skip
    assert code == 2 and err.count("\n") == 1
    assert f"{weights}: the training checkpoint is unreadable" in err


def test_a_log_line_torn_by_a_kill_is_rewritten(tmp_path: Path) -> None:
    log = RunLog(tmp_path / "log.jsonl")
    for step in (1, 2, 3):
        log.append({"step": step, "loss": 0.5})
    with log.path.open("a") as f:
        f.write('{"step": 4, "lo')  # killed mid-append
    assert [r["step"] for r in log.read()] == [1, 2, 3]
    log.truncate_after(2)  # what a resume from step 2 does
    assert [r["step"] for r in log.read()] == [1, 2] and log.path.read_text().endswith("}\n")
    log.path.write_text('{"step": 1}\n{"ste\n{"step": 3}\n')  # damage inside is not a kill
    with pytest.raises(ValueError):
        log.read()
