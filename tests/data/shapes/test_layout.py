"""Random and caption-driven scene layout: determinism and sensibility."""

from __future__ import annotations

import numpy as np
import pytest

from spacetime.data.shapes import render, sample_scene, scene_from_caption
from spacetime.data.shapes.layout import GAP, MARGIN, pillar_min_frames
from spacetime.data.shapes.palette import speed_range_px
from spacetime.errors import SpacetimeError


def _check_sensible(scene) -> None:
    s, t = scene.size, scene.frames
    paths = scene.centers()  # (N, T, 2)
    colors = [o.color for o in scene.objects]
    assert len(set(colors)) == len(colors)
    vmin, vmax = speed_range_px(s, scene.fps)
    for obj, path in zip(scene.objects, paths, strict=False):
        r = obj.radius
        assert np.all(path[0] - r >= MARGIN * s - 1e-9) and np.all(path[0] + r <= s + 1e-9)
        speed = np.abs(np.asarray(obj.velocity))
        if obj.motion == "stays still":
            assert np.all(speed == 0)
        elif obj.motion == "bounces":
            assert np.all((speed >= vmin - 1e-9) & (speed <= vmax + 1e-9))
            assert np.all((path >= r - 1e-9) & (path <= s - r + 1e-9))
        else:
            assert np.count_nonzero(speed) == 1 and vmin - 1e-9 <= speed.max() <= vmax + 1e-9
            if vmin * (t - 1) <= s - 2 * r - 2 * MARGIN * s and not obj.behind_pillar:
                assert np.all((path - r >= 0) & (path + r <= s))  # stays in view
        if scene.occluder is not None and not obj.behind_pillar:
            x0, x1 = scene.occluder[0], scene.occluder[2]
            assert np.all((path[:, 0] + r <= x0) | (path[:, 0] - r >= x1))
    for i in range(len(paths)):
        for j in range(i + 1, len(paths)):
            reach = scene.objects[i].radius + scene.objects[j].radius + GAP * s - 1e-9
            assert np.all((np.abs(paths[i] - paths[j]) >= reach).any(axis=1))


def test_same_seed_same_scene_and_seeds_differ():
    assert sample_scene(7) == sample_scene(7)
    assert sample_scene(7, size=96, frames=12) == sample_scene(7, size=96, frames=12)
    assert len({sample_scene(s).caption for s in range(20)}) > 10


@pytest.mark.parametrize("size, frames", [(64, 16), (32, 16), (128, 32), (256, 8)])
def test_random_scenes_are_sensible(size, frames):
    for seed in range(25):
        _check_sensible(sample_scene(seed, size=size, frames=frames))


def test_objects_behind_the_pillar_hide_and_come_back():
    for seed in range(12):
        scene = sample_scene(seed, occluder=True)
        assert scene.occluder is not None
        gt = render(scene).ground_truth
        k = next(i for i, o in enumerate(scene.objects) if o.behind_pillar)
        vis = np.array([f["objects"][k]["visible_fraction"] for f in gt["per_frame"]])
        hidden = np.flatnonzero(vis < 1e-6)
        assert hidden.size >= 1
        assert vis[: hidden[0]].max() == pytest.approx(1.0)  # visible before
        assert vis[hidden[-1] :].max() == pytest.approx(1.0)  # and after


def test_bouncing_objects_bounce_within_the_clip():
    n = 0
    for seed in range(60):
        scene = sample_scene(seed, n_objects=1, occluder=False)
        obj = scene.objects[0]
        if obj.motion != "bounces":
            continue
        n += 1
        v = np.diff(scene.centers()[0], axis=0)
        assert np.any(np.sign(v[1:]) != np.sign(v[:-1]))
    assert n >= 3


def test_arguments_are_honoured():
    scene = sample_scene(3, n_objects=2, occluder=False, background="stripes", fps=16.0)
    assert len(scene.objects) == 2 and scene.occluder is None and scene.background == "stripes"
    _vmin, vmax = speed_range_px(64, 16.0)
    for obj in scene.objects:
        assert np.abs(obj.velocity).max() <= vmax + 1e-9


@pytest.mark.parametrize(
    "caption",
    [
        "a red circle moves right",
        "a small blue square bounces on a striped background",
        "a yellow triangle moves left behind a pillar and a green circle stays still",
        "a large cyan circle moves up and a purple square moves down and a red triangle "
        "stays still",
        "a small green square moves right behind a pillar on a checkered background",
    ],
)
def test_scene_from_caption_matches_the_caption(caption):
    for seed in range(3):
        scene = scene_from_caption(caption, seed)
        assert scene.caption == caption
        _check_sensible(scene)
    assert scene_from_caption(caption, 5) == scene_from_caption(caption, 5)


def test_layout_errors_are_user_errors():
    with pytest.raises(SpacetimeError, match="n_objects"):
        sample_scene(0, n_objects=4)
    with pytest.raises(SpacetimeError, match="seed"):
        sample_scene(-1)
    with pytest.raises(SpacetimeError, match="background"):
        sample_scene(0, background="dots")
    with pytest.raises(SpacetimeError, match="frames"):
        sample_scene(0, occluder=True, frames=6)
    with pytest.raises(SpacetimeError, match="too narrow"):
        scene_from_caption("a large red circle moves right behind a pillar", 0)
    with pytest.raises(SpacetimeError, match="ShapesWorld form"):
        scene_from_caption("a dog", 0)
    assert pillar_min_frames("large", 64) is None
    assert pillar_min_frames("small", 64) <= 16


def test_unspecified_sizes_are_drawn_and_not_said():
    sizes = {scene_from_caption("a red circle stays still", s).objects[0].size for s in range(12)}
    assert sizes == {"small", "large"}
