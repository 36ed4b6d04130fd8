"""In-memory videos: the :class:`Video` record, resizing and natural sort.

At the API edge a video is a ``uint8`` array ``(T, H, W, 3)`` in RGB order (DESIGN.md); every
reader returns that and every writer accepts only that, so a float or channels-first array is
an error (:func:`spacetime.contracts.frames.check_frames`) rather than a silently wrong file.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from spacetime.contracts.frames import check_frames
from spacetime.errors import SpacetimeError, VideoError


@dataclass(frozen=True, eq=False)  # eq=False: `==` on arrays is ambiguous; identity instead
class Video:
    """A decoded clip.

    Attributes:
        frames: ``uint8`` array ``(T, H, W, 3)``, RGB, ``T >= 1``.
        fps: frames per second of ``frames`` (after any resampling or striding), > 0.
        path: the file or frame folder it was read from; ``None`` for generated clips.
    """

    frames: np.ndarray
    fps: float
    path: Path | None = None

    def __post_init__(self) -> None:
        check_frames(self.frames, what="Video.frames")
        if not (math.isfinite(self.fps) and self.fps > 0):
            raise VideoError(f"fps must be a positive number, got {self.fps!r}", self.path)

    @property
    def num_frames(self) -> int:
        """``T``, the number of frames."""
        return int(self.frames.shape[0])

    @property
    def height(self) -> int:
        """Frame height ``H`` in pixels."""
        return int(self.frames.shape[1])

    @property
    def width(self) -> int:
        """Frame width ``W`` in pixels."""
        return int(self.frames.shape[2])

    @property
    def duration(self) -> float:
        """Length in seconds, ``T / fps`` (each frame lasts ``1 / fps``)."""
        return self.num_frames / self.fps


def parse_size(size: int | tuple[int, int] | None) -> tuple[int, int] | None:
    """``size`` option as ``(height, width)``: an int ``s`` means a square ``(s, s)``.

    Raises :class:`SpacetimeError` for non-positive or malformed sizes.
    """
    if size is None:
        return None
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        pair: tuple[Any, ...] = (size, size)
    elif isinstance(size, (tuple, list)) and len(size) == 2:
        pair = tuple(size)
    else:
        raise SpacetimeError(f"size must be an int or a (height, width) pair, got {size!r}")
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in pair):
        raise SpacetimeError(f"size must hold integers, got {size!r}")
    if min(pair) < 1:
        raise SpacetimeError(f"size must be positive, got {size!r}")
    return int(pair[0]), int(pair[1])


def resize_frame(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize one ``(H, W, 3)`` uint8 frame to ``size = (height, width)``.

    Area averaging when shrinking (anti-aliased, no moiré on 720p -> 64 px) and bilinear
    interpolation when enlarging, both from OpenCV. The aspect ratio is not preserved.
    """
    height, width = size
    if frame.shape[:2] == (height, width):
        return frame
    shrinking = height <= frame.shape[0] and width <= frame.shape[1]
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(frame, (width, height), interpolation=interpolation)


def resize_frames(frames: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
    """Resize every frame of a ``(T, H, W, 3)`` uint8 clip; ``size`` as in :func:`parse_size`."""
    frames = check_frames(frames)
    hw = parse_size(size)
    assert hw is not None
    return np.stack([resize_frame(f, hw) for f in frames])


_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str | Path) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders digit runs by value: ``frame2.png`` before ``frame10.png``.

    Text parts compare case-insensitively; each part is tagged so digits and text never meet,
    and the exact name breaks ties (``a.png`` vs ``A.png``) so the order is total.
    """
    text = Path(name).name if isinstance(name, Path) else str(name)
    parts = _DIGITS.split(text)
    key = tuple((1, int(p)) if p.isdigit() else (0, p.lower()) for p in parts if p)
    return (*key, (0, text))
