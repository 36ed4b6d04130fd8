import numpy as np
import pytest

from spacetime.evaluation.metrics import compute_metrics


def test_motion_is_not_flicker(pan):
    clip = pan(frames=8, size=64, step=(2, 1))
    out = compute_metrics(clip, names=["flicker", "warp_error"], analysis_size=None)
    assert out["flicker"].max < 0.5  # levels
    assert out["warp_error"].mean < 3.0


def test_global_brightness_jump_is_flicker_on_exactly_that_transition(pan):
    clip = pan(frames=8, size=64, step=(1, 0)).astype(np.float32)
    clip[5:] = clip[5:] * 0.8 + 10  # a lighting change between frames 4 and 5
    frames = np.clip(clip, 0, 255).astype(np.uint8)
    flicker = compute_metrics(frames, names=["flicker"], analysis_size=None)["flicker"]
    assert flicker.worst_frame == 4
    expected = np.abs(frames[4].mean() - frames[5].mean())  # mean change in levels (gray ~ RGB)
    assert flicker.max == pytest.approx(expected, rel=0.3)
    others = np.delete(flicker.per_frame, 4)
    assert others.max() < 0.2 * flicker.max


def test_warp_error_grows_with_noise(pan):
    clip = pan(frames=6, size=64, step=(1, 1))
    rng = np.random.default_rng(0)
    values = []
    for sigma in (0.0, 4.0, 12.0):
        noisy = np.clip(clip + rng.normal(0, sigma, clip.shape), 0, 255).astype(np.uint8)
        values.append(
            compute_metrics(noisy, names=["warp_error"], analysis_size=None)["warp_error"].mean
        )
    assert values[0] < values[1] < values[2]
