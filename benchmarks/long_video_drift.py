"""Drift and seams of long videos: every method along 128-frame ShapesWorld clips.

For ``--n`` held-out ShapesWorld scenes whose objects stay in view for all ``--frames`` frames
(scene seeds from ``--first-seed``; a moving object that leaves the frame would make the caption
false for later windows, so those scenes are skipped and counted), every method of
:mod:`spacetime.pipelines.long_video` generates a ``--frames``-frame clip from the caption. Each
clip and the ground truth are scored

- per 16-frame window (``--score-window``): every coherence metric (means of its per-transition
  values inside the window, computed once on the whole clip so ``identity_drift`` keeps its
  reference to each track's first appearance) and every ShapesWorld oracle score of the window
  against the caption — the **drift curve**;
- at **seams**: each metric's mean over the transitions where two network calls meet, against
  its mean over the transitions inside calls (ratio 1 = seams invisible).

Methods: ``extend``, ``replacement`` (= ``guided`` with ``w_r = 0``: VDM's baseline),
``guided`` (``w_r`` from ``--guidance-weight``), ``noisy@L`` for each level of
``--noise-levels``, ``sliding`` and ``keyframes``. The table ``vdm.md`` puts replacement and
reconstruction guidance side by side (Ho et al. 2022, Sec. 3.1: guidance should win).

Outputs in ``--out``: ``drift.json`` (everything), ``drift.md`` (tables), one PNG per plotted
score (``drift_<score>.png``), ``clips/<method>.npz`` (the generated clips: a rerun with the same
settings reuses them, so an interrupted run continues)::

    .venv/bin/python benchmarks/long_video_drift.py --n 8 --out bench_out/long
    .venv/bin/python benchmarks/long_video_drift.py --checkpoint runs/default --quick

``--quick``: 64 frames, 10 steps, 2 clips, methods extend/guided/replacement/sliding/keyframes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from _common import run_main
from spacetime.data import shapes
from spacetime.errors import SpacetimeError
from spacetime.evaluation.metrics import compute_metrics
from spacetime.evaluation.oracle import score_video
from spacetime.pipelines.loading import resolve_pipeline
from spacetime.pipelines.long_plan import autoregressive_plan, keyframe_plan
from spacetime.pipelines.long_video import LongVideo, generate_long
from spacetime.pipelines.shapes_eval import HELD_OUT_SEED, ORACLE_SCORES
from spacetime.pipelines.video_pipeline import VideoPipeline

PLOTTED = ("identity_drift", "teleport", "flicker", "background_swim", "identity_consistency",
           "teleport_rate")  # fmt: skip
"""Scores drawn as drift curves (every score is in drift.json and drift.md)."""

LOWER_IS_BETTER = {"teleport_rate"}  # oracle scores; metrics are all lower-is-better


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, help="pipeline or run (default: bundled)")
    parser.add_argument("--n", type=int, default=4, help="clips per method")
    parser.add_argument("--frames", type=int, default=128, help="frames per clip")
    parser.add_argument("--window", type=int, help="frames per call (default: the model's)")
    parser.add_argument("--overlap", type=int, help="frames windows share (default: half)")
    parser.add_argument("--score-window", type=int, default=16, help="frames per scored window")
    parser.add_argument("--steps", type=int, default=20, help="sampler steps")
    parser.add_argument("--guidance", type=float, default=5.0, help="classifier-free guidance")
    parser.add_argument("--guidance-weight", type=float, default=2.0, help="guided's w_r")
    parser.add_argument(
        "--noise-levels", default="100,250", help="comma-separated context levels for noisy"
    )
    parser.add_argument("--methods", help="comma-separated subset of the methods to run")
    parser.add_argument("--first-seed", type=int, default=HELD_OUT_SEED, help="first scene seed")
    parser.add_argument("--analysis-size", type=int, default=128, help="metric analysis size")
    parser.add_argument("--out", type=Path, default=Path("bench_out/long_video"))
    parser.add_argument("--quick", action="store_true", help="a small fast run (see above)")
    args = parser.parse_args(argv)
    if args.quick:
        args.frames, args.steps, args.n = 64, 10, min(args.n, 2)
        args.methods = args.methods or "extend,replacement,guided,sliding,keyframes"
    if args.n < 1 or args.frames < 2 * args.score_window:
        raise SpacetimeError("need --n >= 1 and --frames >= 2 * --score-window")
    return args


def methods(args: argparse.Namespace) -> dict[str, LongVideo]:
    """Method label -> settings."""
    common = {"window": args.window, "overlap": args.overlap}
    out = {
        "extend": LongVideo("extend", **common),
        "replacement": LongVideo("guided", guidance_weight=0.0, **common),
        "guided": LongVideo("guided", guidance_weight=args.guidance_weight, **common),
    }
    for level in [float(v) for v in args.noise_levels.split(",") if v.strip()]:
        out[f"noisy@{level:g}"] = LongVideo("noisy", context_noise=level, **common)
    out["sliding"] = LongVideo("sliding", **common)
    out["keyframes"] = LongVideo("keyframes", **common)
    if args.methods:
        keep = [m.strip() for m in args.methods.split(",") if m.strip()]
        unknown = sorted(set(keep) - set(out))
        if unknown:
            raise SpacetimeError(f"--methods: unknown {unknown}; choose from {', '.join(out)}")
        out = {k: out[k] for k in keep}
    return out


def in_view_scenes(n: int, frames: int, first_seed: int) -> tuple[list[shapes.ShapesClip], int]:
    """The first ``n`` scenes from ``first_seed`` whose objects stay inside the frame for all
    ``frames`` frames (a pillar may hide them), and how many were skipped."""
    clips, seed = [], first_seed
    while len(clips) < n:
        clip = shapes.generate(seed, size=64, frames=frames)
        seed += 1
        size = clip.video.shape[1]
        inside = all(
            0 <= obj["center"][0] <= size and 0 <= obj["center"][1] <= size
            for step in clip.ground_truth["per_frame"]
            for obj in step["objects"]
        )
        if inside:
            clips.append(clip)
        if seed - first_seed > 50 * n:
            raise SpacetimeError(f"fewer than {n} in-view scenes in {50 * n} seeds")
    return clips, seed - first_seed - n


def seam_transitions(settings: LongVideo, total: int, sample_frames: int) -> set[int]:
    """Transitions ``i`` (frame i -> i + 1) where frames of two different network calls meet
    (for ``sliding``: where a window starts)."""
    window, overlap = settings.resolve(sample_frames)
    if settings.method == "sliding":
        from spacetime.diffusion.windowed import window_starts

        return {s - 1 for s in window_starts(total, window, window - overlap) if s > 0}
    if settings.method == "keyframes":
        plan = keyframe_plan(total, window)
    else:
        plan = autoregressive_plan(total, window, overlap)
    owner = np.zeros(total, dtype=int)
    for index, w in enumerate(plan):
        owner[list(w.commit)] = index
    return {i for i in range(total - 1) if owner[i] != owner[i + 1]}


def score_clip(video: np.ndarray, caption: str, size: int, seams: set[int], args: Any) -> dict:
    """Per-window metric means and oracle scores, and seam vs inner means of each metric."""
    series = compute_metrics(video, analysis_size=size)
    per_window: list[dict[str, float | None]] = []
    w = args.score_window
    for lo in range(0, len(video) - w + 1, w):
        row: dict[str, float | None] = {
            name: float(np.mean(s.per_frame[lo : lo + w - 1])) for name, s in series.items()
        }
        report = score_video(video[lo : lo + w], caption).to_dict()
        row.update({k: report.get(k) for k in ORACLE_SCORES})
        per_window.append(row)
    seam_rows = {}
    for name, s in series.items():
        values = np.asarray(s.per_frame)
        at = [values[i] for i in sorted(seams) if i < len(values)]
        inner = [v for i, v in enumerate(values) if i not in seams]
        seam_rows[name] = {"seam": float(np.mean(at)) if at else None,
                           "inner": float(np.mean(inner))}  # fmt: skip
    return {"windows": per_window, "seams": seam_rows}


def mean_rows(rows: list[list[dict]]) -> list[dict[str, float | None]]:
    """Per-window means over clips (None-valued scores left out)."""
    out = []
    for per_clip in zip(*rows, strict=True):
        keys = per_clip[0].keys()
        out.append({k: _mean([r[k] for r in per_clip]) for k in keys})
    return out


def _mean(values: list[Any]) -> float | None:
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def generate(pipe: VideoPipeline, name: str, settings: LongVideo, clips: list, args: Any,
             store: Path) -> tuple[np.ndarray, float]:  # fmt: skip
    """The clips of one method (reused from ``store`` when made with the same settings)."""
    key = json.dumps({"settings": repr(settings), "frames": args.frames, "steps": args.steps,
                      "guidance": args.guidance, "seeds": [c.seed for c in clips]})  # fmt: skip
    path = store / f"{name}.npz"
    if path.is_file():
        saved = np.load(path)
        if str(saved["key"]) == key:
            return saved["videos"], float(saved["seconds"])
    started = time.perf_counter()
    videos = generate_long(
        pipe, [c.caption for c in clips], seeds=list(range(len(clips))),
        total_frames=args.frames, settings=settings, steps=args.steps, guidance=args.guidance,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    store.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, videos=videos, key=key, seconds=seconds)
    tmp.replace(path)
    return videos, seconds


def plot(results: dict[str, Any], out: Path, window: int) -> list[Path]:
    """One PNG per plotted score: its per-window curve for every method and the truth."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    for score in PLOTTED:
        fig, ax = plt.subplots(figsize=(6, 3.2))
        for name, res in results.items():
            ys = [row.get(score) for row in res["curve"]]
            xs = [i * window + window / 2 for i in range(len(ys))]
            style = {"color": "black", "linestyle": "--"} if name == "ground truth" else {}
            ax.plot(xs, [np.nan if y is None else y for y in ys], marker="o", ms=3, label=name,
                    **style)  # fmt: skip
        ax.set_xlabel("frame (centre of the 16-frame window)")
        ax.set_ylabel(score)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, ncol=2)
        fig.tight_layout()
        path = out / f"drift_{score}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths


