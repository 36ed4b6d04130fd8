"""``teleport``: content that leaves its path for one frame, further than its own motion.

A teleport puts content, on frame ``k``, where its path through the frames around ``k`` does
not go: it goes out and comes back (or jumps against its neighbours' motion). Natural motion
continues: whatever the content does on frame ``k`` -- move fast, accelerate, bounce, shake
with the camera -- it does at a speed comparable to its speed just before and just after.

For a block of frame ``k`` with positions ``p_j`` on frames ``k + j`` (``j = -2..2``, relative
to the camera), the **off-path deviation** is the distance from ``p_0`` to the cubic through
the other four (Lagrange interpolation at 0 from -2, -1, 1, 2)::

    D = p_0 - (-p_-2 + 4 p_-1 + 4 p_1 - p_2) / 6

which is 0 for any motion of constant jerk (uniform speed, a thrown ball, a smooth camera
ramp) and ``J`` for content that leaves a still path by ``J`` on frame ``k`` alone. Motion
whose speed never exceeds ``s`` on any step, frame ``k``'s own two included, gives
``|D| <= 4 s / 3`` (the zig-zag ``0, -s, 0, -s, 0`` attains it), so with ``s`` the block's
speed on the outer steps ``k-2 -> k-1`` and ``k+1 -> k+2`` (which a teleport on frame ``k``
does not touch), the value of a block is the excursion beyond what its own speed explains::

    jump = max(0, |D| - 4 s / 3)

Where the clip has no second neighbour (frames 1 and ``T - 2``), ``D = p_0 - (p_-1 + p_1) / 2``
(bounded by ``s``) and ``s`` is the speed across ``k``, ``|p_1 - p_-1| / 2``.

Positions come from the dense flow, chained to frames ``k +- 2`` on blocks where every link
passes the forward-backward test, relative to the camera (the median block motion). Dense
flow (DIS) misses the jump of a small region over more than a few pixels, so the blocks that
frame ``k``'s neighbours explain much worse than the frames around them are re-matched by
template search (:mod:`~spacetime.evaluation.metrics.teleport_match`).
"""

from __future__ import annotations

import cv2
import numpy as np

from spacetime.evaluation.metrics.context import AnalysisClip
from spacetime.evaluation.metrics.teleport_blocks import BLOCK_CELLS, cell_means, cell_size
from spacetime.evaluation.metrics.teleport_match import rematch

SPEED_BOUND = 4.0 / 3.0
"""``|D| <= SPEED_BOUND * s`` for motion of speed at most ``s`` on every step (docstring)."""

OFFSETS = (-2, -1, 1, 2)
"""Frames, relative to ``k``, whose positions define the path."""


