"""``teleport``: a region that jumps on one frame, off the path of its neighbouring motion.

A teleport moves content from its place on frame ``k - 1`` to somewhere else on frame ``k``
and back (or on) on frame ``k + 1``. Along a plausible path the displacement to the previous
frame and the one to the next frame cancel (constant velocity); a jump makes them add up.
Dense flow (DIS) misses jumps of a small region over more than a few pixels, so the blocks
that the flow explains much worse on frame ``k`` than on the frames around it are re-matched
by exhaustive template search over a wide window, and the match is kept only if it is
clearly better than any nearby one, unambiguous, and finds the same content before and after.
"""

from __future__ import annotations

import cv2
import numpy as np

from spacetime.evaluation.flow import warp
from spacetime.evaluation.metrics.context import AnalysisClip
from spacetime.evaluation.metrics.photometric import warp_residual

CELLS = 16
"""The short side is cut into CELLS cells ..."""

BLOCK_CELLS = 3
"""... a block is BLOCK_CELLS x BLOCK_CELLS cells (3/16 of the short side) and blocks start
at every cell, so any region of 1/4 of the short side or more contains a whole block."""

CANDIDATES = 10
"""Blocks per frame re-matched by template search."""

MIN_SURPRISE = 2.0
"""Only blocks explained at least MIN_SURPRISE times worse on frame ``k`` (by its neighbours)
than the same place on the frames around it (by theirs) are searched: a teleport stands out
in time, ordinary hard-to-track content (water, fast hands) does so on every frame."""

SEARCH_RADIUS = 20.0
"""Template search radius, in percent of the image diagonal."""

NEAR_RADIUS = 1.0
"""Displacements within NEAR_RADIUS percent of the diagonal are ordinary motion."""

MATCH_GAIN = 0.5
"""A block is re-matched far away only if, on both sides, the far match's squared error is
below MATCH_GAIN times that of the best match within :data:`NEAR_RADIUS` (the content is
not just nearby, moved or deformed, as the flow may have missed) and MATCH_GAIN times the
template's variance (the match explains the content, not only its mean level)."""

UNIQUENESS = 0.64
"""The far match must also beat the best match elsewhere by this ratio of squared errors:
Lowe's ratio test (IJCV 2004, Sec. 7.1), 0.8 on distances, so 0.64 on squared errors."""


def _cell_means(values: np.ndarray, cell: int) -> np.ndarray:
    """Means of ``values`` ``(h, w[, C])`` over ``(h // cell, w // cell)`` cells, then over the
    overlapping blocks of BLOCK_CELLS x BLOCK_CELLS cells, one per cell where a whole block
    fits: ``(h // cell - BLOCK_CELLS + 1, w // cell - BLOCK_CELLS + 1[, C])``."""
    rows, cols = values.shape[0] // cell, values.shape[1] // cell
    cells = cv2.resize(
        values[: rows * cell, : cols * cell], (cols, rows), interpolation=cv2.INTER_AREA
    )
    n = BLOCK_CELLS
    box = cv2.boxFilter(cells, -1, (n, n), anchor=(0, 0), borderType=cv2.BORDER_CONSTANT)
    return box[: rows - n + 1, : cols - n + 1]


def _backward_residual(clip: AnalysisClip, t: int) -> np.ndarray:
    """``(h, w)`` float32 residual of frame ``t + 1`` predicted from frame ``t`` along the
    backward flow, in levels (cached)."""
    cache: dict[int, np.ndarray] = clip.__dict__.setdefault("_backward_residuals", {})
    if t not in cache:
        predicted = warp(clip.gray[t], clip.flow[t].backward, clip.flow.grid)
        cache[t] = clip.gray[t + 1] - predicted
    return cache[t]


def _block_errors(clip: AnalysisClip, t: int, cell: int) -> tuple[np.ndarray, np.ndarray]:
    """Block means of the squared flow residuals of transition ``t`` (levels^2, cached):
    ``(forward, backward)``, frame ``t`` predicted from ``t + 1`` on frame ``t``'s blocks and
    frame ``t + 1`` predicted from ``t`` on frame ``t + 1``'s blocks."""
    cache: dict[int, tuple[np.ndarray, np.ndarray]] = clip.__dict__.setdefault("_block_err", {})
    if t not in cache:
        forward, backward = warp_residual(clip, t)[0], _backward_residual(clip, t)
        cache[t] = (_cell_means(forward * forward, cell), _cell_means(backward * backward, cell))
    return cache[t]


