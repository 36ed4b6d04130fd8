"""Colour segmentation, shape/size features and pillar finding."""

from __future__ import annotations

import numpy as np
import pytest

from spacetime.data.shapes import COLORS, ObjectSpec, SceneSpec, render, scene_from_caption
from spacetime.data.shapes.palette import SHAPE_AREA
from spacetime.evaluation.oracle import Thresholds, detect, find_pillar, palette_labels
from spacetime.evaluation.oracle.segment import COLOR_NAMES, classify_shape, soft_features


def test_palette_labels_recover_colour_and_coverage_over_any_gray():
    a = np.linspace(0.0, 1.0, 21)
    for k, name in enumerate(COLOR_NAMES):
        c = np.asarray(COLORS[name], np.float64)
        for gray in (60.0, 90.0, 128.0, 172.0, 200.0):
            pix = np.rint(a[:, None] * c + (1 - a[:, None]) * gray).astype(np.uint8)  # (21, 3)
            labels, cov = palette_labels(pix)
            assert np.all(labels[a >= 0.25] == k)
            assert cov == pytest.approx(a, abs=0.02)
    labels, cov = palette_labels(np.full((4, 3), 128, np.uint8))
    assert np.all(cov == 0)


def _soft(shape: str, r: float = 20.0) -> np.ndarray:
    obj = ObjectSpec("red", shape, "large", "stays still", r, (32.3, 31.8))
    frame = render(SceneSpec(size=64, frames=1, objects=(obj,))).video[0]
    _, cov = palette_labels(frame)
    return np.clip(cov, 0, 1)


@pytest.mark.parametrize(
    "shape, fill, skew, diagonal",
    [
        ("circle", np.pi / 4, 0.0, 1.0),
        ("square", 1.0, 0.0, np.sqrt(2)),
        # Triangle: third central moment -(2r)^3 / 135 over (r sqrt(2 / pi))^3; its longest
        # 45-degree chord is 4 sqrt(2) r / 3 against a 2r base.
        ("triangle", 0.5, -(8 / 135) / (2 / np.pi) ** 1.5, 2 * np.sqrt(2) / 3),
    ],
)
def test_soft_features_match_the_shape_geometry(shape, fill, skew, diagonal):
    area, cx, _, f, s, d = soft_features(_soft(shape))
    assert area == pytest.approx(SHAPE_AREA[shape] * 400, rel=0.01)
    assert f == pytest.approx(fill, abs=0.03) and s == pytest.approx(skew, abs=0.01)
    assert d == pytest.approx(diagonal, abs=0.05)
    assert classify_shape(f, s, d) == shape
    assert cx == pytest.approx(32.3, abs=0.05)


def test_shape_features_ignore_blur():
    import cv2

    for shape in ("circle", "square", "triangle"):
        sharp = _soft(shape, r=12.0)
        blurred = cv2.GaussianBlur(sharp.astype(np.float32), (0, 0), 1.0)
        a, b = soft_features(sharp), soft_features(blurred)
        assert b[0] == pytest.approx(a[0], rel=0.01)  # area
        assert b[4] == pytest.approx(a[4], abs=0.01)  # third moment: blur adds none
        assert classify_shape(*b[3:]) == shape


def test_detect_matches_ground_truth():
    caption = "a small red square moves right and a large blue triangle stays still"
    clip = render(scene_from_caption(caption, 0))
    limits = Thresholds.for_video(64)
    dets = detect(clip.video, limits, None)
    for t, found in enumerate(dets):
        assert sorted(d.color for d in found) == ["blue", "red"]
        for d in found:
            gt = next(
                o for o in clip.ground_truth["per_frame"][t]["objects"] if o["color"] == d.color
            )
            meta = next(o for o in clip.ground_truth["objects"] if o["color"] == d.color)
            x, y = gt["center"]
            if gt["shape"] == "triangle":
                y += gt["radius"] / 3  # the centroid sits a third of the way down
            assert d.center == pytest.approx((x, y), abs=0.1)
            assert d.shape == gt["shape"] and d.size == meta["size"]
            assert d.radius == pytest.approx(gt["radius"], rel=0.03)


def test_find_pillar():
    clip = render(
        scene_from_caption(
            "a small green circle moves left behind a pillar on a checkered background", 2
        )
    )
    box = find_pillar(clip.video)
    x0, _y0, x1, _y1 = clip.ground_truth["occluder"]
    assert box is not None
    assert abs(box[0] - x0) <= 1 and abs(box[2] - x1) <= 1 and box[1] == 0 and box[3] == 64
    plain = render(scene_from_caption("a small green circle moves left", 2))
    assert find_pillar(plain.video) is None
