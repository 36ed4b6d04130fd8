"""Run the coherence metrics (and the ShapesWorld oracle) on video files.

One :class:`VideoReport` per clip holds exactly the per-entry schema of DESIGN.md::

    {"video": "clip.mp4", "frames": 48, "height": 256, "width": 256, "fps": 24.0,
     "metrics": {"flicker": {"mean", "p95", "max", "worst_frame", "per_frame"}, ...},
     "caption": "...",          # only when a caption was given
     "oracle": {...}}           # only when the caption is of ShapesWorld form

``video`` is the path as given (file names can repeat across folders); ``frames``, ``height``
and ``width`` describe the clip that was scored (after ``--max-frames`` / ``--size``).

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
from tqdm.auto import tqdm

from spacetime import __version__
from spacetime.data.captions import read_manifest
from spacetime.data.shapes import is_shapes_caption
from spacetime.errors import SpacetimeError
from spacetime.evaluation.metrics import compute_metrics
from spacetime.evaluation.oracle import score_video
from spacetime.evaluation.report.plots import strip_png
from spacetime.video import list_videos, read_video

MOTION_METRIC = "dynamic_degree"
"""The one metric that is not a failure: the amount of motion (its maximum is not a defect)."""

__all__ = [
    "MOTION_METRIC",
    "EvalRun",
    "VideoReport",
    "collect_videos",
    "evaluate_frames",
    "evaluate_video",
    "evaluate_videos",
    "load_captions",
    "load_report",
    "match_captions",
    "write_json",
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
            if name != MOTION_METRIC and series.get("per_frame")
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
        found = list_videos(path)  # raises VideoError (a SpacetimeError) for a non-video file
        if not found:
            raise SpacetimeError(f"{path}: no video files found (expected .mp4, .gif, ...)")
        paths.extend(p for p in found if p not in paths)
    return paths


def load_captions(path: Path | str) -> dict[Path, str]:
    """Read a captions manifest (``captions.jsonl`` or ``.csv``) into ``{resolved path: caption}``.

    Rows are ``{"file": ..., "caption": ...}`` (see :func:`spacetime.data.captions.read_manifest`);
    ``file`` is relative to the manifest's folder. Rows without a caption are left out.
    """
    entries = read_manifest(path)
    return {e.path.resolve(): e.caption for e in entries if e.caption is not None}


def match_captions(
    videos: Sequence[Path], *, caption: str | None = None, captions_file: Path | str | None = None
) -> list[str | None]:
    """The caption of each video: ``caption`` for all, or looked up in the manifest file.

    A video takes the caption of the row whose path (manifest folder / ``file``) is the video's.
    Failing that, a row whose file *name* is the video's, if the manifest has exactly one such
    row and no video already claimed it by path (so ``eval gen/ real/ --captions
    real/captions.jsonl`` does not give ``gen/clip.mp4`` the caption of ``real/clip.mp4``).
    Videos matched neither way get ``None``.

    Raises:
        SpacetimeError: both ``caption`` and ``captions_file``; an unreadable manifest; a
            name-only match that the manifest makes ambiguous (two rows with that file name).
    """
    if caption is not None and captions_file is not None:
        raise SpacetimeError("--caption and --captions are exclusive: give one text or one file")
    if captions_file is None:
        return [caption] * len(videos)
    table = load_captions(captions_file)
    resolved = [Path(video).resolve() for video in videos]
    claimed = {path for path in resolved if path in table}
    by_name: dict[str, list[Path]] = {}
    for path in table:
        by_name.setdefault(path.name, []).append(path)
    texts: list[str | None] = []
    for video, path in zip(videos, resolved, strict=True):
        if path in table:
            texts.append(table[path])
            continue
        rows = by_name.get(path.name, [])
        if len(rows) > 1:
            raise SpacetimeError(
                f"{captions_file}: {len(rows)} rows are named {path.name!r} "
                f"({', '.join(str(r) for r in rows)}) and none is {video}; give paths in "
                "the manifest relative to its folder so each video has one caption"
            )
        texts.append(table[rows[0]] if rows and rows[0] not in claimed else None)
    return texts


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
    series = compute_metrics(  # raises SpacetimeError for bad frames or unknown metric names
        frames, names=list(names) if names is not None else None, analysis_size=analysis_size
    )
    metrics = {name: _plain(s.to_dict()) for name, s in series.items()}
    oracle = None
    if caption is not None and is_shapes_caption(caption):
        oracle = _plain(score_video(frames, caption, fps=fps).to_dict())
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


def _check_options(max_frames: int | None, size: int | None) -> None:
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
) -> VideoReport:
    """Decode ``path`` and evaluate it (see :func:`evaluate_frames`).

    ``max_frames`` keeps the first frames only; ``size`` (px) resizes the clip so that its
    longer side is ``size``, aspect ratio kept, before the metrics, the oracle and the strip
    (the report's ``height``/``width`` are then those of the resized clip).
    """
    path = Path(path)
    _check_options(max_frames, size)
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
    _check_options(max_frames, size)  # before the first file, not after a long decode
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


def write_text(path: Path | str, text: str, *, what: str) -> Path:
    """Write ``text`` (UTF-8) to ``path``, creating parent folders; returns the path.

    Raises:
        SpacetimeError: the path cannot be written; the message names it and ``what`` it is.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as err:
        raise SpacetimeError(
            f"{path}: cannot write the {what} ({err.strerror or err}); "
            "expected a writable file path"
        ) from err
    return path


def write_json(path: Path | str, data: Any) -> Path:
    """Write JSON-native ``data`` indented, creating parent folders; returns the path."""
    return write_text(path, json.dumps(data, indent=2) + "\n", what="JSON report")


def write_report(path: Path | str, run: EvalRun) -> Path:
    """Write ``run`` (the top-level object of the module docstring) as JSON; returns the path."""
    return write_json(path, run.to_dict())


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
    if isinstance(analysis, bool) or not isinstance(analysis, int) or analysis < 1:
        raise SpacetimeError(
            f'{path}: "analysis_size" must be a positive integer (pixels), got {analysis!r}'
        )
    return EvalRun([VideoReport.from_dict(e) for e in entries], analysis_size=analysis)


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