def _match(
    template: np.ndarray,
    mask: np.ndarray,
    image: np.ndarray,
    top: int,
    left: int,
    radius: int,
    near: int,
) -> tuple[np.ndarray, float, float, float]:
    """Search ``template`` (at ``top, left`` in its own frame) in ``image`` within ``radius``,
    comparing only the pixels where ``mask`` (float32, same shape) is 1.

    Returns:
        ``(shift, best, near_best, runner_up)``: the best displacement ``(dx, dy)`` in pixels;
        its mean squared error (levels^2); the best error within ``near`` pixels of no
        displacement (ordinary motion); the best error at least one template size away from
        the best match (for Lowe's ratio test).
    """
    h, w = template.shape
    y0, x0 = max(0, top - radius), max(0, left - radius)
    y1, x1 = min(image.shape[0], top + h + radius), min(image.shape[1], left + w + radius)
    window = image[y0:y1, x0:x1]
    scores = cv2.matchTemplate(window, template, cv2.TM_SQDIFF, mask=mask) / float(mask.sum())
    best, _, (bx, by), _ = cv2.minMaxLoc(scores)
    cy, cx = top - y0, left - x0  # zero displacement in the score map
    near_best = float(
        scores[max(0, cy - near) : cy + near + 1, max(0, cx - near) : cx + near + 1].min()
    )
    scores[max(0, by - h) : by + h + 1, max(0, bx - w) : bx + w + 1] = np.inf
    runner_up = float(scores.min()) if np.isfinite(scores).any() else np.inf
    shift = np.array([x0 + bx - left, y0 + by - top], np.float32)
    return shift, float(best), near_best, runner_up


def _flow_shifts(clip: AnalysisClip, k: int, cell: int) -> np.ndarray:
    """``(2, R, C, 2)`` block displacements of frame ``k`` to frames ``k - 1`` and ``k + 1``
    from the flow, averaged over the pixels where both flows pass the forward-backward test;
    blocks that are mostly occluded get no flow estimate (0, so no jump)."""
    height, width = clip.gray.shape[1:]
    back_valid = cv2.resize(
        clip.flow.backward_valid(k - 1).astype(np.uint8),
        (width, height),
        interpolation=cv2.INTER_NEAREST,
    )  # (h, w) from every second pixel
    trusted = ((back_valid > 0) & clip.flow[k].valid).astype(np.float32)
    weight = _cell_means(trusted, cell)  # (R, C) fraction trusted
    sides = [clip.flow[k - 1].backward, clip.flow[k].forward]  # (h, w, 2) each
    shifts = np.stack([_cell_means(f * trusted[..., None], cell) for f in sides])
    shifts /= np.maximum(weight, 1e-6)[None, ..., None]
    shifts[:, weight < 0.5] = 0.0
    return shifts


def _surprise(clip: AnalysisClip, k: int, cell: int) -> np.ndarray:
    """``(R, C)``: how much worse each block of frame ``k`` is explained by its neighbours'
    flow than the same place (3x3-block neighbourhood, so that ordinary motion between
    blocks is no surprise) of frames ``k - 1`` and ``k + 1`` is explained by theirs."""
    unexplained = np.minimum(_block_errors(clip, k - 1, cell)[1], _block_errors(clip, k, cell)[0])
    around = [_block_errors(clip, k - 2, cell)[1]] if k >= 2 else []
    if k + 1 < clip.num_transitions:
        around.append(_block_errors(clip, k + 1, cell)[0])
    reference = np.maximum.reduce(around) if around else np.zeros_like(unexplained)
    reference = cv2.dilate(reference, np.ones((3, 3), np.uint8))
    # The frame's median block error is a floor: a block merely noisier than a neighbour
    # that happens to be an exact repeat (duplicated frames) is no surprise.
    return unexplained / (reference + float(np.median(unexplained)) + 1.0)


