"""Report pictures: metric curves with the worst transition in red, strips with marked frames."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from spacetime.evaluation.report.plots import data_uri, metric_plot_png, strip_png
from spacetime.video.writer import STRIP_MARK


def _decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def _red_pixels(image: np.ndarray) -> int:
    r, g, b = (image[..., k].astype(int) for k in range(3))
    return int(((r > 180) & (g < 60) & (b < 60)).sum())


def test_metric_plot_layout_and_worst_marker(make_report) -> None:
    report = make_report(frames=9, spike_at=3)
    image = _decode(metric_plot_png(report.metrics, dpi=50, panel_inches=2.0))
    # 8 metrics -> 4 columns x 2 rows of 2.0 x 1.44 inch panels at 50 dpi.
    assert image.shape[1] == 400 and abs(image.shape[0] - 144) <= 1
    assert _red_pixels(image) > 0
    # Metrics told not to mark their maximum (motion is not a failure) get no red dot.
    quiet = metric_plot_png(report.metrics, unmarked=set(report.metrics), dpi=50, panel_inches=2.0)
    assert _red_pixels(_decode(quiet)) == 0
    one = {"flicker": report.metrics["flicker"]}
    assert _decode(metric_plot_png(one, dpi=50, panel_inches=2.0)).shape[1] == 100


def marked_tiles(image: np.ndarray, tile: int, border: int) -> list[int]:
    """Indices of the strip's tiles whose border is the red mark of ``write_strip``."""
    count = image.shape[1] // tile
    return [k for k in range(count) if tuple(image[0, k * tile + border]) == tuple(STRIP_MARK)]


def test_strip_marks_given_frames_and_limits_tile_height() -> None:
    frames = np.full((9, 32, 32, 3), 128, np.uint8)
    image = _decode(strip_png(frames, {5, 2}))
    border, tile = 2, 32 + 2 * 2  # write_strip: a border of max(2, H // 32) around each tile
    assert image.shape == (tile, 9 * tile, 3)
    assert marked_tiles(image, tile, border) == [2, 5]
    small = _decode(strip_png(frames, {5}, tile_height=16))
    assert small.shape == (16 + 4, 9 * 20, 3) and marked_tiles(small, 20, 2) == [5]


def test_data_uri_round_trip() -> None:
    assert data_uri(b"\x89PNG") == "data:image/png;base64,iVBORw=="
