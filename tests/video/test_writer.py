"""Tests for spacetime.video.writer: mp4 / gif / png strip / frame folder writers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from spacetime.errors import SpacetimeError
from spacetime.video import (
    VideoError,
    read_video,
    strip_indices,
    write_frames,
    write_gif,
    write_mp4,
    write_strip,
    write_video,
)

Psnr = Callable[[np.ndarray, np.ndarray], float]


def test_mp4_round_trip_is_faithful(tmp_path: Path, smooth_frames: np.ndarray, psnr_db: Psnr):
    path = write_mp4(tmp_path / "clip.mp4", smooth_frames, fps=12.0)
    video = read_video(path)
    assert video.frames.shape == smooth_frames.shape
    assert video.fps == pytest.approx(12.0)
    assert psnr_db(video.frames, smooth_frames) > 35.0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp file left


def test_mp4_crf_trades_size_for_quality(tmp_path: Path, smooth_frames: np.ndarray, psnr_db: Psnr):
    noisy = np.clip(
        smooth_frames + np.random.default_rng(0).normal(0, 6, smooth_frames.shape), 0, 255
    ).astype(np.uint8)
    fine = write_mp4(tmp_path / "fine.mp4", noisy, fps=8.0, crf=12)
    coarse = write_mp4(tmp_path / "coarse.mp4", noisy, fps=8.0, crf=35)
    assert fine.stat().st_size > coarse.stat().st_size
    assert psnr_db(read_video(fine).frames, noisy) > psnr_db(read_video(coarse).frames, noisy) + 3


def test_mp4_pads_odd_sizes_by_edge_replication(tmp_path: Path, smooth_frames: np.ndarray):
    odd = smooth_frames[:, :47, :63]
    video = read_video(write_mp4(tmp_path / "odd.mp4", odd, fps=8.0))
    assert video.frames.shape == (12, 48, 64, 3)
    # The added row/column repeats its neighbour (not black): tiny difference only.
    last_row = video.frames[:, 47].astype(int)
    assert np.abs(last_row - video.frames[:, 46].astype(int)).mean() < 6
    assert last_row.mean() > 40


def test_mp4_keeps_ntsc_rates(tmp_path: Path, smooth_frames: np.ndarray):
    video = read_video(write_mp4(tmp_path / "ntsc.mp4", smooth_frames[:4], fps=30000 / 1001))
    assert video.fps == pytest.approx(29.97, abs=1e-3)


def test_gif_round_trip_keeps_every_frame_and_the_rate(
    tmp_path: Path, smooth_frames: np.ndarray, psnr_db: Psnr
):
    frames = smooth_frames[:9].copy()
    frames[4] = frames[3]  # a repeated frame must stay a frame
    video = read_video(write_gif(tmp_path / "clip.gif", frames, fps=8.0))
    assert video.frames.shape == frames.shape
    assert video.fps == pytest.approx(8.0)
    np.testing.assert_array_equal(video.frames[4], video.frames[3])
    assert psnr_db(video.frames, frames) > 30.0  # 256 adaptive colours per frame


def test_write_frames_is_lossless(tmp_path: Path, smooth_frames: np.ndarray):
    folder = write_frames(tmp_path / "frames", smooth_frames)
    assert sorted(p.name for p in folder.iterdir())[:2] == ["00000.png", "00001.png"]
    video = read_video(folder, fps=12.0)
    np.testing.assert_array_equal(video.frames, smooth_frames)
    assert video.fps == 12.0


def test_strip_layout_and_marks(tmp_path: Path, indexed_frames):
    frames = indexed_frames(5, 32, 48)  # border = max(2, 32 // 32) = 2
    path = write_strip(tmp_path / "strip.png", frames, marks=[1])
    strip = np.asarray(Image.open(path).convert("RGB"))
    assert strip.shape == (32 + 4, 5 * (48 + 4), 3)
    tile = 48 + 4
    np.testing.assert_array_equal(strip[0, tile + 5], [255, 0, 0])  # marked: red border
    np.testing.assert_array_equal(strip[0, 5], [255, 255, 255])  # unmarked: white border
    np.testing.assert_array_equal(strip[10, 2 * tile + 10], frames[2, 0, 0])  # tile content


def test_strip_samples_long_clips_and_resizes(tmp_path: Path, indexed_frames):
    frames = indexed_frames(30, 32, 48)  # frame i is grey 20 + 8 i
    path = write_strip(tmp_path / "s.png", frames, max_frames=4, marks=[11], height=16)
    strip = np.asarray(Image.open(path).convert("RGB"))
    assert strip.shape == (16 + 4, 4 * (24 + 4), 3)
    # The mark plus 3 evenly spread frames (first and last included): 0, 11, 14 or 15, 29.
    greys = [int(strip[10, t * 28 + 12, 0]) for t in range(4)]
    shown = [(g - 20) // 8 for g in greys]
    assert shown == strip_indices(30, 4, [11])
    assert shown[0] == 0 and shown[1] == 11 and shown[3] == 29


def test_strip_indices() -> None:
    assert strip_indices(5, 16) == [0, 1, 2, 3, 4]
    assert strip_indices(100, 5) == [0, 25, 50, 74, 99]
    chosen = strip_indices(100, 6, [3, 4, 5])
    assert chosen == [0, 3, 4, 5, 50, 99]
    collide = strip_indices(100, 4, [50])  # spread picks 0, 50, 99: 50 collides, gap filled
    assert len(collide) == 4 and {0, 50, 99} <= set(collide)
    crowded = strip_indices(10, 4, [0, 1, 2, 3, 4, 5])
    assert crowded == [0, 1, 2, 3]


def test_write_video_dispatches_on_suffix(tmp_path: Path, smooth_frames: np.ndarray):
    frames = smooth_frames[:3]
    assert read_video(write_video(tmp_path / "a.mp4", frames, fps=6)).fps == pytest.approx(6)
    assert read_video(write_video(tmp_path / "a.gif", frames, fps=6)).num_frames == 3
    png = np.asarray(Image.open(write_video(tmp_path / "a.png", frames)))
    assert png.shape[1] > 3 * 64  # three tiles side by side
    with pytest.raises(SpacetimeError, match=r"\.webm"):
        write_video(tmp_path / "a.webm", frames)


@pytest.mark.parametrize(
    "frames",
    [
        np.zeros((2, 8, 8, 3), np.float32),
        np.zeros((8, 8, 3), np.uint8),
        np.zeros((2, 8, 8), np.uint8),
        np.zeros((0, 8, 8, 3), np.uint8),
    ],
)
@pytest.mark.parametrize("writer", ["mp4", "gif", "png"])
def test_writers_reject_wrong_arrays(tmp_path: Path, frames: np.ndarray, writer: str):
    with pytest.raises(VideoError, match=r"uint8|\(T, H, W, 3\)|T, H, W >= 1"):
        write_video(tmp_path / f"x.{writer}", frames, fps=8.0)
    assert not list(tmp_path.iterdir())


def test_writers_reject_bad_options(tmp_path: Path, smooth_frames: np.ndarray):
    with pytest.raises(SpacetimeError, match="fps"):
        write_mp4(tmp_path / "a.mp4", smooth_frames, fps=0)
    with pytest.raises(SpacetimeError, match="crf"):
        write_mp4(tmp_path / "a.mp4", smooth_frames, fps=8, crf=60)
    with pytest.raises(SpacetimeError, match=r"marks \[12\]"):
        write_strip(tmp_path / "a.png", smooth_frames, marks=[12])
    (tmp_path / "dir.mp4").mkdir()
    with pytest.raises(VideoError, match="is a directory"):
        write_mp4(tmp_path / "dir.mp4", smooth_frames, fps=8)
