import cv2
import numpy as np
import pytest

from spacetime.errors import SpacetimeError
from spacetime.evaluation import corruptions
from spacetime.evaluation.corruptions import CORRUPTIONS, calibrate, subject_mask


def _pan(frames: int = 8, size: int = 64) -> np.ndarray:
    rng = np.random.default_rng(0)
    big = cv2.GaussianBlur(
        rng.uniform(0, 255, (size + 2 * frames, size + 2 * frames, 3)), (0, 0), 2
    )
    big = cv2.normalize(big, None, 30, 220, cv2.NORM_MINMAX).astype(np.uint8)
    return np.stack([big[t : t + size, 2 * t : 2 * t + size] for t in range(frames)])


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_strength_zero_is_the_identity_and_shapes_are_kept(name):
    clip = _pan()
    apply = CORRUPTIONS[name].apply
    assert np.array_equal(apply(clip, 0.0), clip)
    out = apply(clip, 1.0, seed=3)
    assert out.shape == clip.shape and out.dtype == np.uint8
    assert not np.array_equal(out, clip)
    with pytest.raises(SpacetimeError, match="strength"):
        apply(clip, 1.5)


def test_flicker_gain_and_frozen_repeat():
    clip = _pan()
    flick = corruptions.flicker(clip, 1.0).astype(float)
    gains = flick.mean(axis=(1, 2, 3)) / clip.astype(float).mean(axis=(1, 2, 3))
    assert np.all(np.abs(gains - 1) <= corruptions.FLICKER_GAIN + 0.01)
    assert gains.std() > 0.05
    frozen = corruptions.frozen(clip, 1.0)
    assert all(np.array_equal(f, clip[0]) for f in frozen)
    half = corruptions.frozen(clip, 0.5)
    assert np.array_equal(half[1], clip[0]) and np.array_equal(half[2], clip[1])


