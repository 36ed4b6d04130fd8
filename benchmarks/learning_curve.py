"""Adherence against CPU-minutes of training, from the snapshots of one or more runs.

A run trained with ``snapshot_every`` keeps its EMA pipeline at ``RUN/snapshots/step_*``; its
``log.jsonl`` records the CPU time of the training steps (``cpu_minutes``). For every snapshot
this script generates ``--n`` ShapesWorld clips from captions of scenes that are neither
training scenes nor the 200 held-out ones (scene seeds from ``--first-seed``, 20,000,000 by
default), scores them with the oracle and plots adherence and each caption attribute against
the CPU-minutes spent to reach that snapshot. A run started from another run's weights
(``init.path``, e.g. the video stage of the default recipe) is shifted right by the CPU time of
the run it started from, so staged and single-stage recipes compare at the same compute::

    .venv/bin/python benchmarks/learning_curve.py --n 100 --out bench_out/curve \\
        --run "video only=runs/video-only" --run "image→video=runs/default-image" \\
        --run "image→video=runs/default"

Runs given the same label form one curve. Each point is kept in ``OUT/points/`` (keyed by the
snapshot's weights and the settings), so a rerun only computes new snapshots.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from _common import cached, run_main
from default_quality import weights_digest
from spacetime.errors import SpacetimeError
from spacetime.pipelines import VideoPipeline
from spacetime.pipelines.shapes_eval import (
    ATTRIBUTES,
    generate_tasks,
    held_out_tasks,
    score_clips,
    summarize,
)
from spacetime.training.checkpoint import find_checkpoint, load_state

CURVE_SEED = 20_000_000
"""First scene seed of the learning-curve scenes (disjoint from the held-out 10,000,000+)."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--run",
        action="append",
        required=True,
        metavar="LABEL=RUN",
        help="a run folder with snapshots/, under a curve label (repeatable)",
    )
    parser.add_argument("--n", type=int, default=100, help="clips per snapshot (default 100)")
    parser.add_argument("--first-seed", type=int, default=CURVE_SEED, help="first scene seed")
    parser.add_argument("--steps", type=int, default=20, help="sampler steps")
    parser.add_argument("--guidance", type=float, default=5.0, help="guidance scale")
    parser.add_argument("--sampler", default="ddim", help="sampler name")
    parser.add_argument("--batch-size", type=int, default=25, help="clips per sampler call")
    parser.add_argument("--every", type=int, default=1, help="use every k-th snapshot")
    parser.add_argument(
        "--frames",
        type=int,
        default=0,
        help="clip length (0: the model's; 1: still images, no motion scored)",
    )
    parser.add_argument("--out", type=Path, default=Path("bench_out/curve"), help="folder")
    return parser.parse_args(argv)  # fmt: skip


def cpu_minutes(run: Path, step: int | None = None) -> float:
    """CPU-minutes of ``run``'s training steps up to ``step`` (default: its last checkpoint),
    plus those of the run it started from (``init.path``), recursively."""
    if step is None:
        checkpoint = find_checkpoint(run)
        if checkpoint is None:
            raise SpacetimeError(f"{run} has no checkpoint")
        own = float(load_state(checkpoint).meta.get("cpu_seconds", 0.0)) / 60
    else:
        records = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
        logged = [r for r in records if r.get("step") == step and "cpu_minutes" in r]
        if not logged:
            raise SpacetimeError(f"{run}/log.jsonl has no cpu_minutes at step {step}")
        own = float(logged[-1]["cpu_minutes"])
    config = yaml.safe_load((run / "config.yaml").read_text()) or {}
    init = (config.get("init") or {}).get("path")
    if init and (Path(init) / "log.jsonl").is_file():
        own += cpu_minutes(Path(init))
    return own


def snapshots(run: Path, every: int) -> list[tuple[int, Path]]:
    """``(step, folder)`` of the run's snapshots, in step order, every ``every``-th."""
    found = sorted(
        (int(p.name.removeprefix("step_")), p) for p in (run / "snapshots").glob("step_*")
    )
    if not found:
        raise SpacetimeError(f"{run} has no snapshots/ (train it with snapshot_every > 0)")
    return found[every - 1 :: every] if every > 1 else found


