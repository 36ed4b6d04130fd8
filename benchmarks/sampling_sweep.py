"""How guidance and the sampler trade caption adherence against temporal coherence.

On ``--n`` ShapesWorld captions of scenes that are neither training nor held-out scenes (scene
seeds from ``--first-seed``, 30,000,000 by default) the model generates one clip per caption

- for each guidance scale of ``--guidance`` (with ``--sampler`` at ``--steps``), and
- for each ``sampler:steps`` of ``--samplers`` (at ``--at-guidance``),

and every clip is scored with the oracle (adherence, per attribute) and the coherence metrics
(teleport rate, identity drift, motion jerk). The table and ``OUT/sweep.png`` show where strong
guidance starts to "lock" motion (adherence up, motion down) and which sampler reaches the
adherence of 25 DDIM steps in fewer steps; the defaults of ``spacetime generate`` are chosen
from them (see the README)::

    .venv/bin/python benchmarks/sampling_sweep.py --checkpoint runs/default --n 60

Each point is kept in ``OUT/points/`` (keyed by the weights and settings).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from _common import cached, run_main
from default_quality import weights_digest
from spacetime.errors import SpacetimeError
from spacetime.pipelines import VideoPipeline
from spacetime.pipelines.run_folder import pipeline_folder
from spacetime.pipelines.shapes_eval import generate_tasks, held_out_tasks, score_clips, summarize

SWEEP_SEED = 30_000_000
"""First scene seed of the sweep's scenes (disjoint from the held-out and curve scenes)."""

COLUMNS = {  # summary key -> table header
    "adherence": "adherence",
    "teleport_rate": "teleport rate",
    "identity_consistency": "identity",
    "metric/identity_drift": "identity drift",
    "metric/motion_smoothness": "jerk",
    "metric/dynamic_degree": "motion",
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, required=True, help="pipeline or run folder")
    parser.add_argument("--n", type=int, default=60, help="clips per point (default 60)")
    parser.add_argument("--first-seed", type=int, default=SWEEP_SEED, help="first scene seed")
    parser.add_argument("--guidance", default="1,2,3,5,7.5,10,12", help="guidance scales")
    parser.add_argument("--sampler", default="ddim", help="sampler of the guidance sweep")
    parser.add_argument("--steps", type=int, default=25, help="steps of the guidance sweep")
    parser.add_argument("--samplers", default="ddim:10,ddim:20,ddim:25,dpm++:10,dpm++:20,dpm++:25",
                        help="sampler:steps points of the sampler sweep")  # fmt: skip
    parser.add_argument("--at-guidance", type=float, default=5.0, help="guidance of that sweep")
    parser.add_argument("--batch-size", type=int, default=20, help="clips per sampler call")
    parser.add_argument("--out", type=Path, default=Path("bench_out/sweep"), help="folder")
    return parser.parse_args(argv)


def parse_list(text: str, name: str) -> list[str]:
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise SpacetimeError(f"--{name} is empty")
    return items


def table(rows: list[dict[str, Any]], first: str) -> str:
    """Markdown: one row per point, the :data:`COLUMNS` as columns."""
    lines = [f"| {first} | " + " | ".join(COLUMNS.values()) + " |",
             "|---|" + "---|" * len(COLUMNS)]  # fmt: skip
    for row in rows:
        cells = []
        for key in COLUMNS:
            value = row["summary"].get(key)
            pct = key in ("adherence", "teleport_rate")
            cells.append("–" if value is None else f"{100 * value:.1f}%" if pct else f"{value:.3g}")
        lines.append(f"| {row['label']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(guidance: list[dict[str, Any]], samplers: list[dict[str, Any]], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    x = [r["guidance"] for r in guidance]
    left.plot(x, [100 * r["summary"]["adherence"] for r in guidance], "o-", label="adherence (%)")
    motion = [r["summary"]["attributes"]["motion"] for r in guidance]
    left.plot(x, [100 * (m or 0) for m in motion], "s--", label="motion attribute (%)")
    twin = left.twinx()
    twin.plot(x, [r["summary"].get("metric/dynamic_degree") for r in guidance], "^:", color="C3",
              label="amount of motion (dynamic degree)")  # fmt: skip
    left.set(xlabel="guidance scale", ylabel="%", ylim=(0, 100), title="guidance")
    left.legend(loc="upper left", fontsize=8)
    twin.legend(loc="lower right", fontsize=8)
    for name in sorted({r["sampler"] for r in samplers}):
        pts = [r for r in samplers if r["sampler"] == name]
        right.plot([r["steps"] for r in pts], [100 * r["summary"]["adherence"] for r in pts],
                   "o-", label=name)  # fmt: skip
    right.set(xlabel="sampler steps", ylabel="adherence (%)", ylim=(0, 100), title="sampler")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def run(args: argparse.Namespace) -> dict[str, Any]:
    folder = pipeline_folder(args.checkpoint)
    pipe = VideoPipeline.from_pretrained(folder)
    tasks = held_out_tasks(args.n, size=pipe.sample_size[0], frames=pipe.sample_frames,
                           first_seed=args.first_seed)  # fmt: skip
    digest = weights_digest(folder)

    def summary(sampler: str, steps: int, guidance: float) -> dict[str, Any]:
        key = {"weights": digest, "n": args.n, "first_seed": args.first_seed,
               "sampler": sampler, "steps": steps, "guidance": guidance}  # fmt: skip

        def compute() -> dict[str, Any]:
            videos = generate_tasks(pipe, tasks, steps=steps, guidance=guidance,
                                    sampler=sampler, batch_size=args.batch_size)  # fmt: skip
            return summarize(score_clips(videos, tasks, desc=f"{sampler}:{steps} w={guidance}"))

        return cached(args.out / "points", key, compute)

    by_guidance = []
    for w in parse_list(args.guidance, "guidance"):
        s = summary(args.sampler, args.steps, float(w))
        by_guidance.append({"label": f"w = {w}", "guidance": float(w), "summary": s})
    by_sampler = []
    for item in parse_list(args.samplers, "samplers"):
        name, _, steps = item.partition(":")
        if not steps.isdigit():
            raise SpacetimeError(f"--samplers item {item!r}: expected NAME:STEPS, e.g. ddim:25")
        s = summary(name, int(steps), args.at_guidance)
        by_sampler.append({"label": item, "sampler": name, "steps": int(steps), "summary": s})
    text = (
        f"guidance ({args.sampler}, {args.steps} steps)\n\n"
        + table(by_guidance, "guidance")
        + f"\n\nsampler (guidance {args.at_guidance})\n\n"
        + table(by_sampler, "sampler")
    )
    print(text)  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "sweep.md").write_text(text + "\n", encoding="utf-8")
    report = {"checkpoint": str(folder), "n": args.n, "first_seed": args.first_seed,
              "guidance": by_guidance, "samplers": by_sampler}  # fmt: skip
    (args.out / "sweep.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    png = plot(by_guidance, by_sampler, args.out / "sweep.png")
    print(f"wrote {args.out / 'sweep.md'}, {png}")
    return report


def main(argv: list[str] | None = None) -> int:
    return run_main("sampling_sweep", lambda: run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
