"""Rendering: exact colours, anti-aliased edges, and ground truth that matches the pixels."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spacetime.data.shapes import (
    COLORS,
    ObjectSpec,
    SceneSpec,
    generate,
    render,
    sample_scene,
    scene_from_caption,
)
from spacetime.data.shapes.palette import PATTERN_GRAYS, PILLAR_GRAY, PLAIN_GRAY
from spacetime.data.shapes.render import GT_SCHEMA, background_image, box_coverage, static_image


def _one(shape: str, center=(30.3, 33.7), r=9.0, size=64, background="plain") -> SceneSpec:
    obj = ObjectSpec("blue", shape, "large", "stays still", r, center)
    return SceneSpec(size=size, frames=2, objects=(obj,), background=background)


def test_generate_is_deterministic_and_matches_render():
    a, b = generate(11), generate(11)
    assert np.array_equal(a.video, b.video) and a.caption == b.caption
    assert a.video.dtype == np.uint8 and a.video.shape == (16, 64, 64, 3)
    c = render(sample_scene(11))
    assert np.array_equal(a.video, c.video) and a.ground_truth == c.ground_truth


@pytest.mark.parametrize("shape, area", [("circle", np.pi), ("square", 4.0), ("triangle", 2.0)])
def test_coverage_integrates_to_the_shape_area(shape, area):
    scene = _one(shape)
    frame = render(scene).video[0].astype(np.float64)
    color = np.asarray(COLORS["blue"], np.float64)
    # Plain gray background: each pixel is a * colour + (1 - a) * 128, so a is recoverable.
    alpha = ((frame - PLAIN_GRAY) @ (color - PLAIN_GRAY)) / np.sum((color - PLAIN_GRAY) ** 2)
    assert alpha.sum() == pytest.approx(area * 9.0**2, rel=0.01)
    # Anti-aliased: some edge pixels are partly covered, the interior is the exact colour.
    assert np.any((alpha > 0.1) & (alpha < 0.9))
    assert tuple(frame[34, 30].astype(int)) == COLORS["blue"]
    # The coverage-weighted centroid is the box centre (triangle: its centroid, r/3 lower).
    ys, xs = np.mgrid[0:64, 0:64] + 0.5
    cx, cy = (alpha * xs).sum() / alpha.sum(), (alpha * ys).sum() / alpha.sum()
    expect_y = 33.7 + (9.0 / 3 if shape == "triangle" else 0.0)
    assert (cx, cy) == pytest.approx((30.3, expect_y), abs=1 / 16)


def test_triangle_points_up():
    frame = render(_one("triangle", center=(32.0, 32.0), r=12.0)).video[0]
    colored = np.abs(frame.astype(int) - PLAIN_GRAY).sum(axis=-1) > 30
    rows = colored.sum(axis=1)
    top, bottom = np.flatnonzero(rows)[[0, -1]]
    assert rows[top] < rows[bottom]  # narrow apex above, wide base below


def test_backgrounds_use_the_documented_grays():
    plain = background_image("plain", 64)
    assert np.all(plain == PLAIN_GRAY)
    for kind in ("stripes", "checkered"):
        img = background_image(kind, 64)
        assert img.min() == pytest.approx(PATTERN_GRAYS[0]) and img.max() == pytest.approx(
            PATTERN_GRAYS[1]
        )
        assert 0.3 < np.mean(img == PATTERN_GRAYS[0]) < 0.7
    assert not np.array_equal(background_image("stripes", 64), background_image("checkered", 64))


def test_box_coverage_is_exact():
    cov = box_coverage((10.25, 0.0, 20.5, 64.0), 64)
    assert cov.sum() == pytest.approx(10.25 * 64)
    assert cov[5, 10] == pytest.approx(0.75) and cov[5, 20] == pytest.approx(0.5)


def test_ground_truth_schema_and_pillar():
    clip = render(
        scene_from_caption(
            "a small red square moves right behind a pillar and a cyan circle stays still", 4
        )
    )
    gt = json.loads(json.dumps(clip.ground_truth))  # JSON-serialisable
    assert gt["schema"] == GT_SCHEMA and gt["caption"] == clip.caption
    assert (gt["size"], gt["frames"], gt["fps"]) == (64, 16, 8.0)
    assert len(gt["per_frame"]) == 16 and gt["objects"][0]["behind_pillar"]
    x0, _, x1, _ = gt["occluder"]
    mid = int((x0 + x1) / 2)
    assert tuple(clip.video[0, 5, mid]) == PILLAR_GRAY  # the pillar is in front of everything
    for t, frame in enumerate(gt["per_frame"]):
        assert frame["occluder"] == gt["occluder"] and frame["background"] == "plain"
        still = frame["objects"][1]
        assert still["visible_fraction"] == pytest.approx(1.0)
        assert still["center"] == pytest.approx(gt["per_frame"][0]["objects"][1]["center"])
        moving = frame["objects"][0]
        assert moving["center"][0] == pytest.approx(
            gt["per_frame"][0]["objects"][0]["center"][0] + t * gt["objects"][0]["velocity"][0]
        )


def test_visible_fraction_counts_the_frame_border():
    obj = ObjectSpec("red", "square", "small", "moves right", 5.0, (2.0, 30.0), (0.0, 0.0))
    gt = render(SceneSpec(size=64, frames=1, objects=(obj,))).ground_truth
    # The square spans x in [-3, 7]: 7 of its 10 px are in the frame.
    assert gt["per_frame"][0]["objects"][0]["visible_fraction"] == pytest.approx(0.7, abs=0.01)


@pytest.mark.parametrize(
    "caption",
    [
        "a small red square moves right behind a pillar and a cyan circle stays still",
        "a large blue triangle bounces on a checkered background",
        "a small green circle moves up on a striped background",
    ],
)
def test_static_image_is_what_the_clip_shows_away_from_the_objects(caption: str) -> None:
    clip = render(scene_from_caption(caption, 3))
    still = static_image(clip.ground_truth)  # (H, W, 3)
    assert still.dtype == np.uint8 and still.shape == clip.video.shape[1:]
    ys, xs = np.mgrid[0:64, 0:64] + 0.5
    for t, frame in enumerate(clip.ground_truth["per_frame"]):
        away = np.ones((64, 64), bool)
        for obj in frame["objects"]:
            (cx, cy), r = obj["center"], obj["radius"]
            away &= np.hypot(xs - cx, ys - cy) > r * np.sqrt(2) + 1
        assert away.sum() > 64 * 64 // 2
        assert np.array_equal(clip.video[t][away], still[away])
