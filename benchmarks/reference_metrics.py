"""The calibration of ``calibration.py`` for the formulas users reach for today.

On exactly the clips, derived clips, corruptions (both implementations), strengths and lossy
re-encode control of ``benchmarks/calibration.py``, two reference formulas are measured:

- **VBench temporal_flickering** (Huang et al., "VBench", CVPR 2024): the mean absolute
  difference of consecutive frames, ``mean_t mean_x |I_t(x) - I_{t+1}(x)|`` over RGB, in
  8-bit levels (VBench reports ``(255 - that) / 255``; here larger is worse, like the
  project's metrics);
- **plain warping error**: ``mean_t mean_x |I_t(x) - I_{t+1}(x + F_t(x))|`` on luma, with the
  same DIS flow as the project's metrics but no occlusion mask and no blocks.

Each is checked like the project's target metric (detect / ladder / specificity, which
compare a clip with its own clean version); for a frozen clip, whether it scores *worse* than
the clean clip (both reward a freeze). The per-clip checks favour any formula that grows
with change, so the table adds **separation**: over all pairs of a mildly failing clip and
a clean clip (any clip, any derived clip), how often the failing one scores higher -- the
ROC AUC of telling failure from natural footage by the value alone, 50 % being chance. With
``--calibration`` (the ``--json`` of ``calibration.py`` on the same settings) the table puts
the project's counts beside them, failure by failure.

    .venv/bin/python benchmarks/reference_metrics.py [--half reporting]
        [--calibration calibration.json] [--markdown reference.md]
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from calibration import FAILURES, Record, calibration_parser, run_jobs
from spacetime.evaluation.flow import warp
from spacetime.evaluation.metrics.context import AnalysisClip

REFERENCES = ("vbench_flicker", "plain_warp_error")


def reference_scores(frames: np.ndarray, failures: Sequence[str], size: int) -> dict:
    """Both reference formulas of ``frames`` (at the analysis size ``size``), the same for
    every failure."""
    clip = AnalysisClip(frames, analysis_size=size)
    rgb = clip.rgb.astype(np.float32)
    flicker = float(np.abs(rgb[1:] - rgb[:-1]).mean())
    errors = [
        np.abs(clip.gray[t] - warp(clip.gray[t + 1], clip.flow[t].forward, clip.flow.grid)).mean()
        for t in range(clip.num_transitions)
    ]
    values = {"vbench_flicker": flicker, "plain_warp_error": float(np.mean(errors))}
    return {(f, name): value for f in failures for name, value in values.items()}


def checks(record: Record) -> dict[str, bool]:
    """The checks of ``calibration.Record``; a freeze must score worse (higher) than clean."""
    if record.failure == "frozen" and record.metric in REFERENCES:
        return {"frozen": record.values[-1] > record.clean}
    return record.checks()


def separation(records: Sequence[Record]) -> float:
    """The fraction of (mild failure on one clip, clean clip) pairs, over every clip and
    derived clip of ``records``, where the failure scores higher: the ROC AUC of telling
    failing from clean footage by the value alone, with no clean reference at hand (what a
    user scoring a generator's output has). 0.5 is chance."""
    mild = np.array([r.values[0] for r in records])
    clean = np.array(sorted({(r.clip, r.variant): r.clean for r in records}.values()))
    return float((mild[:, None] > clean[None, :]).mean())


def table(records: Sequence[Record]) -> str:
    """Markdown: per failure, each metric's detect / ladder / specificity counts and its
    :func:`separation` (project's target metric first)."""
    columns = ["spacetime (target metric)", *REFERENCES]

    def column(r: Record) -> str:
        return r.metric if r.metric in REFERENCES else columns[0]

    lines = ["| failure | check | " + " | ".join(columns) + " |", "|---|---|" + "---|" * 3]
    for failure in (*FAILURES, "frozen"):
        mine = [r for r in records if r.failure == failure]
        if not mine:
            continue
        names = ("frozen",) if failure == "frozen" else ("detect", "ladder", "specificity")
        for check in names:
            cells = []
            for name in columns:
                results = [checks(r)[check] for r in mine if column(r) == name]
                cells.append(f"{sum(results)}/{len(results)}" if results else "–")
            lines.append(f"| {failure} | {check} | " + " | ".join(cells) + " |")
        if failure != "frozen":
            cells = [f"{separation([r for r in mine if column(r) == n]):.0%}" for n in columns]
            lines.append(f"| {failure} | separation (AUC) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = calibration_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--calibration", type=Path, help="calibration.py --json, to compare")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"reference_metrics: no clips folder at {args.data} (use --data)", file=sys.stderr)
        return 2
    args.frames = args.frames or 32
    records = run_jobs(args, reference_scores)
    if args.calibration is not None:
        chosen = {r.half for r in records}
        theirs = [Record(**r) for r in json.loads(args.calibration.read_text())]
        records = [r for r in theirs if r.half in chosen] + records
    text = table(records)
    print("\n" + text)
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in records], indent=1))
    if args.markdown:
        args.markdown.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
