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
