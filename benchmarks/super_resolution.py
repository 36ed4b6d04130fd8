"""A super-resolution stage against plain bicubic upsampling, on ShapesWorld 64 -> 128 px.

``--n`` held-out ShapesWorld scenes (seeds from ``--first-seed``) are rendered at 128 px; each is
box-downsampled to 64 px (the degradation the stage was trained to invert) and brought back to
128 px by bicubic upsampling and by the SR pipeline (``--checkpoint``, a run or pipeline
folder, at each ``--noise-levels`` conditioning augmentation). Reported per method:

- PSNR (dB) to the 128-px ground truth, over all frames;
- the ShapesWorld oracle's scores against the caption;
- the coherence metrics, whose flicker / edge_shimmer / warp_error must not rise over the
  ground truth's: an SR stage must not add shimmer.

Writes ``OUT/sr.json`` and ``OUT/sr.md`` and prints the table::

    .venv/bin/python benchmarks/super_resolution.py --checkpoint runs/sr-shapes --n 8
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from _common import run_main
from spacetime.contracts.pixels import to_model_range, to_uint8
from spacetime.data import shapes
from spacetime.errors import SpacetimeError
from spacetime.models.super_resolution import downsample, upsample
from spacetime.pipelines.run_folder import pipeline_folder
from spacetime.pipelines.shapes_eval import HELD_OUT_SEED, ORACLE_SCORES
from spacetime.pipelines.super_resolution import SuperResolutionPipeline

METRICS = ("flicker", "edge_shimmer", "warp_error", "teleport", "identity_drift")


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR (dB) between uint8 videos, over all pixels."""
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / max(mse, 1e-12)))


def score(video: np.ndarray, truth: np.ndarray, caption: str) -> dict[str, float | None]:
    """PSNR, oracle scores and coherence-metric means of one upsampled clip."""
    from spacetime.evaluation.metrics import compute_metrics
    from spacetime.evaluation.oracle import score_video

    row: dict[str, float | None] = {"psnr": psnr(video, truth)}
    report = score_video(video, caption).to_dict()
    row.update({k: report.get(k) for k in ORACLE_SCORES})
    series = compute_metrics(video, names=list(METRICS), analysis_size=128)
    row.update({k: float(series[k].mean) for k in METRICS})
    return row


def run(args: argparse.Namespace) -> dict[str, Any]:
    torch.set_num_threads(1)
    sr = SuperResolutionPipeline.from_pretrained(pipeline_folder(args.checkpoint))
    if sr.factor != 2:
        raise SpacetimeError(f"this benchmark is 64 -> 128 px; got factor {sr.factor}")
    clips = [shapes.generate(args.first_seed + i, size=128, frames=args.frames)
             for i in range(args.n)]  # fmt: skip
    levels = [float(v) for v in args.noise_levels.split(",")]
    rows: dict[str, list[dict[str, float | None]]] = {"ground truth": [], "bicubic": []}
    rows.update({f"SR (noise {lv:g})": [] for lv in levels})
    for i, clip in enumerate(clips):
        truth = clip.video  # (T, 128, 128, 3)
        low = to_uint8(downsample(to_model_range(truth)[None], 2))[0]  # (T, 64, 64, 3)
        rows["ground truth"].append(score(truth, truth, clip.caption))
        bicubic = to_uint8(upsample(to_model_range(low)[None], 2))[0]
        rows["bicubic"].append(score(bicubic, truth, clip.caption))
        for lv in levels:
            out = sr(low[None], seeds=[i], steps=args.steps, noise_level=lv)[0]
            rows[f"SR (noise {lv:g})"].append(score(out, truth, clip.caption))
        print(f"clip {i + 1}/{len(clips)}", flush=True)
    summary = {name: {k: _mean([r[k] for r in rs]) for k in rs[0]} for name, rs in rows.items()}
    keys = list(summary["bicubic"])
    lines = ["| score | " + " | ".join(summary) + " |", "|---" * (len(summary) + 1) + "|"]
    for k in keys:
        cells = ["–" if s[k] is None else f"{s[k]:.3g}" for s in summary.values()]
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    text = "\n".join(lines)
    args.out.mkdir(parents=True, exist_ok=True)
    meta = {"checkpoint": str(args.checkpoint), "n": args.n, "frames": args.frames,
            "steps": args.steps, "first_seed": args.first_seed}  # fmt: skip
    (args.out / "sr.json").write_text(json.dumps({"meta": meta, "summary": summary}, indent=1))
    (args.out / "sr.md").write_text(text + "\n")
    print(text)
    return summary


def _mean(values: list[Any]) -> float | None:
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, required=True, help="SR run or pipeline")
    parser.add_argument("--n", type=int, default=8, help="held-out clips")
    parser.add_argument("--frames", type=int, default=16, help="frames per clip")
    parser.add_argument("--steps", type=int, default=20, help="SR sampler steps")
    parser.add_argument("--noise-levels", default="0,100", help="comma-separated, of 1000")
    parser.add_argument("--first-seed", type=int, default=HELD_OUT_SEED)
    parser.add_argument("--out", type=Path, default=Path("bench_out/sr"))
    args = parser.parse_args()
    return run_main("super_resolution", lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
