"""Dense optical flow for evaluation: OpenCV DIS, computed once per frame pair and shared.

Every temporal metric in :mod:`spacetime.evaluation.metrics` looks at the same motion, so
the flow between frames ``t`` and ``t + 1`` is computed once in each direction and cached in
a :class:`VideoFlow`. The estimator is DIS, *Dense Inverse Search* (Kroeger et al., "Fast
Optical Flow using Dense Inverse Search", ECCV 2016), as shipped with OpenCV: no weights to
download, and about 2 ms per 256x256 pair with the ``ultrafast`` preset on one CPU core.

Conventions (the ones of OpenCV and of most flow papers):

- a flow field is ``(H, W, 2)`` float32 in **pixels**, channel 0 = x (columns), 1 = y (rows);
- the forward flow ``F_t`` maps a pixel ``x`` of frame ``t`` to ``x + F_t(x)`` in frame
  ``t + 1``; the backward flow ``B_t`` maps frame ``t + 1`` back to frame ``t``;
- :func:`warp` is backward warping: ``warp(I_{t+1}, F_t)(x) = I_{t+1}(x + F_t(x))``, which
  predicts frame ``t`` from frame ``t + 1`` wherever ``x`` is visible in both.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

from spacetime.errors import SpacetimeError

PRESETS: dict[str, int] = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}
"""DIS presets by name; ``ultrafast`` is the default of the metrics (speed target 100 fps)."""


FLOW_WORKERS = min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)
"""Threads that :meth:`VideoFlow.prefetch` uses by default: OpenCV releases the GIL inside DIS
and remap, so frame pairs are computed in parallel, one estimator and one OpenCV thread per
worker (one core per worker, no oversubscription)."""


DIS_MIN_SIDE = 32
"""Frames smaller than this (either side) are padded before DIS (see :func:`estimate_flow`)."""


def make_dis(preset: str = "ultrafast") -> cv2.DISOpticalFlow:
    """A DIS estimator for ``preset`` (one of :data:`PRESETS`)."""
    if preset not in PRESETS:
        raise SpacetimeError(f"flow preset {preset!r} is unknown; expected one of {list(PRESETS)}")
    return cv2.DISOpticalFlow_create(PRESETS[preset])


def estimate_flow(
    src: np.ndarray, dst: np.ndarray, dis: cv2.DISOpticalFlow | None = None
) -> np.ndarray:
    """Flow from ``src`` to ``dst``: ``src(x) ~ dst(x + flow(x))``.

    Args:
        src, dst: grayscale ``(H, W)`` uint8 frames of the same size.
        dis: a reusable estimator from :func:`make_dis` (a new ``ultrafast`` one if None).

    Returns:
        ``(H, W, 2)`` float32 flow in pixels (x, y).
    """
    assert src.shape == dst.shape and src.dtype == np.uint8 and src.ndim == 2
    dis = dis if dis is not None else make_dis()
    height, width = src.shape
    # OpenCV's DIS (5.0) crashes on frames whose shorter side is below 32 px unless they are
    # nearly square: mirror-pad such frames to 32 px and crop the flow back.
    pad_y, pad_x = max(0, DIS_MIN_SIDE - height), max(0, DIS_MIN_SIDE - width)
    if pad_y or pad_x:
        src, dst = (
            cv2.copyMakeBorder(f, 0, pad_y, 0, pad_x, cv2.BORDER_REFLECT) for f in (src, dst)
        )
    flow = dis.calc(np.ascontiguousarray(src), np.ascontiguousarray(dst), None)
    return flow[:height, :width]


def pixel_grid(height: int, width: int) -> np.ndarray:
    """``(H, W, 2)`` float32 grid of pixel coordinates (x, y)."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    return np.stack([xs, ys], axis=-1)


