"""Tests for spacetime.pipelines.factory: fresh pipelines from presets."""

from __future__ import annotations

import pytest

from spacetime.errors import SpacetimeError
from spacetime.models.dit import SpaceTimeDiT
from spacetime.pipelines.factory import build_pipeline


def test_a_dit_flow_pipeline_is_wired_and_samples() -> None:
    pipe = build_pipeline(
        "dit-tiny",
        captions=["a red circle moves left", "a red square bounces"],
        frames=2,
        size=8,
        text_dim=16,
        text_layers=1,
        text_heads=2,
        objective={"kind": "flow"},
    )
    assert isinstance(pipe.denoiser, SpaceTimeDiT)
    assert pipe.denoiser.config.text_dim == 16 and pipe.denoiser.config.frame_conditioning
    assert {"red", "circle", "square", "bounces"} <= set(pipe.text_encoder.vocab)
    assert pipe.objective.to_config()["kind"] == "flow"
    assert (pipe.sample_frames, pipe.sample_size) == (2, (8, 8))
    video = pipe(["a red square"], seeds=[0], sampler="flow-euler", steps=1, progress=False)
    assert video.shape == (1, 2, 8, 8, 3)


def test_unknown_presets_and_options_are_user_errors() -> None:
    with pytest.raises(SpacetimeError):
        build_pipeline("unet9d", captions=["a"])
    with pytest.raises(SpacetimeError, match="unknown option"):
        build_pipeline("unet3d-tiny", captions=["a"], text_dim=8, text_heads=2, wings=2)
