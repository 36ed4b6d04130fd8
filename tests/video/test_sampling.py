"""Tests for spacetime.video.sampling: start, nearest-timestamp resampling, stride, cap."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from spacetime.errors import SpacetimeError
from spacetime.video.sampling import check_sampling, output_fps, select_frames


def _stream(times: np.ndarray) -> list[tuple[float, int]]:
    return [(float(t), i) for i, t in enumerate(times)]


def _nearest(times: np.ndarray, fps: float, end: float) -> list[int]:
    """Brute force: for each grid time g = t0 + k/fps with g + 1/(2 fps) <= end (ffmpeg's
    round=near: round(duration * fps) frames), the index of the nearest timestamp (argmin takes
    the first, i.e. the earlier frame, on ties)."""
    grid = times[0] + np.arange(int(np.ceil((end - times[0]) * fps + 1))) / fps
    grid = grid[grid + 0.5 / fps <= end + 1e-9]
    return [int(np.argmin(np.abs(times - g) - 1e-12 * (times <= g))) for g in grid]


def test_without_fps_every_frame_passes() -> None:
    times = np.arange(10) / 8
    assert list(select_frames(_stream(times))) == list(range(10))


def test_stride_max_frames_and_start() -> None:
    times = np.arange(20) / 10  # 10 fps, 2 s
    assert list(select_frames(_stream(times), stride=3)) == [0, 3, 6, 9, 12, 15, 18]
    assert list(select_frames(_stream(times), max_frames=4)) == [0, 1, 2, 3]
    assert list(select_frames(_stream(times), start=1.0, stride=2, max_frames=3)) == [10, 12, 14]


def test_downsampling_by_an_integer_ratio_keeps_every_kth_frame() -> None:
    times = np.arange(30) / 30  # 1 s at 30 fps
    out = list(select_frames(_stream(times), fps=10, frame_duration=1 / 30))
    assert out == list(range(0, 30, 3))


def test_upsampling_repeats_frames_and_keeps_duration() -> None:
    times = np.arange(8) / 8  # 1 s at 8 fps
    out = list(select_frames(_stream(times), fps=16, frame_duration=1 / 8))
    assert out == [i for i in range(8) for _ in range(2)]


def test_non_integer_ratio_takes_the_nearest_frame_ties_to_the_earlier() -> None:
    times = np.arange(30) / 30  # grid k/8 hits 3.75, 7.5, 11.25, ... source frames
    out = list(select_frames(_stream(times), fps=8, frame_duration=1 / 30))
    assert out == [0, 4, 7, 11, 15, 19, 22, 26]


def test_variable_frame_rate_matches_brute_force_nearest() -> None:
    rng = np.random.default_rng(3)
    times = np.cumsum(rng.uniform(0.01, 0.09, size=60))
    times -= times[0]
    end = times[-1] + 0.04
    for fps in (5.0, 12.5, 24.0, 60.0):
        out = list(select_frames(_stream(times), fps=fps, frame_duration=0.04))
        assert out == _nearest(times, fps, end), fps


@pytest.mark.parametrize(("fps", "count"), [(8, 16), (4, 8), (2, 4), (3, 6)])
def test_gif_delay_jitter_adds_no_frame(fps: float, count: int) -> None:
    # 16 frames at 8 fps stored as whole 1/100 s delays (0.13, 0.12, ...): 2.01 s, not 2 s.
    times = np.round(np.arange(16) / 8, 2)
    out = list(select_frames(_stream(times), fps=fps))  # last interval as frame duration
    assert len(out) == count == round(2.0 * fps)
    assert out == _nearest(times, fps, times[-1] + (times[-1] - times[-2]))


def test_a_single_frame_is_kept_once() -> None:
    assert list(select_frames([(0.0, "only")], fps=30)) == ["only"]


def test_selection_is_lazy_and_stops_at_max_frames() -> None:
    consumed = []

    def stream() -> Iterator[tuple[float, int]]:
        for i in range(1000):
            consumed.append(i)
            yield i / 10, i

    assert list(select_frames(stream(), fps=5, frame_duration=0.1, max_frames=3)) == [0, 2, 4]
    assert len(consumed) <= 6  # one frame of look-ahead past frame 4


def test_output_fps_divides_by_stride() -> None:
    assert output_fps(30.0, fps=None, stride=3) == pytest.approx(10.0)
    assert output_fps(30.0, fps=8.0, stride=2) == pytest.approx(4.0)


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"fps": 0}, "fps"),
        ({"fps": float("nan")}, "fps"),
        ({"stride": 0}, "stride"),
        ({"stride": 1.5}, "stride"),
        ({"max_frames": 0}, "max_frames"),
        ({"start": -1.0}, "start"),
    ],
)
def test_bad_options_name_the_option(options: dict, name: str) -> None:
    full = {"fps": None, "stride": 1, "max_frames": None, "start": 0.0, **options}
    with pytest.raises(SpacetimeError, match=name):
        check_sampling(**full)
