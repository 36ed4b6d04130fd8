"""Template re-matching for ``teleport``: where did a block the flow cannot follow go?

Dense flow (DIS) misses a small region's jump over more than a few pixels. The blocks of
frame ``k`` that its neighbours explain much worse than the same place is explained on the
frames around (:func:`surprise`) are searched by exhaustive template matching over a wide
window centred on the camera motion, in frames ``k - 1`` and ``k + 1``, then near there in
``k - 2`` and ``k + 2``. A re-match is evidence of content found elsewhere only if, with the
two neighbours' evidence pooled: it is much better than any match near the camera motion and
than the flow's own prediction; it is unambiguous (Lowe's ratio test) and not along an edge
(Shi-Tomasi); the neighbours agree with each other in place (frame ``k`` is the outlier) and
show the same content at the two matches, which differs from what they show in place.
Every threshold is a ratio of the clip's own errors, so water, repeating textures and
shaking cameras raise the bar with their noise. Whether the re-matched path is a jump is
decided by :func:`~spacetime.evaluation.metrics.teleport.off_path`, like any other.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from spacetime.evaluation.flow import warp
from spacetime.evaluation.metrics.context import AnalysisClip
from spacetime.evaluation.metrics.photometric import warp_residual
from spacetime.evaluation.metrics.teleport_blocks import BLOCK_CELLS, cell_means

CANDIDATES = 10
"""Blocks per frame re-matched by template search."""

MIN_SURPRISE = 2.0
"""Only blocks explained at least MIN_SURPRISE times worse on frame ``k`` (by its neighbours)
than the same place on the frames around it (by theirs) are searched: a teleport stands out
in time, ordinary hard-to-track content (water, fast hands) does so on every frame."""

SEARCH_RADIUS = 20.0
"""Template search radius in frames ``k +- 1``, in percent of the image diagonal (frames
``k +- 2`` are searched only where the content's own speed can take it)."""

NEAR_RADIUS = 1.0
"""Displacements within NEAR_RADIUS percent of the diagonal are ordinary motion."""

MATCH_GAIN = 0.7
"""A block is re-matched far away only if the far matches' squared errors (summed over both
sides) are below MATCH_GAIN times those of the best matches within :data:`NEAR_RADIUS` of the
camera motion: the content is not just nearby, moved or deformed, as the flow may have
missed."""

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


def unexplained(clip: AnalysisClip, t: int) -> tuple[np.ndarray, np.ndarray]:
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
    """Block means of the squared :func:`unexplained` residuals of transition ``t``
    (levels^2, cached): ``(forward, backward)`` on frame ``t``'s and frame ``t + 1``'s
    blocks."""
    cache: dict[int, tuple[np.ndarray, np.ndarray]] = clip.__dict__.setdefault("_block_err", {})
    if t not in cache:
        forward, backward = unexplained(clip, t)
        cache[t] = (cell_means(forward * forward, cell), cell_means(backward * backward, cell))
    return cache[t]


def surprise(clip: AnalysisClip, k: int, cell: int) -> np.ndarray:
    """``(R, C)``: how much worse each block of frame ``k`` is explained by its neighbours'
    flow than the same place (3x3-block neighbourhood, so that ordinary motion between
    blocks is no surprise) of frames ``k - 1`` and ``k + 1`` is explained by theirs."""
    here = np.minimum(_block_errors(clip, k - 1, cell)[1], _block_errors(clip, k, cell)[0])
    around = [_block_errors(clip, k - 2, cell)[1]] if k >= 2 else []
    if k + 1 < clip.num_transitions:
        around.append(_block_errors(clip, k + 1, cell)[0])
    reference = np.maximum.reduce(around) if around else np.zeros_like(here)
    reference = cv2.dilate(reference, np.ones((3, 3), np.uint8))
    # The frame's median block error is a floor: a block merely noisier than a neighbour
    # that happens to be an exact repeat (duplicated frames) is no surprise. A floor, not an
    # addend: on content that is hard to predict everywhere (water, a shaking camera) the
    # surprise must still reach MIN_SURPRISE when the block is twice as bad as usual.
    floor = float(np.median(here)) + 1.0
    return here / np.maximum(reference, floor)


@dataclass(frozen=True)
class Match:
    """The best place of a template in a search window.

    Attributes:
        shift: ``(dx, dy)`` pixels from the template's own position to the best match.
        best: its mean squared error (levels^2) over the template's mask.
        near: the best error within ``near`` pixels of the window's centre (ordinary motion).
        runner_up: the best error at least one template size away from the best match.
    """

    shift: np.ndarray
    best: float
    near: float
    runner_up: float


def match(
    template: np.ndarray,
    mask: np.ndarray,
    image: np.ndarray,
    top: int,
    left: int,
    radius: int,
    near: int,
    centre: tuple[int, int] = (0, 0),
) -> Match:
    """Search ``template`` (at ``top, left`` in its own frame) in ``image`` within ``radius``
    of the displacement ``centre`` ``(dx, dy)`` (pixels), comparing only the pixels where
    ``mask`` (float32, same shape) is 1."""
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
    return Match(shift, float(best), near_best, runner_up)


def isotropy(template: np.ndarray, mask: np.ndarray) -> float:
    """``lambda_min / lambda_max`` in [0, 1] of the structure tensor (the sum of ``g g^T`` of
    the Sobel gradients ``g``) over the pixels of ``template`` where ``mask`` is 1: ~0 on a
    straight edge, ~1 on isotropic texture."""
    gx = cv2.Sobel(template, cv2.CV_32F, 1, 0, ksize=3) * mask
    gy = cv2.Sobel(template, cv2.CV_32F, 0, 1, ksize=3) * mask
    xx, xy, yy = float((gx * gx).sum()), float((gx * gy).sum()), float((gy * gy).sum())
    # Eigenvalues of the symmetric 2x2 tensor [[xx, xy], [xy, yy]].
    half_trace, root = (xx + yy) / 2.0, float(np.hypot((xx - yy) / 2.0, xy))
    return (half_trace - root) / (half_trace + root) if half_trace > 0 else 0.0


def _crop(image: np.ndarray, top: int, left: int, size: int, shift: tuple[int, int]) -> np.ndarray:
    """The ``size x size`` window of ``image`` at ``(top, left)`` moved by ``shift`` ``(dx,
    dy)`` pixels, clamped inside the frame (as :func:`match` clamps its ordinary position)."""
    y = min(max(top + shift[1], 0), image.shape[0] - size)
    x = min(max(left + shift[0], 0), image.shape[1] - size)
    return image[y : y + size, x : x + size]


def _masked_mse(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    return float((((a - b) ** 2) * mask).sum() / mask.sum())


@dataclass(frozen=True)
class Candidate:
    """One block of frame ``k`` to re-match: its place, pixels and the anomalous mask."""

    top: int
    left: int
    size: int
    template: np.ndarray
    mask: np.ndarray


def _accepted(
    clip: AnalysisClip,
    k: int,
    block: Candidate,
    matches: list[Match],
    camera: list[tuple[int, int]],
    ordinary: float,
) -> bool:
    """Whether the matches in frames ``k - 1`` and ``k + 1`` show the block's content found
    elsewhere (the tests of the module docstring)."""
    gray, top, left, size, mask = clip.gray, block.top, block.left, block.size, block.mask
    # The evidence of both sides is pooled (sums of squared errors): one hypothesis explains
    # both neighbours, and one blurred or noisy neighbour should not veto it.
    best, near, runner = (
        sum(getattr(m, n) for m in matches) for n in ("best", "near", "runner_up")
    )
    if best >= MATCH_GAIN * near or best >= UNIQUENESS * runner or best >= MATCH_GAIN * ordinary:
        return False
    # Frame k is the outlier between its neighbours: what the block covers is the same
    # before and after (in place, up to the camera motion) and unlike frame k, whereas
    # content that is merely hard to predict (a fast hand) differs between all three frames.
    covered = [
        _crop(gray[n], top, left, size, c) for n, c in zip((k - 1, k + 1), camera, strict=True)
    ]
    if 2.0 * _masked_mse(covered[0], covered[1], mask) >= MATCH_GAIN * ordinary:
        return False
    # The content found before and after must be the same thing (the third side of the
    # path): the two agree better than the block agrees with anything near it.
    found = [
        _crop(gray[n], top, left, size, (int(m.shift[0]), int(m.shift[1])))
        for n, m in zip((k - 1, k + 1), matches, strict=True)
    ]
    if _masked_mse(found[0], found[1], mask) >= min(m.near for m in matches):
        return False
    # The match must change what is seen (the aperture problem): in each neighbour, the
    # content at the match differs from what that neighbour shows in place, else the match
    # slid along an edge or a repeating texture and proves nothing.
    return all(
        m.best < MATCH_GAIN * _masked_mse(f, c, mask)
        for m, f, c in zip(matches, found, covered, strict=True)
    )


def _candidates(clip: AnalysisClip, k: int, cell: int, camera: list[tuple[int, int]]):
    """The blocks of frame ``k`` worth searching, most surprising first (a generator)."""
    scores = surprise(clip, k, cell)
    size = BLOCK_CELLS * cell
    anomalous = None
    height, width = clip.gray.shape[1:]
    for flat in np.argsort(-scores, axis=None)[:CANDIDATES]:
        i, j = (int(v) for v in np.unravel_index(flat, scores.shape))
        if scores[i, j] < MIN_SURPRISE:
            return
        top, left = i * cell, j * cell
        if any(
            not (0 <= top + c[1] <= height - size and 0 <= left + c[0] <= width - size)
            for c in camera
        ):
            continue  # the camera moves this block out of view in a neighbour: no evidence
        if anomalous is None:  # frame k unexplained by both neighbours, (h, w) levels
            anomalous = np.minimum(unexplained(clip, k - 1)[1], unexplained(clip, k)[0])
        # Match only the anomalous pixels: the jumping content, not its surroundings, in a
        # block that straddles its border.
        anomaly = anomalous[top : top + size, left : left + size]
        mask = (anomaly >= anomaly.mean()).astype(np.float32)
        template = clip.gray[k, top : top + size, left : left + size]
        if isotropy(template, mask) < MIN_ISOTROPY:
            continue  # an edge: a match slides along it (the aperture problem)
        yield (i, j), Candidate(top, left, size, template, mask)


def rematch(
    clip: AnalysisClip, k: int, cell: int, camera: np.ndarray
) -> tuple[tuple[int, int], np.ndarray] | None:
    """The most confident accepted re-match of frame ``k``'s surprising blocks, as ``((i, j),
    path)`` with ``path`` ``(4, 2)`` the block's displacements (pixels) to frames ``k - 2,
    k - 1, k + 1, k + 2`` (NaN beyond the clip), or None.

    ``camera`` ``(4, 2)``: the ordinary displacement of frame ``k`` to those frames (the
    median block flow): searches and the "near" hypothesis are centred there.
    """
    if not np.isfinite(camera[1:3]).all():
        return None
    steps = [(round(float(c[0])), round(float(c[1]))) for c in camera[1:3]]
    radius = max(1, round(SEARCH_RADIUS * clip.diagonal / 100.0))
    near = max(1, round(NEAR_RADIUS * clip.diagonal / 100.0))
    best: tuple[float, tuple[int, int], np.ndarray] | None = None
    for (i, j), block in _candidates(clip, k, cell, steps):
        gray, top, left, size, mask = clip.gray, block.top, block.left, block.size, block.mask
        matches = [
            match(block.template, mask, gray[n], top, left, radius, near, c)
            for n, c in zip((k - 1, k + 1), steps, strict=True)
        ]
        # The ordinary prediction of the block from each neighbour (flow or unmoved pixel).
        sides = (unexplained(clip, k - 1)[1], unexplained(clip, k)[0])
        ordinary = sum(
            _masked_mse(s[top : top + size, left : left + size], 0.0, mask) for s in sides
        )
        if not _accepted(clip, k, block, matches, steps, ordinary):
            continue
        path = np.full((4, 2), np.nan, np.float32)
        path[1], path[2] = matches[0].shift, matches[1].shift
        # The second neighbours, searched where constant velocity across k puts the content
        # (plus the camera's step), within its speed: there must be the same content, else
        # that side stays unknown (NaN) and off_path falls back to the three-frame rule.
        speed = matches[1].shift - matches[0].shift  # two frames' worth
        reach = near + round(float(np.hypot(*speed)) / 2.0)
        for side, n, first, sign in ((0, k - 2, 0, -1), (3, k + 2, 1, 1)):
            if not (0 <= n < clip.num_frames and np.isfinite(camera[side]).all()):
                continue
            step = camera[side] - camera[1 + first] + sign * (speed - (camera[2] - camera[1])) / 2
            centre = matches[first].shift + step
            centre = (round(float(centre[0])), round(float(centre[1])))
            found = match(block.template, mask, gray[n], top, left, reach, near, centre)
            if found.best <= 2.0 * max(m.best for m in matches):
                path[side] = found.shift
        ratio = max(m.best / m.near for m in matches)
        if best is None or ratio < best[0]:
            best = (ratio, (i, j), path)
    return None if best is None else best[1:]
