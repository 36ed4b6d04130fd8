"""Calibrate the temporal-coherence metrics on footage and failures they were not tuned on.

The real clips of ``--data`` are split by a fixed rule into a *tuning* and a *reporting* half
(``calibration_clips.split_halves``: sorted by name, alternately), and each clip gives derived
clips of the classes the folder lacks (fast motion, handheld shake, a static camera with a
subject walking in, a pan, a close crop: ``calibration_clips.VARIANTS``). Every failure is
injected twice -- by the library (``spacetime.evaluation.corruptions``) and by an independent
implementation (``calibration_corruptions``) -- at strengths 0.25 (mild), 0.5 and 1 (strong),
and its target metric (statistic as in ``CORRUPTIONS``) is checked:

- **detect**: the mild failure scores above the clean clip;
- **ladder**: clean < 0.25 < 0.5 < 1, strictly;
- **specificity**: the mild failure scores above a lossy re-encode of the clean clip (H.264
  at ``REENCODE_CRF``), the negative control: compression is not a temporal failure;
- **frozen**: the fully frozen clip (each implementation) is flagged as frozen (mean
  ``dynamic_degree`` below ``FROZEN_THRESHOLD``) and the clean clip is not.

    .venv/bin/python benchmarks/calibration.py [--half tuning|reporting|both] [--frames 32]
        [--size 256] [--workers 2] [--json out.json] [--markdown out.md]
    .venv/bin/python benchmarks/calibration.py --legacy [--frames 48]   # the original 60 rows

Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from calibration_clips import VARIANTS, clip_seed, derived_clips, split_halves
from calibration_corruptions import ALTERNATIVES, lossy_reencode
from spacetime.evaluation.corruptions import CORRUPTIONS, STRENGTHS, CalibrationRow, calibrate
from spacetime.evaluation.metrics import UNITS, compute_metrics
from spacetime.evaluation.metrics.context import analysis_shape
from spacetime.evaluation.report.compare import FROZEN_THRESHOLD
from spacetime.video import list_videos, read_video, resize_frames

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
FAILURES = ("flicker", "teleport", "background_swim", "identity_drift", "edge_shimmer")
"""The failures checked for detect / ladder / specificity (``frozen`` is checked apart)."""
LEVELS = (0.25, 0.5, 1.0)
"""Mild, middle and strong."""
IMPLEMENTATIONS = ("library", "independent")
CHECKS = ("detect", "ladder", "specificity")


@dataclass
class Record:
    """One failure (one implementation) on one clip: the target statistic at each level."""

    half: str
    clip: str
    variant: str
    failure: str
    implementation: str
    metric: str
    statistic: str
    clean: float
    reencoded: float
    values: list[float]

    def checks(self) -> dict[str, bool]:
        """``{check: passed}``; frozen records have the one check ``frozen``."""
        if self.failure == "frozen":
            return {"frozen": self.values[-1] < FROZEN_THRESHOLD <= self.clean}
        mild = self.values[0]
        chain = np.diff([self.clean, *self.values])
        return {
            "detect": mild > self.clean,
            "ladder": bool(np.all(chain > 0)),
            "specificity": mild > self.reencoded,
        }


Scorer = Callable[[np.ndarray, Sequence[str], int], dict[tuple[str, str], float]]
"""``(frames, failures, size) -> {(failure, metric label): value}``: what a calibration
measures for each failure on a clip (the library's target metric, or reference formulas)."""


def target_scores(frames: np.ndarray, failures: Sequence[str], size: int) -> dict:
    """The target metric (its statistic) of each failure of :data:`CORRUPTIONS`."""
    targets = {CORRUPTIONS[f].metric for f in failures}
    series = compute_metrics(frames, names=sorted(targets), analysis_size=size)
    return {
        (f, CORRUPTIONS[f].metric): float(
            getattr(series[CORRUPTIONS[f].metric], CORRUPTIONS[f].statistic)
        )
        for f in failures
    }


def measure_clip(job: tuple) -> list[Record]:
    """Every record of one source clip (all its variants): runs in a worker process.

    ``job``: ``(half, path, frames, size, variants, failures, scorer)``.
    """
    half, path, frames, size, variants, failures, scorer = job
    records = []
    for variant, clean in derived_clips(path, frames, size, variants).items():
        seed = clip_seed(f"{path.name}/{variant}")
        base = scorer(clean, failures, size)
        control = scorer(lossy_reencode(clean), failures, size)
        for failure in failures:
            corruption = CORRUPTIONS[failure]
            levels = (1.0,) if failure == "frozen" else LEVELS
            for implementation in IMPLEMENTATIONS:
                apply = corruption.apply if implementation == "library" else ALTERNATIVES[failure]
                scores = [scorer(apply(clean, s, seed=seed), [failure], size) for s in levels]
                for key in scores[0]:
                    records.append(
                        Record(
                            half,
                            path.name,
                            variant,
                            failure,
                            implementation,
                            key[1],
                            corruption.statistic,
                            base[key],
                            control[key],
                            [score[key] for score in scores],
                        )
                    )
    return records


def run_jobs(args: argparse.Namespace, scorer: Scorer) -> list[Record]:
    """:func:`measure_clip` on every clip of the chosen halves, ``args.workers`` at a time."""
    halves = split_halves(list_videos(args.data))
    chosen = ("tuning", "reporting") if args.half == "both" else (args.half,)
    for half in chosen:
        print(f"{half} half: {', '.join(p.name for p in halves[half])}")
    jobs = [
        (half, path, args.frames, args.size, tuple(args.variants), tuple(args.failures), scorer)
        for half in chosen
        for path in halves[half]
    ]
    records: list[Record] = []
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for done in pool.map(measure_clip, jobs):
            records.extend(done)
            passed = sum(sum(r.checks().values()) for r in done)
            total = sum(len(r.checks()) for r in done)
            print(f"  {done[0].half:9s} {done[0].clip:24s} {passed}/{total}", flush=True)
    return records


def summary(records: Sequence[Record]) -> dict[str, dict[tuple[str, str], tuple[int, int]]]:
    """``{half: {(failure, check): (passed, total)}}`` over both implementations."""
    out: dict[str, dict[tuple[str, str], tuple[int, int]]] = {}
    for record in records:
        table = out.setdefault(record.half, {})
        for check, passed in record.checks().items():
            done, total = table.get((record.failure, check), (0, 0))
            table[(record.failure, check)] = (done + passed, total + 1)
    return out


def markdown_summary(records: Sequence[Record]) -> str:
    """A markdown table: one row per failure and check, one column per half (passed / total)."""
    tables = summary(records)
    halves = [h for h in ("tuning", "reporting") if h in tables]
    lines = [
        "| failure | check | " + " | ".join(f"{h} half" for h in halves) + " |",
        "|---|---|" + "---|" * len(halves),
    ]
    keys = sorted(
        {k for t in tables.values() for k in t}, key=lambda k: (*FAILURES, "frozen").index(k[0])
    )
    for key in keys:
        cells = [f"{tables[h].get(key, (0, 0))[0]}/{tables[h].get(key, (0, 0))[1]}" for h in halves]
        lines.append(f"| {key[0]} | {key[1]} | " + " | ".join(cells) + " |")
    totals = [
        f"**{sum(v[0] for v in tables[h].values())}/{sum(v[1] for v in tables[h].values())}**"
        for h in halves
    ]
    lines.append("| **all** | | " + " | ".join(totals) + " |")
    return "\n".join(lines)


def failure_lines(records: Sequence[Record]) -> list[str]:
    """One markdown table row per record with a failed check, with the numbers that failed it."""
    lines = []
    for r in records:
        failed = [check for check, ok in r.checks().items() if not ok]
        if failed:
            values = " / ".join(f"{v:.3f}" for v in r.values)
            lines.append(
                f"| {r.half} | {r.clip} | {r.variant} | {r.failure} | {r.implementation} | "
                f"{r.clean:.3f} | {r.reencoded:.3f} | {values} | {', '.join(failed)} |"
            )
    return lines


def markdown_report(records: Sequence[Record]) -> str:
    """The summary, then every failed check."""
    head = (
        "| half | clip | variant | failure | implementation | clean | re-encoded | "
        f"{' / '.join(map(str, LEVELS))} (frozen: 1) | failed |"
    )
    rows = failure_lines(records)
    table = [head, "|---" * 9 + "|", *rows] if rows else ["(no failed check)"]
    return "\n".join([markdown_summary(records), "", "Failed checks:", "", *table])


def run_generalisation(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    records = run_jobs(args, target_scores)
    print(f"\n{markdown_report(records)}\n({time.perf_counter() - start:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in records], indent=1))
    if args.markdown:
        args.markdown.write_text(markdown_report(records) + "\n")
    return 0 if all(all(r.checks().values()) for r in records) else 1


def load_clip(path: Path, frames: int, size: int) -> np.ndarray:
    """The first ``frames`` frames of ``path``, longer side resized to ``size`` (aspect kept)."""
    clip = read_video(path, max_frames=frames).frames
    height, width = analysis_shape(clip.shape[1], clip.shape[2], size)
    return resize_frames(clip, (height, width))


def run_legacy(args: argparse.Namespace) -> int:
    """The original calibration: every clip, the library's corruptions, monotone rows."""
    rows: list[CalibrationRow] = []
    for path in list_videos(args.data):
        frames = load_clip(path, args.frames, args.size)
        rows.extend(calibrate(frames, clip=path.name, strengths=STRENGTHS, analysis_size=args.size))
    for r in rows:
        values = " ".join(f"{v:8.3f}" for v in (r.clean, *r.values))
        print(
            f"{r.clip:24s} {r.corruption:16s} {r.metric} ({r.statistic}, {UNITS[r.metric]}) "
            f"{values}  {'PASS' if r.passed else 'FAIL'}"
        )
    passed = sum(r.passed for r in rows)
    print(f"\n{passed}/{len(rows)} legacy rows pass")
    if args.markdown:
        levels = " | ".join(map(str, STRENGTHS))
        lines = [f"| clip | corruption | metric (statistic, unit) | clean | {levels} | |"]
        lines.append("|---" * (5 + len(STRENGTHS)) + "|")
        for r in rows:
            values = " | ".join(f"{v:.3f}" for v in (r.clean, *r.values))
            metric = f"{r.metric} ({r.statistic}, {UNITS[r.metric]})"
            verdict = "PASS" if r.passed else "FAIL"
            lines.append(f"| {r.clip} | {r.corruption} | {metric} | {values} | {verdict} |")
        args.markdown.write_text("\n".join(lines) + f"\n\n{passed}/{len(rows)} rows pass\n")
    return 0 if passed == len(rows) else 1


def calibration_parser(description: str) -> argparse.ArgumentParser:
    """The options of a calibration run (shared with ``reference_metrics.py``)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of real clips")
    parser.add_argument("--half", choices=("tuning", "reporting", "both"), default="both")
    parser.add_argument("--frames", type=int, default=None, help="frames per clip (32; legacy 48)")
    parser.add_argument("--size", type=int, default=256, help="longer side of the clips, pixels")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument(
        "--failures", nargs="+", default=[*FAILURES, "frozen"], choices=[*FAILURES, "frozen"]
    )
    parser.add_argument("--workers", type=int, default=1, help="processes (one clip each)")
    parser.add_argument("--json", type=Path, help="write every record as JSON here")
    parser.add_argument("--markdown", type=Path, help="write the summary table here")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = calibration_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--legacy", action="store_true", help="the original 60-row table")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"calibration: no clips folder at {args.data} (use --data)", file=sys.stderr)
        return 2
    if args.legacy:
        args.frames = args.frames or 48
        return run_legacy(args)
    args.frames = args.frames or 32
    return run_generalisation(args)


if __name__ == "__main__":
    sys.exit(main())
