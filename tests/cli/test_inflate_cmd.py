"""`spacetime inflate` end to end: a per-frame run or a diffusers U-Net -> a video model folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from diffusers import UNet2DConditionModel

from helpers import UNET2D, run_cli, tiny_pipeline
from spacetime.models.inflate import is_temporal_parameter
from spacetime.models.inflate_diffusers import InflatedUNet2D
from spacetime.models.presets import load_model
from spacetime.pipelines.video_pipeline import VideoPipeline
from spacetime.training.checkpoint import TrainingState, save_checkpoint


@pytest.fixture(scope="module")
def image_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A training run whose checkpoint holds a per-frame (temporal=False) tiny pipeline
    without frame conditioning."""
    pipe = tiny_pipeline(
        ["a red circle moves left"], frames=4, size=16, temporal=False, frame_conditioning=False
    )
    run = tmp_path_factory.mktemp("image_run")
    state = TrainingState(
        model={}, ema={}, optimizer={"state": {}, "param_groups": []}, meta={"step": 1}
    )
    save_checkpoint(run, state, pipe.save_pretrained)
    return run


@pytest.fixture(scope="module")
def unet_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("unet2d")
    UNet2DConditionModel(**UNET2D).save_pretrained(folder)
    return folder


def test_inflates_a_per_frame_run_into_a_pipeline(image_run: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "video"
    code, stdout, stderr = run_cli(["inflate", str(image_run), "--out", str(out)], capsys)
    assert code == 0, stderr
    assert "UNet3D -> UNet3D" in stdout and f"pipeline: {out}" in stdout
    source = VideoPipeline.from_pretrained(image_run / "checkpoint" / "pipeline")
    video = VideoPipeline.from_pretrained(out)
    assert video.denoiser.config.temporal and not source.denoiser.config.temporal
    # every 2D weight copied, the added ones temporal; the other parts as they were
    spatial = source.denoiser.state_dict()
    for name, value in video.denoiser.state_dict().items():
        assert torch.equal(value, spatial[name]) if name in spatial else is_temporal_parameter(name)
    encoder = source.text_encoder.state_dict()
    assert all(torch.equal(v, encoder[k]) for k, v in video.text_encoder.state_dict().items())
    assert video.text_encoder.config.vocab == source.text_encoder.config.vocab
    assert video.objective.to_config() == source.objective.to_config()
    assert (video.sample_frames, video.sample_size) == (source.sample_frames, source.sample_size)


def test_inflates_a_diffusers_unet_folder(unet_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "video_unet"
    argv = ["inflate", str(unet_dir), "--out", str(out), "--frame-conditioning"]
    code, stdout, stderr = run_cli(argv, capsys)
    assert code == 0, stderr
    assert "UNet2DConditionModel -> InflatedUNet2D" in stdout and f"denoiser: {out}" in stdout
    model = InflatedUNet2D.from_pretrained(out)
    assert model.config.frame_conditioning and model.unet.conv_in.in_channels == 5
    source = UNet2DConditionModel.from_pretrained(unet_dir).state_dict()
    assert torch.equal(model.unet.conv_in.weight[:, :4], source["conv_in.weight"])
    assert not model.unet.conv_in.weight[:, 4:].any()  # the frame-mask channel starts at zero


def test_inflates_a_spacetime_denoiser_folder(image_run: Path, tmp_path: Path, capsys) -> None:
    denoiser = image_run / "checkpoint" / "pipeline" / "denoiser"
    code, _, stderr = run_cli(["inflate", str(denoiser), "--out", str(tmp_path / "d")], capsys)
    assert code == 0, stderr
    assert load_model(tmp_path / "d").config.temporal


def test_bad_inputs_are_one_line_errors(
    image_run: Path, unet_dir: Path, tmp_path: Path, capsys
) -> None:
    video_run = tmp_path / "video"
    assert run_cli(["inflate", str(image_run), "--out", str(video_run)], capsys)[0] == 0
    argv = ["inflate", str(unet_dir), "--out", str(tmp_path / "video_unet")]
    assert run_cli(argv, capsys)[0] == 0
    pickled = tmp_path / "pickled"
    pickled.mkdir()
    shutil.copy(unet_dir / "config.json", pickled)
    (pickled / "diffusion_pytorch_model.bin").write_bytes(b"not read")
    cases = [
        ([str(tmp_path / "missing")], "does not exist"),
        ([str(video_run)], "already a space-time model"),
        ([str(tmp_path / "video_unet")], "already a space-time model"),
        ([str(image_run), "--frame-conditioning"], "trained without it"),
        ([str(pickled)], "diffusion_pytorch_model.bin"),
        ([str(tmp_path)], "neither a pipeline folder"),
    ]
    for argv, message in cases:
        code, _, stderr = run_cli(["inflate", *argv, "--out", str(tmp_path / "o")], capsys)
        assert code == 2, argv
        assert stderr.startswith("spacetime: error: ") and stderr.count("\n") == 1, stderr
        assert message in stderr, stderr
    code, _, stderr = run_cli(["inflate", str(unet_dir), "--out", str(unet_dir)], capsys)
    assert code == 2 and "is the SOURCE folder" in stderr
    assert not (tmp_path / "o").exists()
