import cv2
import numpy as np

from spacetime.evaluation.metrics import compute_metrics


def test_rigidly_moving_edges_do_not_shimmer_but_jittering_ones_do(pan):
    clip = pan(frames=8, size=64, step=(2, 0))
    rigid = compute_metrics(clip, names=["edge_shimmer"], analysis_size=None)["edge_shimmer"]
    rng = np.random.default_rng(0)
    ys, xs = np.mgrid[0:64, 0:64].astype(np.float32)
    jittered = np.stack(
        [
            cv2.remap(f, xs + rng.normal(0, 0.7, xs.shape).astype(np.float32), ys, cv2.INTER_LINEAR)
            for f in clip
        ]
    )
    shimmer = compute_metrics(jittered, names=["edge_shimmer"], analysis_size=None)["edge_shimmer"]
    assert rigid.mean < 0.06
    assert shimmer.mean > 2 * rigid.mean
    assert rigid.mean >= 0.0 and shimmer.max <= 1.0
