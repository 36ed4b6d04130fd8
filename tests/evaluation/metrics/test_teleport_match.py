"""Template re-matching for teleport: residuals, surprise, masked search, isotropy, rematch."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from spacetime.evaluation.metrics.context import AnalysisClip
from spacetime.evaluation.metrics.teleport_blocks import BLOCK_CELLS, cell_size
from spacetime.evaluation.metrics.teleport_match import (
    MIN_SURPRISE,
    isotropy,
    match,
    rematch,
    surprise,
    unexplained,
)

# Displacements of frame k's content to frames k-2, k-1, k+1, k+2 on a pan of (1, 0) px per
# frame: the content moves 1 px left per frame.
PAN_CAMERA = np.array([[2, 0], [1, 0], [-1, 0], [-2, 0]], np.float32)


@pytest.fixture
def clips(pan: Callable[..., np.ndarray]) -> tuple[AnalysisClip, AnalysisClip]:
    """A 9-frame 96 px pan of (1, 0) px per frame, and the same pan where on frame 4 a 24 px
    patch shows the content 20 px to its left (it jumps 20 px right for one frame)."""
    smooth = pan(frames=9, size=96, step=(1, 0), seed=4)
    jumped = smooth.copy()
    jumped[4, 30:54, 50:74] = smooth[4, 30:54, 30:54]
    return AnalysisClip(smooth, analysis_size=None), AnalysisClip(jumped, analysis_size=None)


def test_isotropy_is_zero_on_a_straight_edge_and_high_on_texture(
    texture: Callable[..., np.ndarray],
) -> None:
    mask = np.ones((24, 24), np.float32)
    edge = np.zeros((24, 24), np.float32)
    edge[12:] = 200.0
    patch = texture(24, 24, 1)[..., 0].astype(np.float32)
    assert isotropy(edge, mask) < 0.01
    assert isotropy(patch, mask) > 0.2
    assert isotropy(np.zeros((24, 24), np.float32), mask) == 0.0


def test_isotropy_is_one_on_a_round_bowl_and_reads_only_the_mask() -> None:
    y, x = np.mgrid[0:24, 0:24].astype(np.float32)
    # (x - c)^2 + (y - c)^2 about the centre: sum gx^2 = sum gy^2 and sum gx gy = 0.
    bowl = (x - 11.5) ** 2 + (y - 11.5) ** 2
    ones = np.ones((24, 24), np.float32)
    assert isotropy(bowl, ones) == pytest.approx(1.0, abs=1e-5)
    assert isotropy(3.0 * x, ones) == pytest.approx(0.0, abs=1e-6)  # a ramp: one direction
    # Top half a vertical ramp, bottom half the bowl: each mask sees only its own half.
    mixed = np.where(y < 12, 3.0 * y, bowl)
    top, bottom = (y < 10).astype(np.float32), (y >= 14).astype(np.float32)
    assert isotropy(mixed, top) == pytest.approx(0.0, abs=1e-6)
    assert isotropy(mixed, bottom) > 0.5


def test_match_finds_a_shifted_template_and_reports_the_alternatives(
    texture: Callable[..., np.ndarray],
) -> None:
    frame = texture(96, 96, 3)[..., 0].astype(np.float32)
    moved = np.roll(frame, (-5, 12), axis=(0, 1))  # content moves 12 px right, 5 px up
    template, mask = frame[30:46, 30:46].copy(), np.ones((16, 16), np.float32)
    found = match(template, mask, moved, 30, 30, radius=20, near=2)
    assert found.shift.tolist() == [12.0, -5.0]
    assert found.best < 1e-3  # the same pixels: no error (up to float sums)
    assert found.near > 100.0 and found.runner_up > 100.0  # nothing else fits
    # Centred on the true displacement, the near hypothesis is the match itself.
    centred = match(template, mask, moved, 30, 30, radius=20, near=2, centre=(12, -5))
    assert centred.shift.tolist() == [12.0, -5.0] and centred.near < 1e-3
    # Out of reach of the search radius: the best place is within it, and poor.
    short = match(template, mask, moved, 30, 30, radius=8, near=2)
    assert np.abs(short.shift).max() <= 8 and short.best > 100.0


def test_match_compares_only_the_masked_pixels(texture: Callable[..., np.ndarray]) -> None:
    frame = texture(96, 96, 3)[..., 0].astype(np.float32)
    moved = np.roll(frame, (7, -9), axis=(0, 1))
    template, mask = frame[40:56, 40:56].copy(), np.ones((16, 16), np.float32)
    mask[:, 8:] = 0.0
    template[:, 8:] = 255.0  # garbage where the mask is 0
    found = match(template, mask, moved, 40, 40, radius=20, near=1)
    assert found.shift.tolist() == [-9.0, 7.0] and found.best < 1e-3


def test_a_repeating_texture_has_a_runner_up_as_good_as_the_match(
    texture: Callable[..., np.ndarray],
) -> None:
    tile = texture(16, 16, 5)[..., 0].astype(np.float32)
    tiled = np.tile(tile, (6, 6))
    mask = np.ones((16, 16), np.float32)
    found = match(tiled[32:48, 32:48].copy(), mask, tiled, 32, 32, radius=20, near=2)
    # Every 16 px the same content: the ratio test (best < UNIQUENESS * runner_up) cannot pass.
    assert found.best < 1e-3 and found.runner_up < 1e-3
    assert found.shift.tolist() in ([-16.0, -16.0], [0.0, 0.0], [16.0, 16.0])


def test_unexplained_is_bounded_by_the_unmoved_pixel_and_cached(
    clips: tuple[AnalysisClip, AnalysisClip],
) -> None:
    smooth, jumped = clips
    forward, backward = unexplained(jumped, 3)
    still = np.abs(jumped.gray[3] - jumped.gray[4])
    assert forward.shape == backward.shape == (96, 96)
    assert (forward >= 0).all() and (forward <= still).all() and (backward <= still).all()
    assert unexplained(jumped, 3)[0] is forward  # computed once
    # Identical frames are fully explained.
    frozen = AnalysisClip(np.repeat(smooth.rgb[:1], 3, axis=0), analysis_size=None)
    assert all(not part.any() for part in unexplained(frozen, 0))


def test_surprise_points_at_the_jumped_block_only_on_its_frame(
    clips: tuple[AnalysisClip, AnalysisClip],
) -> None:
    smooth, jumped = clips
    cell = cell_size(jumped)
    assert cell == 6  # 2 * (96 // 32)
    rows = 96 // cell - BLOCK_CELLS + 1
    scores = surprise(jumped, 4, cell)
    assert scores.shape == (rows, rows)
    i, j = np.unravel_index(int(scores.argmax()), scores.shape)
    size = BLOCK_CELLS * cell
    # The most surprising block lies inside the patch (rows 30..54, columns 50..74).
    assert i * cell >= 30 and i * cell + size <= 54 and j * cell >= 50 and j * cell + size <= 74
    assert scores.max() > 50 * MIN_SURPRISE
    assert surprise(smooth, 4, cell).max() < MIN_SURPRISE  # ordinary motion is no surprise
    for k in (2, 6):  # nor the frames around the jump
        assert surprise(jumped, k, cell).max() < MIN_SURPRISE


def test_rematch_finds_where_the_jumped_block_came_from(
    clips: tuple[AnalysisClip, AnalysisClip],
) -> None:
    smooth, jumped = clips
    cell = cell_size(jumped)
    found = rematch(jumped, 4, cell, PAN_CAMERA)
    assert found is not None
    (i, j), path = found
    assert i * cell >= 30 and j * cell >= 50
    # The block shows on frame 4 the content 20 px to its left; along the pan (1 px left per
    # frame) that content is 18, 19, 21 and 22 px to the left on frames 2, 3, 5 and 6.
    assert path.tolist() == [[-18.0, 0.0], [-19.0, 0.0], [-21.0, 0.0], [-22.0, 0.0]]
    assert rematch(smooth, 4, cell, PAN_CAMERA) is None
    unknown = PAN_CAMERA.copy()
    unknown[1] = np.nan  # no camera motion to a neighbour: nothing to search from
    assert rematch(jumped, 4, cell, unknown) is None


def test_at_the_clip_ends_the_second_neighbours_stay_unknown(
    clips: tuple[AnalysisClip, AnalysisClip],
) -> None:
    _, jumped = clips
    cell = cell_size(jumped)
    camera = PAN_CAMERA.copy()
    camera[3] = np.nan  # frame k + 2 does not exist
    found = rematch(jumped, 4, cell, camera)
    assert found is not None
    path = found[1]
    assert np.isnan(path[3]).all() and path[:3].tolist() == [[-18, 0], [-19, 0], [-21, 0]]
