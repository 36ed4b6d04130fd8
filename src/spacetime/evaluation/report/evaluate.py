"""Run the coherence metrics (and the ShapesWorld oracle) on video files.

One :class:`VideoReport` per clip holds exactly the per-entry schema of DESIGN.md::

    {"video": "clip.mp4", "frames": 48, "height": 256, "width": 256, "fps": 24.0,
     "metrics": {"flicker": {"mean", "p95", "max", "worst_frame", "per_frame"}, ...},
     "caption": "...",          # only when a caption was given
     "oracle": {...}}           # only when the caption is of ShapesWorld form

A report file (``spacetime eval --json``) is a top-level object, so that it can say which
version wrote it::

    {"spacetime_version": "0.1.0", "analysis_size": 256, "videos": [entry, ...]}

Captions come either as one text for every clip or from a ``captions.jsonl`` file whose lines
are ``{"file": "clip_000.mp4", "caption": "..."}`` (what ``spacetime shapes`` writes), matched by
file name.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from spacetime import __version__
from spacetime.data.shapes import is_shapes_caption
from spacetime.errors import SpacetimeError
from spacetime.evaluation.metrics import METRIC_NAMES, compute_metrics
from spacetime.evaluation.oracle import score_video
from spacetime.evaluation.report.plots import strip_png
from spacetime.video import VideoError, list_videos, read_video

__all__ = [
    "EvalRun",
    "VideoReport",
    "collect_videos",
    "evaluate_frames",
    "evaluate_video",
    "load_captions",
    "load_report",
    "match_captions",
    "write_report",
]


@dataclass
class VideoReport:
    """The evaluation of one clip (one entry of the JSON report).

    ``metrics`` maps a metric name to ``{"mean", "p95", "max", "worst_frame", "per_frame"}``;
    ``per_frame`` has one value per frame transition (``frames - 1`` values) and
    ``worst_frame`` indexes that list (transition ``i`` goes from frame ``i`` to ``i + 1``).
    ``strip`` is a PNG (bytes) of the clip with its worst frames marked, kept only for the
    HTML page and never written to JSON.
    """

    video: str
    frames: int
    height: int
    width: int
    fps: float
    metrics: dict[str, dict[str, Any]]
    caption: str | None = None
    oracle: dict[str, Any] | None = None
    strip: bytes | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The JSON entry of DESIGN.md (``caption``/``oracle`` only when present)."""
        entry: dict[str, Any] = {
            "video": self.video,
            "frames": self.frames,
            "height": self.height,
            "width": self.width,
            "fps": self.fps,
            "metrics": self.metrics,
        }
        if self.caption is not None:
            entry["caption"] = self.caption
        if self.oracle is not None:
            entry["oracle"] = self.oracle
        return entry

    @classmethod
    def from_dict(cls, entry: dict[str, Any]) -> VideoReport:
        """Inverse of :meth:`to_dict`; raises :class:`SpacetimeError` on a malformed entry."""
        try:
            return cls(
                video=str(entry["video"]),
                frames=int(entry["frames"]),
                height=int(entry["height"]),
                width=int(entry["width"]),
                fps=float(entry["fps"]),
                metrics=dict(entry["metrics"]),
                caption=entry.get("caption"),
                oracle=entry.get("oracle"),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise SpacetimeError(
                f"report entry {entry!r:.80} is malformed ({err!r}); expected the keys video, "
                "frames, height, width, fps and metrics"
            ) from err

    def worst_frames(self) -> dict[str, int]:
        """Per failure metric, the frame where it is worst (the later frame of the transition)."""
        return {
            name: int(series["worst_frame"]) + 1
            for name, series in self.metrics.items()
            if name != "dynamic_degree" and series.get("per_frame")
        }


@dataclass
class EvalRun:
    """A whole ``spacetime eval`` run: the reports plus what produced them."""

    videos: list[VideoReport]
    analysis_size: int = 256

    def to_dict(self) -> dict[str, Any]:
        """The top-level JSON object: ``{"spacetime_version", "analysis_size", "videos"}``."""
        return {
            "spacetime_version": __version__,
            "analysis_size": self.analysis_size,
            "videos": [report.to_dict() for report in self.videos],
        }


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
        try:
            found = list_videos(path)
        except VideoError as err:
            raise SpacetimeError(str(err)) from err
        if not found:
            raise SpacetimeError(f"{path}: no video files found (expected .mp4, .gif, ...)")
        paths.extend(p for p in found if p not in paths)
    return paths


def load_captions(path: Path | str) -> dict[str, str]:
    """Read a ``captions.jsonl`` file into ``{file name: caption}``.

    Each non-empty line must be a JSON object with string fields ``file`` and ``caption``;
    ``file`` is matched against the video's file name (directories are ignored).
    """
    path = Path(path)
    if not path.is_file():
        raise SpacetimeError(f"captions file {path} does not exist; expected a .jsonl file")
    captions: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as err:
            raise SpacetimeError(
                f"{path}:{number}: not valid JSON ({err.msg}); expected one object per line "
                'like {"file": "clip.mp4", "caption": "..."}'
            ) from err
        if not (
            isinstance(item, dict)
            and isinstance(item.get("file"), str)
            and isinstance(item.get("caption"), str)
        ):
            raise SpacetimeError(
                f'{path}:{number}: expected an object with string fields "file" and "caption", '
                f"got {line.strip()[:80]!r}"
            )
        captions[Path(item["file"]).name] = item["caption"]
    if not captions:
        raise SpacetimeError(f"captions file {path} is empty; expected one JSON object per line")
    return captions


def match_captions(
    videos: Sequence[Path], *, caption: str | None = None, captions_file: Path | str | None = None
) -> list[str | None]:
    """The caption of each video: ``caption`` for all, or looked up by file name in the file.

    Giving both is an error; videos that the file does not name get ``None``.
    """
    if caption is not None and captions_file is not None:
        raise SpacetimeError("--caption and --captions are exclusive: give one text or one file")
    if captions_file is not None:
        table = load_captions(captions_file)
        return [table.get(video.name) for video in videos]
    return [caption] * len(videos)


def evaluate_frames(
    frames: np.ndarray,
    *,
    video: str,
    fps: float,
    caption: str | None = None,
    names: Iterable[str] | None = None,
    analysis_size: int = 256,
    with_strip: bool = False,
) -> VideoReport:
    """Evaluate decoded frames ``(T, H, W, 3)`` uint8 (``T >= 2``); ``fps`` in frames/second.

    The oracle runs only when ``caption`` is of ShapesWorld form (it needs the scene the caption
    describes); other captions are kept in the report but not scored.
    """
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise SpacetimeError(
            f"{video}: expected uint8 frames of shape (T, H, W, 3), got {frames.dtype} "
            f"{tuple(frames.shape)}"
        )
    if frames.shape[0] < 2:
        raise SpacetimeError(f"{video}: has {frames.shape[0]} frame(s); at least 2 are needed")
    unknown = sorted(set(names or ()) - set(METRIC_NAMES))
    if unknown:
        raise SpacetimeError(f"unknown metric(s) {unknown}; expected some of {list(METRIC_NAMES)}")
    series = compute_metrics(
        frames, names=list(names) if names else None, analysis_size=analysis_size
    )
    metrics = {name: _plain(s.to_dict()) for name, s in series.items()}
    oracle = None
    if caption is not None and is_shapes_caption(caption):
        oracle = _plain(score_video(frames, caption).to_dict())
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
        report.strip = strip_png(frames, report)
    return report


def evaluate_video(
    path: Path | str,
    *,
    caption: str | None = None,
    max_frames: int | None = None,
    size: int | None = None,
    names: Iterable[str] | None = None,
    analysis_size: int = 256,
    with_strip: bool = False,
) -> VideoReport:
    """Decode ``path`` (at most ``max_frames`` frames, resized by ``size`` px) and evaluate it."""
    path = Path(path)
    if max_frames is not None and max_frames < 2:
        raise SpacetimeError(f"--max-frames must be at least 2, got {max_frames}")
    if size is not None and size < 8:
        raise SpacetimeError(f"--size must be at least 8 pixels, got {size}")
    try:
        clip = read_video(path, max_frames=max_frames, size=size)
    except VideoError as err:
        raise SpacetimeError(str(err)) from err
    return evaluate_frames(
        clip.frames,
        video=str(path),
        fps=clip.fps,
        caption=caption,
        names=names,
        analysis_size=analysis_size,
        with_strip=with_strip,
    )


def write_report(path: Path | str, run: EvalRun) -> Path:
    """Write ``run`` as indented JSON; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(run.to_dict(), indent=2) + "\n", encoding="utf-8")
    return path


def load_report(path: Path | str) -> EvalRun:
    """Read a report written by :func:`write_report` (also accepts a plain list of entries)."""
    path = Path(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise SpacetimeError(f"{path}: cannot read the report ({err}); expected JSON") from err
    entries = data.get("videos") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise SpacetimeError(f'{path}: expected an object with a "videos" list')
    analysis = data.get("analysis_size", 256) if isinstance(data, dict) else 256
    return EvalRun([VideoReport.from_dict(e) for e in entries], analysis_size=int(analysis))


def _plain(value: Any) -> Any:
    """Convert numpy scalars/arrays inside ``value`` to JSON-native Python values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
