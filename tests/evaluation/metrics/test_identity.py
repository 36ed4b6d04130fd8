import cv2
import numpy as np

from spacetime.evaluation.metrics import compute_metrics


def _redden_centre(clip: np.ndarray, per_frame: float) -> np.ndarray:
    """The centre quarter's Lab a channel rises by ``per_frame`` levels each frame."""
    out = clip.copy()
    for t in range(len(clip)):
        lab = cv2.cvtColor(clip[t], cv2.COLOR_RGB2LAB).astype(np.float32)
        lab[16:48, 16:48, 1] += per_frame * t
        out[t] = cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
    return out


def _drift(frames: np.ndarray):
    return compute_metrics(frames, names=["identity_drift"], analysis_size=None)["identity_drift"]


def test_slow_colour_drift_accumulates_against_the_first_appearance(pan):
    clip = pan(frames=10, size=64, step=(1, 0))
    assert _drift(clip).max < 1.0  # Lab levels: a moving texture keeps its look
    slow = _drift(_redden_centre(clip, 3.0))
    # each frame-to-frame step is small, but the distance to the first frame keeps growing
    assert np.all(np.diff(slow.per_frame[1:]) > 0)
    assert slow.per_frame[-1] > 3 * slow.per_frame[0]
    assert slow.worst_frame == len(clip) - 2


def test_global_exposure_change_counts_far_less_than_a_subject_change(pan):
    clip = (pan(frames=8, size=64, step=(1, 0)) * 0.6 + 40).astype(np.uint8)  # no clipping
    brighter = (clip + np.arange(8)[:, None, None, None] * 4).astype(np.uint8)  # +28 levels
    subject = _redden_centre(clip, 4.0)  # +28 levels of a, in a quarter of the frame only
    assert _drift(brighter).mean < 0.5 * _drift(subject).mean
