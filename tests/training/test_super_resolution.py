"""The super-resolution stage: model conditioning, trainer step, exact resume, pipeline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from spacetime.errors import SpacetimeError
from spacetime.models.super_resolution import (
    LowResConditioned,
    build_sr_model,
    downsample,
    upsample,
)
from spacetime.pipelines.super_resolution import SuperResolutionPipeline
from spacetime.training.checkpoint import find_checkpoint, load_state
from spacetime.training.config import TrainConfig, load_config
from spacetime.training.trainer import Trainer

SR = (
    "progress=false", "super_resolution.factor=2", "super_resolution.crop=8", "data.size=32",
    "data.frames=4", "batch_size=2", "micro_batch_size=1", "steps=4", "checkpoint_every=2",
    "log_every=1", "sample_every=0", "model.name=unet3d-tiny", "objective.prediction=v",
)  # fmt: skip


def sr_config(*sets: str) -> TrainConfig:
    return load_config(None, None, [*SR, *sets])


def test_resampling_and_conditioning_shapes() -> None:
    video = torch.rand(2, 3, 5, 8, 8) * 2 - 1
    small = downsample(video, 2)
    assert small.shape == (2, 3, 5, 4, 4)
    torch.testing.assert_close(small[0, 0, 0, 0, 0], video[0, 0, 0, :2, :2].mean())
    flat = torch.full((1, 3, 2, 4, 4), 0.25)
    torch.testing.assert_close(upsample(flat, 2), torch.full((1, 3, 2, 8, 8), 0.25))
    net = build_sr_model("unet3d-tiny")
    assert net.config.in_channels == 7 and net.config.out_channels == 3
    bound = LowResConditioned(net, upsample(small, 2), torch.tensor([0.0, 300.0]))
    assert bound(video, torch.full((2,), 500.0)).shape == video.shape
    part = bound.restrict(slice(1, 3))
    assert part.low.shape[2] == 2 and torch.equal(part.low, bound.low[:, :, 1:3])
    with pytest.raises(SpacetimeError, match="sets in_channels itself"):
        build_sr_model("unet3d-tiny", in_channels=4)


def test_sr_training_resumes_bit_exactly_and_publishes_an_sr_pipeline(tmp_path: Path) -> None:
    straight = tmp_path / "straight"
    Trainer(sr_config(), straight).train()
    stopped = tmp_path / "stopped"
    assert Trainer(sr_config(), stopped).train(stop_at=2) == 2
    assert Trainer(sr_config(), stopped).train() == 4  # rerun = resume
    a, b = load_state(straight / "checkpoint"), load_state(stopped / "checkpoint")
    for part in ("model", "ema"):
        x, y = getattr(a, part), getattr(b, part)
        assert x.keys() == y.keys() and all(torch.equal(x[k], y[k]) for k in x)
    assert set(a.model) and all(k.startswith("denoiser.") for k in a.model)  # no text encoder

    pipe = SuperResolutionPipeline.from_pretrained(find_checkpoint(stopped) / "pipeline")
    assert pipe.factor == 2 and pipe.window == 4 and pipe.noise_level == 100.0
    low = np.random.default_rng(0).integers(0, 256, (1, 6, 8, 8, 3), dtype=np.uint8)
    big = pipe(low, seeds=[0], steps=2)  # 6 frames > window 4: fused windows
    assert big.shape == (1, 6, 16, 16, 3) and big.dtype == np.uint8
    assert np.array_equal(big, pipe(low, seeds=[0], steps=2))
    with pytest.raises(SpacetimeError, match="does not hold a SuperResolutionPipeline"):
        from helpers import tiny_pipeline

        tiny_pipeline(["a"], frames=2, size=8).save_pretrained(tmp_path / "video")
        SuperResolutionPipeline.from_pretrained(tmp_path / "video")


def test_sr_config_errors() -> None:
    with pytest.raises(SpacetimeError, match=r"super_resolution\.crop must be"):
        Trainer(sr_config("super_resolution.crop=7"), "unused")
    with pytest.raises(SpacetimeError, match="augment_max"):
        Trainer(sr_config("super_resolution.augment_max=1000"), "unused")
