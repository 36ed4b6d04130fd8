"""Speed of the temporal-coherence metrics: frames per second, per metric and in total.

A real clip (or, without ../shared/data, a synthetic textured clip with moving shapes) is
resized to 256x256 and measured several times; the best run is reported, as the machine may
be shared. ``flow`` is the shared DIS flow pass (forward + backward + occlusion test, done
once per frame pair); each metric row is the time it adds on top of it.

    .venv/bin/python benchmarks/eval_speed.py [--frames 64 --size 256 --repeats 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from spacetime.evaluation.metrics import METRIC_NAMES, METRICS
from spacetime.evaluation.metrics.context import AnalysisClip
from spacetime.video import read_video, resize_frames

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


def measure(frames: np.ndarray, size: int) -> tuple[dict[str, float], float]:
    """Wall-clock seconds spent in the flow pass and in each metric, on one fresh analysis
    clip, and the CPU seconds of the whole run (all threads of this process)."""
    times: dict[str, float] = {}
    cpu = time.process_time()
    start = time.perf_counter()
    clip = AnalysisClip(frames, analysis_size=size)
    clip.flow.prefetch()  # as compute_metrics does
    times["flow"] = time.perf_counter() - start
    for name in METRIC_NAMES:
        start = time.perf_counter()
        METRICS[name](clip)
        times[name] = time.perf_counter() - start
    return times, time.process_time() - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clip", type=Path, default=DEFAULT_CLIP, help="real clip to resize")
    parser.add_argument("--frames", type=int, default=64)
    parser.add_argument("--size", type=int, default=256, help="square analysis size, pixels")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    if args.clip.is_file():
        source = f"{args.clip.name} resized"
        frames = resize_frames(read_video(args.clip, max_frames=args.frames).frames, args.size)
    else:
        source = "synthetic textured shapes"
        frames = synthetic_clip(args.frames, args.size)
    print(
        f"{source}: {frames.shape[0]} frames of {args.size}x{args.size}, "
        f"OpenCV threads {cv2.getNumThreads()}"
    )
    measured = [measure(frames, args.size) for _ in range(args.repeats)]
    runs = [times for times, _ in measured]
    best = {name: min(run[name] for run in runs) for name in runs[0]}
    totals = [sum(run.values()) for run in runs]
    cpu = min(seconds for _, seconds in measured)
    count = len(frames)
    print(f"{'stage':18s} {'ms/frame':>9s} {'frames/s':>9s}")
    for name, seconds in best.items():
        print(f"{name:18s} {1000 * seconds / count:9.2f} {count / seconds:9.0f}")
    print(f"{'all 8 metrics':18s} {1000 * min(totals) / count:9.2f} {count / min(totals):9.0f}")
    print("total frames/s per run: " + ", ".join(f"{count / s:.0f}" for s in totals))
    # On a shared machine wall time includes waiting for a core; CPU time does not.
    print(f"CPU time: {1000 * cpu / count:.2f} ms/frame = {count / cpu:.0f} frames per CPU-second")
    return 0


if __name__ == "__main__":
    sys.exit(main())
