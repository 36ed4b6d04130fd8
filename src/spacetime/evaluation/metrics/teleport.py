"""``teleport``: a region that jumps on one frame, off the path of its neighbouring motion.

A teleport moves content from its place on frame ``k - 1`` to somewhere else on frame ``k``
and back (or on) on frame ``k + 1``: frame ``k`` is an outlier between its neighbours. Along a
plausible path the displacement to the previous frame and the one to the next frame cancel
(constant velocity); a jump makes them add up. Dense flow (DIS) misses jumps of a small region
over more than a few pixels, so the blocks that the flow (or standing still) explains much
worse on frame ``k`` than on the frames around it are re-matched by exhaustive template
search over a wide window centred on the camera motion. A re-match is a jump only if, with
the evidence of both neighbours pooled: it is much better than any match near the camera
motion and than the flow's own prediction; it is unambiguous (Lowe's ratio test) and not
along an edge (Shi-Tomasi); the neighbours agree with each other where the block is (frame
``k`` is the outlier) and show the same content at the two matches; and the excursion off
the path dominates the motion along it. Every threshold is a ratio of the clip's own errors,
so water, repeating textures and shaking cameras raise the bar with their noise.
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

MATCH_GAIN = 0.7
"""A block is re-matched far away only if the far matches' squared errors (summed over both
sides) are below MATCH_GAIN times those of the best matches within :data:`NEAR_RADIUS` of the
camera motion: the content is not just nearby, moved or deformed, as the flow may have
missed."""

JUMP_DOMINANCE = 2.0
"""A re-matched block is a jump only if its excursion off the path is at least JUMP_DOMINANCE
times its motion along it (see :func:`_rematch`)."""

MIN_ISOTROPY = 0.05
"""Blocks are re-matched only if the structure tensor of their anomalous pixels has
``lambda_min >= MIN_ISOTROPY * lambda_max``: the "good features to track" criterion of Shi &
Tomasi (CVPR 1994). Along a straight edge a displacement is unmeasurable (the aperture
problem): at 0.05 the weakest direction still has 5 % of the gradient energy of the
strongest, so its displacement is known to within ~4.5 times the strongest one's."""

UNIQUENESS = 0.64
"""The far matches must also beat the best matches elsewhere by this ratio of squared errors
(summed over both sides): Lowe's ratio test (IJCV 2004, Sec. 7.1), 0.8 on distances, so 0.64
on squared errors. A flat or repeating patch matches in many places and is rejected here."""


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


def _unexplained(clip: AnalysisClip, t: int) -> tuple[np.ndarray, np.ndarray]:
    """``(forward, backward)``, each ``(h, w)`` float32 levels (cached): how badly frame ``t``
    is predicted from frame ``t + 1`` and frame ``t + 1`` from frame ``t``, by the better of
    the flow-compensated prediction and the unmoved pixel.

    The unmoved pixel guards static content next to a fast or jumping region: DIS spreads a
    region's motion over its neighbourhood, and the flow residual there is an artefact of
    the estimator, not of the video.
    """
    cache: dict[int, tuple[np.ndarray, np.ndarray]] = clip.__dict__.setdefault("_unexplained", {})
    if t not in cache:
        gray = clip.gray
        still = np.abs(gray[t] - gray[t + 1])
        forward = np.minimum(np.abs(warp_residual(clip, t)[0]), still)
        predicted = warp(gray[t], clip.flow[t].backward, clip.flow.grid)
        backward = np.minimum(np.abs(gray[t + 1] - predicted), still)
        cache[t] = (forward, backward)
    return cache[t]


def _block_errors(clip: AnalysisClip, t: int, cell: int) -> tuple[np.ndarray, np.ndarray]:
    """Block means of the squared :func:`_unexplained` residuals of transition ``t``
    (levels^2, cached): ``(forward, backward)``, frame ``t`` predicted from ``t + 1`` on frame
    ``t``'s blocks and frame ``t + 1`` predicted from ``t`` on frame ``t + 1``'s blocks."""
    cache: dict[int, tuple[np.ndarray, np.ndarray]] = clip.__dict__.setdefault("_block_err", {})
    if t not in cache:
        forward, backward = _unexplained(clip, t)
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
    centre: tuple[int, int] = (0, 0),
) -> tuple[np.ndarray, float, float, float]:
    """Search ``template`` (at ``top, left`` in its own frame) in ``image`` within ``radius``
    of the displacement ``centre`` ``(dx, dy)`` (the ordinary motion, pixels), comparing only
    the pixels where ``mask`` (float32, same shape) is 1.

    Returns:
        ``(shift, best, near_best, runner_up)``: the best displacement ``(dx, dy)`` in pixels;
        its mean squared error (levels^2); the best error within ``near`` pixels of
        ``centre`` (ordinary motion); the best error at least one template size away from
        the best match (for Lowe's ratio test).
    """
    h, w = template.shape
    height, width = image.shape
    # The ordinary position, kept inside the frame so that the window holds it.
    oy, ox = min(max(top + centre[1], 0), height - h), min(max(left + centre[0], 0), width - w)
    y0, x0 = max(0, oy - radius), max(0, ox - radius)
    y1, x1 = min(height, oy + h + radius), min(width, ox + w + radius)
    window = image[y0:y1, x0:x1]
    scores = cv2.matchTemplate(window, template, cv2.TM_SQDIFF, mask=mask) / float(mask.sum())
    best, _, (bx, by), _ = cv2.minMaxLoc(scores)
    cy, cx = oy - y0, ox - x0  # the ordinary displacement in the score map
    near_best = float(
        scores[max(0, cy - near) : cy + near + 1, max(0, cx - near) : cx + near + 1].min()
    )
    scores[max(0, by - h) : by + h + 1, max(0, bx - w) : bx + w + 1] = np.inf
    runner_up = float(scores.min()) if np.isfinite(scores).any() else np.inf
    shift = np.array([x0 + bx - left, y0 + by - top], np.float32)
    return shift, float(best), near_best, runner_up


