"""Laying out sensible ShapesWorld scenes from a seed or from a caption.

A scene is *sensible* when (checked for every frame, by rejection sampling over geometry):

- objects have distinct colours and start fully inside the frame (``MARGIN`` px from the edges);
- a constant-velocity object stays fully in view for the whole clip whenever its slowest speed
  allows it (otherwise it starts at the edge and travels at the slowest speed, so it stays in
  view as long as it can);
- a bouncing object moves diagonally and hits a wall at least once before the last frame
  (clips of 4 frames or more);
- the boxes of two objects never come closer than ``GAP`` px, so objects never overlap;
- the object "behind a pillar" moves left or right, is fully visible and clear of the pillar
  in its first frames and again after it (two and two sightings, or two and one when the clip
  is short) and fully hidden in at least one frame in between; the pillar is ``2r + h`` wide
  with a slack ``h`` of 0.3-1.2 frames of motion, and other objects never come near it (in
  random scenes they move up or down or stay still). Only small objects fit: a large one, a
  pillar as wide as it and the large object again take 0.84 of the frame
  (:func:`pillar_min_frames` says how many frames a pillar needs).

Everything random comes from ``numpy.random.default_rng(seed)``, so a seed fixes the scene.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from spacetime.data.shapes.grammar import PILLAR_MOTIONS, ParsedObject, parse_caption
from spacetime.data.shapes.palette import (
    BACKGROUNDS,
    COLORS,
    MAX_OBJECTS,
    MOTIONS,
    SHAPES,
    SIZES,
    radius_px,
    speed_range_px,
)
from spacetime.data.shapes.scene import ObjectSpec, SceneSpec, check_resolution, trajectory
from spacetime.errors import SpacetimeError

MARGIN = 1.0 / 64.0  # fraction of the frame side kept between an object and the frame edge
GAP = 2.0 / 64.0  # fraction of the frame side kept between two objects (and object and pillar)
# An object behind a pillar is clear of it by max(3 px, 3/64 of the frame) in its clear frames:
# the oracle treats a component within 1 px of the pillar as possibly cut, and anti-aliasing and
# yuv420p chroma subsampling can each move a component's edge by about a pixel.
PILLAR_GAP = 3.0 / 64.0
PILLAR_GAP_MIN_PX = 3.0
OCCLUDER_PROBABILITY = 0.3  # share of random scenes with a pillar (when it fits the clip)
N_OBJECTS_P = (0.4, 0.35, 0.25)  # probability of 1, 2, 3 objects in a random scene
# ... and with a pillar, which fills the middle of the frame (3 objects rarely fit at 64 px)
N_OBJECTS_PILLAR_P = (0.5, 0.5, 0.0)
SAY_SIZE_PROBABILITY = 0.5  # share of clauses that name the size class
SLACK_RANGE = (0.3, 1.2)  # pillar width beyond 2r, in frames of motion of its object
PILLAR_COMPANION_MOTIONS = ("moves up", "moves down", "stays still")  # fit beside a pillar
_TRIES = 60  # whole-layout draws per set of object descriptions
Box = tuple[float, float, float, float]  # pillar (x0, y0, x1, y1) in px
_OBJECT_TRIES = 40  # draws of one object against those already placed


def _place_behind_pillar(
    rng: np.random.Generator, d: ParsedObject, r: float, size: int, frames: int, fps: float
) -> tuple[ObjectSpec, Box] | None:
    """Place an object moving right or left through a vertical pillar; None if this draw fails.

    Solved for motion to the right, then mirrored. The object is fully hidden at frame ``t_h``:
    ``x(t_h) = p0 + r + u h`` with ``p0`` the pillar's left edge, ``w = 2r + h`` its width and
    ``u`` in (0, 1). It must be ``g`` px clear of the pillar in frames ``0 .. nb - 1``, which
    needs ``v (t_h - nb + 1) >= 2r + u h + g``, and in ``na`` frames from the first frame
    ``t_a = t_h + ceil((2r + (1 - u) h + g) / v)`` past it, fully inside the frame, before
    the clip ends; it starts inside the frame and may leave it after those frames. The start
    and the clear frames after the pillar bound ``p0`` to an interval. Two clear frames on each
    side are preferred, two on one side and one on the other accepted (the oracle needs three
    clear sightings to check the constant-velocity reappearance).
    """
    m, g = MARGIN * size, max(PILLAR_GAP * size, PILLAR_GAP_MIN_PX)
    vmin, vmax = speed_range_px(size, fps)
    k = rng.uniform(*SLACK_RANGE)  # slack in frames of motion
    v = rng.uniform(vmin, vmax)
    h = k * v
    u = rng.uniform(0.2, 0.8)
    w = 2 * r + h
    cross = int(np.ceil((2 * r + (1 - u) * h + g) / v))  # frames from hidden to clear after
    sides = [(2, 2), *((2, 1), (1, 2))[:: int(rng.choice([-1, 1]))]]
    for nb, na in sides:
        t_lo = int(np.ceil(nb - 1 + (2 * r + u * h + g) / v))
        t_hi = frames - na - cross
        if t_lo > t_hi:
            continue
        t_h = int(rng.integers(t_lo, t_hi + 1))
        p_lo = max(m + v * t_h - u * h, 0.0)
        p_hi = min(size - m - 2 * r - u * h - v * (cross + na - 1), size - w)
        if p_lo <= p_hi:
            break
    else:
        return None
    p0 = rng.uniform(p_lo, p_hi)
    x0 = p0 + r + u * h - v * t_h
    y0 = rng.uniform(m + r, size - m - r)
    box = (p0, 0.0, p0 + w, float(size))
    vel = v
    if d.motion == "moves left":  # mirror x -> size - x
        x0, vel = size - x0, -v
        box = (size - box[2], 0.0, size - box[0], float(size))
    obj = _spec(d, r, (x0, y0), (vel, 0.0))
    return obj, box


def pillar_min_frames(size_class: str, size: int, fps: float = 8.0) -> int | None:
    """Fewest frames in which an object of ``size_class`` can pass behind a pillar with three
    clear sightings (at full speed and the least slack), or None when the frame is too narrow:
    it must hold the object, the pillar (at least as wide) and the object again, with gaps and
    one frame of motion to spare (large objects, 3 x 0.28 of the frame, never fit)."""
    r = radius_px(size_class, size)
    m, g = MARGIN * size, max(PILLAR_GAP * size, PILLAR_GAP_MIN_PX)
    vmax = speed_range_px(size, fps)[1]
    h = SLACK_RANGE[0] * vmax
    if 6 * r + h + 2 * g + 2 * m + vmax > size:
        return None
    return int(np.ceil(3 + (4 * r + h + 2 * g) / vmax))


def _pillar_fits(size_class: str, size: int, frames: int, fps: float) -> bool:
    need = pillar_min_frames(size_class, size, fps)
    return need is not None and frames >= need


def _spec(
    d: ParsedObject, r: float, start: tuple[float, float], vel: tuple[float, float]
) -> ObjectSpec:
    assert d.size is not None
    return ObjectSpec(
        color=d.color,
        shape=d.shape,
        size=d.size,
        motion=d.motion,
        radius=r,
        start=(float(start[0]), float(start[1])),
        velocity=(float(vel[0]), float(vel[1])),
        behind_pillar=d.behind_pillar,
    )


_AXIS_DIRECTION = {
    "moves left": (0, -1.0),
    "moves right": (0, 1.0),
    "moves up": (1, -1.0),
    "moves down": (1, 1.0),
}


def _place_free(
    rng: np.random.Generator, d: ParsedObject, r: float, size: int, frames: int, fps: float
) -> ObjectSpec:
    """Place an object that is not behind the pillar (its motion decides how)."""
    m = MARGIN * size
    lo, hi = m + r, size - m - r
    vmin, vmax = speed_range_px(size, fps)
    start = rng.uniform(lo, hi, size=2)
    vel = np.zeros(2)
    if d.motion == "bounces":
        vel = rng.uniform(vmin, vmax, size=2) * rng.choice([-1.0, 1.0], size=2)
    elif d.motion in _AXIS_DIRECTION:
        axis, sign = _AXIS_DIRECTION[d.motion]
        travel_max = (hi - lo) / max(frames - 1, 1)  # fastest speed that stays in view
        speed = rng.uniform(vmin, min(vmax, travel_max)) if travel_max >= vmin else vmin
        travel = speed * (frames - 1)
        # Start where the whole path fits; if it cannot, start at the entry edge.
        first = rng.uniform(lo, hi - travel) if hi - travel >= lo else lo
        start[axis] = first if sign > 0 else size - first
        vel[axis] = sign * speed
    return _spec(d, r, (start[0], start[1]), (vel[0], vel[1]))


def _bounces_in_clip(obj: ObjectSpec, size: int, frames: int) -> bool:
    """True when the unfolded path leaves ``[r, size - r]`` before the last frame."""
    t = np.arange(frames - 1, dtype=np.float64)[:, None]
    p = np.asarray(obj.start) + t * np.asarray(obj.velocity)  # (T - 1, 2)
    return bool(np.any((p < obj.radius) | (p > size - obj.radius)))


def _fits(
    obj: ObjectSpec,
    path: np.ndarray,
    placed: Sequence[tuple[ObjectSpec, np.ndarray]],
    box: Box | None,
    size: int,
    frames: int,
) -> bool:
    """Whether ``obj`` (centres ``path`` (T, 2)) keeps clear of the ``placed`` objects and of
    the pillar ``box`` in every frame, and bounces when it should."""
    gap = GAP * size
    if obj.motion == "bounces" and frames >= 4 and not _bounces_in_clip(obj, size, frames):
        return False
    if box is not None and not obj.behind_pillar:
        clear_left = path[:, 0] + obj.radius + gap <= box[0]
        clear_right = path[:, 0] - obj.radius - gap >= box[2]
        if not np.all(clear_left | clear_right):
            return False
    for other, other_path in placed:
        apart = np.abs(path - other_path) >= obj.radius + other.radius + gap  # (T, 2)
        if not np.all(apart.any(axis=1)):
            return False
    return True


def _layout(
    rng: np.random.Generator, descs: Sequence[ParsedObject], size: int, frames: int, fps: float
) -> tuple[tuple[ObjectSpec, ...], Box | None] | None:
    """Draw geometry for fully specified ``descs`` until the scene is sensible (or give up).

    The pillar's object is placed first; each other object gets ``_OBJECT_TRIES`` draws to fit
    the ones already placed before the whole layout is drawn again.
    """
    order = sorted(range(len(descs)), key=lambda i: not descs[i].behind_pillar)
    for _ in range(_TRIES):
        placed: dict[int, tuple[ObjectSpec, np.ndarray]] = {}
        box = None
        for i in order:
            d = descs[i]
            r = radius_px(d.size or "small", size)
            for _ in range(_OBJECT_TRIES):
                if d.behind_pillar:
                    got = _place_behind_pillar(rng, d, r, size, frames, fps)
                    if got is None:
                        continue
                    obj, box = got
                else:
                    obj = _place_free(rng, d, r, size, frames, fps)
                path = trajectory(obj, size, frames)
                if _fits(obj, path, list(placed.values()), box, size, frames):
                    placed[i] = (obj, path)
                    break
            else:
                break
        if len(placed) == len(descs):
            return tuple(placed[i][0] for i in range(len(descs))), box
    return None


def _with_sizes(
    rng: np.random.Generator, descs: Sequence[ParsedObject], size: int, frames: int, fps: float
) -> tuple[list[ParsedObject], list[bool]]:
    """Fill unspecified sizes at random (only sizes that can pass behind a pillar in this clip
    for the pillar's object); the flags say which sizes the caption names."""
    filled = []
    for d in descs:
        choices = [
            s for s in SIZES if not d.behind_pillar or _pillar_fits(s, size, frames, fps)
        ] or list(SIZES)
        size_class = d.size or str(rng.choice(choices))
        filled.append(ParsedObject(d.color, d.shape, d.motion, size_class, d.behind_pillar))
    return filled, [d.size is not None for d in descs]


def _scene(
    objects: tuple[ObjectSpec, ...],
    say: Sequence[bool],
    box: Box | None,
    background: str,
    size: int,
    frames: int,
    fps: float,
    seed: int,
) -> SceneSpec:
    objects = tuple(replace(o, say_size=bool(s)) for o, s in zip(objects, say, strict=True))
    return SceneSpec(
        size=size,
        frames=frames,
        objects=objects,
        background=background,
        occluder=box,
        fps=fps,
        seed=seed,
    )


def _check_seed(seed: int) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SpacetimeError(f"seed must be an integer >= 0, got {seed!r}")


def scene_from_caption(
    caption: str, seed: int, *, size: int = 64, frames: int = 16, fps: float = 8.0
) -> SceneSpec:
    """A sensible scene whose caption is ``caption`` (sizes the caption omits are drawn at
    random); the geometry comes from ``seed``. :class:`SpacetimeError` if the caption is not of
    ShapesWorld form or cannot be laid out at this size and length (e.g. a pillar in 6 frames).
    """
    check_resolution(size, frames, fps)
    _check_seed(seed)
    parsed = parse_caption(caption)
    for d in parsed.objects:
        if d.behind_pillar and not _pillar_fits(d.size or "small", size, frames, fps):
            need = pillar_min_frames(d.size or "small", size, fps)
            raise SpacetimeError(
                f"{d.phrase!r} cannot pass behind a pillar in {frames} frames of {size} px at "
                f"{fps} fps: "
                + (f"it needs at least {need} frames" if need else "the frame is too narrow")
            )
    rng = np.random.default_rng(seed)
    for _ in range(8):  # sizes the caption leaves open are redrawn when they do not fit
        descs, say = _with_sizes(rng, parsed.objects, size, frames, fps)
        got = _layout(rng, descs, size, frames, fps)
        if got is not None or all(say):
            break
    if got is None:
        raise SpacetimeError(
            f"cannot lay out {caption!r} in {frames} frames of {size} px (objects must stay in "
            "view without overlapping, a pillar needs the object to cross it); try more frames"
        )
    return _scene(got[0], say, got[1], parsed.background, size, frames, fps, seed)


def sample_scene(
    seed: int,
    *,
    size: int = 64,
    frames: int = 16,
    fps: float = 8.0,
    n_objects: int | None = None,
    occluder: bool | None = None,
    background: str | None = None,
) -> SceneSpec:
    """A random sensible scene; the same ``seed`` (and arguments) gives the same scene.

    Args:
        seed: any integer >= 0.
        size: frame side in px, in ``SIZE_RANGE`` (32..256).
        frames: clip length T >= 1.
        fps: frame rate; speeds are quoted at 8 fps, so higher rates move less per frame.
        n_objects: 1..3, or None for a random count (at most 2 with a pillar).
        occluder: True forces a pillar (an object passes behind it), False forbids it, None
            draws one for ``OCCLUDER_PROBABILITY`` of the scenes where it fits.
        background: one of ``BACKGROUNDS`` or None for a random one.
    """
    check_resolution(size, frames, fps)
    _check_seed(seed)
    if n_objects is not None and not (
        isinstance(n_objects, (int, np.integer)) and 1 <= n_objects <= MAX_OBJECTS
    ):
        raise SpacetimeError(f"n_objects must be 1..{MAX_OBJECTS} or None, got {n_objects!r}")
    if background is not None and background not in BACKGROUNDS:
        raise SpacetimeError(f"background must be one of {list(BACKGROUNDS)}, got {background!r}")
    rng = np.random.default_rng(seed)
    bg = background or str(rng.choice(BACKGROUNDS))
    fits = _pillar_fits("small", size, frames, fps)
    if occluder and not fits:
        raise SpacetimeError(
            f"a pillar needs at least {pillar_min_frames('small', size, fps)} frames at {size} px "
            f"and {fps} fps (an object must pass behind it and show up again); got {frames}"
        )
    draw = bool(rng.random() < OCCLUDER_PROBABILITY)
    want_pillar = (draw and fits) if occluder is None else occluder
    p = N_OBJECTS_PILLAR_P if want_pillar else N_OBJECTS_P
    count = n_objects or int(rng.choice(np.arange(1, MAX_OBJECTS + 1), p=p))
    for _ in range(8):
        colors = rng.choice(list(COLORS), size=count, replace=False)
        descs = []
        for k, color in enumerate(colors):
            pillar = want_pillar and k == 0
            motions = MOTIONS
            if want_pillar:
                motions = PILLAR_MOTIONS if pillar else PILLAR_COMPANION_MOTIONS
            motion = str(rng.choice(motions))
            descs.append(ParsedObject(str(color), str(rng.choice(SHAPES)), motion, None, pillar))
        descs, _ = _with_sizes(rng, descs, size, frames, fps)
        say = list(rng.random(count) < SAY_SIZE_PROBABILITY)
        got = _layout(rng, descs, size, frames, fps)
        if got is not None:
            order = rng.permutation(count)  # the pillar object need not come first
            objects = tuple(got[0][i] for i in order)
            return _scene(objects, [say[i] for i in order], got[1], bg, size, frames, fps, seed)
        if occluder is None and want_pillar:
            want_pillar = False  # a pillar did not fit this clip: draw a scene without one
    raise SpacetimeError(
        f"cannot lay out {count} object(s){' and a pillar' if want_pillar else ''} in {frames} "
        f"frames of {size} px; use more frames, fewer objects or no occluder"
    )
