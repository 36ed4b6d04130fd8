"""The block grid that ``teleport`` works on: overlapping blocks of a few cells each."""

from __future__ import annotations

import cv2
import numpy as np

from spacetime.evaluation.metrics.context import AnalysisClip

CELLS = 16
"""The short side is cut into CELLS cells ..."""

BLOCK_CELLS = 3
"""... a block is BLOCK_CELLS x BLOCK_CELLS cells (3/16 of the short side) and blocks start
at every cell, so any region of 1/4 of the short side or more contains a whole block."""


def cell_size(clip: AnalysisClip) -> int:
    """The cell side in analysis pixels (even, so that half-resolution maps align)."""
    return 2 * max(1, min(clip.gray.shape[1:]) // (2 * CELLS))


def cell_means(values: np.ndarray, cell: int) -> np.ndarray:
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
