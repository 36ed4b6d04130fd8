"""The default model shipped in ``spacetime/assets/default_model``: present, small, loadable,
what its model card says, and able to do image->video with the given frame kept."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spacetime.data import shapes
from spacetime.pipelines import default
from spacetime.pipelines.video_pipeline import VideoPipeline
from spacetime.training.config import load_preset

FOLDER = default.BUNDLED_MODEL_DIR
MAX_BYTES = 40 * 2**20  # "a few tens of MB at most"


@pytest.fixture(scope="module")
def bundled() -> VideoPipeline:
    return VideoPipeline.from_pretrained(FOLDER, device="cpu")


def test_the_model_is_bundled_and_small() -> None:
    assert (FOLDER / "model_index.json").is_file(), f"no bundled model in {FOLDER}"
    files = [p for p in FOLDER.rglob("*") if p.is_file()]
    assert not [p for p in files if p.suffix in (".bin", ".pt", ".pth", ".ckpt", ".pkl")]
    assert {p.parent.name for p in files if p.suffix == ".safetensors"} == {
        "autoencoder",
        "denoiser",
        "text_encoder",
    }
    assert sum(p.stat().st_size for p in files) < MAX_BYTES


def test_it_is_the_recipe_the_model_card_names(bundled: VideoPipeline) -> None:
    card = json.loads((FOLDER / "model_card.json").read_text(encoding="utf-8"))
    assert card["recipe"] == "spacetime/configs/default-shapes.yaml"
    assert load_preset("default-shapes").data.frames == card["frames"]  # shipped with it
    assert bundled.sample_frames == card["frames"] == 16
    assert bundled.sample_size == (card["size"], card["size"]) == (64, 64)
    assert bundled.autoencoder is not None and bundled.autoencoder.spatial_factor == 4
    assert bundled.denoiser.config.temporal is True
    params = sum(p.numel() for p in bundled.denoiser.parameters())
    assert params == card["denoiser_parameters"]
    # Every word of ShapesWorld's captions is known to the text encoder (none maps to unknown).
    vocab = set(bundled.text_encoder.config.vocab)
    assert set(shapes.vocabulary()) <= vocab


def test_image_to_video_keeps_the_given_frame(bundled: VideoPipeline) -> None:
    clip = shapes.generate(7, size=64, frames=16)
    video = bundled(
        [clip.caption], seeds=[0], steps=4, image=clip.video[0], progress=False
    )  # (1, 16, 64, 64, 3)
    assert video.shape == (1, 16, 64, 64, 3) and video.dtype == np.uint8
    first = video[0, 0].astype(np.float64)
    mse = np.mean((first - clip.video[0].astype(np.float64)) ** 2)
    psnr = 10 * np.log10(255.0**2 / max(mse, 1e-12))
    assert psnr > 30.0  # the frame went through the autoencoder only (38 dB on held-out clips)
