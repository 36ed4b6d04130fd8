"""The oracle scores ShapesWorld's own clips as perfect and catches each injected failure."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from spacetime.data.shapes import COLORS, SceneSpec, generate, render, scene_from_caption
from spacetime.data.shapes.render import background_image
from spacetime.errors import SpacetimeError
from spacetime.evaluation.oracle import Thresholds, score_video
from spacetime.video import read_video, write_mp4

PILLAR_CAPTION = "a small red square moves right behind a pillar and a cyan circle stays still"


def _mp4(frames: np.ndarray, tmp_path, fps: float = 8.0) -> np.ndarray:
    path = write_mp4(tmp_path / "clip.mp4", frames, fps)
    return read_video(path).frames


def _assert_perfect(report, *, occluded: bool) -> None:
    assert report.adherence == 1.0, report.objects
    assert report.background == report.background_expected
    assert report.teleport_rate == 0.0
    assert report.identity_consistency == 1.0
    assert report.physics >= 0.99
    assert report.background_stability >= 0.99
    if occluded:
        assert report.occlusion_reappearance == 1.0, [o.reappearance for o in report.objects]
    else:
        assert report.occlusion_reappearance is None


def test_own_clips_are_perfect_raw_and_after_mp4(tmp_path):
    occluded = 0
    for seed in range(30):
        clip = generate(seed)
        has_pillar = clip.scene.occluder is not None
        occluded += has_pillar
        _assert_perfect(score_video(clip.video, clip.caption), occluded=has_pillar)
        _assert_perfect(score_video(_mp4(clip.video, tmp_path), clip.caption), occluded=has_pillar)
    assert occluded >= 5  # the seeds cover the pillar case


def test_own_clips_with_a_pillar_are_perfect_after_mp4(tmp_path):
    for seed in range(8):
        clip = generate(100 + seed, occluder=True)
        _assert_perfect(score_video(_mp4(clip.video, tmp_path), clip.caption), occluded=True)


@pytest.mark.parametrize("seed", [1, 2])
def test_other_resolution_and_length(seed, tmp_path):
    clip = generate(seed, size=128, frames=32, occluder=True)
    _assert_perfect(score_video(_mp4(clip.video, tmp_path), clip.caption), occluded=True)


def test_other_frame_rate(tmp_path):
    clip = generate(4, fps=16.0, frames=24)
    frames = _mp4(clip.video, tmp_path, fps=16.0)
    _assert_perfect(
        score_video(frames, clip.caption, fps=16.0), occluded=clip.scene.occluder is not None
    )


# --- injected failures -------------------------------------------------------------------


def _splice(a: SceneSpec, b: SceneSpec, k: int) -> np.ndarray:
    """Frames 0..k-1 of scene ``a`` then frames k.. of scene ``b``."""
    va, vb = render(a).video, render(b).video
    return np.concatenate([va[:k], vb[k:]])


def _with(scene: SceneSpec, i: int, **changes) -> SceneSpec:
    objects = list(scene.objects)
    objects[i] = dataclasses.replace(objects[i], **changes)
    return dataclasses.replace(scene, objects=tuple(objects))


def _other_color(scene: SceneSpec) -> str:
    used = {o.color for o in scene.objects}
    return next(c for c in COLORS if c not in used)


MOVER = "a red circle moves right and a blue square stays still"


def test_teleport_is_caught():
    scene = scene_from_caption(MOVER, 1)
    red = scene.objects[0]
    jump = 0.25 * scene.size * (1 if red.start[1] < scene.size / 2 else -1)
    jumped = _with(scene, 0, start=(red.start[0], red.start[1] + jump))
    report = score_video(_splice(scene, jumped, 8), scene.caption)
    assert report.teleport_rate > 0
    assert report.objects[0].teleports >= 1 and report.objects[1].teleports == 0


def test_colour_change_breaks_identity():
    scene = scene_from_caption(MOVER, 2)
    changed = _with(scene, 0, color=_other_color(scene))
    report = score_video(_splice(scene, changed, 8), scene.caption)
    assert report.objects[0].identity_consistency == pytest.approx(0.5, abs=0.15)
    assert report.identity_consistency < 0.9
    assert report.objects[1].identity_consistency == 1.0


def test_shape_swap_breaks_identity_and_adherence():
    scene = scene_from_caption("a large red circle moves right", 3)
    swapped = _with(scene, 0, shape="triangle")
    mid = score_video(_splice(scene, swapped, 8), scene.caption)
    assert mid.identity_consistency == pytest.approx(0.5, abs=0.15)
    whole = score_video(render(swapped).video, scene.caption)
    assert whole.adherence == 0.0 and whole.objects[0].checks["shape"] is False
    assert whole.identity_consistency == 1.0  # consistently wrong is still consistent


def test_wrong_direction_fails_adherence():
    scene = scene_from_caption(MOVER, 4)
    red = scene.objects[0]
    mirrored = _with(
        scene, 0, start=(scene.size - red.start[0], red.start[1]), velocity=(-red.velocity[0], 0.0)
    )
    report = score_video(render(mirrored).video, scene.caption)
    assert report.objects[0].motion == "moves left"
    assert report.objects[0].checks["motion"] is False and report.adherence == 0.5


def test_missing_object_fails_adherence():
    scene = scene_from_caption(MOVER, 5)
    alone = dataclasses.replace(scene, objects=scene.objects[:1])
    report = score_video(render(alone).video, scene.caption)
    assert report.adherence == 0.5
    assert not report.objects[1].present and report.objects[1].frames_seen == 0


def _pillar_scene(seed: int) -> tuple[SceneSpec, int]:
    """A pillar scene and its first frame with the red square fully hidden."""
    scene = scene_from_caption(PILLAR_CAPTION, seed)
    vis = [f["objects"][0]["visible_fraction"] for f in render(scene).ground_truth["per_frame"]]
    return scene, int(np.flatnonzero(np.asarray(vis) < 1e-6)[0])


def test_object_that_does_not_come_back():
    scene, hidden = _pillar_scene(6)
    gone = dataclasses.replace(scene, objects=scene.objects[1:])
    report = score_video(_splice(scene, gone, hidden), scene.caption)
    assert report.occlusion_reappearance == 0.0
    assert "does not come back" in report.objects[0].reappearance.reason


@pytest.mark.parametrize("axis", [0, 1])
def test_object_that_comes_back_in_the_wrong_place(axis):
    scene, hidden = _pillar_scene(7)
    red = scene.objects[0]
    limits = Thresholds.for_video(scene.size)
    start = list(red.start)
    start[axis] += 2 * limits.r_small * (1 if start[1] < scene.size / 2 or axis == 0 else -1)
    moved = _with(scene, 0, start=tuple(start))
    report = score_video(_splice(scene, moved, hidden), scene.caption)
    assert report.occlusion_reappearance == 0.0, report.objects[0].reappearance
    assert report.objects[0].reappearance.error_px > limits.reappear_tol


def test_object_drawn_in_front_of_the_pillar():
    scene, _ = _pillar_scene(8)
    clip = render(scene)
    # Paint the object over the pillar: where the scene without a pillar shows the object.
    bare = render(dataclasses.replace(scene, occluder=None)).video
    on_object = (bare != 128).any(-1, keepdims=True)  # plain background is gray 128
    frames = np.where(on_object, bare, clip.video)
    report = score_video(frames, scene.caption)
    assert report.occlusion_reappearance == 0.0
    assert "in front" in report.objects[0].reappearance.reason


def test_velocity_change_without_a_wall_breaks_physics():
    scene = scene_from_caption("a red circle moves right", 9)
    red = scene.objects[0]
    k = 8
    pos = (red.start[0] + k * red.velocity[0], red.start[1])
    stopped = _with(scene, 0, start=(pos[0] - k * 0.0, pos[1]), velocity=(0.0, 0.0))
    frames = _splice(scene, stopped, k)
    report = score_video(frames, "a red circle moves right")
    assert report.physics < 1.0 and report.objects[0].physics_violations >= 1
    assert report.teleport_rate == 0.0  # a stop is not a jump


def test_bounces_at_walls_are_not_physics_violations():
    n = 0
    for seed in range(40):
        clip = generate(seed, n_objects=1, occluder=False)
        if clip.scene.objects[0].motion != "bounces":
            continue
        n += 1
        report = score_video(clip.video, clip.caption)
        assert report.physics == 1.0 and report.objects[0].motion == "bounces"
    assert n >= 3


@pytest.mark.parametrize("kind", ["noise", "shift"])
def test_background_instability_is_caught(kind):
    scene = dataclasses.replace(scene_from_caption(MOVER, 10), background="stripes")
    frames = render(scene).video.astype(np.int16)
    if kind == "noise":
        rng = np.random.default_rng(0)
        frames[8:] += rng.normal(0, 12, frames[8:].shape).astype(np.int16)
    else:
        bg = np.rint(background_image("stripes", scene.size)).astype(np.int16)[..., None]
        shifted = np.roll(bg, 4, axis=1)
        is_bg = (frames[8:] == bg).all(-1, keepdims=True)
        frames[8:] = np.where(is_bg, shifted, frames[8:])
    frames = np.clip(frames, 0, 255).astype(np.uint8)
    clean = score_video(render(scene).video, scene.caption).background_stability
    report = score_video(frames, scene.caption)
    assert clean == 1.0 and report.background_stability < 0.85


# --- report and errors -------------------------------------------------------------------


def test_report_to_dict_is_flat_and_json():
    clip = generate(0, occluder=True)
    d = json.loads(json.dumps(score_video(clip.video, clip.caption).to_dict()))
    for key in (
        "adherence",
        "teleport_rate",
        "identity_consistency",
        "background_stability",
        "occlusion_reappearance",
        "physics",
    ):
        assert isinstance(d[key], float)
    assert d["details"]["pillar"] is not None and len(d["objects"]) == len(clip.scene.objects)
    assert d["details"]["background"] == d["details"]["background_expected"]
    assert d["objects"][0]["checks"]["present"] is True


def test_blank_video_has_no_teleport_or_physics_score():
    # No object found: there is no transition or window to judge, so the scores are None
    # (not a perfect 0 teleports / 1.0 physics a blank generator would otherwise win with).
    clip = generate(0)
    gray = background_image(clip.scene.background, clip.video.shape[1]).astype(np.uint8)
    blank = np.broadcast_to(gray[None, :, :, None], clip.video.shape).copy()
    report = score_video(blank, clip.caption)
    assert report.adherence == 0.0
    assert report.teleport_rate is None and report.physics is None


def test_bad_inputs_raise():
    clip = generate(0)
    with pytest.raises(SpacetimeError, match="ShapesWorld form"):
        score_video(clip.video, "a dog runs")
    with pytest.raises(SpacetimeError, match="uint8"):
        score_video(clip.video.astype(np.float32), clip.caption)
    with pytest.raises(SpacetimeError, match=r"\(T, H, W, 3\)"):
        score_video(clip.video[..., 0], clip.caption)


def test_single_frame_video():
    clip = generate(3, frames=1)
    report = score_video(clip.video, clip.caption)
    assert report.adherence == 1.0
    assert report.teleport_rate is None and report.physics is None  # nothing to judge


def test_robust_to_generator_like_noise_and_blur():
    import cv2

    rng = np.random.default_rng(0)
    for seed in range(6):
        clip = generate(seed)
        soft = np.stack([cv2.GaussianBlur(f, (0, 0), 0.8) for f in clip.video.astype(np.float32)])
        noisy = np.clip(soft + rng.normal(0, 8, soft.shape), 0, 255).astype(np.uint8)
        report = score_video(noisy, clip.caption)
        assert report.adherence == 1.0 and report.identity_consistency == 1.0
        assert report.teleport_rate == 0.0 and report.physics == 1.0
        assert report.background_stability < 0.9  # per-frame noise is background instability


def test_videos_without_the_objects_score_zero_without_warnings():
    import warnings

    rng = np.random.default_rng(1)
    blank = np.full((8, 64, 64, 3), 128, np.uint8)
    noise = rng.integers(0, 256, (8, 64, 80, 3), dtype=np.uint8)
    caption = "a red circle moves right behind a pillar"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for frames in (blank, noise):
            report = score_video(frames, caption)
            assert report.adherence == 0.0 and report.occlusion_reappearance == 0.0
            assert report.identity_consistency == 0.0
    assert score_video(blank, caption).background_stability == 1.0
