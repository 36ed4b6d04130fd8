"""Tests for spacetime.pipelines.video_pipeline on a tiny real pipeline (UNet3D + word encoder)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import spacetime
from helpers import tiny_pipeline
from spacetime.data.transforms import resize_center_crop
from spacetime.errors import SpacetimeError
from spacetime.pipelines.video_pipeline import VideoPipeline

CAPTIONS = ["a red circle moves left", "a blue square moves right"]
FAST = {"steps": 2, "progress": False}


def _tiny(frame_conditioning: bool = True) -> VideoPipeline:
    return tiny_pipeline(CAPTIONS, frames=4, size=16, frame_conditioning=frame_conditioning)


@pytest.fixture(scope="module")
def pipe() -> VideoPipeline:
    return _tiny()


def test_output_is_uint8_video_of_the_requested_shape(pipe: VideoPipeline) -> None:
    video = pipe(CAPTIONS, seeds=[0, 1], **FAST)
    assert video.shape == (2, 4, 16, 16, 3) and video.dtype == np.uint8
    assert video.std() > 0  # not a constant image
    assert pipe([CAPTIONS[0]], seeds=[0], frames=2, size=(8, 12), **FAST).shape == (1, 2, 8, 12, 3)


def test_a_seed_gives_the_same_video_in_any_batch(pipe: VideoPipeline) -> None:
    both = pipe(CAPTIONS, seeds=[3, 4], **FAST)
    alone = pipe([CAPTIONS[1]], seeds=[4], **FAST)
    chunked = pipe(CAPTIONS, seeds=[3, 4], batch_size=1, **FAST)
    assert np.abs(both[1].astype(int) - alone[0].astype(int)).max() <= 1
    assert np.abs(both.astype(int) - chunked.astype(int)).max() <= 1
    other = pipe([CAPTIONS[1]], seeds=[5], **FAST)
    assert np.abs(other[0].astype(int) - alone[0].astype(int)).mean() > 5


def test_text_and_guidance_change_the_output(pipe: VideoPipeline) -> None:
    a = pipe([CAPTIONS[0]], seeds=[0], guidance=5.0, **FAST).astype(int)
    b = pipe([CAPTIONS[1]], seeds=[0], guidance=5.0, **FAST).astype(int)
    unguided = pipe([CAPTIONS[0]], seeds=[0], guidance=1.0, **FAST).astype(int)
    assert np.abs(a - b).mean() > 1 and np.abs(a - unguided).mean() > 1


def test_given_frames_come_out_exactly(pipe: VideoPipeline) -> None:
    rng = np.random.default_rng(0)
    first = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    last = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)  # resized to the model size
    video = pipe([CAPTIONS[0]] * 2, seeds=[0, 1], image=first, **FAST)
    assert np.array_equal(video[:, 0], np.stack([first, first]))
    between = pipe([CAPTIONS[0]], seeds=[0], given_frames={0: first, -1: last}, **FAST)[0]
    assert np.array_equal(between[0], first)
    assert np.array_equal(between[-1], resize_center_crop(last[None], 16)[0])
    assert not np.array_equal(between[1], first)


def test_per_sample_given_frames_share_one_batch(pipe: VideoPipeline) -> None:
    rng = np.random.default_rng(2)
    a, b, c = (rng.integers(0, 256, (16, 16, 3), dtype=np.uint8) for _ in range(3))
    prompts = [CAPTIONS[0], CAPTIONS[1], CAPTIONS[0]]
    mixed = pipe(prompts, seeds=[0, 1, 2], given_frames=[None, {0: a}, {0: b, -1: c}], **FAST)
    alone = pipe([CAPTIONS[0]], seeds=[0], **FAST)[0]  # text only, no frame condition at all
    assert np.abs(mixed[0].astype(int) - alone.astype(int)).max() <= 1
    assert np.array_equal(mixed[1, 0], a) and not np.array_equal(mixed[1, -1], c)
    assert np.array_equal(mixed[2, 0], b) and np.array_equal(mixed[2, -1], c)
    # The same rows one at a time, and a list of first frames: the same videos.
    single = pipe([CAPTIONS[1]], seeds=[1], image=a, **FAST)[0]
    assert np.abs(mixed[1].astype(int) - single.astype(int)).max() <= 1
    chunked = pipe(prompts, seeds=[0, 1, 2], image=[None, a, b], given_frames=[{}, {}, {-1: c}],
                   batch_size=2, **FAST)  # fmt: skip
    assert np.abs(chunked.astype(int) - mixed.astype(int)).max() <= 1
    with pytest.raises(SpacetimeError, match="given_frames has 2 entries for 3 prompts"):
        pipe(prompts, seeds=[0, 1, 2], given_frames=[None, {0: a}], **FAST)
    with pytest.raises(SpacetimeError, match="image has 1 entries for 3 prompts"):
        pipe(prompts, seeds=[0, 1, 2], image=[a], **FAST)


def test_user_mistakes_raise_clear_errors(pipe: VideoPipeline) -> None:
    with pytest.raises(SpacetimeError, match=r"size 15x16 is not supported.*multiples of 2"):
        pipe([CAPTIONS[0]], seeds=[0], size=(15, 16), **FAST)
    with pytest.raises(SpacetimeError, match="frames=0"):
        pipe([CAPTIONS[0]], seeds=[0], frames=0, **FAST)
    with pytest.raises(SpacetimeError, match="one seed per prompt"):
        pipe(CAPTIONS, seeds=[0], **FAST)
    with pytest.raises(SpacetimeError, match="at most 16"):
        pipe([" ".join(["red"] * 17)], seeds=[0], **FAST)
    with pytest.raises(SpacetimeError, match="outside a 4-frame clip"):
        pipe([CAPTIONS[0]], seeds=[0], given_frames={4: np.zeros((4, 4, 3), np.uint8)}, **FAST)
    with pytest.raises(SpacetimeError, match="uint8"):
        pipe([CAPTIONS[0]], seeds=[0], image=np.zeros((4, 4, 3), np.float32), **FAST)
    with pytest.raises(SpacetimeError, match="unknown sampler"):
        pipe([CAPTIONS[0]], seeds=[0], sampler="magic", **FAST)
    with pytest.warns(UserWarning, match=r"'purple', 'triangle' not in the model's vocabulary"):
        pipe(["a purple triangle moves left"], seeds=[0], **FAST)


def test_frame_conditioning_needs_a_model_trained_for_it() -> None:
    plain = _tiny(frame_conditioning=False)
    with pytest.raises(SpacetimeError, match="not trained with frame conditioning"):
        plain([CAPTIONS[0]], seeds=[0], image=np.zeros((16, 16, 3), np.uint8), **FAST)


def test_save_and_load_round_trip(pipe: VideoPipeline, tmp_path: Path) -> None:
    folder = pipe.save_pretrained(tmp_path / "pipe")
    index = json.loads((folder / "model_index.json").read_text())
    assert index["_spacetime_version"] == spacetime.__version__
    assert index["denoiser"] == ["spacetime.models.unet3d", "UNet3D"]
    assert index["text_encoder"] == ["spacetime.models.text", "WordTextEncoder"]
    assert index["autoencoder"] is None and index["objective"]["kind"] == "gaussian"
    assert index["sample_frames"] == 4 and index["sample_size"] == [16, 16]
    assert index["channels"] == 3
    for part in ("denoiser", "text_encoder"):
        assert (folder / part / "config.json").is_file()
        assert list((folder / part).glob("*.safetensors"))
    loaded = VideoPipeline.from_pretrained(folder, device="cpu")
    assert loaded.text_encoder.vocab == pipe.text_encoder.vocab
    assert np.array_equal(
        loaded(CAPTIONS, seeds=[7, 8], **FAST), pipe(CAPTIONS, seeds=[7, 8], **FAST)
    )
    # Saving again over the folder replaces it in place.
    pipe.save_pretrained(folder)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_loading_other_folders_fails_clearly(pipe: VideoPipeline, tmp_path: Path) -> None:
    pipe.denoiser.save_pretrained(tmp_path / "just_a_model")
    with pytest.raises(SpacetimeError, match=r"not a spacetime pipeline.*single model folder"):
        VideoPipeline.from_pretrained(tmp_path / "just_a_model")
    folder = pipe.save_pretrained(tmp_path / "pipe")
    index = json.loads((folder / "model_index.json").read_text())
    (folder / "model_index.json").write_text(json.dumps({**index, "_spacetime_version": "9.0"}))
    with pytest.raises(SpacetimeError, match="newer than this spacetime"):
        VideoPipeline.from_pretrained(folder)


class SpaceToDepth(torch.nn.Module):
    """An exact, parameter-free frame-wise autoencoder: each 2x2 pixel block -> 12 channels."""

    spatial_factor = 2
    temporal_factor = 1

    def encode(self, video: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = video.shape
        frames = video.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)  # (B T, 3, H, W)
        latents = torch.nn.functional.pixel_unshuffle(frames, 2)  # (B T, 12, H/2, W/2)
        return latents.reshape(b, t, 4 * c, h // 2, w // 2).permute(0, 2, 1, 3, 4)

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = latents.shape
        frames = latents.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)
        video = torch.nn.functional.pixel_shuffle(frames, 2)  # (B T, 3, 2h, 2w)
        return video.reshape(b, t, c // 4, 2 * h, 2 * w).permute(0, 2, 1, 3, 4)


def test_latent_pipeline_samples_in_latent_space_and_decodes() -> None:
    pixel = _tiny()
    denoiser = type(pixel.denoiser)(**{**pixel.denoiser.config, "in_channels": 12})
    latent = VideoPipeline(
        denoiser, pixel.text_encoder, pixel.objective, SpaceToDepth(), sample_frames=4,
        sample_size=16,
    )  # fmt: skip
    seen: list[tuple[int, ...]] = []
    image = np.random.default_rng(1).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    video = latent(
        [CAPTIONS[0]], seeds=[0], image=image, callback=lambda i, t, x: seen.append(x.shape),
        **FAST,
    )  # fmt: skip
    assert video.shape == (1, 4, 16, 16, 3)
    assert seen[0] == (1, 12, 4, 8, 8)  # the sampler ran on latents
    assert np.array_equal(video[0, 0], image)  # given frame survives encode -> decode exactly
    with pytest.raises(SpacetimeError, match="multiples of 4"):
        latent([CAPTIONS[0]], seeds=[0], size=6, **FAST)
    with pytest.raises(SpacetimeError, match="LatentAutoencoder"):
        VideoPipeline(denoiser, pixel.text_encoder, pixel.objective, torch.nn.Identity())
