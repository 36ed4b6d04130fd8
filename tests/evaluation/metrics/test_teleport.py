import numpy as np
import pytest

from spacetime.evaluation.metrics import compute_metrics
from spacetime.evaluation.metrics.teleport_match import isotropy as _isotropy


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


def test_isotropy_is_zero_on_a_straight_edge_and_high_on_texture(texture):
    mask = np.ones((24, 24), np.float32)
    edge = np.zeros((24, 24), np.float32)
    edge[12:] = 200.0
    patch = texture(24, 24, 1)[..., 0].astype(np.float32)
    assert _isotropy(edge, mask) < 0.01
    assert _isotropy(patch, mask) > 0.2
    assert _isotropy(np.zeros((24, 24), np.float32), mask) == 0.0
