"""``VideoFolderDataset``: captioned clips cut from a folder of video files.

Captions come from sidecar ``.txt`` files or a JSONL/CSV manifest (:mod:`spacetime.data.captions`).

**Unreadable files** are found at construction by opening each container and reading its
video stream header with PyAV (cheap: no frame is decoded). They are dropped with ONE warning
that names them and counts them. A file that probes fine but fails to decode later (a corrupt
packet mid-stream) is caught when read: the item falls through to the next video, again with
one warning per bad file, so a long run never dies on one file.

**Short videos** (fewer source frames than ``(frames - 1) * min(strides) + 1`` at the target
fps) follow ``short``: ``"skip"`` (default) drops them at construction with one warning, since
both looping (a jump cut) and padding (a frozen tail) teach motion that is not in the data;
``"loop"`` wraps around to the first frame and ``"pad"`` repeats the last frame, for folders of
very short clips where that is the lesser evil.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import torch

from spacetime.contracts.pixels import to_model_range
from spacetime.data.augment import SHORT_POLICIES, ClipWindow, ShortPolicy, TemporalAugment
from spacetime.data.captions import CaptionedFile, list_captioned, warn_skipped, warn_uncaptioned
from spacetime.data.clip_dataset import Clip, ClipDataset, mix_seed
from spacetime.data.clip_dataset import generator as make_generator
from spacetime.data.transforms import Size, as_hw, resize_center_crop
from spacetime.errors import SpacetimeError, SpacetimeWarning
from spacetime.video.reader import VIDEO_SUFFIXES, read_video


@dataclass(frozen=True)
class VideoEntry:
    """A probed video: its path, caption, frame count at the dataset's fps, and that fps."""

    path: Path
    caption: str
    frames: int  # frames available at ``fps`` (header estimate; the decoder has the last word)
    fps: float  # frames per second the clip is sampled at


def probe_video(path: Path, fps: float | None) -> tuple[int, float]:
    """``(frames, fps)`` of ``path`` from its container header, resampled to ``fps`` if given.

    Raises ``av.error.FFmpegError`` / ``OSError`` for an unreadable file, ``ValueError`` for a
    file without a video stream or frame rate.
    """
    with av.open(str(path)) as container:
        if not container.streams.video:
            raise ValueError("no video stream")
        stream = container.streams.video[0]
        rate = float(stream.average_rate or stream.guessed_rate or 0)
        if stream.duration is not None and stream.time_base is not None:
            seconds = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            seconds = container.duration / av.time_base
        else:
            seconds = (stream.frames or 0) / rate if rate else 0.0
        native = int(stream.frames) or round(seconds * rate)
    if rate <= 0 or native <= 0:
        raise ValueError("no frame rate or no frames in the header")
    if fps is None:
        return native, rate
    return max(1, math.floor(seconds * fps + 1e-6)), float(fps)