def _rematch(
    clip: AnalysisClip, k: int, cell: int, surprise: np.ndarray
) -> tuple[int, int, np.ndarray, np.ndarray] | None:
    """Template search for the most surprising blocks of frame ``k``: the most confident
    accepted jump as ``(i, j, shift_to_previous, shift_to_next)`` (pixels), or None."""
    gray = clip.gray
    anomalous = np.minimum(
        np.abs(_backward_residual(clip, k - 1)), np.abs(warp_residual(clip, k)[0])
    )  # (h, w) levels: frame k unexplained by both neighbours
    size = BLOCK_CELLS * cell
    radius = max(1, round(SEARCH_RADIUS * clip.diagonal / 100.0))
    near = max(1, round(NEAR_RADIUS * clip.diagonal / 100.0))
    best: tuple[float, int, int, np.ndarray, np.ndarray] | None = None
    for flat in np.argsort(-surprise, axis=None)[:CANDIDATES]:
        i, j = np.unravel_index(flat, surprise.shape)
        if surprise[i, j] < MIN_SURPRISE:
            break
        top, left = i * cell, j * cell
        template = gray[k, top : top + size, left : left + size]
        # Match only the anomalous pixels: the jumping content, not its surroundings, in a
        # block that straddles its border.
        anomaly = anomalous[top : top + size, left : left + size]
        mask = (anomaly >= anomaly.mean()).astype(np.float32)
        matches = [_match(template, mask, gray[n], top, left, radius, near) for n in (k - 1, k + 1)]
        variance = float(template[mask > 0].var())
        if any(
            m[1] >= min(MATCH_GAIN * m[2], MATCH_GAIN * variance, UNIQUENESS * m[3])
            for m in matches
        ):
            continue
        # The content found before and after must be the same thing (the third side of the
        # path): the two agree better than the block agrees with anything near it.
        (px, py), (nx, ny) = matches[0][0].astype(int), matches[1][0].astype(int)
        before = gray[k - 1, top + py : top + py + size, left + px : left + px + size]
        after = gray[k + 1, top + ny : top + ny + size, left + nx : left + nx + size]
        agreement = float((((before - after) ** 2) * mask).sum() / mask.sum())
        if agreement >= min(m[2] for m in matches):
            continue
        ratio = max(m[1] / m[2] for m in matches)
        if best is None or ratio < best[0]:
            best = (ratio, i, j, matches[0][0], matches[1][0])
    return None if best is None else best[1:]


def frame_jump(clip: AnalysisClip, k: int) -> float:
    """Largest jump of a block of frame ``k`` (``1 <= k <= T - 2``), in analysis pixels.

    Per block ``b``: ``|d_prev(b) + d_next(b)| / 2`` with ``d_prev`` / ``d_next`` the block's
    displacement to frame ``k - 1`` / ``k + 1``: from the flow (:func:`_flow_shifts`), or, for
    the one block whose re-match is accepted (:func:`_rematch`; all candidates see the same
    event, the most confident speaks for it), from the template search. Constant velocity
    gives 0; a block that leaves its path by ``d`` and comes back gives ``d``.
    """
    cell = max(2, min(clip.gray.shape[1:]) // CELLS)
    shifts = _flow_shifts(clip, k, cell)  # (2 sides, R, C, 2)
    found = _rematch(clip, k, cell, _surprise(clip, k, cell))
    if found is not None:
        i, j, to_previous, to_next = found
        shifts[0, i, j], shifts[1, i, j] = to_previous, to_next
    jumps = np.linalg.norm(shifts.sum(axis=0), axis=-1) / 2.0  # (R, C)
    return float(jumps.max())


def teleport(clip: AnalysisClip) -> np.ndarray:
    """Displacement spike per transition, ``(T - 1,)`` in percent of the image diagonal.

    Entry ``t`` is :func:`frame_jump` of frame ``t + 1``: how far the block of frame ``t + 1``
    that jumps the most leaves the path through frames ``t`` and ``t + 2``. A smooth clip
    gives ~0 however fast it moves; one teleporting frame ``k`` shows at transition ``k - 1``.
    The last transition has no following frame and is 0.
    """
    out = np.zeros(clip.num_transitions)
    for k in range(1, clip.num_frames - 1):
        out[k - 1] = float(clip.to_percent_diag(frame_jump(clip, k)))
    return out
