"""Building a run from its config: text encoder vocabulary, denoiser flags, objective, data
and the latent space."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from spacetime.data.shapes import vocabulary
from spacetime.errors import SpacetimeError
from spacetime.models.autoencoder import build_autoencoder
from spacetime.models.inflate import inflate
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


def test_latent_run_builds_a_denoiser_on_latents(tiny_autoencoder: Path) -> None:
    sets = [f"autoencoder.path={tiny_autoencoder}", "model.overrides.patch_size=2"]
    config = load_config("shapes-tiny", None, sets)
    parts = build_components(config)
    assert parts.autoencoder is not None and not parts.autoencoder.training
    assert not any(p.requires_grad for p in parts.autoencoder.parameters())
    assert parts.denoiser.config.in_channels == 4  # latent channels, not RGB
    assert tuple(parts.videos.item(0, seed=0)["video"].shape) == (3, 4, 32, 32)  # still pixels
    assert build_components(load_config("shapes-tiny")).autoencoder is None
    with pytest.raises(SpacetimeError, match="in_channels=3 contradicts the autoencoder's 4"):
        build_components(apply_overrides(config, ["model.overrides.in_channels=3"]))
    with pytest.raises(
        SpacetimeError, match=r"data.size=36 pixels gives 9x9 latents, but model dit-tiny needs"
    ):
        build_components(apply_overrides(config, ["data.size=36"]))
    with pytest.raises(SpacetimeError, match=r"data\.size=34 must be a multiple of"):
        build_components(apply_overrides(config, ["data.size=34"]))


def test_default_recipe_denoises_16x16x4_latents(tmp_path: Path) -> None:
    build_autoencoder("shapes-f4").save_pretrained(tmp_path / "ae")  # random, same shapes
    standalone = [f"autoencoder.path={tmp_path / 'ae'}", "data.latents=", "init.path=",
                  "init.inflate=false"]  # fmt: skip
    config = load_config("default-shapes", None, standalone)
    parts = build_components(config)
    assert parts.autoencoder.latent_shape(16, 64, 64) == (4, 16, 16, 16)
    den = parts.denoiser.config
    assert (den.in_channels, den.temporal, den.frame_conditioning) == (4, True, True)
    image = build_components(load_config("default-shapes-image", None, standalone)).denoiser
    temporal = sum(p.numel() for p in parts.denoiser.parameters())
    per_frame = sum(p.numel() for p in image.parameters())
    assert 1e6 < per_frame < temporal < 3e6  # the same network minus its temporal layers
    # stage 1's per-frame network inflates into exactly stage 3's
    public = [{k: v for k, v in m.config.items() if not k.startswith("_")}
              for m in (inflate(image), parts.denoiser)]  # fmt: skip
    assert public[0] == public[1]
