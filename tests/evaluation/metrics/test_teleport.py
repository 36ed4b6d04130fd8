import numpy as np
import pytest

from spacetime.evaluation.metrics import compute_metrics


def _shaky_pan(texture, frames: int, size: int, seed: int) -> np.ndarray:
    """A handheld camera: panning 3 px/frame right while shaking vertically (+-4 px, a period
    of 4 frames: up to 4 px/frame of vertical motion that reverses every other frame)."""
    big = texture(size + 80, size + 80, seed)
    shake = np.round(4 * np.sin(np.pi * np.arange(frames) / 2)).astype(int)
    return np.stack(
        [big[40 + s : 40 + s + size, 8 + 3 * t : 8 + 3 * t + size] for t, s in enumerate(shake)]
    )


def test_a_region_that_jumps_for_one_frame_is_a_teleport_at_that_frame(pan):
    clip = pan(frames=9, size=96, step=(1, 0), seed=4)
    smooth = compute_metrics(clip, names=["teleport"], analysis_size=None)["teleport"]
    jumped = clip.copy()
    jumped[4, 30:54, 50:74] = clip[4, 30:54, 30:54]  # a 24 px patch jumps 20 px right on frame 4
    out = compute_metrics(jumped, names=["teleport"], analysis_size=None)["teleport"]
    jump = 100 * 20 / np.hypot(96, 96)  # %diag
    assert smooth.max < 1.0
    assert out.worst_frame == 3  # entry t scores frame t + 1
    assert out.max == pytest.approx(jump, rel=0.25)
    assert np.delete(out.per_frame, 3).max() < 0.5 * jump


def test_the_value_is_the_jump_size_and_grows_with_it(pan):
    clip = pan(frames=7, size=96, step=(1, 1), seed=2)
    values = []
    for shift in (6, 12, 24):
        jumped = clip.copy()
        jumped[3, 36:60, 30 + shift : 54 + shift] = clip[3, 36:60, 30:54]
        values.append(compute_metrics(jumped, names=["teleport"], analysis_size=None)["teleport"])
    for series, shift in zip(values, (6, 12, 24), strict=True):
        assert series.worst_frame == 2
        assert series.max == pytest.approx(100 * shift / np.hypot(96, 96), rel=0.3)


def test_a_shaking_camera_is_no_teleport_but_a_jump_on_it_is(texture):
    clip = _shaky_pan(texture, frames=9, size=96, seed=5)
    shaking = compute_metrics(clip, names=["teleport"], analysis_size=None)["teleport"]
    jumped = clip.copy()
    jumped[4, 20:44, 40:64] = clip[4, 36:60, 40:64]  # 16 px up, on top of the shake
    out = compute_metrics(jumped, names=["teleport"], analysis_size=None)["teleport"]
    jump = 100 * 16 / np.hypot(96, 96)
    assert shaking.max < 0.35 * jump
    assert out.worst_frame == 3
    assert out.max == pytest.approx(jump, rel=0.3)


def _thrown_object_over_shaking_pan(texture, frames: int = 11, size: int = 96) -> np.ndarray:
    """A camera panning 2 px/frame right with a +-2 px vertical shake, over which a textured
    24 px object falls with constant acceleration (2 px/frame^2, up to 10 px/frame): fast,
    accelerating natural motion the three-frame rule |d_prev + d_next| / 2 would score."""
    big = texture(size + 60, size + 60, 11)
    thing = texture(24, 24, 12)
    shake = [0, 2, -2, 1, -1, 2, 0, -2, 1, 0, 2]
    out = []
    for t in range(frames):
        frame = big[20 + shake[t] : 20 + shake[t] + size, 2 * t : 2 * t + size].copy()
        y = 4 + t * t  # 4, 5, 8, 13, ... : speed 2t + 1, acceleration 2
        if y + 24 <= size:
            frame[y : y + 24, 36:60] = thing
        out.append(frame)
    return np.stack(out)


def test_accelerating_motion_on_a_shaking_camera_scores_below_a_mild_teleport(texture):
    clip = _thrown_object_over_shaking_pan(texture)
    natural = compute_metrics(clip, names=["teleport"], analysis_size=None)["teleport"]
    jumped = clip.copy()
    jumped[5, 50:74, 8:32] = clip[5, 50:74, 16:40]  # a 24 px patch 8 px off for one frame
    out = compute_metrics(jumped, names=["teleport"], analysis_size=None)["teleport"]
    jump = 100 * 8 / np.hypot(96, 96)  # a mild teleport: 8 px, 5.9 %diag
    assert natural.max < 0.5 * jump
    assert out.worst_frame == 4 and out.max == pytest.approx(jump, rel=0.3)


def test_off_path_is_zero_for_constant_jerk_and_the_jump_for_an_excursion():
    from spacetime.evaluation.metrics.teleport import off_path

    t = np.array([-2.0, -1.0, 1.0, 2.0])
    cubic = np.stack([3 * t + 0.5 * t**2 + 0.1 * t**3, -t], axis=-1)  # displacements from k
    assert off_path(cubic) == pytest.approx(0.0, abs=1e-6)
    still_then_back = np.array([[-5.0, 0.0]] * 4)  # frame k is 5 px off a still path
    assert off_path(still_then_back) == pytest.approx(5.0)
    zigzag = np.array([[0.0, 0.0], [-3.0, 0.0], [-3.0, 0.0], [0.0, 0.0]])  # speed 3 throughout
    assert off_path(zigzag) == pytest.approx(0.0, abs=1e-6)  # within 4/3 of its speed
