"""Nothing lost under SIGKILL: kill ``spacetime train`` at random moments, rerun, compare.

One uninterrupted run of the tiny recipe gives the reference weights. Then each trial starts
the same command in a fresh folder, waits until its checkpoint reaches a random step (from
``--seed``), kills it with SIGKILL after a further random delay of up to one step's time,
reruns the same command to the end and checks
that the model, EMA, optimizer state and step are bit-identical to the reference. Checkpoints
are written every step, so a good share of the kills land inside a checkpoint write; the
script says for each trial whether it found a half-written checkpoint (``.checkpoint.tmp`` or
``.checkpoint.old``) after the kill::

    .venv/bin/python benchmarks/kill_resume.py --trials 10 --out bench_out/kill

Exit status 1 when any trial lost or changed anything.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch

from _common import run_main
from spacetime.errors import SpacetimeError
from spacetime.training.checkpoint import (
    MEASURED_META,
    find_checkpoint,
    load_state,
    load_state_meta,
)

SETTINGS = ["--preset", "shapes-tiny", "--set", "progress=false", "--set", "checkpoint_every=1",
            "--set", "micro_batch_size=2", "--set", "text.caption_dropout=0.3",
            "--set", "data.image_ratio=0.3", "--set", "log_every=1"]  # fmt: skip


def train(out: Path, steps: int) -> subprocess.Popen:
    """``spacetime train`` of the tiny recipe into ``out`` as a child process (one thread)."""
    command = [sys.executable, "-m", "spacetime", "train", *SETTINGS, f"--steps={steps}",
               f"--out={out}"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def finish(process: subprocess.Popen) -> None:
    _, err = process.communicate(timeout=600)
    if process.returncode != 0:
        raise RuntimeError(f"spacetime train failed ({process.returncode}): {err.decode()}")


def wait_for_checkpoint(run: Path, process: subprocess.Popen, step: int = 1) -> float:
    """Block until ``run`` has a checkpoint of ``step`` or later (or the process ended);
    returns the time then."""
    while process.poll() is None:
        found = find_checkpoint(run)
        try:
            if found is not None and load_state_meta(found)["step"] >= step:
                break
        except SpacetimeError:  # replaced while being read
            pass
        time.sleep(0.005)
    return time.perf_counter()


def same_state(a: Path, b: Path) -> list[str]:
    """Names of the tensors / fields that differ between two run folders' checkpoints (the
    CPU time spent, :data:`MEASURED_META`, is a measurement, not a result)."""
    x, y = load_state(a / "checkpoint"), load_state(b / "checkpoint")
    diff = [f"{part}.{k}" for part in ("model", "ema") for k in getattr(x, part)
            if not torch.equal(getattr(x, part)[k], getattr(y, part)[k])]  # fmt: skip
    for i, slots in x.optimizer["state"].items():
        diff += [f"optimizer.{i}.{k}" for k, v in slots.items()
                 if not torch.equal(v, y.optimizer["state"][i][k])]  # fmt: skip
    meta = [k for k in x.meta.keys() | y.meta.keys()
            if k not in MEASURED_META and x.meta.get(k) != y.meta.get(k)]  # fmt: skip
    return diff + [f"meta.{k}" for k in sorted(meta)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--steps", type=int, default=30, help="Optimizer steps of each run.")
    parser.add_argument("--seed", type=int, default=0, help="Seed of the kill times.")
    parser.add_argument("--out", type=Path, default=Path("bench_out/kill"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    reference = args.out / "reference"
    started = time.perf_counter()
    process = train(reference, args.steps)
    first = wait_for_checkpoint(reference, process) - started
    finish(process)
    span = time.perf_counter() - started - first  # training time after the first checkpoint
    print(f"reference: {args.steps} steps, first checkpoint after {first:.1f} s, {span:.1f} s more")
    rng = random.Random(args.seed)
    results = []
    for trial in range(args.trials):
        run = args.out / f"trial_{trial}"
        target, delay = rng.randrange(1, args.steps - 1), rng.uniform(0, span / args.steps)
        process = train(run, args.steps)
        wait_for_checkpoint(run, process, target)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        mid_write = any((run / name).exists() for name in (".checkpoint.tmp", ".checkpoint.old"))
        found = find_checkpoint(run)
        killed_at = load_state(found).step if found is not None else 0
        finish(train(run, args.steps))  # "rerun the same command"
        diff = same_state(reference, run)
        results.append({"trial": trial, "after_step": target, "delay_s": round(delay, 3),
                        "killed": process.returncode
                        == -signal.SIGKILL, "resumed_from": killed_at,
                        "mid_checkpoint_write": mid_write, "identical": not diff})  # fmt: skip
        print(json.dumps(results[-1]) + ("" if not diff else f"  differs: {diff[:5]}"))
    lost = [r for r in results if not (r["identical"] and r["killed"])]
    writes = sum(r["mid_checkpoint_write"] for r in results)
    print(f"{len(results) - len(lost)}/{len(results)} trials bit-identical to the reference; "
          f"{writes} killed inside a checkpoint write")  # fmt: skip
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    if lost:
        sys.exit(1)


if __name__ == "__main__":
    sys.exit(run_main("kill_resume", main))