def warp(image: np.ndarray, flow: np.ndarray, grid: np.ndarray | None = None) -> np.ndarray:
    """Backward-warp ``image`` by ``flow``: ``out(x) = image(x + flow(x))``, bilinear.

    Args:
        image: ``(H, W)`` or ``(H, W, C)`` array (uint8 or float32).
        flow: ``(H, W, 2)`` float32 flow in pixels.
        grid: the :func:`pixel_grid` of that size, to skip rebuilding it.

    Returns:
        An array shaped like ``image``; samples outside the frame replicate the border (mask
        them with :func:`forward_backward_valid`).
    """
    height, width = flow.shape[:2]
    grid = grid if grid is not None else pixel_grid(height, width)
    coords = grid + flow  # (H, W, 2): a two-channel map is OpenCV's fastest remap input
    return cv2.remap(image, coords, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def forward_backward_valid(
    forward: np.ndarray,
    backward: np.ndarray,
    grid: np.ndarray | None = None,
    *,
    alpha: float = 0.01,
    beta: float = 0.5,
) -> np.ndarray:
    """Pixels of frame ``t`` whose forward flow is trusted (not occluded, lands in the frame).

    The forward–backward consistency test of Sundaram et al. (ECCV 2010), in the form of
    Ruder et al. ("Artistic style transfer for videos", 2016, Eq. 6): ``x`` is occluded when

        |F(x) + B(x + F(x))|^2 > alpha (|F(x)|^2 + |B(x + F(x))|^2) + beta

    Args:
        forward: ``(h, w, 2)`` flow t -> t+1 at the positions ``grid``; backward: ``(H, W, 2)``
            flow t+1 -> t over the whole frame (pixels).
        grid: ``(h, w, 2)`` positions (x, y) where ``forward`` is given: the
            :func:`pixel_grid` of the frame (default) or a subsampled one, e.g.
            ``pixel_grid(H, W)[::2, ::2]`` with ``forward[::2, ::2]``.
        alpha: relative tolerance (dimensionless); beta: absolute tolerance (pixels^2).

    Returns:
        ``(h, w)`` bool, True where the pixel is visible in both frames.
    """
    height, width = backward.shape[:2]
    grid = grid if grid is not None else pixel_grid(height, width)
    target = grid + forward  # (h, w, 2)
    back = cv2.remap(backward, target, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return _consistent(forward, back, target, height, width, alpha, beta)


def _consistent(
    forward: np.ndarray,
    back: np.ndarray,
    target: np.ndarray,
    height: int,
    width: int,
    alpha: float = 0.01,
    beta: float = 0.5,
) -> np.ndarray:
    """The test of :func:`forward_backward_valid` given ``back = B(x + F(x))`` and
    ``target = x + F(x)`` (``(h, w, 2)`` each) in a ``height x width`` frame."""
    fx, fy, bx, by = forward[..., 0], forward[..., 1], back[..., 0], back[..., 1]
    lx, ly = fx + bx, fy + by  # per-channel arithmetic: numpy reductions over a size-2 last
    # axis are several times slower
    bound = alpha * (fx * fx + fy * fy + bx * bx + by * by) + beta
    inside = cv2.inRange(target, (0.0, 0.0), (width - 1.0, height - 1.0)) > 0
    return (lx * lx + ly * ly <= bound) & inside


@dataclass(frozen=True)
class FlowPair:
    """The motion between frames ``t`` and ``t + 1``.

    Attributes:
        forward: ``(H, W, 2)`` float32 flow t -> t+1 in pixels.
        backward: ``(H, W, 2)`` float32 flow t+1 -> t in pixels.
        valid: ``(H, W)`` bool, pixels of frame ``t`` passing :func:`forward_backward_valid`.
        compensated: ``(H, W, C)`` float32, the :class:`VideoFlow` payload of frame ``t + 1``
            warped back onto frame ``t`` (``warp(payload[t + 1], forward)``); ``C = 0`` when
            there is no payload.
    """

    forward: np.ndarray
    backward: np.ndarray
    valid: np.ndarray
    compensated: np.ndarray


class VideoFlow:
    """Lazily computed, cached :class:`FlowPair` for every transition of a clip.

    Args:
        gray: ``(T, H, W)`` uint8 grayscale frames, ``T >= 2``.
        preset: DIS preset name (see :data:`PRESETS`).
        payload: optional ``(T, H, W, C)`` float32 (``C <= 2``) per-frame maps to motion-
            compensate: ``flow[t].compensated`` is ``payload[t + 1]`` warped onto frame ``t``,
            done in the same remap as the occlusion test (one pass over the frame, not two).

    ``flow[t]`` is the pair for transition ``t -> t + 1`` (``0 <= t < T - 1``); each pair is
    computed the first time it is asked for and reused by every metric after that.
    """

    def __init__(
        self, gray: np.ndarray, preset: str = "ultrafast", payload: np.ndarray | None = None
    ) -> None:
        assert gray.ndim == 3 and gray.dtype == np.uint8 and gray.shape[0] >= 2
        if payload is None:
            payload = np.zeros((*gray.shape, 0), np.float32)
        assert payload.shape[:3] == gray.shape and payload.shape[3] <= 2, payload.shape
        self.gray = gray
        self.payload = payload
        self.grid = pixel_grid(gray.shape[1], gray.shape[2])
        self._preset = preset
        self._pairs: dict[int, FlowPair] = {}
        self._backward_valid: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return self.gray.shape[0] - 1

    def __getitem__(self, t: int) -> FlowPair:
        if not 0 <= t < len(self):
            raise IndexError(f"transition {t} out of range [0, {len(self)})")
        if t not in self._pairs:
            self._pairs[t] = self._compute(t)
        return self._pairs[t]

    def _compute(self, t: int) -> FlowPair:
        """The :class:`FlowPair` of transition ``t`` (thread-safe: it touches no shared
        mutable state).

        Each flow gets a fresh DIS estimator (creating one costs ~10 us): an estimator that
        has computed other pairs returns a slightly different flow (up to ~1e-3 px), so
        reusing one would make the values depend on the order pairs were computed in, i.e. on
        the thread schedule.
        """
        forward = estimate_flow(self.gray[t], self.gray[t + 1], make_dis(self._preset))
        backward = estimate_flow(self.gray[t + 1], self.gray[t], make_dis(self._preset))
        target = self.grid + forward  # (H, W, 2)
        # One remap samples the backward flow (occlusion test) and the payload at x + F(x).
        stacked = np.concatenate([backward, self.payload[t + 1]], axis=-1)
        sampled = cv2.remap(
            stacked, target, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        ).reshape(*target.shape[:2], -1)
        height, width = self.gray.shape[1:]
        valid = _consistent(forward, sampled[..., :2], target, height, width)
        return FlowPair(forward, backward, valid, sampled[..., 2:])

    def prefetch(self, workers: int | None = None) -> None:
        """Compute every transition not cached yet, ``workers`` pairs at a time (default
        :data:`FLOW_WORKERS`).

        The pairs are independent, and OpenCV releases the GIL, so ``workers`` threads give
        up to ``workers`` times the throughput; the values do not depend on ``workers``.
        OpenCV's own thread pool is set to one thread for the duration (restored after), so
        that ``workers`` threads use ``workers`` cores rather than fighting over them.
        """
        workers = FLOW_WORKERS if workers is None else workers
        if workers < 1:
            raise SpacetimeError(f"flow workers must be >= 1, got {workers}")
        todo = [t for t in range(len(self)) if t not in self._pairs]
        if workers == 1 or len(todo) < 2:
            for t in todo:
                self[t]
            return
        threads = cv2.getNumThreads()
        cv2.setNumThreads(1)
        try:
            with ThreadPoolExecutor(max_workers=min(workers, len(todo))) as pool:
                for t, pair in zip(todo, pool.map(self._compute, todo), strict=True):
                    self._pairs[t] = pair
        finally:
            cv2.setNumThreads(threads)

    def backward_valid(self, t: int) -> np.ndarray:
        """``(ceil(H / 2), ceil(W / 2))`` bool: every second pixel (both axes) of frame ``t + 1``
        whose backward flow passes the forward–backward test (cached). Half resolution: the
        metrics that need it (jerk, teleport) aggregate over blocks, and it halves their cost.
        """
        if t not in self._backward_valid:
            pair = self[t]
            self._backward_valid[t] = forward_backward_valid(
                pair.backward[::2, ::2], pair.forward, self.grid[::2, ::2]
            )
        return self._backward_valid[t]

    def forward_stack(self) -> np.ndarray:
        """All forward flows, ``(T - 1, H, W, 2)`` float32 (pixels)."""
        return np.stack([self[t].forward for t in range(len(self))])

    def valid_stack(self) -> np.ndarray:
        """All validity masks, ``(T - 1, H, W)`` bool."""
        return np.stack([self[t].valid for t in range(len(self))])
