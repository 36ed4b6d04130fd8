"""The evaluation report's data: one :class:`VideoReport` per clip, and the JSON file.

One :class:`VideoReport` per clip holds exactly the per-entry schema of DESIGN.md::

    {"video": "clip.mp4", "frames": 48, "height": 256, "width": 256, "fps": 24.0,
     "metrics": {"flicker": {"mean", "p95", "max", "worst_frame", "per_frame"}, ...},
     "caption": "...",          # only when a caption was given
     "oracle": {...}}           # only when the caption is of ShapesWorld form

``video`` is the path as given (file names can repeat across folders); ``frames``, ``height``
and ``width`` describe the clip that was scored (after ``--max-frames`` / ``--size``).

A report file (``spacetime eval --json``) is a top-level object, so that it can say which
version wrote it and which files could not be scored::

    {"spacetime_version": "0.1.0", "analysis_size": 256, "videos": [entry, ...],
     "failed": [{"video": "bad.mp4", "error": "bad.mp4: not a readable video (...)"}, ...]}

A shard's report (``spacetime eval --shard K/N``) adds ``"shard": {"index": K, "count": N,
"files": [...], "options": {...}}``: the files it was given, in order, so that
:func:`~spacetime.evaluation.report.batch.merge_runs` can interleave shards back into the
one-machine order, and the options, so that only shards of one run are merged.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from spacetime import __version__
from spacetime.errors import SpacetimeError

MOTION_METRIC = "dynamic_degree"
"""The one metric that is not a failure: the amount of motion (its maximum is not a defect)."""

__all__ = [
    "MOTION_METRIC",
    "EvalRun",
    "FailedVideo",
    "Shard",
    "VideoReport",
    "load_report",
    "plain",
    "write_json",
    "write_report",
    "write_text",
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


@dataclass(frozen=True)
class FailedVideo:
    """A file that could not be scored: its path as given and why (one line)."""

    video: str
    error: str

    def to_dict(self) -> dict[str, str]:
        return {"video": self.video, "error": self.error}


@dataclass(frozen=True)
class Shard:
    """Which part of a run a report holds: shard ``index`` (1-based) of ``count``, the
    ``files`` it was given (in order) and the evaluation ``options`` (JSON-native)."""

    index: int
    count: int
    files: list[str]
    options: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "count": self.count,
            "files": self.files,
            "options": self.options,
        }


@dataclass
class EvalRun:
    """A whole ``spacetime eval`` run: the reports plus what produced them."""

    videos: list[VideoReport]
    analysis_size: int = 256
    failed: list[FailedVideo] = field(default_factory=list)
    shard: Shard | None = None

    def to_dict(self) -> dict[str, Any]:
        """The top-level JSON object of the module docstring."""
        data: dict[str, Any] = {
            "spacetime_version": __version__,
            "analysis_size": self.analysis_size,
            "videos": [report.to_dict() for report in self.videos],
            "failed": [failure.to_dict() for failure in self.failed],
        }
        if self.shard is not None:
            data["shard"] = self.shard.to_dict()
        return data


def write_text(path: Path | str, text: str, *, what: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (a temporary file in the same folder,
    renamed when complete), creating parent folders; returns the path.

    Raises:
        SpacetimeError: the path cannot be written; the message names it and ``what`` it is.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as err:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
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
    meta = data if isinstance(data, dict) else {}
    analysis = meta.get("analysis_size", 256)
    if isinstance(analysis, bool) or not isinstance(analysis, int) or analysis < 1:
        raise SpacetimeError(
            f'{path}: "analysis_size" must be a positive integer (pixels), got {analysis!r}'
        )
    try:
        failed = [FailedVideo(str(f["video"]), str(f["error"])) for f in meta.get("failed", [])]
        shard = meta.get("shard")
        if shard is not None:
            shard = Shard(
                int(shard["index"]),
                int(shard["count"]),
                [str(f) for f in shard["files"]],
                dict(shard["options"]),
            )
    except (KeyError, TypeError, ValueError) as err:
        raise SpacetimeError(
            f'{path}: malformed "failed" or "shard" ({err!r}); expected what spacetime eval writes'
        ) from err
    videos = [VideoReport.from_dict(e) for e in entries]
    return EvalRun(videos, analysis_size=analysis, failed=failed, shard=shard)


def plain(value: Any) -> Any:
    """Convert numpy scalars/arrays inside ``value`` to JSON-native Python values."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