def _block_flows(clip: AnalysisClip, t: int, cell: int) -> tuple[np.ndarray, ...]:
    """Block means of transition ``t``'s flows (cached), over pixels that pass the
    forward-backward test, on every second pixel (block means need no more):
    ``(forward (R, C, 2) on frame t's blocks, its trust (R, C), backward (R, C, 2) on frame
    t + 1's blocks, its trust (R, C))``; trust is the trusted fraction of the block."""
    cache: dict[int, tuple[np.ndarray, ...]] = clip.__dict__.setdefault("_block_flows", {})
    if t not in cache:
        height, width = clip.gray.shape[1:]
        crop = (slice(0, height // cell * cell // 2), slice(0, width // cell * cell // 2))
        pair = clip.flow[t]
        out = []
        for flow, valid in (
            (pair.forward, pair.valid[::2, ::2]),
            (pair.backward, clip.flow.backward_valid(t)),
        ):
            trusted = valid[crop].astype(np.float32)
            weight = cell_means(trusted, cell // 2)
            total = cell_means(flow[::2, ::2][crop] * trusted[..., None], cell // 2)
            out += [total / np.maximum(weight, 1e-6)[..., None], weight]
        cache[t] = tuple(out)
    return cache[t]


def _sample(grid: np.ndarray, points: np.ndarray, cell: int) -> np.ndarray:
    """Bilinear samples of a block grid ``(R, C[, K])`` at pixel positions ``points``
    ``(R, C, 2)`` (block ``(i, j)`` is centred at ``((j + 1.5) cell, (i + 1.5) cell)``)."""
    offset = BLOCK_CELLS * cell / 2.0
    coords = ((points - offset) / cell).astype(np.float32)
    return cv2.remap(
        grid, coords[..., 0], coords[..., 1], cv2.INTER_LINEAR, None, cv2.BORDER_REPLICATE
    )


def block_paths(clip: AnalysisClip, k: int, cell: int) -> tuple[np.ndarray, np.ndarray]:
    """Displacements of frame ``k``'s blocks to frames ``k + j`` for ``j`` in :data:`OFFSETS`
    (``(4, R, C, 2)`` pixels, chained along the flow; ``j = +-2`` are NaN beyond the clip)
    and ``(R, C)`` bool, the blocks whose every link is trusted (at least half the block
    passes the forward-backward test)."""
    last = clip.num_frames - 1
    forward, forward_trust = _block_flows(clip, k, cell)[:2]
    backward, backward_trust = _block_flows(clip, k - 1, cell)[2:]
    rows, cols = forward.shape[:2]
    ys, xs = np.mgrid[0:rows, 0:cols].astype(np.float32)
    centres = (np.stack([xs, ys], axis=-1) + BLOCK_CELLS / 2.0) * cell  # (R, C, 2)
    paths = np.full((4, rows, cols, 2), np.nan, np.float32)
    paths[1], paths[2] = backward, forward
    trusted = (forward_trust >= 0.5) & (backward_trust >= 0.5)
    for side, step, t in ((0, -1, k - 2), (3, 1, k + 1)):
        if not 0 <= t < last:
            continue
        flows = _block_flows(clip, t, cell)
        grid = np.concatenate(
            [flows[2], flows[3][..., None]] if step < 0 else [flows[0], flows[1][..., None]], -1
        )
        near = paths[side + (1 if step < 0 else -1)]
        more = _sample(grid, centres + near, cell)  # (R, C, 3): flow and trust there
        paths[side] = near + more[..., :2]
        trusted &= more[..., 2] >= 0.5
    return paths, trusted


def off_path(paths: np.ndarray) -> np.ndarray:
    """``(...)`` jump of each path ``(4, ..., 2)`` (displacements to frames k-2, k-1, k+1,
    k+2; NaN where the clip ends): ``max(0, |D| - bound * s)`` (module docstring)."""
    before, previous, following, after = paths
    if np.isnan(before).any() or np.isnan(after).any():
        deviation = -(previous + following) / 2.0
        speed = np.linalg.norm(following - previous, axis=-1) / 2.0
        return np.maximum(0.0, np.linalg.norm(deviation, axis=-1) - speed)
    deviation = -(-before + 4.0 * previous + 4.0 * following - after) / 6.0
    speed = np.maximum(
        np.linalg.norm(previous - before, axis=-1), np.linalg.norm(after - following, axis=-1)
    )
    return np.maximum(0.0, np.linalg.norm(deviation, axis=-1) - SPEED_BOUND * speed)


def frame_jump(clip: AnalysisClip, k: int) -> float:
    """Largest jump of a block of frame ``k`` (``1 <= k <= T - 2``), in analysis pixels.

    Every block's path comes from the flow (:func:`block_paths`, relative to the camera, the
    median over trusted blocks); the one block whose template re-match is accepted
    (:func:`~spacetime.evaluation.metrics.teleport_match.rematch`: all candidates see the same
    event, the most confident speaks for it) gets its path from the search instead. Blocks
    whose flow is not trusted all along have no path (0).
    """
    cell = cell_size(clip)
    paths, trusted = block_paths(clip, k, cell)  # (4, R, C, 2), (R, C)
    camera = np.zeros((4, 2), np.float32)
    if trusted.any():
        camera = np.median(paths[:, trusted], axis=1)  # (4, 2); NaN beyond the clip
    jumps = np.where(trusted, off_path(paths - camera[:, None, None]), 0.0)
    found = rematch(clip, k, cell, camera)
    if found is not None:
        (i, j), path = found
        jumps[i, j] = max(jumps[i, j], float(off_path((path - camera)[:, None])[0]))
    return float(jumps.max())


def teleport(clip: AnalysisClip) -> np.ndarray:
    """Off-path jump per transition, ``(T - 1,)`` in percent of the image diagonal.

    Entry ``t`` is :func:`frame_jump` of frame ``t + 1``: how far the block of frame
    ``t + 1`` that jumps the most leaves the path through the frames around it, beyond what
    its own speed there explains (module docstring). 0 for uniform or smoothly accelerating
    motion however fast, for a shaking or panning camera, and for content that enters,
    leaves or is uncovered (its flow is not trusted and it matches nowhere); one frame ``k``
    whose content jumps by ``J`` shows ``J`` at transition ``k - 1``. The last transition
    has no following frame and is 0.
    """
    out = np.zeros(clip.num_transitions)
    for k in range(1, clip.num_frames - 1):
        out[k - 1] = float(clip.to_percent_diag(frame_jump(clip, k)))
    return out
