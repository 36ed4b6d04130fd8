"""Inflating a saved model on disk: the source kind read from its files, the report's counts,
what is written, and the errors naming the source."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from diffusers import UNet2DConditionModel

from helpers import UNET2D, tiny_pipeline
from spacetime.errors import SpacetimeError
from spacetime.models.inflate import is_temporal_parameter
from spacetime.models.inflate_diffusers import InflatedUNet2D
from spacetime.models.presets import load_model
from spacetime.pipelines.inflate_checkpoint import InflationReport, inflate_checkpoint
from spacetime.pipelines.video_pipeline import VideoPipeline


def _counts(model: torch.nn.Module) -> tuple[int, int]:
    """(all parameters, those in temporal layers), counted here."""
    params = dict(model.named_parameters())
    temporal = sum(p.numel() for n, p in params.items() if is_temporal_parameter(n))
    return sum(p.numel() for p in params.values()), temporal


@pytest.fixture(scope="module")
def image_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pipeline folder (model_index.json) of a per-frame tiny UNet3D without frame
    conditioning."""
    pipe = tiny_pipeline(["a red circle"], frames=4, size=16, temporal=False,
                         frame_conditioning=False)  # fmt: skip
    return pipe.save_pretrained(tmp_path_factory.mktemp("image") / "pipeline")


@pytest.fixture(scope="module")
def diffusers_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A diffusers pipeline folder: its own model_index.json and the U-Net in unet/."""
    folder = tmp_path_factory.mktemp("sd")
    (folder / "model_index.json").write_text(
        json.dumps({"_class_name": "StableDiffusionPipeline", "unet": ["diffusers", "UNet2D"]})
    )
    torch.manual_seed(0)
    UNet2DConditionModel(**UNET2D).save_pretrained(folder / "unet")
    return folder


def test_a_pipeline_folder_becomes_a_pipeline_with_only_temporal_weights_added(
    image_pipeline: Path, tmp_path: Path
) -> None:
    out = tmp_path / "video"
    report = inflate_checkpoint(image_pipeline, out)
    video = VideoPipeline.from_pretrained(out)
    source = VideoPipeline.from_pretrained(image_pipeline)
    parameters, temporal = _counts(video.denoiser)
    assert report == InflationReport(out, "pipeline", "UNet3D", "UNet3D", parameters, temporal)
    assert video.denoiser.config.temporal and temporal > 0
    assert parameters - temporal == _counts(source.denoiser)[0]  # the 2D weights, no others
    assert not video.denoiser.training  # saved from eval mode, loads as a model to sample


def test_a_diffusers_pipeline_folder_inflates_its_unet(
    diffusers_pipeline: Path, tmp_path: Path
) -> None:
    out = tmp_path / "denoiser"
    report = inflate_checkpoint(diffusers_pipeline, out)
    model = InflatedUNet2D.from_pretrained(out)
    assert (report.kind, report.source_class, report.denoiser_class) == (
        "denoiser", "UNet2DConditionModel", "InflatedUNet2D",
    )  # fmt: skip
    assert (report.parameters, report.temporal_parameters) == _counts(model)
    source = UNet2DConditionModel.from_pretrained(diffusers_pipeline / "unet")
    assert report.parameters - report.temporal_parameters == _counts(source)[0]
    assert model.unet.conv_in.in_channels == 4 and not model.config.frame_conditioning


def test_a_denoiser_folder_replaces_the_out_folder(image_pipeline: Path, tmp_path: Path) -> None:
    out = tmp_path / "d"
    out.mkdir()
    (out / "stale.txt").write_text("from an earlier run")
    report = inflate_checkpoint(image_pipeline / "denoiser", out)
    assert (report.kind, report.source_class, report.denoiser_class) == (
        "denoiser", "UNet3D", "UNet3D",
    )  # fmt: skip
    assert not (out / "stale.txt").exists()
    assert load_model(out).config.temporal
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]  # no temporary folder left


def test_frame_conditioning_is_added_to_a_unet_but_not_to_a_spacetime_model(
    image_pipeline: Path, diffusers_pipeline: Path, tmp_path: Path
) -> None:
    inflate_checkpoint(diffusers_pipeline / "unet", tmp_path / "u", frame_conditioning=True)
    model = InflatedUNet2D.from_pretrained(tmp_path / "u")
    assert model.config.frame_conditioning and model.unet.conv_in.in_channels == 5
    with pytest.raises(
        SpacetimeError, match=r"image.*: --frame-conditioning .* trained without it"
    ):
        inflate_checkpoint(image_pipeline, tmp_path / "p", frame_conditioning=True)
    assert not (tmp_path / "p").exists()


def test_already_temporal_sources_are_refused(image_pipeline: Path, tmp_path: Path) -> None:
    inflate_checkpoint(image_pipeline, tmp_path / "video")
    with pytest.raises(SpacetimeError, match=r"video: .*already a space-time model"):
        inflate_checkpoint(tmp_path / "video", tmp_path / "again")
    (tmp_path / "inflated").mkdir()
    (tmp_path / "inflated" / "config.json").write_text('{"_class_name": "InflatedUNet2D"}')
    with pytest.raises(SpacetimeError, match="holds an InflatedUNet2D, already a space-time"):
        inflate_checkpoint(tmp_path / "inflated", tmp_path / "again")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("[1, 2]", r"config\.json is not a JSON object"),
        ("{broken", r"config\.json is not a JSON object"),
        (
            '{"in_channels": 4}',
            r"config\.json names no model class \(its \"_class_name\" is None\)",
        ),
        (
            '{"_class_name": "AutoencoderKL"}',
            r"config\.json describes a 'AutoencoderKL'; expected UNet2DConditionModel, UNet3D, "
            r"SpaceTimeDiT$",
        ),
    ],
)
def test_a_config_of_another_model_is_refused(tmp_path: Path, config: str, message: str) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "config.json").write_text(config)
    with pytest.raises(SpacetimeError, match=message):
        inflate_checkpoint(source, tmp_path / "out")


def test_missing_empty_or_same_folders_are_refused(image_pipeline: Path, tmp_path: Path) -> None:
    with pytest.raises(SpacetimeError, match=r"SOURCE .*missing does not exist or is not a"):
        inflate_checkpoint(tmp_path / "missing", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(
        SpacetimeError,
        match=r"; nor a model folder \(config\.json of a UNet2DConditionModel, UNet3D or",
    ):
        inflate_checkpoint(tmp_path / "empty", tmp_path / "out")
    same = image_pipeline.parent / "." / image_pipeline.name  # the same folder, spelt otherwise
    with pytest.raises(SpacetimeError, match=r"--out .* is the SOURCE folder"):
        inflate_checkpoint(image_pipeline, same)
    assert not (tmp_path / "out").exists()
