"""Window plans for videos longer than a model's window: which frames each network call sees.

A :class:`Window` is a list of absolute frame indices (increasing, not necessarily adjacent)
and the subset of them it *commits*: the frames it decides. Every other frame of a window is
already final when the window runs, so it is given to the model as context. One loop
(:mod:`.long_video`) runs any plan; the methods differ only in the plan and in how context is
given.

- :func:`autoregressive_plan` — windows of ``W`` adjacent frames, each starting ``overlap``
  frames before the end of the previous one (VDM's extension, Ho et al. 2022, Sec. 3.1)::

      [0 ............ W-1]
                [k given | W-k new]
                            [k given | W-k new] ...      (the last window may overlap more)

- :func:`keyframe_plan` — coarse to fine: first keyframes spread over the *whole* duration,
  both ends included, ``W - 1`` frames apart (one window when they fit; more levels, each
  ``W - 1`` times finer, when they do not), then every gap between two keyframes filled as one
  interpolation window with its first and last frame given. The end of the video is fixed in
  the first call and every later call is bounded on both sides, so errors cannot accumulate
  along time (FramePack's anti-drifting sampling, Zhang & Agrawala 2025, Sec. 3.3; NUWA-XL's
  coarse-to-fine "diffusion over diffusion", Yin et al. 2023).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from spacetime.errors import SpacetimeError

__all__ = ["Window", "autoregressive_plan", "check_plan", "keyframe_plan"]


@dataclass(frozen=True)
class Window:
    """One network call: ``frames`` (absolute indices, increasing) and the ``commit`` subset it
    decides; the other frames are final before it runs and are given as context."""

    frames: tuple[int, ...]
    commit: tuple[int, ...]

    @property
    def given(self) -> tuple[int, ...]:
        """The context frames: every frame of the window it does not commit."""
        decided = set(self.commit)
        return tuple(f for f in self.frames if f not in decided)


def _check(total: int, window: int) -> None:
    if total < 1:
        raise SpacetimeError(f"total_frames must be >= 1; got {total}")
    if window < 2:
        raise SpacetimeError(f"window must be >= 2 frames; got {window}")


def autoregressive_plan(total: int, window: int, overlap: int) -> list[Window]:
    """Windows of ``window`` adjacent frames, each given the ``overlap`` (or, for the last one,
    more) final frames it shares with the video so far; ``total <= window`` is one window."""
    _check(total, window)
    if not 1 <= overlap < window:
        raise SpacetimeError(f"overlap must be in [1, window={window}); got {overlap}")
    first = tuple(range(min(window, total)))
    plan, done = [Window(first, first)], len(first)
    while done < total:
        start = min(done - overlap, total - window)
        frames = tuple(range(start, start + window))
        plan.append(Window(frames, tuple(f for f in frames if f >= done)))
        done = frames[-1] + 1
    return plan


def keyframe_plan(total: int, window: int) -> list[Window]:
    """Keyframes over the whole clip first, then fills between them (see the module docstring).

    Keyframes are ``stride = (W - 1)^L`` frames apart, ``L`` the fewest levels that fit them in
    one window, plus the last frame; each level's gaps are then split ``W - 1`` times finer,
    down to adjacent frames. 128 frames with ``W = 16``: keyframes 0, 15, ..., 120, 127 in one
    call, then 8 fills of 16 frames and one of 8, each with its two ends given.
    """
    _check(total, window)
    if window < 3:
        raise SpacetimeError(f"keyframes need a window of >= 3 frames; got {window}")
    stride = 1
    while -(-(total - 1) // stride) + 1 > window:  # the keys, the last frame included
        stride *= window - 1
    keys = sorted(set(range(0, total, stride)) | {total - 1})
    plan = [Window(tuple(keys), tuple(keys))]
    while stride > 1:
        stride //= window - 1
        finer = set(keys)
        for a, b in itertools.pairwise(keys):
            frames = tuple(sorted(set(range(a, b, stride)) | {b}))
            if len(frames) > 2:
                plan.append(Window(frames, frames[1:-1]))
            finer.update(frames)
        keys = sorted(finer)
    return plan


def check_plan(plan: list[Window], total: int) -> None:
    """Internal invariant: every frame is committed exactly once, and a window's context is
    final before it runs."""
    done: set[int] = set()
    for w in plan:
        assert set(w.given) <= done, (w, sorted(done))
        assert not set(w.commit) & done, w
        done.update(w.commit)
    assert done == set(range(total)), sorted(set(range(total)) - done)
