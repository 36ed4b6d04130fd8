"""Linking detections, motion classes, teleports and physics on hand-made tracks."""

from __future__ import annotations

import pytest

from spacetime.evaluation.oracle import Thresholds, Track, classify_motion, link
from spacetime.evaluation.oracle.segment import Detection
from spacetime.evaluation.oracle.track import physics_checks, teleports

LIM = Thresholds.for_video(64)


def _det(t: int, x: float, y: float, color: str = "red", r: float = 5.0, **kw) -> Detection:
    args = dict(
        t=t,
        color=color,
        center=(x, y),
        box=(int(x - r), int(y - r), int(x + r) + 1, int(y + r) + 1),
        area=3.14 * r * r,
        fill=0.785,
        skew=0.0,
        shape="circle",
        size="small",
        radius=r,
        at_border=False,
        at_pillar=False,
    )
    args.update(kw)
    return Detection(**args)


def _track(points, **kw) -> Track:
    return Track({t: _det(t, x, y, **kw) for t, (x, y) in enumerate(points)})


@pytest.mark.parametrize(
    "velocity, motion",
    [
        ((2, 0), "moves right"),
        ((-2, 0), "moves left"),
        ((0, -2), "moves up"),
        ((0, 2), "moves down"),
        ((0.1, -0.1), "stays still"),
        ((2, 2), "bounces"),
    ],
)
def test_classify_motion(velocity, motion):
    pts = [(20 + velocity[0] * t, 30 + velocity[1] * t) for t in range(8)]
    assert classify_motion(_track(pts), LIM) == motion
    assert classify_motion(_track(pts[:1]), LIM) is None


def test_link_keeps_one_track_through_jump_colour_change_and_gap():
    frames = [[_det(t, 10 + 2 * t, 30), _det(t, 50, 10, color="blue")] for t in range(6)]
    frames[3][0] = _det(3, 40, 50)  # the red one jumps ...
    frames[4][0] = _det(4, 42, 50, color="purple")  # ... then turns purple
    frames[5] = frames[5][1:]  # ... then hides
    frames.append([_det(6, 46, 50, color="purple"), _det(6, 50, 10, color="blue")])
    tracks = link(frames, LIM)
    assert len(tracks) == 2
    red = next(t for t in tracks if t.count("red"))
    assert red.frames == [0, 1, 2, 3, 4, 6] and red.count("purple") == 2


def test_teleports_flag_only_the_jump():
    pts = [(10 + 2 * t, 30) for t in range(10)]
    assert teleports(_track(pts), LIM) == (0, 9)
    pts[5:] = [(x, y + 16) for x, y in pts[5:]]  # a quarter-frame jump at frame 5
    bad, checked = teleports(_track(pts), LIM)
    assert (bad, checked) == (1, 9)


def test_physics_flags_velocity_changes_away_from_walls_only():
    steady = [(10 + 2 * t, 30) for t in range(10)]
    assert physics_checks(_track(steady), LIM, 64, 64) == (0, 8)
    stop = steady[:5] + [steady[4]] * 5  # stops at frame 4, mid-frame
    bad, checks = physics_checks(_track(stop), LIM, 64, 64)
    assert bad == 1 and checks == 8
    # The same reversal against the right wall (x + r >= 64 - wall_reach) is a bounce.
    bounce = [(47 + 2 * t, 30) for t in range(6)] + [(57 - 2 * t, 30) for t in range(1, 5)]
    assert physics_checks(_track(bounce), LIM, 64, 64)[0] == 0
    # Sightings cut by the border or the pillar are not used.
    assert physics_checks(_track(stop, at_pillar=True), LIM, 64, 64) == (0, 0)
