"""Speed of the temporal-coherence metrics: frames per second, per metric and in total.

A real clip (or, without ../shared/data, a synthetic textured clip with moving shapes) is
resized to 256x256 and measured several times; the best run is reported, as the machine may
be shared. ``flow`` is the shared DIS flow pass (forward + backward + occlusion test, done
once per frame pair, in threads); each metric row is the time it adds on top of it (run
alone); ``all 8 metrics`` is the whole of ``compute_metrics`` (flow and metrics threaded).
Both wall-clock and CPU time are printed: on a loaded machine only the CPU time is stable.

``--cli`` measures the whole command instead: ``spacetime eval FOLDER --json`` on a folder of
the real clips (64 frames each, written at 256x256), decoding and report included, pinned to
``--cores`` cores (``taskset``), best of ``--repeats``. ``--old-src DIR`` runs the same
command with ``PYTHONPATH=DIR`` (a ``git archive`` of another revision's ``src``) in turn, for
a side-by-side number on the same machine state.

    .venv/bin/python benchmarks/eval_speed.py [--frames 64 --size 256 --repeats 3]
    .venv/bin/python benchmarks/eval_speed.py --cli --cores 2 [--old-src /tmp/old/src]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from spacetime.evaluation.flow import FLOW_WORKERS
from spacetime.evaluation.metrics import METRIC_NAMES, METRICS
from spacetime.evaluation.metrics.compute import run_metrics
from spacetime.evaluation.metrics.context import AnalysisClip
from spacetime.video import list_videos, read_video, resize_frames, write_mp4

DEFAULT_CLIP = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "01_dog.mp4"


def synthetic_clip(frames: int, size: int, seed: int = 0) -> np.ndarray:
    """``(frames, size, size, 3)`` uint8: a smooth random texture panning under two moving
    discs (a ShapesWorld-like scene with camera and object motion)."""
    rng = np.random.default_rng(seed)
    texture = cv2.GaussianBlur(rng.uniform(0, 255, (2 * size, 2 * size, 3)), (0, 0), 3)
    texture = cv2.normalize(texture, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    out = np.empty((frames, size, size, 3), np.uint8)
    for t in range(frames):
        frame = texture[t : t + size, t // 2 : t // 2 + size].copy()
        for k, colour in enumerate(((230, 60, 40), (40, 90, 230))):
            cx = int(size * (0.3 + 0.4 * k) + 2 * t * (1 - 2 * k)) % size
            cy = int(size * 0.5 + 0.25 * size * np.sin(t / 6 + k))
            cv2.circle(frame, (cx, cy), size // 10, colour, -1, cv2.LINE_AA)
        out[t] = frame
    return out


def measure(frames: np.ndarray, size: int, workers: int) -> tuple[dict[str, float], ...]:
    """Wall-clock and CPU seconds (all threads of this process) of the flow pass and of each
    metric on one fresh analysis clip, as ``compute_metrics`` runs them: the flow pairs in
    ``workers`` threads, then the metrics in ``workers`` threads (both pools share work
    through the clip's caches); per-metric times come from a sequential second pass."""
    wall: dict[str, float] = {}
    cpu: dict[str, float] = {}
    clip = AnalysisClip(frames, analysis_size=size)
    start, cpu_start = time.perf_counter(), time.process_time()
    clip.flow.prefetch(workers)
    wall["flow"], cpu["flow"] = time.perf_counter() - start, time.process_time() - cpu_start
    run_metrics(clip, METRIC_NAMES, workers)
    wall["total"] = time.perf_counter() - start
    cpu["total"] = time.process_time() - cpu_start
    # Per metric, sequentially on a fresh clip that already holds the flow (what each adds).
    fresh = AnalysisClip(frames, analysis_size=size)
    fresh.flow._pairs.update(clip.flow._pairs)
    for name in METRIC_NAMES:
        start, cpu_start = time.perf_counter(), time.process_time()
        METRICS[name](fresh)
        wall[name], cpu[name] = time.perf_counter() - start, time.process_time() - cpu_start
    return wall, cpu


def cli_speed(args: argparse.Namespace) -> int:
    """Frames per second of the whole ``spacetime eval`` command (module docstring)."""
    sources = list_videos(args.clip.parent) if args.clip.parent.is_dir() else []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "clips"
        folder.mkdir()
        total = 0
        for index, path in enumerate(sources or [None] * 8):
            if path is None:
                frames = synthetic_clip(args.frames, args.size, seed=index)
            else:
                frames = read_video(path, max_frames=args.frames).frames
                frames = resize_frames(frames, args.size)
            write_mp4(folder / f"clip_{index:02d}.mp4", frames, 24.0)
            total += len(frames)
        cores = ",".join(str(c) for c in sorted(os.sched_getaffinity(0))[: args.cores])
        versions = {"this checkout": None}
        if args.old_src is not None:
            versions = {f"PYTHONPATH={args.old_src}": str(args.old_src), **versions}
        print(
            f"spacetime eval on {len(list(folder.iterdir()))} clips, {total} frames of "
            f"{args.size}x{args.size}, pinned to {args.cores} core(s) ({cores}), best of "
            f"{args.repeats}"
        )
        best: dict[str, float] = {}
        for _ in range(args.repeats):
            for name, src in versions.items():
                env = {**os.environ}
                if src is not None:
                    env["PYTHONPATH"] = src
                command = ["taskset", "-c", cores, sys.executable, "-m", "spacetime", "eval"]
                command += [str(folder), "--json", str(Path(tmp) / "r.json")]
                start = time.perf_counter()
                subprocess.run(command, env=env, check=True, capture_output=True)
                best[name] = min(best.get(name, np.inf), time.perf_counter() - start)
        for name, seconds in best.items():
            print(
                f"whole CLI, {args.cores} core(s), {name}: {total / seconds:.0f} frames/s "
                f"({seconds:.2f} s for {total} frames)"
            )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clip", type=Path, default=DEFAULT_CLIP, help="real clip to resize")
    parser.add_argument("--frames", type=int, default=64)
    parser.add_argument("--size", type=int, default=256, help="square analysis size, pixels")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=FLOW_WORKERS, help="threads")
    parser.add_argument("--cli", action="store_true", help="time the whole spacetime eval")
    parser.add_argument("--cores", type=int, default=2, help="--cli: cores to pin it to")
    parser.add_argument("--old-src", type=Path, help="--cli: also time this src (PYTHONPATH)")
    args = parser.parse_args(argv)
    if args.cli:
        return cli_speed(args)

    if args.clip.is_file():
        source = f"{args.clip.name} resized"
        frames = resize_frames(read_video(args.clip, max_frames=args.frames).frames, args.size)
    else:
        source = "synthetic textured shapes"
        frames = synthetic_clip(args.frames, args.size)
    print(
        f"{source}: {frames.shape[0]} frames of {args.size}x{args.size}, "
        f"{args.workers} worker threads, {os.cpu_count()} CPUs"
    )
    runs = [measure(frames, args.size, args.workers) for _ in range(args.repeats)]
    count = len(frames)
    print(f"{'stage':18s} {'wall ms/f':>10s} {'CPU ms/f':>10s}")
    for name in runs[0][0]:
        wall = min(run[0][name] for run in runs)
        cpu = min(run[1][name] for run in runs)
        label = "all 8 metrics" if name == "total" else name
        print(f"{label:18s} {1000 * wall / count:10.2f} {1000 * cpu / count:10.2f}")
    wall = min(run[0]["total"] for run in runs)
    cpu = min(run[1]["total"] for run in runs)
    print(f"frames/s (wall, best of {args.repeats}): {count / wall:.0f}")
    # On a shared machine wall time includes waiting for a core; CPU time does not: on
    # ``workers`` idle cores the rate is at most workers / (CPU seconds per frame).
    print(
        f"CPU: {1000 * cpu / count:.2f} ms/frame = {count / cpu:.0f} frames per CPU-second "
        f"(<= {args.workers * count / cpu:.0f} frames/s on {args.workers} idle cores)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
