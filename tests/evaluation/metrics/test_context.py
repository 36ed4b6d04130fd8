import numpy as np
import pytest

from spacetime.errors import SpacetimeError
from spacetime.evaluation.metrics.context import AnalysisClip, analysis_shape, check_clip


@pytest.mark.parametrize(
    ("frames", "message"),
    [
        (np.zeros((4, 32, 32, 3), np.float32), "uint8"),
        (np.zeros((4, 32, 32), np.uint8), "shape"),
        (np.zeros((1, 32, 32, 3), np.uint8), "at least 2 frames"),
        (np.zeros((4, 8, 8, 3), np.uint8), "16x16"),
        ([[0]], "numpy array"),
    ],
)
def test_bad_frames_raise_a_user_error(frames, message):
    with pytest.raises(SpacetimeError, match=message):
        check_clip(frames)


def test_analysis_shape_scales_the_longer_side_and_never_upscales():
    assert analysis_shape(720, 1280, 256) == (144, 256)
    assert analysis_shape(1280, 720, 256) == (256, 144)
    assert analysis_shape(100, 120, 256) == (100, 120)
    assert analysis_shape(720, 1280, None) == (720, 1280)
    assert analysis_shape(17, 300, 256) == (16, 282)  # the short side stays >= 16 for DIS


def test_analysis_clip_resizes_and_measures_in_its_own_diagonal(texture):
    frames = np.stack([texture(90, 160, seed=s) for s in range(3)])
    clip = AnalysisClip(frames, analysis_size=80)
    assert clip.rgb.shape == (3, 45, 80, 3) and clip.gray.shape == (3, 45, 80)
    assert clip.gray.dtype == np.float32 and clip.gray.max() <= 255
    assert clip.num_transitions == 2
    assert clip.to_percent_diag(clip.diagonal) == pytest.approx(100.0)
    with pytest.raises(SpacetimeError, match="analysis_size"):
        AnalysisClip(frames, analysis_size=4)


def test_edges_are_the_sobel_gradient_magnitude_in_levels_per_pixel():
    ramp = np.tile(np.arange(64, dtype=np.uint8)[None, :, None] * 2, (32, 1, 3))  # +2 levels/px
    clip = AnalysisClip(np.stack([ramp, ramp]), analysis_size=None)
    assert np.allclose(clip.edges[0][4:-4, 4:-4], 2.0, atol=0.05)