def markdown(results: dict[str, Any], args: Any) -> str:
    """The drift, seam and VDM tables."""
    names = list(results)
    first_last = ["| score | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    scores = list(results[names[0]]["curve"][0])
    for score in scores:
        cells = []
        for name in names:
            curve = results[name]["curve"]
            a, b = curve[0].get(score), curve[-1].get(score)
            cells.append("–" if a is None or b is None else f"{a:.3g} → {b:.3g}")
        first_last.append(f"| {score} | " + " | ".join(cells) + " |")
    seam = ["| metric | " + " | ".join(n for n in names if n != "ground truth") + " |",
            "|---" * len(names) + "|"]  # fmt: skip
    for metric in results[names[0]]["seams"]:
        cells = []
        for name in names:
            if name == "ground truth":
                continue
            row = results[name]["seams"][metric]
            ratio = row["seam"] / row["inner"] if row["seam"] is not None and row["inner"] else None
            cells.append("–" if ratio is None else f"{row['seam']:.3g} / {row['inner']:.3g} "
                         f"(×{ratio:.2f})")  # fmt: skip
        seam.append(f"| {metric} | " + " | ".join(cells) + " |")
    vdm = [n for n in ("replacement", "guided", "extend") if n in results]
    table = ["| | " + " | ".join(vdm) + " |", "|---" * (len(vdm) + 1) + "|"]
    for label, fn in vdm_rows().items():
        table.append(f"| {label} | " + " | ".join(fn(results[n]) for n in vdm) + " |")
    return "\n".join([
        f"## Drift: first window → last window ({args.frames} frames, {args.n} clips)", "",
        *first_last, "", "## Seams: mean at window boundaries / inside windows (ratio)", "",
        *seam, "", "## Replacement vs reconstruction guidance (VDM Sec. 3.1)", "", *table, "",
    ])  # fmt: skip


def vdm_rows() -> dict[str, Any]:
    """Rows of the replacement-vs-guidance table: label -> cell of one method's results."""

    def seam_ratio(metric: str) -> Any:
        def cell(res: dict) -> str:
            row = res["seams"][metric]
            return f"{row['seam'] / row['inner']:.2f}" if row["seam"] and row["inner"] else "–"

        return cell

    def overall(score: str) -> Any:
        def cell(res: dict) -> str:
            value = _mean([r.get(score) for r in res["curve"]])
            return "–" if value is None else f"{value:.3g}"

        return cell

    return {
        "warp_error at seams / inside (lower is better)": seam_ratio("warp_error"),
        "flicker at seams / inside": seam_ratio("flicker"),
        "teleport at seams / inside": seam_ratio("teleport"),
        "identity_drift (mean over windows)": overall("identity_drift"),
        "oracle teleport_rate (mean over windows)": overall("teleport_rate"),
        "oracle identity_consistency (mean over windows)": overall("identity_consistency"),
        "seconds per clip": lambda res: f"{res['seconds_per_clip']:.0f}",
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    torch.set_num_threads(int(__import__("os").environ.get("OMP_NUM_THREADS", "1")))
    folder = resolve_pipeline(args.checkpoint)
    pipe = VideoPipeline.from_pretrained(folder)
    clips, skipped = in_view_scenes(args.n, args.frames, args.first_seed)
    print(f"{len(clips)} in-view scenes ({skipped} skipped: an object leaves the frame)")
    results: dict[str, Any] = {}
    truth = [score_clip(c.video, c.caption, args.analysis_size, set(), args) for c in clips]
    results["ground truth"] = {"curve": mean_rows([t["windows"] for t in truth]),
                               "seams": truth[0]["seams"], "seconds_per_clip": 0.0}  # fmt: skip
    for name, settings in methods(args).items():
        print(f"{name}: generating {len(clips)} clips of {args.frames} frames", flush=True)
        videos, seconds = generate(pipe, name, settings, clips, args, args.out / "clips")
        seams = seam_transitions(settings, args.frames, pipe.sample_frames)
        scored = [score_clip(v, c.caption, args.analysis_size, seams, args)
                  for v, c in zip(videos, clips, strict=True)]  # fmt: skip
        results[name] = {
            "curve": mean_rows([s["windows"] for s in scored]),
            "seams": {m: {k: _mean([s["seams"][m][k] for s in scored]) for k in ("seam", "inner")}
                      for m in scored[0]["seams"]},
            "seconds_per_clip": seconds / len(clips),
        }  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    meta = {"checkpoint": str(folder), "frames": args.frames, "n": args.n, "steps": args.steps,
            "guidance": args.guidance, "score_window": args.score_window,
            "first_seed": args.first_seed, "skipped_scenes": skipped,
            "captions": [c.caption for c in clips]}  # fmt: skip
    (args.out / "drift.json").write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    text = markdown(results, args)
    (args.out / "drift.md").write_text(text)
    plots = plot(results, args.out, args.score_window)
    print(text)
    print("wrote", args.out / "drift.json", args.out / "drift.md", *plots)
    return results


if __name__ == "__main__":
    sys.exit(run_main("long_video_drift", lambda: run(parse_args())))