def _inside(shape: tuple[int, ...], top: int, left: int, size: int) -> bool:
    """Whether the ``size x size`` window at ``(top, left)`` lies inside a frame of ``shape``."""
    return 0 <= top <= shape[0] - size and 0 <= left <= shape[1] - size


def _crop(image: np.ndarray, top: int, left: int, size: int, shift: tuple[int, int]) -> np.ndarray:
    """The ``size x size`` window of ``image`` at ``(top, left)`` moved by ``shift`` ``(dx,
    dy)`` pixels, clamped inside the frame (as :func:`_match` clamps its ordinary position)."""
    y = min(max(top + shift[1], 0), image.shape[0] - size)
    x = min(max(left + shift[0], 0), image.shape[1] - size)
    return image[y : y + size, x : x + size]


def _flow_shifts(clip: AnalysisClip, k: int, cell: int) -> tuple[np.ndarray, np.ndarray]:
    """``(2, R, C, 2)`` block displacements of frame ``k`` to frames ``k - 1`` and ``k + 1``
    from the flow, averaged over the pixels where both flows pass the forward-backward test
    (on every second pixel: block means need no more); blocks that are mostly occluded get
    no flow estimate (0, so no jump); also ``(R, C)`` bool, the blocks that have one."""
    height, width = clip.gray.shape[1:]
    crop = (slice(0, height // cell * cell // 2), slice(0, width // cell * cell // 2))
    trusted = clip.flow.backward_valid(k - 1) & clip.flow[k].valid[::2, ::2]  # (h/2, w/2)
    trusted = trusted[crop].astype(np.float32)  # the same cells as at full resolution
    weight = _cell_means(trusted, cell // 2)  # (R, C) fraction trusted
    sides = [clip.flow[k - 1].backward[::2, ::2][crop], clip.flow[k].forward[::2, ::2][crop]]
    shifts = np.stack([_cell_means(f * trusted[..., None], cell // 2) for f in sides])
    shifts /= np.maximum(weight, 1e-6)[None, ..., None]
    shifts[:, weight < 0.5] = 0.0
    return shifts, weight >= 0.5  # (2 sides, R, C, 2), (R, C)


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
    # that happens to be an exact repeat (duplicated frames) is no surprise. A floor, not an
    # addend: on content that is hard to predict everywhere (water, a shaking camera) the
    # surprise must still reach MIN_SURPRISE when the block is twice as bad as usual.
    floor = float(np.median(unexplained)) + 1.0
    return unexplained / np.maximum(reference, floor)


def _isotropy(template: np.ndarray, mask: np.ndarray) -> float:
    """``lambda_min / lambda_max`` in [0, 1] of the structure tensor (the sum of ``g g^T`` of
    the Sobel gradients ``g``) over the pixels of ``template`` where ``mask`` is 1: ~0 on a
    straight edge, ~1 on isotropic texture."""
    gx = cv2.Sobel(template, cv2.CV_32F, 1, 0, ksize=3) * mask
    gy = cv2.Sobel(template, cv2.CV_32F, 0, 1, ksize=3) * mask
    xx, xy, yy = float((gx * gx).sum()), float((gx * gy).sum()), float((gy * gy).sum())
    # Eigenvalues of the symmetric 2x2 tensor [[xx, xy], [xy, yy]].
    half_trace, root = (xx + yy) / 2.0, float(np.hypot((xx - yy) / 2.0, xy))
    return (half_trace - root) / (half_trace + root) if half_trace > 0 else 0.0


def _rematch(
    clip: AnalysisClip, k: int, cell: int, surprise: np.ndarray, camera: np.ndarray
) -> tuple[int, int, np.ndarray, np.ndarray] | None:
    """Template search for the most surprising blocks of frame ``k``: the most confident
    accepted jump as ``(i, j, shift_to_previous, shift_to_next)`` (pixels), or None.

    ``camera`` ``(2, 2)``: the ordinary displacement ``(dx, dy)`` of frame ``k`` to frames
    ``k - 1`` and ``k + 1`` (the median block flow): searches and the "near" (no jump)
    hypothesis are centred there, so that a fast or shaking camera is no jump.
    """
    camera = [(round(float(c[0])), round(float(c[1]))) for c in camera]
    gray = clip.gray
    anomalous = None  # (h, w) levels: frame k unexplained by both neighbours (when needed)
    size = BLOCK_CELLS * cell
    radius = max(1, round(SEARCH_RADIUS * clip.diagonal / 100.0))
    near = max(1, round(NEAR_RADIUS * clip.diagonal / 100.0))
    best: tuple[float, int, int, np.ndarray, np.ndarray] | None = None
    for flat in np.argsort(-surprise, axis=None)[:CANDIDATES]:
        i, j = np.unravel_index(flat, surprise.shape)
        if surprise[i, j] < MIN_SURPRISE:
            break
        if anomalous is None:
            unexplained = (_unexplained(clip, k - 1)[1], _unexplained(clip, k)[0])
            anomalous = np.minimum(*unexplained)
        top, left = i * cell, j * cell
        if any(not _inside(gray.shape[1:], top + c[1], left + c[0], size) for c in camera):
            continue  # the camera moves this block out of view in a neighbour: no evidence
        template = gray[k, top : top + size, left : left + size]
        # Match only the anomalous pixels: the jumping content, not its surroundings, in a
        # block that straddles its border.
        anomaly = anomalous[top : top + size, left : left + size]
        mask = (anomaly >= anomaly.mean()).astype(np.float32)
        if _isotropy(template, mask) < MIN_ISOTROPY:
            continue  # an edge: a match slides along it (the aperture problem)
        matches = [
            _match(template, mask, gray[n], top, left, radius, near, c)
            for n, c in zip((k - 1, k + 1), camera, strict=True)
        ]
        # The evidence of both sides is pooled (sums of squared errors): one jump hypothesis
        # explains both neighbours, and one blurred or noisy neighbour should not veto it.
        best_sum, near_sum, runner_sum = (sum(m[n] for m in matches) for n in (1, 2, 3))
        if best_sum >= MATCH_GAIN * near_sum or best_sum >= UNIQUENESS * runner_sum:
            continue
        # The jump must also beat the ordinary prediction pixel by pixel: the flow (or the
        # unmoved pixel) from each neighbour, on the same pixels.
        ordinary = sum(
            float((side[top : top + size, left : left + size] ** 2 * mask).sum() / mask.sum())
            for side in unexplained
        )
        if best_sum >= MATCH_GAIN * ordinary:
            continue
        # Frame k is the outlier between its neighbours: what the block covers is the same
        # before and after (the neighbours agree in place, up to the camera motion) and
        # unlike frame k, whereas content that is merely hard to predict (a fast hand that
        # reveals and covers background) differs between all three frames.
        covered = [_crop(gray[k - 1], top, left, size, camera[0])]
        covered.append(_crop(gray[k + 1], top, left, size, camera[1]))
        skip = float((((covered[0] - covered[1]) ** 2) * mask).sum() / mask.sum())
        if 2.0 * skip >= MATCH_GAIN * ordinary:  # ordinary: a sum over the two sides
            continue
        # The content found before and after must be the same thing (the third side of the
        # path): the two agree better than the block agrees with anything near it.
        (px, py), (nx, ny) = matches[0][0].astype(int), matches[1][0].astype(int)
        before = gray[k - 1, top + py : top + py + size, left + px : left + px + size]
        after = gray[k + 1, top + ny : top + ny + size, left + nx : left + nx + size]
        agreement = float((((before - after) ** 2) * mask).sum() / mask.sum())
        if agreement >= min(m[2] for m in matches):
            continue
        # The jump must change what is seen (the aperture problem): in each neighbour, the
        # content found at the match differs from what that neighbour shows in place, else
        # the match slid along an edge or a repeating texture and proves nothing.
        if any(
            m[1] >= MATCH_GAIN * float((((found - here) ** 2) * mask).sum() / mask.sum())
            for m, found, here in zip(matches, (before, after), covered, strict=True)
        ):
            continue
        # There and back: a jump ``J = (d_prev + d_next) / 2`` off the path must dominate the
        # motion ``V = (d_next - d_prev) / 2`` along it, else this is fast motion (content
        # found at two different places before and after), not a one-frame excursion.
        # Both relative to the camera motion, which may be fast or shaking.
        to_previous, to_next = matches[0][0] - camera[0], matches[1][0] - camera[1]
        if JUMP_DOMINANCE * np.hypot(*(to_next - to_previous)) > np.hypot(*(to_next + to_previous)):
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
    cell = 2 * max(1, min(clip.gray.shape[1:]) // (2 * CELLS))  # even: see _flow_shifts
    shifts, trusted = _flow_shifts(clip, k, cell)  # (2 sides, R, C, 2), (R, C)
    camera = np.median(shifts[:, trusted], axis=1) if trusted.any() else np.zeros((2, 2))
    found = _rematch(clip, k, cell, _surprise(clip, k, cell), camera)
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
