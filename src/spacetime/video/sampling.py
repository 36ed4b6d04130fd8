"""Choosing which decoded frames to keep: start offset, fps resampling, stride, frame cap.

The selection runs on a *stream* of ``(timestamp, payload)`` pairs so a reader can stop
decoding as soon as ``max_frames`` frames are chosen and never converts a frame it drops
(a 720p clip is ~2.7 MB per RGB frame). The payload is whatever the reader decodes lazily:
a PyAV frame, or an image path of a frame folder.

Order of operations (all times in seconds, measured from the start of the stream):

1. ``start``: frames with timestamp ``< start`` are skipped.
2. ``fps``: the kept frames are resampled onto the grid ``t_0 + k / fps`` (``t_0`` the first
   kept timestamp, ``end`` = last timestamp + one source frame duration). Grid frame ``k``
   is emitted while its slot ``[t_0 + k / fps, t_0 + (k + 1/2) / fps]`` starts within the
   clip, i.e. ``t_0 + (k + 1/2) / fps <= end``: ``round(duration * fps)`` frames, at least
   one (ffmpeg's ``fps`` filter, ``round=near``), so jittery GIF delays (1/100 s) add no
   extra frame. Each grid time takes the frame with the nearest timestamp (ties go to the
   earlier frame), so upsampling repeats frames and downsampling drops them.
3. ``stride``: every ``stride``-th frame of that sequence is kept (indices ``0, s, 2s, ...``).
4. ``max_frames``: at most that many frames are returned.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Iterator
from typing import TypeVar

from spacetime.errors import SpacetimeError

P = TypeVar("P")


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def check_sampling(*, fps: float | None, stride: int, max_frames: int | None, start: float) -> None:
    """Validate the sampling options; raises :class:`SpacetimeError` naming the bad one."""
    if fps is not None and not (_is_real(fps) and fps > 0):
        raise SpacetimeError(f"fps must be a positive number of frames per second, got {fps!r}")
    if not (_is_int(stride) and stride >= 1):
        raise SpacetimeError(f"stride must be an integer >= 1, got {stride!r}")
    if max_frames is not None and not (_is_int(max_frames) and max_frames >= 1):
        raise SpacetimeError(f"max_frames must be an integer >= 1 or None, got {max_frames!r}")
    if not (_is_real(start) and start >= 0):
        raise SpacetimeError(f"start must be a number of seconds >= 0, got {start!r}")


def _resample(
    items: Iterable[tuple[float, P]], fps: float, frame_duration: float | None
) -> Iterator[P]:
    """Nearest-timestamp resampling onto ``t_0 + k / fps`` with one frame of look-ahead."""
    step = 1.0 / fps
    previous: tuple[float, P] | None = None
    interval = 0.0
    t0 = 0.0
    k = 0
    for time, payload in items:
        if previous is None:
            previous, t0 = (time, payload), time
            continue
        # The previous frame is the nearest one for grid times up to the midpoint (inclusive).
        midpoint = 0.5 * (previous[0] + time)
        while t0 + k * step <= midpoint + 1e-9:
            yield previous[1]
            k += 1
        interval = time - previous[0]
        previous = (time, payload)
    if previous is None:
        return
    end = previous[0] + (interval if frame_duration is None else frame_duration)
    while t0 + (k + 0.5) * step <= end + 1e-9 or k == 0:  # k == 0: a lone frame still counts
        yield previous[1]
        k += 1


def select_frames(
    items: Iterable[tuple[float, P]],
    *,
    fps: float | None = None,
    frame_duration: float | None = None,
    stride: int = 1,
    max_frames: int | None = None,
    start: float = 0.0,
) -> Iterator[P]:
    """Yield the payloads to keep, in order, following the module's four steps.

    Args:
        items: ``(timestamp in seconds, payload)`` pairs in presentation order.
        fps: target frame rate (frames/second), or ``None`` to keep every frame.
        frame_duration: seconds one source frame lasts (``1 / source fps``); sets how long the
            last frame is shown when resampling. ``None``: the last inter-frame interval.
        stride, max_frames, start: see the module docstring.

    A payload is yielded once per output frame, so the same payload can repeat when ``fps``
    exceeds the source rate; consumers convert a repeated payload once.
    """
    check_sampling(fps=fps, stride=stride, max_frames=max_frames, start=start)
    kept = ((t, p) for t, p in items if t >= start - 1e-6)
    sequence: Iterable[P] = (
        (p for _, p in kept) if fps is None else _resample(kept, fps, frame_duration)
    )
    emitted = 0
    for index, payload in enumerate(sequence):
        if index % stride:
            continue
        yield payload
        emitted += 1
        if max_frames is not None and emitted >= max_frames:
            return


def output_fps(source_fps: float, *, fps: float | None, stride: int) -> float:
    """Frame rate of the selected frames: the target (or source) rate divided by ``stride``."""
    return (fps if fps is not None else source_fps) / stride