class VideoFolderDataset(ClipDataset):
    """Clips of ``frames`` frames at ``size`` from the videos under ``root``.

    Args:
        root: folder of videos (searched recursively) with sidecar captions, or with a
            ``metadata.jsonl`` / ``metadata.csv`` manifest (see :mod:`spacetime.data.captions`).
        frames: clip length T.
        size: output size, an int (square) or ``(height, width)``; frames are resized to cover
            it and center-cropped.
        fps: resample every video to this frame rate (frames/second) before cutting clips;
            ``None`` keeps each file's native rate.
        augment: clip window and flip draws; the default takes the first ``frames`` frames.
        short: what to do with videos shorter than a clip: ``"skip"``, ``"loop"`` or ``"pad"``.
        manifest: an explicit JSONL/CSV manifest instead of sidecars.

    Items are ``{"video": float32 (3, frames, H, W) in [-1, 1], "caption": str}``.
    """

    def __init__(
        self,
        root: str | Path,
        frames: int,
        size: Size,
        *,
        fps: float | None = None,
        augment: TemporalAugment | None = None,
        short: ShortPolicy = "skip",
        manifest: str | Path | None = None,
    ) -> None:
        if frames < 1:
            raise SpacetimeError(f"frames must be >= 1; got {frames}")
        if fps is not None and fps <= 0:
            raise SpacetimeError(f"fps must be positive; got {fps}")
        if short not in SHORT_POLICIES:
            raise SpacetimeError(f"short must be one of {SHORT_POLICIES}; got {short!r}")
        self.root = Path(root)
        self.frames = frames
        self.size = as_hw(size)
        self.fps = fps
        self.augment = augment or TemporalAugment()
        self.short: ShortPolicy = short
        files = list_captioned(self.root, VIDEO_SUFFIXES, manifest=manifest)
        self.entries = self._probe_all(files)
        self._bad: set[Path] = set()  # files already warned about (decode failed after probing)

    def _probe_all(self, files: list[CaptionedFile]) -> list[VideoEntry]:
        entries: list[VideoEntry] = []
        unreadable: list[Path] = []
        missing = [f.path for f in files if not f.path.is_file()]  # named by a manifest
        absent = set(missing)
        short: list[Path] = []
        uncaptioned = 0
        need = self.augment.min_frames(self.frames)
        for f in files:
            if f.path in absent:
                continue
            try:
                count, rate = probe_video(f.path, self.fps)
            except (av.error.FFmpegError, OSError, ValueError):
                unreadable.append(f.path)
                continue
            if count < need and self.short == "skip":
                short.append(f.path)
                continue
            uncaptioned += f.caption is None
            entries.append(VideoEntry(f.path, f.caption or "", count, rate))
        warn_skipped("missing videos", missing, "listed in the manifest, not found")
        warn_skipped("unreadable videos", unreadable, "cannot open their video stream")
        warn_skipped("short videos", short, f"fewer than {need} frames; short='skip'")
        warn_uncaptioned(uncaptioned, len(entries), self.root)
        if not entries:
            raise SpacetimeError(
                f"dataset folder {self.root}: none of its {len(files)} videos is usable "
                f"({len(missing)} missing, {len(unreadable)} unreadable, {len(short)} shorter "
                f"than {need} frames; "
                "pass short='pad' or 'loop', or fewer frames)"
            )
        return entries

    def __len__(self) -> int:
        return len(self.entries)

    def _read(self, entry: VideoEntry, generator: torch.Generator) -> np.ndarray:
        """uint8 (frames, H, W, 3) of one drawn window of ``entry`` (native size)."""
        window = self.augment.window(entry.frames, self.frames, generator)
        # Half a frame before the window's first frame, so rounding of timestamps cannot skip it.
        video = read_video(
            entry.path,
            fps=self.fps,
            stride=window.stride,
            max_frames=window.frames,
            start=max(0.0, (window.start - 0.5) / entry.fps),
        )
        # Fewer frames than asked: a short video (short="loop"/"pad"), or a header that
        # overstated the length by a frame ("skip" admitted it): wrap or pad what was decoded.
        local = ClipWindow(0, 1, window.frames)
        policy = "loop" if self.short == "loop" else "pad"
        return video.frames[local.indices(video.num_frames, policy)]

    def _item(self, index: int, generator: torch.Generator) -> Clip:
        """Entry ``index``; if it fails to decode, the next one that does (in index order).

        The first attempt draws its window and flip from ``generator``; fallback ``attempt``
        ``>= 1`` from a fresh generator seeded by ``mix_seed(seed, attempt)`` (``seed`` the
        item's), not from the one the failed read advanced. A failing file is retried rather
        than skipped from memory, so ``(index, seed)`` gives the same clip whatever this worker
        decoded before; ``_bad`` only keeps the warning to one per file.
        """
        seed = generator.initial_seed()
        for attempt in range(len(self.entries)):
            entry = self.entries[(index + attempt) % len(self.entries)]
            draws = generator if attempt == 0 else make_generator(mix_seed(seed, attempt))
            try:
                frames = self._read(entry, draws)
            except (av.error.FFmpegError, OSError, ValueError, SpacetimeError) as err:
                if entry.path not in self._bad:
                    self._bad.add(entry.path)
                    warnings.warn(
                        f"skipping video {entry.path}: decoding failed ({err}); using the next one",
                        SpacetimeWarning,
                        stacklevel=2,
                    )
                continue
            video = to_model_range(resize_center_crop(frames, self.size))  # (C, T, H, W)
            video, caption = self.augment.maybe_flip(video, entry.caption, draws)
            return Clip(video=video, caption=caption)
        raise SpacetimeError(f"dataset folder {self.root}: no video could be decoded")