def test_teleport_changes_only_the_middle_frame():
    clip = _pan()
    out = corruptions.teleport(clip, 1.0)
    changed = [t for t in range(len(clip)) if not np.array_equal(out[t], clip[t])]
    assert changed == [len(clip) // 2]


@pytest.mark.parametrize("strength", [0.25, 0.5, 1.0])
def test_teleport_jump_is_a_visible_fraction_of_the_short_side(strength):
    clip = _pan(8, 64)
    out = corruptions.teleport(clip, strength, seed=3)
    k, side = len(clip) // 2, 64 // 4
    changed = np.argwhere(np.any(out[k] != clip[k], axis=-1))  # (N, 2) rows, cols
    assert changed.size > 0
    # The pasted square (side S/4) sits where frame k's own content was, jump pixels away.
    (top, left), jump = changed.min(axis=0), strength * corruptions.TELEPORT_JUMP * 64
    assert jump >= 4.0  # even the weakest strength is a jump of several pixels at 64 px
    found = [
        (dy, dx)
        for dy in range(-side, side + 1)
        for dx in range(-side, side + 1)
        if 0 <= top - dy <= 64 - side
        and 0 <= left - dx <= 64 - side
        and np.array_equal(
            out[k, top : top + side, left : left + side],
            clip[k, top - dy : top - dy + side, left - dx : left - dx + side],
        )
        and (dy, dx) != (0, 0)
    ]
    assert any(abs(np.hypot(dy, dx) - jump) <= 1.0 for dy, dx in found), (found, jump)


def test_swim_speed_is_proportional_to_strength():
    clip = _pan(12, 64)
    diffs = []
    for strength in (0.25, 0.5):
        out = corruptions.background_swim(clip, strength).astype(float)
        diffs.append(np.abs(out - clip).mean(axis=-1)[:, subject_mask(64, 64) == 0].mean())
    assert diffs[0] > 1.0  # a visible change of the background at a quarter strength
    assert diffs[1] == pytest.approx(2 * diffs[0], rel=0.3)


def test_drift_grows_over_time_inside_the_subject_only():
    clip = _pan()
    out = corruptions.identity_drift(clip, 1.0).astype(float)
    diff = np.abs(out - clip).mean(axis=-1)  # (T, H, W)
    inside, outside = subject_mask(64, 64) > 0.99, subject_mask(64, 64) == 0
    assert diff[0].max() < 1.0
    assert np.all(np.diff(diff[:, inside].mean(axis=1)) > 0)
    assert diff[:, outside].max() < 1.0


def test_swim_leaves_the_subject_and_moves_the_background():
    clip = _pan()
    out = corruptions.background_swim(clip, 1.0).astype(float)
    diff = np.abs(out - clip).mean(axis=-1)
    assert diff[:, subject_mask(64, 64) > 0.99].mean() < 0.5
    assert diff[:, subject_mask(64, 64) == 0].mean() > 5.0


def test_calibrate_reports_one_row_per_corruption_with_pass_flags():
    rows = calibrate(
        _pan(10, 64), clip="pan", corruptions=["flicker", "frozen"], analysis_size=None
    )
    assert [r.corruption for r in rows] == ["flicker", "frozen"]
    flicker, frozen = rows
    assert flicker.metric == "flicker" and flicker.passed
    assert list(flicker.values) == sorted(flicker.values) and flicker.values[0] > flicker.clean
    assert frozen.metric == "dynamic_degree" and frozen.passed and frozen.values[-1] == 0.0
    assert flicker.to_dict()["values"].keys() == {"0.25", "0.5", "0.75", "1.0"}
    with pytest.raises(SpacetimeError, match="unknown corruption"):
        calibrate(_pan(), corruptions=["blur"])
    with pytest.raises(SpacetimeError, match="increasing"):
        calibrate(_pan(), strengths=[0.5, 0.25])


@pytest.mark.parametrize(
    "caption",
    [
        "a large blue square bounces on a checkered background",  # the demo's clip
        "a large red circle stays still on a striped background",  # no frame shows what is behind
    ],
)
def test_teleport_object_moves_the_object_on_the_middle_frame_only(caption: str) -> None:
    from spacetime.data import shapes
    from spacetime.data.shapes.render import static_image

    clip = shapes.render(shapes.scene_from_caption(caption, 1, size=64, frames=16))
    video = clip.video.copy()
    out = corruptions.teleport_object(video, clip.ground_truth, jump=3.0)
    assert np.array_equal(video, clip.video)  # the input is left alone
    changed = (out != video).any(axis=-1)  # (T, H, W)
    assert np.flatnonzero(changed.any(axis=(1, 2))).tolist() == [8]
    obj = clip.ground_truth["per_frame"][8]["objects"][0]
    (cx, cy), radius = obj["center"], obj["radius"]
    direction = 1 if cx < 32 else -1  # it jumps towards the far side of the frame
    ys, xs = np.nonzero(changed[8])
    pasted = (xs - cx) * direction > radius * np.sqrt(2) + 2  # beyond its own place
    assert pasted.sum() > radius**2  # a real object, not a few pixels
    # The pasted pixels are the object's own, one sideways jump of at least 2 radii away (up
    # to 3, less where the frame's edge stops it).
    jumps = [
        d
        for d in range(-63, 64)
        if (xs[pasted] - d).min() >= 0
        and (xs[pasted] - d).max() < 64
        and np.array_equal(out[8, ys[pasted], xs[pasted]], video[8, ys[pasted], xs[pasted] - d])
    ]
    assert len(jumps) == 1 and 2 * radius <= jumps[0] * direction <= round(3 * radius)
    # Where it was is the bare background now, exactly, also for an object that never moves.
    yy, xx = np.mgrid[0:64, 0:64] + 0.5
    own = np.hypot(xx - cx, yy - cy) <= radius * 0.9  # well inside the object
    assert np.array_equal(out[8][own], static_image(clip.ground_truth)[own])
    with pytest.raises(SpacetimeError, match="ground truth describes a 64x64 clip"):
        corruptions.teleport_object(video[:, :32, :32], clip.ground_truth)
