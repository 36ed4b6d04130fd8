"""Run the coherence metrics (and the ShapesWorld oracle) on clips and video files.

``evaluate_frames`` scores decoded frames, ``evaluate_video`` a file, ``evaluate_videos`` a
list of files that must all be readable (it probes them first, as ``spacetime compare``
needs); :mod:`~spacetime.evaluation.report.batch` runs large batches that tolerate bad files.
The report's data types and JSON file are in :mod:`~spacetime.evaluation.report.schema`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from spacetime.data.shapes import is_shapes_caption
from spacetime.errors import SpacetimeError
from spacetime.evaluation.metrics import compute_metrics
from spacetime.evaluation.oracle import score_video
from spacetime.evaluation.report.plots import strip_png
from spacetime.evaluation.report.schema import VideoReport, plain
from spacetime.video import list_videos, read_video

__all__ = [
    "check_options",
    "collect_videos",
    "evaluate_frames",
    "evaluate_video",
    "evaluate_videos",
    "probe_videos",
]


def collect_videos(inputs: Sequence[Path | str]) -> list[Path]:
    """Expand files and directories into video files, in the order given.

    Raises :class:`SpacetimeError` for a path that does not exist, a directory without
    videos, or no input at all.
    """
    if not inputs:
        raise SpacetimeError("no video given: pass one or more video files or directories")
    paths: list[Path] = []
    for item in inputs:
        path = Path(item)
        if not path.exists():
            raise SpacetimeError(f"{path}: no such file or directory; expected a video or a folder")
        found = list_videos(path)  # raises VideoError (a SpacetimeError) for a non-video file
        if not found:
            raise SpacetimeError(f"{path}: no video files found (expected .mp4, .gif, ...)")
        paths.extend(p for p in found if p not in paths)
    return paths


def evaluate_frames(
    frames: np.ndarray,
    *,
    video: str,
    fps: float,
    caption: str | None = None,
    names: Iterable[str] | None = None,
    analysis_size: int = 256,
    with_strip: bool = False,
    threads: int | None = None,
) -> VideoReport:
    """Evaluate decoded frames ``(T, H, W, 3)`` uint8 (``T >= 2``); ``fps`` in frames/second.

    The oracle runs only when ``caption`` is of ShapesWorld form (it needs the scene the caption
    describes); other captions are kept in the report but not scored. ``threads``: see
    :func:`~spacetime.evaluation.metrics.compute_metrics`.
    """
    series = compute_metrics(  # raises SpacetimeError for bad frames or unknown metric names
        frames,
        names=list(names) if names is not None else None,
        analysis_size=analysis_size,
        threads=threads,
    )
    metrics = {name: plain(s.to_dict()) for name, s in series.items()}
    oracle = None
    if caption is not None and is_shapes_caption(caption):
        oracle = plain(score_video(frames, caption, fps=fps).to_dict())
    report = VideoReport(
        video=video,
        frames=int(frames.shape[0]),
        height=int(frames.shape[1]),
        width=int(frames.shape[2]),
        fps=float(fps),
        metrics=metrics,
        caption=caption,
        oracle=oracle,
    )
    if with_strip:
        # A metric's worst transition i -> i + 1 is marked on frame i + 1, where it shows.
        report.strip = strip_png(frames, set(report.worst_frames().values()))
    return report


def check_options(max_frames: int | None, size: int | None) -> None:
    if max_frames is not None and max_frames < 2:
        raise SpacetimeError(f"--max-frames must be at least 2, got {max_frames}")
    if size is not None and size < 16:
        raise SpacetimeError(
            f"--size must be at least 16 pixels (the metrics' minimum), got {size}"
        )


def evaluate_video(
    path: Path | str,
    *,
    caption: str | None = None,
    max_frames: int | None = None,
    size: int | None = None,
    names: Iterable[str] | None = None,
    analysis_size: int = 256,
    with_strip: bool = False,
    threads: int | None = None,
) -> VideoReport:
    """Decode ``path`` and evaluate it (see :func:`evaluate_frames`).

    ``max_frames`` keeps the first frames only; ``size`` (px) resizes the clip so that its
    longer side is ``size``, aspect ratio kept, before the metrics, the oracle and the strip
    (the report's ``height``/``width`` are then those of the resized clip).
    """
    path = Path(path)
    check_options(max_frames, size)
    shape = None
    if size is not None:
        # Resize while decoding (one frame first, for the aspect ratio): a long clip is never
        # held at full resolution.
        height, width = read_video(path, max_frames=1).frames.shape[1:3]
        scale = size / max(height, width)
        shape = (max(1, round(height * scale)), max(1, round(width * scale)))
    clip = read_video(path, max_frames=max_frames, size=shape)  # VideoError: a SpacetimeError
    frames = clip.frames
    if frames.shape[0] < 2:
        raise SpacetimeError(f"{path}: has {frames.shape[0]} frame; at least 2 are needed")
    return evaluate_frames(
        frames,
        video=str(path),
        fps=clip.fps,
        caption=caption,
        names=names,
        analysis_size=analysis_size,
        with_strip=with_strip,
        threads=threads,
    )


def probe_videos(paths: Iterable[Path | str]) -> None:
    """Decode the first frame of every path, so a bad file fails a run before any is scored.

    Raises:
        VideoError: (a :class:`SpacetimeError`) naming the first unreadable file.
    """
    for path in paths:
        read_video(path, max_frames=1)


def evaluate_videos(
    paths: Sequence[Path],
    *,
    captions: Sequence[str | None] | None = None,
    max_frames: int | None = None,
    size: int | None = None,
    names: Iterable[str] | None = None,
    analysis_size: int = 256,
    with_strip: bool = False,
    progress: bool = True,
    desc: str = "evaluating",
) -> list[VideoReport]:
    """:func:`evaluate_video` on each path (with its caption), with a tqdm bar on stderr.

    Every file is probed (its first frame decoded) before any is scored, so an unreadable file
    fails the run at once, named, instead of after the videos before it were evaluated.
    """
    captions = list(captions) if captions is not None else [None] * len(paths)
    if len(captions) != len(paths):
        raise ValueError(f"{len(captions)} captions for {len(paths)} videos")
    names = list(names) if names is not None else None
    check_options(max_frames, size)  # before the first file, not after a long decode
    probe_videos(paths)
    # disable=None: tqdm hides the bar when stderr is not a terminal (logs, CI).
    bar = tqdm(paths, desc=desc, unit="video", disable=None if progress else True, leave=False)
    return [
        evaluate_video(
            path,
            caption=caption,
            max_frames=max_frames,
            size=size,
            names=names,
            analysis_size=analysis_size,
            with_strip=with_strip,
        )
        for path, caption in zip(bar, captions, strict=True)
    ]
