"""The teleport block grid: cell size from the short side, cell and overlapping-block means."""

from __future__ import annotations

import numpy as np
import pytest

from spacetime.evaluation.metrics.context import AnalysisClip
from spacetime.evaluation.metrics.teleport_blocks import BLOCK_CELLS, CELLS, cell_means, cell_size


def _block_means(values: np.ndarray, cell: int) -> np.ndarray:
    """The same means written out: cells by reshaping, blocks by explicit 3x3 windows."""
    rows, cols = values.shape[0] // cell, values.shape[1] // cell
    cropped = values[: rows * cell, : cols * cell].astype(np.float64)
    cells = cropped.reshape(rows, cell, cols, cell, *values.shape[2:]).mean(axis=(1, 3))
    n = BLOCK_CELLS
    return np.stack(
        [
            np.stack([cells[i : i + n, j : j + n].mean(axis=(0, 1)) for j in range(cols - n + 1)])
            for i in range(rows - n + 1)
        ]
    )


@pytest.mark.parametrize(
    ("height", "width", "expected"),
    [(96, 128, 6), (128, 96, 6), (64, 200, 4), (16, 16, 2), (31, 40, 2), (255, 300, 14)],
)
def test_cell_size_is_an_even_sixteenth_of_the_short_side(
    height: int, width: int, expected: int
) -> None:
    frames = np.zeros((2, height, width, 3), np.uint8)
    clip = AnalysisClip(frames, analysis_size=None)
    assert cell_size(clip) == expected == 2 * max(1, min(height, width) // (2 * CELLS))


def test_cell_means_match_the_written_out_means() -> None:
    rng = np.random.default_rng(0)
    values = rng.uniform(0, 255, (13, 17)).astype(np.float32)  # crops to 12 x 16 for cell 2
    out = cell_means(values, 2)
    assert out.shape == (6 - 2, 8 - 2) and out.dtype == np.float32
    np.testing.assert_allclose(out, _block_means(values, 2), rtol=1e-5)
    colour = rng.uniform(0, 1, (24, 30, 3)).astype(np.float32)  # channels are kept apart
    out = cell_means(colour, 3)
    assert out.shape == (8 - 2, 10 - 2, 3)
    np.testing.assert_allclose(out, _block_means(colour, 3), rtol=1e-5)


def test_one_bright_cell_reaches_exactly_the_blocks_that_contain_it() -> None:
    values = np.zeros((24, 24), np.float32)
    values[8:12, 12:16] = 90.0  # cell (2, 3) of 4 px cells
    out = cell_means(values, 4)
    assert out.shape == (4, 4)
    hit = np.zeros((4, 4), bool)
    hit[0:3, 1:4] = True  # blocks starting at rows 0..2 and columns 1..3 hold cell (2, 3)
    np.testing.assert_allclose(out[hit], 10.0, rtol=1e-6)  # 90 / 9 cells
    assert not out[~hit].any()
    constant = cell_means(np.full((30, 30), 7.0, np.float32), 5)
    np.testing.assert_allclose(constant, np.full((4, 4), 7.0), rtol=1e-6)
