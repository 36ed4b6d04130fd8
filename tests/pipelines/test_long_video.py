"""Long videos (spacetime.pipelines.long_video): methods, context, memory."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from helpers import tiny_pipeline
from spacetime.contracts.pixels import to_uint8
from spacetime.errors import SpacetimeError
from spacetime.models.autoencoder import build_autoencoder
from spacetime.pipelines.long_video import LONG_METHODS, LongVideo, generate_long
from spacetime.pipelines.video_pipeline import VideoPipeline

FAST = {"steps": 2, "progress": False, "guidance": 2.0}


@pytest.fixture(scope="module")
def pipe() -> VideoPipeline:
    return tiny_pipeline(["a ball"], frames=4, size=8, text_dim=8)


class Calls:
    """Records every forward call of a denoiser (a forward pre-hook: the real network runs)."""

    def __init__(self, module: torch.nn.Module) -> None:
        self.calls: list[dict[str, Any]] = []
        self.handle = module.register_forward_pre_hook(self.record, with_kwargs=True)

    def record(self, module: Any, args: tuple, kwargs: dict) -> None:
        x, t = args[:2]
        frames = kwargs.get("frames")
        self.calls.append(
            {
                "T": x.shape[2],
                "t": t.clone(),
                "frames": frames,
                "x": x.clone(),
            }
        )

    def __enter__(self) -> Calls:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.remove()


@pytest.mark.parametrize("method", list(LONG_METHODS))
def test_every_method_makes_the_length_asked_for_seed_by_seed(
    pipe: VideoPipeline, method: str
) -> None:
    settings = LongVideo(method, overlap=2)
    both = generate_long(
        pipe, ["a ball", "a ball"], seeds=[5, 6], total_frames=11, settings=settings, **FAST
    )
    alone = generate_long(pipe, ["a ball"], seeds=[6], total_frames=11, settings=settings, **FAST)
    assert both.shape == (2, 11, 8, 8, 3) and both.dtype == np.uint8
    assert np.array_equal(both[1], alone[0])  # a seed gives the same video in any batch
    assert np.abs(both[0].astype(int) - both[1]).max() > 10  # seeds differ


@pytest.mark.parametrize("method", list(LONG_METHODS))
def test_a_given_first_frame_is_kept(pipe: VideoPipeline, method: str) -> None:
    image = np.random.default_rng(0).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    video = generate_long(
        pipe,
        ["a ball"],
        seeds=[0],
        total_frames=7,
        image=image,
        settings=LongVideo(method, overlap=2),
        **FAST,
    )
    assert np.array_equal(video[0, 0], image)


def test_extend_gives_each_window_the_frames_before_it(pipe: VideoPipeline) -> None:
    with Calls(pipe.denoiser) as spy:
        video = generate_long(
            pipe,
            ["a ball"],
            seeds=[3],
            total_frames=9,
            settings=LongVideo("extend", overlap=2),
            **FAST,
        )
    # window 0 is the pipeline's own output for the seed
    assert np.array_equal(video[0, :4], pipe(["a ball"], seeds=[3], **FAST)[0])
    conditioned = [c for c in spy.calls if c["frames"] is not None]
    assert len(spy.calls) == 4 * 2 and len(conditioned) == 3 * 2  # 4 windows of 2 steps
    for window, start in zip(range(3), (2, 4, 5), strict=True):  # windows at 2, 4, 5 (last)
        call = conditioned[2 * window]
        mask = call["frames"].mask[0]
        given = int(mask.sum())
        assert mask[:given].all() and not mask[given:].any()
        assert (call["t"][0, :given] == 0).all() and (call["t"][0, given:] > 0).all()
        # the context is exactly the frames the video has there (never re-encoded)
        values = to_uint8(call["frames"].values[:1, :, :given])[0]
        assert np.array_equal(values, video[0, start : start + given])


def test_noisy_context_is_seen_at_its_level_and_level_zero_is_extend(pipe: VideoPipeline) -> None:
    extend = generate_long(
        pipe, ["a ball"], seeds=[1], total_frames=6, settings=LongVideo("extend", overlap=2), **FAST
    )
    zero = generate_long(
        pipe,
        ["a ball"],
        seeds=[1],
        total_frames=6,
        settings=LongVideo("noisy", overlap=2, context_noise=0),
        **FAST,
    )
    assert np.array_equal(extend, zero)
    with Calls(pipe.denoiser) as spy:
        generate_long(
            pipe,
            ["a ball"],
            seeds=[1],
            total_frames=6,
            settings=LongVideo("noisy", overlap=2, context_noise=150),
            **FAST,
        )
    call = next(c for c in spy.calls if c["frames"] is not None)
    assert call["t"][0, :2].tolist() == [150.0, 150.0]
    assert call["frames"].mask[0].tolist() == [True, True, False, False]


def test_guided_conditions_without_the_frame_mask(pipe: VideoPipeline) -> None:
    with Calls(pipe.denoiser) as spy:
        generate_long(
            pipe,
            ["a ball"],
            seeds=[1],
            total_frames=6,
            settings=LongVideo("guided", overlap=2),
            **FAST,
        )
    assert all(c["frames"] is None for c in spy.calls)
    no_mask = tiny_pipeline(["a ball"], frames=4, size=8, text_dim=8, frame_conditioning=False)
    video = generate_long(
        no_mask,
        ["a ball"],
        seeds=[1],
        total_frames=6,
        settings=LongVideo("guided", overlap=2),
        **FAST,
    )
    assert video.shape == (1, 6, 8, 8, 3)
    with pytest.raises(SpacetimeError, match="guided or sliding"):
        generate_long(no_mask, ["a"], seeds=[0], total_frames=6, settings=LongVideo("extend"))


def test_keyframes_first_span_the_clip_then_fill_between_given_ends(pipe: VideoPipeline) -> None:
    with Calls(pipe.denoiser) as spy:
        generate_long(
            pipe, ["a ball"], seeds=[0], total_frames=10, settings=LongVideo("keyframes"), **FAST
        )
    first, *fills = spy.calls[::2]  # one record per step; 2 steps per window
    assert first["frames"] is None and first["T"] == 4  # keyframes 0, 3, 6, 9
    assert len(fills) == 3
    for call in fills:
        assert call["frames"].mask[0].tolist() == [True, False, False, True]


def test_continuing_a_clip(pipe: VideoPipeline) -> None:
    start = np.random.default_rng(0).integers(0, 256, (5, 8, 8, 3), dtype=np.uint8)
    settings = LongVideo("extend", overlap=2)
    with Calls(pipe.denoiser) as spy:
        video = generate_long(
            pipe, ["a ball"], seeds=[0], total_frames=3, start=start, settings=settings, **FAST
        )
    assert video.shape == (1, 3, 8, 8, 3)
    values = to_uint8(spy.calls[0]["frames"].values[:1, :, :2])[0]
    assert np.array_equal(values, start[-2:])


def test_memory_stays_at_one_window() -> None:
    """The network never sees more than a window and the autoencoder decodes a window at a
    time, whatever the length."""
    pipe = tiny_pipeline(["a ball"], frames=4, size=16, text_dim=8, in_channels=4)
    pipe.autoencoder = build_autoencoder("shapes-f4")
    pipe.denoiser.config.in_channels  # noqa: B018 (4 latent channels)
    decoded: list[int] = []
    decode = pipe.autoencoder.decode

    def spy(latents: torch.Tensor) -> torch.Tensor:
        decoded.append(latents.shape[2])
        return decode(latents)

    pipe.autoencoder.decode = spy  # type: ignore[method-assign]
    for method in ("extend", "sliding"):
        decoded.clear()
        with Calls(pipe.denoiser) as calls:
            video = generate_long(
                pipe,
                ["a ball"],
                seeds=[0],
                total_frames=14,
                settings=LongVideo(method, overlap=2),
                **FAST,
            )
        assert video.shape == (1, 14, 16, 16, 3)
        assert max(c["T"] for c in calls.calls) == 4
        assert decoded == [4, 4, 4, 2]


def test_bad_settings(pipe: VideoPipeline) -> None:
    with pytest.raises(SpacetimeError, match="unknown long-video method 'loop'"):
        LongVideo("loop")
    with pytest.raises(SpacetimeError, match="overlap must be in"):
        generate_long(pipe, ["a"], seeds=[0], total_frames=8, settings=LongVideo(overlap=4))
    with pytest.raises(SpacetimeError, match="total_frames"):
        generate_long(pipe, ["a"], seeds=[0], total_frames=0)
    with pytest.raises(SpacetimeError, match="start must be uint8"):
        generate_long(pipe, ["a"], seeds=[0], total_frames=8, start=np.zeros((1, 8, 8, 3)))
    with pytest.raises(SpacetimeError, match="context_noise"):
        LongVideo("noisy", context_noise=1000)
