"""Linking detections into tracks, and what a track says about motion.

Linking (frame by frame, Hungarian assignment on ``scipy.optimize.linear_sum_assignment``): a
track predicts its centre at frame ``t`` from its last sighting and the median velocity of its
last three steps (constant velocity, robust to one jump). A
detection of the track's current colour may join it at any distance (ShapesWorld colours are
unique, so a jump stays one track and shows up as a teleport); a detection of another colour
only within ``teleport_jump`` px of the prediction, at a cost of one extra frame side (so a
colour change mid-clip stays one track and shows up as an identity change). Tracks may skip
frames (occlusion) and are never closed.

Per track:

- :func:`classify_motion`: the median per-frame displacement over clean sightings; slower than
  ``still_speed`` on both axes is "stays still", moving on both axes is "bounces" (diagonal),
  otherwise the dominant axis and its sign;
- :func:`teleports`: a transition between consecutive frames whose displacement differs from
  the median of its neighbours (up to two transitions each side) by more than
  ``teleport_jump``;
- :func:`physics_checks`: for each three consecutive clean sightings the second difference
  ``p(t+2) - 2 p(t+1) + p(t)`` must stay below ``accel_tol`` on each axis, unless the object is
  within ``wall_reach`` of a wall on that axis (a bounce).
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from spacetime.evaluation.oracle.segment import Detection
from spacetime.evaluation.oracle.thresholds import Thresholds

_INFEASIBLE = 1e6


@dataclass
class Track:
    """Sightings of one object, by frame index."""

    sightings: dict[int, Detection] = field(default_factory=dict)

    @property
    def frames(self) -> list[int]:
        """Frame indices with a sighting, ascending."""
        return sorted(self.sightings)

    def last(self) -> Detection:
        """The latest sighting."""
        return self.sightings[max(self.sightings)]

    def clean(self) -> list[Detection]:
        """Sightings touching neither border nor pillar, in frame order (all if none is)."""
        dets = [self.sightings[t] for t in self.frames]
        clean = [d for d in dets if d.clean]
        return clean or dets

    def predict(self, t: int) -> np.ndarray:
        """Centre (x, y) expected at frame ``t``: the last sighting moved at the median
        velocity of the last three steps (robust to one jump)."""
        recent = [self.sightings[f] for f in self.frames[-4:]]
        p = np.asarray(recent[-1].center)
        v = _velocities(recent)
        if len(v):
            p = p + np.median(v, axis=0) * (t - recent[-1].t)
        return p

    def majority(self, attr: str) -> str | None:
        """Most common value of ``attr`` (color, shape or size) over clean sightings."""
        values = [getattr(d, attr) for d in self.clean()]
        values = [v for v in values if v is not None]
        return Counter(values).most_common(1)[0][0] if values else None

    def count(self, color: str) -> int:
        """Sightings of colour ``color``."""
        return sum(d.color == color for d in self.sightings.values())


def link(detections: list[list[Detection]], limits: Thresholds) -> list[Track]:
    """Tracks from per-frame ``detections`` (see the module docstring)."""
    tracks: list[Track] = []
    for t, dets in enumerate(detections):
        if not dets:
            continue
        cost = np.full((len(tracks), len(dets)), _INFEASIBLE)
        for i, track in enumerate(tracks):
            pred, color = track.predict(t), track.last().color
            for j, d in enumerate(dets):
                dist = float(np.hypot(*(np.asarray(d.center) - pred)))
                if d.color == color:
                    cost[i, j] = dist / limits.size
                elif dist <= limits.teleport_jump:
                    cost[i, j] = 1.0 + dist / limits.size
        taken = set()
        if tracks:
            from scipy.optimize import linear_sum_assignment  # slow import; eval-only

            rows, cols = linear_sum_assignment(cost)
            for i, j in zip(rows, cols, strict=False):
                if cost[i, j] < _INFEASIBLE:
                    tracks[i].sightings[t] = dets[j]
                    taken.add(j)
        tracks.extend(Track({t: d}) for j, d in enumerate(dets) if j not in taken)
    return tracks


def _velocities(dets: list[Detection]) -> np.ndarray:
    """Per-frame displacement ``(n - 1, 2)`` between consecutive sightings in ``dets``."""
    if len(dets) < 2:
        return np.zeros((0, 2))
    p = np.asarray([d.center for d in dets])
    t = np.asarray([d.t for d in dets], np.float64)
    return np.diff(p, axis=0) / np.diff(t)[:, None]


def classify_motion(track: Track, limits: Thresholds) -> str | None:
    """One of ``MOTIONS`` from the clean sightings, or None with fewer than two of them."""
    v = _velocities(track.clean())
    if len(v) == 0:
        return None
    speed = np.median(np.abs(v), axis=0)  # (2,) typical |vx|, |vy|
    moving = speed >= limits.still_speed
    if not moving.any():
        return "stays still"
    if moving.all():
        return "bounces"
    axis = int(np.argmax(speed))
    sign = np.median(v[:, axis])
    return (
        ("moves right" if sign > 0 else "moves left")
        if axis == 0
        else ("moves down" if sign > 0 else "moves up")
    )


def teleports(track: Track, limits: Thresholds) -> tuple[int, int]:
    """(inconsistent transitions, transitions checked) between consecutive frames."""
    ts = track.frames
    pairs = [(a, b) for a, b in itertools.pairwise(ts) if b == a + 1]
    if len(pairs) < 2:
        return 0, len(pairs)
    d = np.asarray(
        [np.subtract(track.sightings[b].center, track.sightings[a].center) for a, b in pairs]
    )  # (n, 2)
    bad = 0
    for k in range(len(d)):
        neighbours = [d[j] for j in range(max(0, k - 2), min(len(d), k + 3)) if j != k]
        ref = np.median(np.asarray(neighbours), axis=0)
        bad += float(np.hypot(*(d[k] - ref))) > limits.teleport_jump
    return bad, len(d)


def physics_checks(track: Track, limits: Thresholds, height: int, width: int) -> tuple[int, int]:
    """(violations, checks): sudden velocity changes away from the walls (module docstring)."""
    seen = {t: d for t, d in track.sightings.items() if d.clean}
    bad = checks = 0
    for t in sorted(seen):
        if t + 1 not in seen or t + 2 not in seen:
            continue
        p = [np.asarray(seen[t + k].center) for k in range(3)]
        accel = np.abs(p[2] - 2 * p[1] + p[0])  # (2,) px/frame^2
        boxes = np.asarray([seen[t + k].box for k in range(3)], np.float64)  # (3, 4)
        near = (
            boxes[:, 0].min() <= limits.wall_reach
            or width - boxes[:, 2].max() <= limits.wall_reach,
            boxes[:, 1].min() <= limits.wall_reach
            or height - boxes[:, 3].max() <= limits.wall_reach,
        )
        checks += 1
        bad += any(accel[a] > limits.accel_tol and not near[a] for a in range(2))
    return bad, checks
