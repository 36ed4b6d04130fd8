"""Calibrate the temporal-coherence metrics on real footage with injected failures.

For every clip and every corruption of :data:`spacetime.evaluation.corruptions.CORRUPTIONS`,
the corruption is applied at increasing strengths and its target metric is measured; a row
PASSes when the metric moves strictly in the expected direction at every step, starting from
the clean clip (so even the weakest corruption separates from the clean clip).

    .venv/bin/python benchmarks/calibration.py [--frames 48 --size 256]
        [--data ../shared/data/real] [--json out.json] [--markdown out.md]

Exit status 1 when a row fails.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from spacetime.evaluation.corruptions import CORRUPTIONS, STRENGTHS, CalibrationRow, calibrate
from spacetime.evaluation.metrics import UNITS
from spacetime.evaluation.metrics.context import analysis_shape
from spacetime.video import list_videos, read_video, resize_frames

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"


def load_clip(path: Path, frames: int, size: int) -> np.ndarray:
    """The first ``frames`` frames of ``path``, longer side resized to ``size`` (aspect kept)."""
    clip = read_video(path, max_frames=frames).frames
    height, width = analysis_shape(clip.shape[1], clip.shape[2], size)
    return resize_frames(clip, (height, width))


def markdown_table(rows: list[CalibrationRow]) -> str:
    """The calibration rows as a markdown table."""
    strengths = rows[0].strengths
    head = ["clip", "corruption", "metric (statistic, unit)", "clean", *map(str, strengths), ""]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        metric = f"{r.metric} ({r.statistic}, {UNITS[r.metric]})"
        values = [f"{v:.3f}" for v in (r.clean, *r.values)]
        verdict = "PASS" if r.passed else "FAIL"
        lines.append("| " + " | ".join([r.clip, r.corruption, metric, *values, verdict]) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of clips")
    parser.add_argument("--frames", type=int, default=48, help="frames per clip (from the start)")
    parser.add_argument("--size", type=int, default=256, help="longer side of the clips, pixels")
    parser.add_argument(
        "--strengths", type=float, nargs="+", default=list(STRENGTHS), help="corruption strengths"
    )
    parser.add_argument("--corruptions", nargs="+", default=list(CORRUPTIONS), help="subset")
    parser.add_argument("--json", type=Path, help="write the rows as JSON here")
    parser.add_argument("--markdown", type=Path, help="write the table as markdown here")
    args = parser.parse_args(argv)

    if not args.data.is_dir():
        print(f"calibration: no clips folder at {args.data} (use --data)", file=sys.stderr)
        return 2
    rows: list[CalibrationRow] = []
    start = time.perf_counter()
    for path in list_videos(args.data):
        frames = load_clip(path, args.frames, args.size)
        clip_rows = calibrate(
            frames,
            clip=path.name,
            corruptions=args.corruptions,
            strengths=args.strengths,
            analysis_size=args.size,
        )
        for r in clip_rows:
            values = " ".join(f"{v:8.3f}" for v in r.values)
            verdict = "PASS" if r.passed else "FAIL"
            print(
                f"{r.clip:24s} {r.corruption:16s} {r.metric:16s} {r.statistic:4s} "
                f"{r.clean:8.3f} {values}  {verdict}",
                flush=True,
            )
        rows.extend(clip_rows)
    passed = sum(r.passed for r in rows)
    elapsed = time.perf_counter() - start
    print(f"\n{passed}/{len(rows)} rows pass ({elapsed:.0f} s)")
    for name in args.corruptions:
        mine = [r for r in rows if r.corruption == name]
        print(f"  {name:16s} {sum(r.passed for r in mine)}/{len(mine)}")
    if args.json:
        args.json.write_text(json.dumps([r.to_dict() for r in rows], indent=1))
    if args.markdown:
        args.markdown.write_text(markdown_table(rows) + "\n")
    return 0 if passed == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
