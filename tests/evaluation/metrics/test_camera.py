import cv2
import numpy as np

from spacetime.evaluation.metrics import compute_metrics


def _warp_sequence(image, matrices):
    h, w = image.shape[:2]
    return np.stack(
        [cv2.warpPerspective(image, m, (w, h), borderMode=cv2.BORDER_REFLECT) for m in matrices]
    )


def test_camera_motion_is_not_swim_but_a_wobbling_background_is(texture):
    image = texture(96, 96, seed=3)
    zoom_pan = [
        np.array([[1 + 0.01 * t, 0, 1.5 * t], [0, 1 + 0.01 * t, 0.5 * t], [0, 0, 1]])
        for t in range(8)
    ]
    camera = _warp_sequence(image, zoom_pan)
    rigid = compute_metrics(camera, names=["background_swim"], analysis_size=None)[
        "background_swim"
    ]
    ys, xs = np.mgrid[0:96, 0:96].astype(np.float32)
    wobble = np.stack(
        [
            cv2.remap(
                image,
                xs + 3 * np.sin(2 * np.pi * ys / 96 + t),
                ys + 3 * np.sin(2 * np.pi * xs / 96 + t),
                cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REFLECT,
            )
            for t in range(8)
        ]
    )
    swim = compute_metrics(wobble, names=["background_swim"], analysis_size=None)["background_swim"]
    assert rigid.mean < 0.15  # %diag per frame
    assert swim.mean > 3 * rigid.mean
    assert swim.mean > 0.5
