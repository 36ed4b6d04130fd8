"""Config resolution: presets, YAML files over presets, validation and diffs."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

import spacetime
from spacetime.errors import SpacetimeError
from spacetime.models import build_model
from spacetime.training.config import (
    TrainConfig,
    apply_overrides,
    config_from_dict,
    config_to_dict,
    diff_configs,
    dump_config,
    list_presets,
    load_config,
    load_preset,
    preset_dir,
    validate_config,
)


def test_defaults_are_valid_and_round_trip_through_yaml(tmp_path: Path) -> None:
    config = TrainConfig()
    validate_config(config)
    path = tmp_path / "config.yaml"
    dump_config(config, path)
    again = config_from_dict(yaml.safe_load(path.read_text()))
    assert again == config
    assert isinstance(again.optim.betas, tuple)


def test_every_shipped_preset_loads_and_validates() -> None:
    names = list_presets()
    assert {"shapes-tiny", "shapes-small", "shapes-dit-small", "shapes-base-gpu"} <= set(names)
    for name in names:
        config = load_preset(name)
        validate_config(config)
        assert dump_config(config)  # serialisable
        with torch.device("meta"):  # the model preset and its overrides exist (no memory)
            build_model(config.model.name, text_dim=config.text.dim, **config.model.overrides)
    assert load_preset("shapes-dit-small").model.name.startswith("dit")
    # They are package data: inside the spacetime package, not found by walking up the tree.
    package = Path(spacetime.__file__).parent
    assert Path(str(preset_dir())) == package / "configs"
    assert load_config(None, "shapes-tiny") == load_preset("shapes-tiny")  # --config NAME


def test_unknown_preset_lists_valid_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SpacetimeError, match=r"unknown preset 'nope'.*shapes-tiny"):
        load_preset("nope")
    # configs/ may hold recipes of other commands: they are not training presets.
    monkeypatch.setenv("SPACETIME_CONFIGS", str(tmp_path))
    (tmp_path / "mine.yaml").write_text("steps: 3\n")
    (tmp_path / "other.yaml").write_text("crop: 32\n")
    assert list_presets() == ["mine"]
    assert load_preset("mine").steps == 3
    with pytest.raises(SpacetimeError, match=r"other.yaml is not a training preset.*: mine"):
        load_preset("other")


def test_yaml_file_over_preset_then_set(tmp_path: Path) -> None:
    file = tmp_path / "mine.yaml"
    file.write_text("steps: 33\noptim:\n  lr: 0.01\n")
    config = load_config("shapes-tiny", file, ["optim.lr=0.02"])
    assert config.steps == 33
    assert config.optim.lr == pytest.approx(0.02)
    assert config.model.name == load_preset("shapes-tiny").model.name
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a list\n")
    with pytest.raises(SpacetimeError, match="must hold a mapping"):
        load_config(None, bad)
    with pytest.raises(SpacetimeError, match="does not exist"):
        load_config(None, tmp_path / "missing.yaml")


def test_diff_names_the_changed_keys() -> None:
    a = TrainConfig()
    b = apply_overrides(a, ["steps=5", "optim.lr=0.1", "model.overrides.depth=2"])
    assert diff_configs(a, b) == ["model.overrides", "optim.lr", "steps"]
    assert config_to_dict(b)["model"]["overrides"] == {"depth": 2}


def test_default_recipe_stages_share_data_and_objective() -> None:
    image, video = load_preset("default-shapes-image"), load_preset("default-shapes")
    for config in (image, video):
        assert (config.data.kind, config.data.frames, config.data.size) == ("shapes", 16, 64)
        assert config.autoencoder.path and config.data.latents  # latent space, encoded once
        objective = config.objective
        assert (objective.prediction, objective.schedule) == ("v", "cosine")
        # Plain v-loss: Min-SNR-5 starved the high-noise steps in a CPU-sized run.
        assert objective.options["loss_weighting"] == "uniform"
        assert config.text.caption_dropout == pytest.approx(0.1)
        assert config.model.overrides["pooled_text"] is True
    # stage 1 is per-frame and image-only; stage 3 inflates it and trains temporal layers
    assert not image.model.temporal and image.data.image_ratio == 1.0
    assert video.model.temporal and video.init.inflate
    assert video.init.path and video.finetune.spatial in ("frozen", "scaled")
    # the clips, latents, objective and masks are the same in both stages
    shared = ("data.kind", "data.frames", "data.size", "data.shapes_count", "data.latents",
              "objective", "masks", "autoencoder.path", "text.dim", "seed")  # fmt: skip
    changed = diff_configs(image, video)
    assert not [k for k in changed if k.startswith(shared)]
    probs = video.masks.probs  # mostly text->video; image->video and interpolation trained
    assert probs["none"] >= 0.5 and probs["first"] > 0 and probs["first-last"] > 0
    gpu = load_preset("default-shapes-gpu")
    assert diff_configs(video, gpu) and gpu.data.frames == 16 and gpu.data.size == 64
    assert gpu.model.temporal and gpu.autoencoder.path
    assert gpu.objective == video.objective and gpu.masks == video.masks
    # Relative paths stay as written; they resolve against the working directory.
    assert not Path(video.init.path).is_absolute()
