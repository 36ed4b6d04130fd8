"""Temporal and geometric augmentations for captioned clips, deterministic given a generator.

- **Clip start jitter**: a training clip of ``frames`` frames starts at a uniformly random frame
  of the source video, so every epoch sees different windows of a long video.
- **Frame skipping (stride)**: the clip takes every ``stride``-th source frame, ``stride`` drawn
  uniformly among the allowed choices that fit in the video; a stride of 2 doubles the apparent
  speed, which teaches motion at several speeds (as Make-A-Video's frame-rate conditioning and
  most video data pipelines do).
- **Horizontal flip**: mirrors the frames *and* the caption. A mirror turns leftward motion into
  rightward motion and clockwise rotation into counter-clockwise, so :func:`mirror_caption` swaps
  ``left``/``right`` (with ``-ward(s)``, ``-most``, ``-hand(ed)`` forms) and
  ``clockwise``/``counterclockwise`` (also ``anticlockwise`` and ``counter-clockwise``), keeping
  the case. Without it, "a ball moves left" would label a clip where the ball moves right.
  Known limitation: idiomatic uses ("all right", "right angle") are swapped too.

All randomness comes from a ``torch.Generator`` the caller seeds, so an item is a pure function
of ``(index, seed)`` and a training run is reproducible and resumable bit for bit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from spacetime.errors import SpacetimeError

ShortPolicy = Literal["skip", "loop", "pad"]
SHORT_POLICIES: tuple[str, ...] = ("skip", "loop", "pad")

_SIDE = re.compile(r"\b(left|right)(wards?|most|hand(?:ed)?|-hand(?:ed)?)?\b", re.IGNORECASE)
_SPIN = re.compile(r"\b(counter-?clockwise|anti-?clockwise|clockwise)\b", re.IGNORECASE)


def _match_case(word: str, like: str) -> str:
    """``word`` written in the case pattern of ``like`` (UPPER, Title or lower)."""
    if like.isupper():
        return word.upper()
    if like[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def mirror_caption(caption: str) -> str:
    """The caption of the horizontally mirrored clip: left <-> right, clockwise <-> counter.

    >>> mirror_caption("A red ball moves Left, then rotates clockwise")
    'A red ball moves Right, then rotates counterclockwise'
    """

    def side(m: re.Match[str]) -> str:
        other = "right" if m.group(1).lower() == "left" else "left"
        return _match_case(other, m.group(1)) + (m.group(2) or "")

    def spin(m: re.Match[str]) -> str:
        other = "counterclockwise" if m.group(1).lower() == "clockwise" else "clockwise"
        return _match_case(other, m.group(1))

    # One pass per pattern: each match is replaced once, so "left ... right" swaps cleanly.
    return _SPIN.sub(spin, _SIDE.sub(side, caption))


def hflip(video: torch.Tensor, caption: str) -> tuple[torch.Tensor, str]:
    """Mirror ``video`` (..., H, W) along width and its caption (see :func:`mirror_caption`)."""
    return video.flip(-1), mirror_caption(caption)


@dataclass(frozen=True)
class ClipWindow:
    """Which source frames make a clip: ``start + stride * i`` for ``i < frames``."""

    start: int  # first source frame (0-based)
    stride: int  # step between consecutive clip frames, >= 1
    frames: int  # number of clip frames

    @property
    def span(self) -> int:
        """Source frames covered from the first to the last clip frame, inclusive."""
        return (self.frames - 1) * self.stride + 1

    def indices(self, available: int, short: ShortPolicy = "pad") -> np.ndarray:
        """Source frame indices (frames,) int64 for a video of ``available`` frames.

        Indices past the end wrap around (``short="loop"``) or repeat the last frame
        (``"pad"``); ``"skip"`` means the caller must not ask for a window that does not fit.
        """
        if available < 1:
            raise SpacetimeError("cannot take a clip from a video with no frames")
        idx = self.start + self.stride * np.arange(self.frames, dtype=np.int64)
        if short == "loop":
            return idx % available
        if short == "pad":
            return np.minimum(idx, available - 1)
        assert idx[-1] < available, f"window {self} does not fit {available} frames"
        return idx


@dataclass(frozen=True)
class TemporalAugment:
    """Random clip window and horizontal flip; every draw comes from the caller's generator.

    ``TemporalAugment()`` is the evaluation setting: first ``frames`` frames, stride 1, no flip.
    """

    jitter: bool = False  # random clip start; False starts every clip at the first frame
    strides: tuple[int, ...] = (1,)  # frame-skip choices, drawn uniformly among those that fit
    flip: float = 0.0  # probability of a horizontal flip (frames and caption mirrored)

    def __post_init__(self) -> None:
        if not self.strides or any(int(s) != s or s < 1 for s in self.strides):
            raise SpacetimeError(f"strides must be integers >= 1; got {self.strides!r}")
        if not 0.0 <= self.flip <= 1.0:
            raise SpacetimeError(f"flip must be a probability in [0, 1]; got {self.flip!r}")

    @staticmethod
    def training(strides: tuple[int, ...] = (1, 2), flip: float = 0.5) -> TemporalAugment:
        """The usual training setting: jittered start, strides 1 or 2, flip half the clips."""
        return TemporalAugment(jitter=True, strides=strides, flip=flip)

    def min_frames(self, frames: int) -> int:
        """Source frames needed for a ``frames``-frame clip at the smallest stride."""
        return (frames - 1) * min(self.strides) + 1

    def window(self, available: int, frames: int, generator: torch.Generator) -> ClipWindow:
        """Draw a window of ``frames`` frames within a video of ``available`` frames.

        The stride is uniform over the allowed strides whose span fits; the start is uniform
        over the positions where it fits (``jitter``) or 0. When nothing fits, the smallest
        stride starting at 0 is returned and the window runs past the end (see
        :meth:`ClipWindow.indices` for the ``loop``/``pad`` policies).
        """
        if frames < 1:
            raise SpacetimeError(f"frames must be >= 1; got {frames}")
        fitting = sorted(s for s in self.strides if (frames - 1) * s + 1 <= available)
        if not fitting:
            return ClipWindow(0, min(self.strides), frames)
        pick = int(torch.randint(len(fitting), (1,), generator=generator))
        stride = fitting[pick]
        free = available - ((frames - 1) * stride + 1)  # start positions beyond 0
        start = int(torch.randint(free + 1, (1,), generator=generator)) if self.jitter else 0
        return ClipWindow(start, stride, frames)

    def maybe_flip(
        self, video: torch.Tensor, caption: str, generator: torch.Generator
    ) -> tuple[torch.Tensor, str]:
        """Flip ``video`` (..., H, W) and its caption with probability ``flip``.

        A draw is made even when ``flip`` is 0 or 1, so changing it never shifts later draws.
        """
        draw = float(torch.rand((), generator=generator))
        return hflip(video, caption) if draw < self.flip else (video, caption)
