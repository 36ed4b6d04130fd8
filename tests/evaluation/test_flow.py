import cv2
import numpy as np
import pytest

from spacetime.errors import SpacetimeError
from spacetime.evaluation.flow import (
    VideoFlow,
    estimate_flow,
    forward_backward_valid,
    make_dis,
    pixel_grid,
    warp,
)


def _texture(size: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.uniform(0, 255, (size, size)).astype(np.float32), (0, 0), 2)
    return cv2.normalize(noise, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)


def test_dis_recovers_a_known_translation_and_warp_inverts_it():
    big = _texture(96)
    src, dst = big[8:72, 8:72], big[5:69, 11:75]  # content moves by (-3, +3) px
    flow = estimate_flow(src, dst, make_dis())
    assert flow.shape == (64, 64, 2) and flow.dtype == np.float32
    inner = flow[8:-8, 8:-8]
    np.testing.assert_allclose(np.median(inner.reshape(-1, 2), axis=0), [-3.0, 3.0], atol=0.15)
    predicted = warp(dst.astype(np.float32), flow)
    assert np.abs(predicted - src)[8:-8, 8:-8].mean() < 3.0


def test_warp_samples_at_x_plus_flow():
    image = np.arange(16 * 16, dtype=np.float32).reshape(16, 16)
    flow = np.zeros((16, 16, 2), np.float32)
    flow[..., 0] = 1.0  # read one pixel to the right
    assert np.allclose(warp(image, flow)[:, :-1], image[:, 1:])
    assert pixel_grid(2, 3)[1, 2].tolist() == [2.0, 1.0]


def test_forward_backward_test_flags_inconsistency_and_leaving_the_frame():
    forward = np.zeros((20, 20, 2), np.float32)
    backward = np.zeros((20, 20, 2), np.float32)
    forward[5:10, 5:10] = (2.0, 0.0)  # these pixels move right, but nothing comes back
    forward[:, 18:, 0] = 5.0  # and these leave the frame
    backward[:, 18:, 0] = -5.0
    valid = forward_backward_valid(forward, backward)
    assert not valid[5:10, 5:10].any()
    assert not valid[:, 18:].any()
    assert valid[12:, :15].all()
    consistent = forward_backward_valid(np.full_like(forward, 1.0), np.full_like(backward, -1.0))
    assert consistent[:-1, :-1].all()  # (1, 1) px/frame: the last row and column leave


def test_video_flow_computes_each_pair_once():
    frames = np.stack([_texture(48, seed=0)] * 3)
    flow = VideoFlow(frames)
    assert len(flow) == 2
    assert flow[1] is flow[1]
    assert flow.forward_stack().shape == (2, 48, 48, 2)
    assert flow.valid_stack().all()  # identical frames: zero flow, all visible
    assert flow.backward_valid(0).all()
    with pytest.raises(IndexError):
        flow[2]
    with pytest.raises(SpacetimeError, match="preset"):
        make_dis("warp-speed")


def test_thin_frames_are_padded_for_dis_and_still_tracked():
    big = _texture(160)
    src, dst = big[40:56, 20:120], big[40:56, 22:122]  # 16 x 100: DIS alone would crash
    flow = estimate_flow(src, dst)
    assert flow.shape == (16, 100, 2)
    assert abs(np.median(flow[4:-4, 8:-8, 0]) + 2.0) < 0.5  # content moves 2 px left


def test_prefetch_in_threads_matches_the_sequential_pairs():
    frames = np.stack([np.roll(_texture(64, 1), (t, 2 * t), axis=(0, 1)) for t in range(6)])
    payload = np.stack([frames.astype(np.float32)] * 2, axis=-1)
    sequential = VideoFlow(frames, payload=payload)
    threaded = VideoFlow(frames, payload=payload)
    threads = cv2.getNumThreads()
    threaded.prefetch(workers=2)
    assert cv2.getNumThreads() == threads  # OpenCV's pool is restored
    for t in range(len(sequential)):
        a, b = sequential[t], threaded[t]
        assert np.array_equal(a.forward, b.forward) and np.array_equal(a.backward, b.backward)
        assert np.array_equal(a.valid, b.valid) and np.array_equal(a.compensated, b.compensated)
    assert np.allclose(np.median(threaded[2].forward, axis=(0, 1)), (2, 1), atol=0.1)
    with pytest.raises(SpacetimeError, match="workers"):
        VideoFlow(frames).prefetch(workers=0)


def test_a_pair_does_not_depend_on_the_pairs_computed_before_it():
    # A DIS estimator that has seen other frames returns a (slightly) different flow, so a
    # reused one would make the values depend on the order of computation (thread schedule).
    rng = np.random.default_rng(3)
    texture = cv2.GaussianBlur(rng.uniform(0, 255, (80, 80)).astype(np.float32), (0, 0), 1.5)
    frames = np.stack([np.roll(texture, (t * t % 5, 3 * t), axis=(0, 1)) for t in range(6)])
    frames = cv2.normalize(frames, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    forward_order, reverse_order = VideoFlow(frames), VideoFlow(frames)
    for t in reversed(range(len(reverse_order))):
        reverse_order[t]
    for t in range(len(forward_order)):
        assert np.array_equal(forward_order[t].forward, reverse_order[t].forward)
        assert np.array_equal(forward_order[t].backward, reverse_order[t].backward)
