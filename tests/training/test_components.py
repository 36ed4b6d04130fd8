"""Building a run from its config: text encoder vocabulary, denoiser flags, objective, data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from spacetime.data.shapes import vocabulary
from spacetime.errors import SpacetimeError
from spacetime.models.text import WordTextEncoder
from spacetime.training.components import (
    DiffusionSystem,
    build_components,
    objective_config,
    uses_frames,
)
from spacetime.training.config import TrainConfig, apply_overrides, load_config
from spacetime.video.writer import write_video


def test_shapes_components_follow_the_config() -> None:
    config = load_config("shapes-tiny", None, ["sample_count=2"])
    parts = build_components(config)
    assert isinstance(parts.text_encoder, WordTextEncoder)
    assert set(vocabulary()) <= set(parts.text_encoder.vocab)
    den = parts.denoiser.config
    assert (den.text_dim, den.frame_conditioning, den.temporal) == (16, True, True)
    assert den.patch_size == 4
    assert parts.objective.prediction == "eps" and parts.objective.schedule == "cosine"
    assert len(parts.validation_captions) == 2
    assert all(parts.text_encoder.unknown_words(c) == [] for c in parts.validation_captions)
    clip = parts.videos.item(0, seed=0)
    assert tuple(clip["video"].shape) == (3, 4, 32, 32)
    # Same seed, same initial weights; text-to-video only: no frame-mask input channel.
    again = build_components(config).denoiser.state_dict()
    assert all(torch.equal(v, again[k]) for k, v in parts.denoiser.state_dict().items())
    t2v = apply_overrides(config, ["masks.probs={none: 1.0}", "model.temporal=false"])
    assert not uses_frames(t2v)
    plain = build_components(t2v).denoiser.config
    assert (plain.frame_conditioning, plain.temporal) == (False, False)


def test_objective_config_mapping() -> None:
    base = TrainConfig()
    assert objective_config(base) == {"kind": "gaussian", "prediction": "v", "schedule": "cosine"}
    flow = apply_overrides(base, ["objective.kind=flow", "objective.options.shift=3.0"])
    assert objective_config(flow) == {"kind": "flow", "shift": 3.0}
    weighted = apply_overrides(base, ["objective.options.loss_weighting=min-snr"])
    assert objective_config(weighted)["loss_weighting"] == "min-snr"


def test_system_loss_trains_text_encoder_and_denoiser() -> None:
    parts = build_components(load_config("shapes-tiny"))
    system = DiffusionSystem(parts.denoiser, parts.text_encoder, parts.objective)
    with torch.no_grad():  # open the zero-initialised residual gates (adaLN-zero, DiT)
        for p in system.denoiser.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    video = torch.stack([parts.videos.item(i, seed=i)["video"] for i in range(2)])
    mask = torch.tensor([[True, False, False, False], [False] * 4])
    loss = system(video, ["a red square moves left", ""], mask, torch.Generator().manual_seed(0))
    assert loss.ndim == 0 and torch.isfinite(loss)
    loss.backward()
    assert system.text_encoder.embed.weight.grad.abs().sum() > 0
    assert system.denoiser.patch_embed.weight.grad.abs().sum() > 0


def test_folder_datasets(tmp_path: Path) -> None:
    clips = tmp_path / "clips"
    clips.mkdir()
    rng = np.random.default_rng(0)
    for name, caption in (("a", "a dog runs on grass"), ("b", "waves hit the rocks")):
        write_video(clips / f"{name}.mp4", rng.integers(0, 255, (6, 32, 32, 3), np.uint8))
        (clips / f"{name}.txt").write_text(caption)
    config = load_config("shapes-tiny", None, ["data.kind=video_folder", f"data.path={clips}"])
    parts = build_components(config)
    assert {"dog", "waves", "rocks"} <= set(parts.text_encoder.vocab)
    assert tuple(parts.videos.item(1, seed=3)["video"].shape) == (3, 4, 32, 32)
    assert parts.validation_captions[0] in {"a dog runs on grass", "waves hit the rocks"}
    images = load_config("shapes-tiny", None, ["data.kind=image_folder", f"data.path={clips}"])
    with pytest.raises(SpacetimeError, match=r"set data\.frames=1"):
        build_components(images)
