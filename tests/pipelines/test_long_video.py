"""Tests for spacetime.pipelines.long_video: autoregressive extension past the window."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from helpers import tiny_pipeline
from spacetime.errors import SpacetimeError
from spacetime.pipelines.long_video import generate_long
from spacetime.pipelines.video_pipeline import VideoPipeline

FAST = {"steps": 2, "progress": False, "guidance": 1.0}


@pytest.fixture(scope="module")
def pipe() -> VideoPipeline:
    return tiny_pipeline(["a ball"], frames=4, size=8, text_dim=8)


class Recorder:
    """Wraps a pipeline and records the given frames of every call."""

    def __init__(self, pipe: VideoPipeline) -> None:
        self.pipe, self.sample_frames = pipe, pipe.sample_frames
        self.given: list[dict[int, np.ndarray] | None] = []
        self.outputs: list[np.ndarray] = []

    def __call__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        self.given.append(kwargs.get("given_frames"))
        out = self.pipe(*args, **kwargs)
        self.outputs.append(out[0])
        return out


def test_long_video_chains_windows_on_their_last_frames(pipe: VideoPipeline) -> None:
    recorder = Recorder(pipe)
    video = generate_long(
        recorder,  # type: ignore[arg-type]
        ["a ball"], seeds=[3], total_frames=9, context_frames=2, **FAST,
    )  # fmt: skip
    assert video.shape == (1, 9, 8, 8, 3) and video.dtype == np.uint8
    # Window 0 is the plain pipeline output for the seed; then 4 windows add 2 frames each.
    assert np.array_equal(video[0, :4], pipe(["a ball"], seeds=[3], **FAST)[0])
    assert len(recorder.given) == 4 and recorder.given[0] is None
    for previous, given in zip(recorder.outputs, recorder.given[1:], strict=False):
        assert sorted(given) == [0, 1]
        assert np.array_equal(given[0], previous[-2]) and np.array_equal(given[1], previous[-1])
    assert np.array_equal(video[0, 4:6], recorder.outputs[1][2:])


def test_continuing_a_given_clip(pipe: VideoPipeline) -> None:
    start = np.random.default_rng(0).integers(0, 256, (5, 8, 8, 3), dtype=np.uint8)
    video = generate_long(pipe, ["a ball"], seeds=[0], total_frames=3, start=start, **FAST)
    assert video.shape == (1, 3, 8, 8, 3)
    again = generate_long(pipe, ["a ball"], seeds=[0], total_frames=3, start=start, **FAST)
    assert np.array_equal(video, again)


def test_bad_arguments(pipe: VideoPipeline) -> None:
    with pytest.raises(SpacetimeError, match="context_frames"):
        generate_long(pipe, ["a"], seeds=[0], total_frames=8, context_frames=4, **FAST)
    with pytest.raises(SpacetimeError, match="total_frames"):
        generate_long(pipe, ["a"], seeds=[0], total_frames=0, **FAST)
    with pytest.raises(SpacetimeError, match="sets 'frames' itself"):
        generate_long(pipe, ["a"], seeds=[0], total_frames=8, frames=4, **FAST)
    with pytest.raises(SpacetimeError, match="start must be uint8"):
        generate_long(pipe, ["a"], seeds=[0], total_frames=8, start=np.zeros((1, 8, 8, 3)))
