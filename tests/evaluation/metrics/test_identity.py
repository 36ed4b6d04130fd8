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


def test_content_entering_the_frame_is_not_drift_but_a_tracked_colour_change_is(pan):
    # A still camera; a differently coloured texture slides in from the left edge, 4 px per
    # frame, covering what was there: new content, not a change of the content tracked.
    still = np.repeat(pan(frames=1, size=64, seed=3), 12, axis=0)
    other = 255 - pan(frames=1, size=64, seed=4)[0]
    entering = still.copy()
    for t in range(12):
        width = 4 * t
        if width:
            entering[t, :, :width] = other[:, 64 - width :]
    clean = _drift(entering)
    drifting = _drift(_redden_centre(still, 1.5))  # +16.5 levels of a over 12 frames, centre
    # (Tracks that followed whatever covered them scored the entering clip 15 levels, 3.7x
    # this drift; ended at the cover, they leave ~1.3.)
    assert clean.max < 0.4 * drifting.max
