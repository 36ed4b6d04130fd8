"""validate_config: each rule refuses its bad value with a message naming the key."""

from __future__ import annotations

import pytest

from spacetime.errors import SpacetimeError
from spacetime.training.config import TrainConfig, apply_overrides, load_preset
from spacetime.training.config_checks import validate_config


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["mixed_precision=fp8"], "mixed_precision must be one of no, bf16, fp16"),
        (["objective.kind=score"], "objective.kind must be one of gaussian, flow"),
        (["batch_size=0"], "batch_size must be >= 1"),
        (["text.caption_dropout=1.5"], r"text.caption_dropout must be in \[0, 1\]"),
        (["optim.betas=[0.9, 1.5]"], r"optim.betas\[1\] must be in \[0, 1\]"),
        (["data.kind=video_folder"], "needs data.path"),
        (["text.kind=hf"], "text.kind=hf needs text.path"),
        (["optim.lr=-1"], "optim.lr must be > 0"),
        (["optim.lr=0"], "optim.lr must be > 0"),
        (["seed=-3"], "seed must be >= 0"),
        (["data.shapes_count=0"], "data.shapes_count must be >= 1"),
        (["masks.probs.sideways=1"], "unknown frame-mask strategy sideways"),
        (["masks.probs={none: 0}"], "masks.probs must be >= 0 with a positive sum"),
        (["sample_every=5", "sample_count=0"], "sample_every=5 needs sample_steps >= 1"),
        (["autoencoder.chunk_size=0"], "autoencoder.chunk_size must be >= 1"),
        (["autoencoder.cache_clips=-1"], "autoencoder.cache_clips must be >= 0"),
        (["super_resolution.factor=0"], "super_resolution needs factor >= 1"),
        (["super_resolution.noise_level=1000"], "super_resolution needs factor >= 1"),
        (["super_resolution.factor=4", "super_resolution.crop=6"], "must be 0 or a multiple"),
        (["init.inflate=true"], "init.inflate needs init.path"),
        (["finetune.spatial=frozen", "model.temporal=false"], "has none"),
    ],
)
def test_each_rule_rejects_its_bad_value(items: list[str], message: str) -> None:
    validate_config(TrainConfig())  # the defaults pass: the override alone is what fails
    with pytest.raises(SpacetimeError, match=message):
        validate_config(apply_overrides(TrainConfig(), items))


@pytest.mark.parametrize(
    "items",
    [
        ["text.caption_dropout=1.0", "data.image_ratio=0.0", "optim.warmup_steps=0"],
        ["super_resolution.factor=4", "super_resolution.crop=8"],
        ["finetune.spatial=scaled", "finetune.spatial_lr_scale=0.1"],
    ],
)
def test_edges_of_the_ranges_are_accepted(items: list[str]) -> None:
    validate_config(apply_overrides(TrainConfig(), items))


def test_the_staged_default_recipe_validates() -> None:
    video = load_preset("default-shapes")
    validate_config(video)
    assert video.finetune.spatial != "train" and video.init.inflate
