"""Scene data, trajectories and the elastic-bounce fold."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spacetime.data.shapes import ObjectSpec, SceneSpec, trajectory
from spacetime.data.shapes.scene import fold
from spacetime.errors import SpacetimeError


def _obj(**kw) -> ObjectSpec:
    base = dict(
        color="red",
        shape="circle",
        size="small",
        motion="moves right",
        radius=5.0,
        start=(10.0, 20.0),
        velocity=(2.0, 0.0),
    )
    base.update(kw)
    return ObjectSpec(**base)


def test_fold_is_an_elastic_bounce():
    lo, hi = 5.0, 59.0
    p = np.linspace(-300, 300, 20001)
    q = fold(p, lo, hi)
    assert q.min() >= lo - 1e-9 and q.max() <= hi + 1e-9
    assert np.allclose(fold(p[(p >= lo) & (p <= hi)], lo, hi), p[(p >= lo) & (p <= hi)])
    # Speed is preserved (|dq| = |dp|) and only the sign flips, at the walls.
    dq, dp = np.diff(q), np.diff(p)
    smooth = (np.minimum(q[:-1], q[1:]) > lo + 0.1) & (np.maximum(q[:-1], q[1:]) < hi - 0.1)
    assert np.allclose(np.abs(dq[smooth]), dp[smooth])
    # Reflection: a point 3 px past the upper wall is 3 px inside it.
    assert fold(np.array([hi + 3.0]), lo, hi)[0] == pytest.approx(hi - 3.0)
    assert fold(np.array([lo - 2.5]), lo, hi)[0] == pytest.approx(lo + 2.5)


def test_constant_velocity_trajectory_is_linear_and_not_folded():
    obj = _obj(start=(10.0, 20.0), velocity=(2.5, -1.0))
    path = trajectory(obj, 64, 40)  # leaves the frame: constant velocity, no reflection
    assert path.shape == (40, 2)
    assert np.allclose(path[:, 0], 10.0 + 2.5 * np.arange(40))
    assert np.allclose(path[:, 1], 20.0 - 1.0 * np.arange(40))


def test_bouncing_trajectory_stays_in_frame_and_reflects():
    obj = _obj(motion="bounces", start=(50.0, 10.0), velocity=(3.0, -2.0), radius=6.0)
    path = trajectory(obj, 64, 16)
    assert path[:, 0].max() <= 64 - 6.0 + 1e-9 and path[:, 1].min() >= 6.0 - 1e-9
    # x hits the right wall at x = 58 between frames 2 and 3: 50 + 3*3 = 59 -> 57.
    assert path[3, 0] == pytest.approx(57.0)
    assert path[2, 1] == pytest.approx(6.0) and path[3, 1] == pytest.approx(8.0)


def test_caption_and_json():
    scene = SceneSpec(
        size=64,
        frames=8,
        objects=(
            _obj(say_size=True),
            _obj(
                color="blue",
                shape="square",
                motion="stays still",
                velocity=(0.0, 0.0),
                start=(40.0, 40.0),
            ),
        ),
        background="checkered",
    )
    assert scene.caption == (
        "a small red circle moves right and a blue square stays still on a checkered background"
    )
    d = json.loads(json.dumps(scene.to_dict()))
    assert d["caption"] == scene.caption and d["objects"][0]["velocity"] == [2.0, 0.0]
    assert scene.centers().shape == (2, 8, 2)


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(size=16), "size"),
        (dict(size=300), "size"),
        (dict(frames=0), "frames"),
        (dict(fps=0.0), "fps"),
        (dict(background="dots"), "background"),
        (dict(objects=()), "1 to 3"),
        (dict(occluder=(10.0, 0.0, 5.0, 64.0)), "occluder"),
    ],
)
def test_scene_validation(kw, match):
    args = dict(size=64, frames=8, objects=(_obj(),))
    args.update(kw)
    with pytest.raises(SpacetimeError, match=match):
        SceneSpec(**args)


def test_object_validation():
    with pytest.raises(SpacetimeError, match="color"):
        _obj(color="pink")
    with pytest.raises(SpacetimeError, match="radius"):
        _obj(radius=0.0)
