import numpy as np
import pytest

from spacetime.evaluation.metrics import compute_metrics


def test_constant_velocity_has_no_jerk_and_a_measured_dynamic_degree(pan):
    clip = pan(frames=8, size=64, step=(2, 0))
    out = compute_metrics(clip, names=["motion_smoothness", "dynamic_degree"], analysis_size=None)
    assert out["motion_smoothness"].max < 0.3  # %diag / frame^3
    speed = 100 * 2.0 / np.hypot(64, 64)  # 2 px/frame in %diag
    assert out["dynamic_degree"].mean == pytest.approx(speed, rel=0.15)
    assert (
        out["motion_smoothness"].per_frame[0] == 0 and out["motion_smoothness"].per_frame[-1] == 0
    )


def test_stutter_is_jerk_and_a_frozen_clip_has_no_dynamics(pan):
    smooth = pan(frames=12, size=64, step=(1, 0))
    stutter = smooth[[0, 1, 2, 4, 5, 6, 8, 9, 10, 11]]  # skipped frames: speed 1, 1, 2, 1, ...
    jerk = compute_metrics(stutter, names=["motion_smoothness"], analysis_size=None)
    base = compute_metrics(smooth, names=["motion_smoothness"], analysis_size=None)
    assert jerk["motion_smoothness"].mean > 3 * base["motion_smoothness"].mean
    frozen = np.repeat(smooth[:1], 6, axis=0)
    degree = compute_metrics(frozen, names=["dynamic_degree"], analysis_size=None)["dynamic_degree"]
    assert degree.max == pytest.approx(0.0, abs=1e-3)


def test_a_noisy_freeze_is_not_motion(pan):
    # A frozen frame with fresh sensor noise on every frame: DIS fits the noise with flow of
    # about half a pixel, which the motion evidence must not count.
    from spacetime.evaluation.report.compare import FROZEN_THRESHOLD

    rng = np.random.default_rng(0)
    still = np.repeat(pan(frames=1, size=96, seed=2), 8, axis=0).astype(np.float32)
    noisy = np.clip(still + rng.normal(0, 3.0, still.shape), 0, 255).astype(np.uint8)
    moving = pan(frames=8, size=96, step=(1, 0), seed=2)
    degree = compute_metrics(noisy, names=["dynamic_degree"], analysis_size=None)
    assert degree["dynamic_degree"].mean < 0.25 * FROZEN_THRESHOLD
    degree = compute_metrics(moving, names=["dynamic_degree"], analysis_size=None)
    assert degree["dynamic_degree"].mean > 5 * FROZEN_THRESHOLD