def point(args: argparse.Namespace, folder: Path, tasks: list, store: Path) -> dict[str, Any]:
    """The summary of one snapshot, computed or read back from ``store``."""
    names = ("n", "first_seed", "steps", "guidance", "sampler", "frames")
    settings = {k: getattr(args, k) for k in names}

    def compute() -> dict[str, Any]:
        pipe = VideoPipeline.from_pretrained(folder)
        videos = generate_tasks(pipe, tasks, steps=args.steps, guidance=args.guidance,
                                sampler=args.sampler, batch_size=args.batch_size)  # fmt: skip
        return summarize(score_clips(videos, tasks, desc=folder.name))

    return cached(store, {"settings": settings, "weights": weights_digest(folder)}, compute)


def plot(curves: dict[str, list[dict[str, Any]]], path: Path) -> Path:
    """Adherence (left) and each attribute (right) against CPU-minutes, one colour per curve."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    styles = ["-", "--", ":", "-.", (0, (1, 1)), (0, (5, 1)), (0, (3, 1, 1, 1))]
    for i, (label, points) in enumerate(curves.items()):
        x = [p["cpu_minutes"] for p in points]
        colour = f"C{i}"
        left.plot(x, [100 * p["summary"]["adherence"] for p in points], "o-", color=colour,
                  label=label)  # fmt: skip
        for name, style in zip(ATTRIBUTES, styles, strict=False):
            y = [p["summary"]["attributes"][name] for p in points]
            if all(v is None for v in y):
                continue
            y = [np.nan if v is None else 100 * v for v in y]
            right.plot(
                x,
                y,
                linestyle=style,
                color=colour,
                label=f"{label}: {name}" if i == 0 or name == "motion" else None,
            )
    left.set(xlabel="training CPU-minutes", ylabel="adherence (%)", ylim=(0, 100),
             title="adherence on unseen scenes")  # fmt: skip
    right.set(xlabel="training CPU-minutes", ylabel="accuracy (%)", ylim=(0, 100),
              title="per attribute (line style)")  # fmt: skip
    left.legend(fontsize=8)
    right.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def run(args: argparse.Namespace) -> dict[str, Any]:
    torch.manual_seed(0)
    if args.n < 1 or args.every < 1:
        raise SpacetimeError("--n and --every must be >= 1")
    curves: dict[str, list[dict[str, Any]]] = {}
    for spec in args.run:
        label, sep, folder = spec.partition("=")
        if not sep or not folder:
            raise SpacetimeError(f"--run {spec!r}: expected LABEL=RUN_FOLDER")
        run_dir = Path(folder)
        for step, snap in snapshots(run_dir, args.every):
            pipe = VideoPipeline.from_pretrained(snap)
            frames = args.frames or pipe.sample_frames
            tasks = held_out_tasks(args.n, size=pipe.sample_size[0], frames=frames,
                                   first_seed=args.first_seed)  # fmt: skip
            summary = point(args, snap, tasks, args.out / "points")
            minutes = cpu_minutes(run_dir, step)
            curves.setdefault(label, []).append(
                {"run": str(run_dir), "step": step, "cpu_minutes": minutes, "summary": summary}
            )
            print(f"{label} step {step}: {minutes:.1f} CPU-min, adherence "
                  f"{100 * summary['adherence']:.1f}%", file=sys.stderr)  # fmt: skip
    for points in curves.values():
        points.sort(key=lambda p: p["cpu_minutes"])
    args.out.mkdir(parents=True, exist_ok=True)
    report = {"settings": vars(args) | {"out": str(args.out)}, "curves": curves}
    (args.out / "curve.json").write_text(json.dumps(report, indent=1, default=str) + "\n")
    png = plot(curves, args.out / "learning_curve.png")
    print(f"wrote {args.out / 'curve.json'}, {png}")
    return report


def main(argv: list[str] | None = None) -> int:
    return run_main("learning_curve", lambda: run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
