"""ShapesWorld scene descriptions: objects, their trajectories, and the scene's caption.

A :class:`SceneSpec` is everything needed to render a clip: resolution, length, background,
the optional occluding pillar and up to three :class:`ObjectSpec`. It is pure data (JSON via
:meth:`SceneSpec.to_dict`); :func:`spacetime.data.shapes.layout.sample_scene` makes sensible
ones and :func:`spacetime.data.shapes.render.render` draws them.

Trajectories (:func:`trajectory`): the centre at frame ``t`` is ``start + velocity * t``
(px, px/frame). A bouncing object moves on the same straight line *folded* into
``[r, size - r]`` on each axis (specular reflection at the walls: the triangle wave
``lo + L - |((p - lo) mod 2L) - L|`` with ``L = size - 2r``), so its box touches a wall exactly at
the bounce. Other objects are not folded: a constant-velocity object keeps its velocity.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from spacetime.data.shapes.grammar import ParsedObject, format_caption
from spacetime.data.shapes.palette import (
    BACKGROUNDS,
    COLORS,
    MAX_OBJECTS,
    MOTIONS,
    SHAPES,
    SIZE_RANGE,
    SIZES,
)
from spacetime.errors import SpacetimeError


@dataclass(frozen=True)
class ObjectSpec:
    """One object. Lengths in px, ``velocity`` in px/frame, ``start`` is the centre at t = 0.

    ``say_size`` makes the caption name the size class ("a small red circle ...").
    """

    color: str
    shape: str
    size: str
    motion: str
    radius: float
    start: tuple[float, float]
    velocity: tuple[float, float] = (0.0, 0.0)
    behind_pillar: bool = False
    say_size: bool = False

    def __post_init__(self) -> None:
        for name, value, allowed in (
            ("color", self.color, tuple(COLORS)),
            ("shape", self.shape, SHAPES),
            ("size", self.size, SIZES),
            ("motion", self.motion, MOTIONS),
        ):
            if value not in allowed:
                raise SpacetimeError(f"object {name} must be one of {list(allowed)}, got {value!r}")
        if not self.radius > 0:
            raise SpacetimeError(f"object radius must be > 0 px, got {self.radius}")

    @property
    def parsed(self) -> ParsedObject:
        """The object's caption clause."""
        return ParsedObject(
            color=self.color,
            shape=self.shape,
            motion=self.motion,
            size=self.size if self.say_size else None,
            behind_pillar=self.behind_pillar,
        )


def fold(p: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Reflect positions ``p`` (any shape, px) into ``[lo, hi]``: a triangle wave of period
    ``2 (hi - lo)``, the trajectory of a point bouncing elastically between two walls."""
    span = hi - lo
    if span <= 0:
        return np.full_like(p, (lo + hi) / 2.0)
    u = np.mod(p - lo, 2.0 * span)  # [0, 2 span)
    return lo + span - np.abs(u - span)


def trajectory(obj: ObjectSpec, size: int, frames: int) -> np.ndarray:
    """Centres ``(frames, 2)`` float64 (x, y) in px of ``obj`` in a ``size`` px frame."""
    t = np.arange(frames, dtype=np.float64)[:, None]  # (T, 1)
    p = np.asarray(obj.start, np.float64) + t * np.asarray(obj.velocity, np.float64)  # (T, 2)
    if obj.motion == "bounces":
        p = fold(p, obj.radius, size - obj.radius)
    return p


@dataclass(frozen=True)
class SceneSpec:
    """A ShapesWorld scene: ``size`` px square frames, ``frames`` frames at ``fps``.

    ``occluder`` is the pillar box ``(x0, y0, x1, y1)`` in px (drawn in front of every object),
    or None. ``seed`` records where the scene came from (None for hand-made scenes).
    """

    size: int
    frames: int
    objects: tuple[ObjectSpec, ...]
    background: str = "plain"
    occluder: tuple[float, float, float, float] | None = None
    fps: float = 8.0
    seed: int | None = None

    def __post_init__(self) -> None:
        check_resolution(self.size, self.frames, self.fps)
        if self.background not in BACKGROUNDS:
            raise SpacetimeError(
                f"background must be one of {list(BACKGROUNDS)}, got {self.background!r}"
            )
        if not 1 <= len(self.objects) <= MAX_OBJECTS:
            raise SpacetimeError(f"a scene has 1 to {MAX_OBJECTS} objects, got {len(self.objects)}")
        if self.occluder is not None:
            x0, y0, x1, y1 = self.occluder
            if not (x1 > x0 and y1 > y0):
                raise SpacetimeError(f"occluder box must be (x0, y0, x1, y1), got {self.occluder}")

    @property
    def caption(self) -> str:
        """The scene's caption, e.g. "a small blue square bounces on a striped background"."""
        return format_caption([o.parsed for o in self.objects], self.background)

    def centers(self) -> np.ndarray:
        """Object centres ``(N, T, 2)`` float64 (x, y) in px, in ``objects`` order."""
        return np.stack([trajectory(o, self.size, self.frames) for o in self.objects])

    def to_dict(self) -> dict:
        """JSON-serialisable description (tuples become lists)."""
        d = asdict(self)
        d["caption"] = self.caption
        return d


def check_resolution(size: int, frames: int, fps: float) -> None:
    """:class:`SpacetimeError` unless ``size`` is in ``SIZE_RANGE``, ``frames >= 1`` and
    ``fps > 0``."""
    lo, hi = SIZE_RANGE
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not lo <= size <= hi:
        raise SpacetimeError(f"size must be an integer number of px in [{lo}, {hi}], got {size!r}")
    if isinstance(frames, bool) or not isinstance(frames, (int, np.integer)) or frames < 1:
        raise SpacetimeError(f"frames must be an integer >= 1, got {frames!r}")
    if not (isinstance(fps, (int, float)) and fps > 0):
        raise SpacetimeError(f"fps must be > 0 frames/second, got {fps!r}")
