"""Generation speed of a pipeline: seconds per call at batch 1 and batch 4.

Times ``pipe(prompts, seeds=..., steps=25, guidance=5)`` for 16 frames at 64x64 (the default
model's shape; both overridable), after one warm-up call, and reports the median of
``--repeats`` runs per batch size, with the device, torch's CPU threads and the model size.
Guidance doubles the batch the network sees (conditional + unconditional branch). On CUDA the
clock stops after ``torch.cuda.synchronize()``::

    .venv/bin/python benchmarks/generate_speed.py --checkpoint src/spacetime/assets/default_model
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch

import spacetime
from _common import run_main
from _timing import cpu_model
from spacetime.errors import SpacetimeError
from spacetime.pipelines import VideoPipeline
from spacetime.pipelines.loading import resolve_pipeline

PROMPTS = (
    "a red circle moves right",
    "a yellow triangle moves left and a blue square moves down",
    "a small green circle moves right behind a pillar on a striped background",
    "a large purple square bounces on a checkered background",
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, required=True, help="pipeline or run folder")
    parser.add_argument("--frames", type=int, default=16, help="frames per clip")
    parser.add_argument("--size", type=int, default=64, help="frame side in px")
    parser.add_argument("--steps", type=int, default=25, help="sampler steps")
    parser.add_argument("--guidance", type=float, default=5.0, help="guidance scale")
    parser.add_argument("--sampler", default="ddim", help="sampler name")
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 4], help="batch sizes")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per batch size")
    parser.add_argument("--device", default="auto", help="auto (cuda if available), cpu, cuda")
    parser.add_argument("--json", type=Path, help="also write the results here")
    return parser.parse_args(argv)


def device_name(device: torch.device) -> str:
    """A readable device description (GPU model, or the CPU architecture)."""
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return f"cpu ({platform.machine()}, {cpu_model()}, {os.cpu_count()} logical cores)"


def time_call(pipe: VideoPipeline, batch: int, args: argparse.Namespace) -> float:
    """Wall-clock seconds of one pipeline call generating ``batch`` clips."""
    prompts = [PROMPTS[i % len(PROMPTS)] for i in range(batch)]
    sync = torch.cuda.synchronize if pipe.device.type == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    pipe(
        prompts,
        seeds=list(range(batch)),
        frames=args.frames,
        size=args.size,
        steps=args.steps,
        guidance=args.guidance,
        sampler=args.sampler,
        progress=False,
    )
    sync()
    return time.perf_counter() - start


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Measure, print a markdown table and return the results."""
    if args.repeats < 1 or any(b < 1 for b in args.batch):
        raise SpacetimeError("--repeats and every --batch must be >= 1")
    device = torch.device(
        ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    )
    folder = resolve_pipeline(args.checkpoint)
    pipe = VideoPipeline.from_pretrained(folder, device=device)
    params = sum(p.numel() for p in pipe.denoiser.parameters())
    print(f"spacetime {spacetime.__version__}, torch {torch.__version__}")
    print(f"device: {device_name(device)}; torch CPU threads: {torch.get_num_threads()}")
    print(f"model: {folder} (denoiser {params / 1e6:.2f}M parameters)")
    print(
        f"clip: {args.frames} frames at {args.size}x{args.size}, {args.steps} {args.sampler} "
        f"steps, guidance {args.guidance:g}\n"
    )
    time_call(pipe, 1, argparse.Namespace(**{**vars(args), "steps": 1}))  # warm-up
    rows = []
    for batch in args.batch:
        runs = [time_call(pipe, batch, args) for _ in range(args.repeats)]
        median = statistics.median(runs)
        rows.append(
            {"batch": batch, "median_s": median, "per_video_s": median / batch, "runs": runs}
        )
    print("| batch | median s / call | s / video | runs |")
    print("|---|---|---|---|")
    for row in rows:
        runs = ", ".join(f"{r:.2f}" for r in row["runs"])
        print(f"| {row['batch']} | {row['median_s']:.2f} | {row['per_video_s']:.2f} | {runs} |")
    result = {
        "spacetime_version": spacetime.__version__,
        "torch_version": torch.__version__,
        "device": device_name(device),
        "threads": torch.get_num_threads(),
        "checkpoint": str(folder),
        "denoiser_parameters": params,
        "settings": {k: v for k, v in vars(args).items() if k not in ("checkpoint", "json")},
        "results": rows,
    }
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


def main(argv: list[str] | None = None) -> int:
    return run_main("generate_speed", lambda: run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
