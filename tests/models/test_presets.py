"""Named model sizes: the registry, overrides, errors and the parameter budgets they promise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from spacetime.errors import SpacetimeError
from spacetime.models.dit import SpaceTimeDiT
from spacetime.models.presets import (
    MODEL_PRESETS,
    build_model,
    count_parameters,
    format_count,
    load_model,
    main,
    preset_parameter_counts,
)
from spacetime.models.unet3d import UNet3D

NAMES = [
    f"{arch}-{size}" for arch in ("unet3d", "dit") for size in ("tiny", "small", "base", "large")
]


def test_registry_names_and_classes() -> None:
    assert list(MODEL_PRESETS) == NAMES
    assert isinstance(build_model("unet3d-tiny"), UNet3D)
    assert isinstance(build_model("dit-tiny"), SpaceTimeDiT)


def test_parameter_budgets() -> None:
    counts = preset_parameter_counts()
    for arch in ("unet3d", "dit"):
        assert 10_000 <= counts[f"{arch}-tiny"] <= 100_000
        assert 1_000_000 <= counts[f"{arch}-small"] <= 5_000_000
        assert 50_000_000 <= counts[f"{arch}-base"] < counts[f"{arch}-large"]
    model = build_model("dit-tiny")
    assert count_parameters(model) == counts["dit-tiny"]


def test_overrides_reach_the_model_and_tiny_models_run() -> None:
    model = build_model("unet3d-tiny", in_channels=4, text_dim=12, frame_conditioning=True)
    assert model.config.in_channels == 4 and model.config.text_dim == 12
    assert model.conv_in.in_channels == 5  # 4 latent channels + the frame-mask channel
    dit = build_model("dit-tiny", attention="full")
    assert dit(torch.zeros(1, 3, 2, 8, 8), torch.zeros(1)).shape == (1, 3, 2, 8, 8)


def test_unknown_names_and_options_list_the_valid_ones() -> None:
    with pytest.raises(SpacetimeError, match="unet3d-tiny, unet3d-small"):
        build_model("unet3d-huge")
    with pytest.raises(SpacetimeError, match=r"\['depth'\].*base_channels"):
        build_model("unet3d-tiny", depth=3)
    with pytest.raises(SpacetimeError, match="hidden_size=30"):
        build_model("dit-tiny", hidden_size=30)


def test_count_parameters_trainable_only_and_format() -> None:
    model = build_model("dit-tiny")
    total = count_parameters(model)
    model.patch_embed.requires_grad_(False)
    frozen = sum(p.numel() for p in model.patch_embed.parameters())
    assert count_parameters(model, trainable_only=True) == total - frozen
    assert format_count(1_234_567) == "1.23M" and format_count(64_800) == "64.8k"
    assert format_count(999) == "999" and format_count(2_500_000_000) == "2.5B"


def test_main_prints_every_preset(capsys: pytest.CaptureFixture[str]) -> None:
    main()
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == NAMES


def test_load_model_finds_the_class_and_rejects_other_folders(tmp_path: Path) -> None:
    model = build_model("dit-tiny", attention="full")
    with torch.no_grad():
        model.final.linear.weight.normal_()  # a non-zero output to compare
    model.save_pretrained(tmp_path / "dit")
    loaded = load_model(tmp_path / "dit")
    assert isinstance(loaded, SpaceTimeDiT) and loaded.config.attention == "full"
    x = torch.randn(1, 3, 2, 8, 8)
    torch.testing.assert_close(loaded(x, torch.ones(1)), model(x, torch.ones(1)))
    assert isinstance(load_model(str(tmp_path / "dit")), SpaceTimeDiT)
    with pytest.raises(SpacetimeError, match="not a model folder"):
        load_model(tmp_path / "missing")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "config.json").write_text(json.dumps({"_class_name": "VQModel"}))
    with pytest.raises(SpacetimeError, match="'VQModel'; expected one of UNet3D"):
        load_model(tmp_path / "other")
    (tmp_path / "other" / "config.json").write_text(json.dumps({"_class_name": "UNet3D"}))
    with pytest.raises(SpacetimeError, match=r"no \*\.safetensors"):
        load_model(tmp_path / "other")
