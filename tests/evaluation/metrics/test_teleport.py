import numpy as np
import pytest

from spacetime.evaluation.metrics import compute_metrics


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
