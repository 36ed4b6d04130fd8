"""FrameAutoencoder: frame-wise shapes, chunking, scaling math, checkpoints, SD-VAE folders."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from diffusers import AutoencoderKL

from spacetime.errors import SpacetimeError
from spacetime.models.autoencoder import (
    AUTOENCODER_PRESETS,
    FrameAutoencoder,
    build_autoencoder,
    estimate_scaling,
    load_autoencoder,
    psnr,
)


def _video(batch: int, frames: int, size: int, seed: int = 0) -> torch.Tensor:
    """A smooth random video (B, 3, T, size, size) in [-1, 1]."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(batch, 3, frames, size, size, generator=g) * 2 - 1


def _tiny_vae(**kwargs) -> AutoencoderKL:
    """A 2-level AutoencoderKL with 8/16 channels (f = 2), like an SD VAE but ~20k params."""
    torch.manual_seed(0)
    config = dict(
        block_out_channels=(8, 16),
        down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=4,
        sample_size=16,
    )
    return AutoencoderKL(**{**config, **kwargs})


@pytest.mark.parametrize(
    ("preset", "factor", "channels"), [("shapes-f4", 4, 4), ("shapes-f8", 8, 8)]
)
def test_presets_encode_and_decode_frame_wise_shapes(preset, factor, channels) -> None:
    ae = build_autoencoder(preset).eval()
    assert (ae.spatial_factor, ae.latent_channels, ae.in_channels) == (factor, channels, 3)
    params = sum(p.numel() for p in ae.parameters())
    assert 2e5 < params < 1.5e6  # "a few 100k": trains in minutes on a CPU
    video = _video(2, 3, 32)
    with torch.no_grad():
        z = ae.encode(video)
        recon = ae.decode(z)
    assert z.shape == (2, channels, 3, 32 // factor, 32 // factor)
    assert ae.latent_shape(3, 32, 32) == tuple(z.shape[1:])
    assert recon.shape == video.shape
    # Frame-wise: frame t of the latents depends on frame t of the video only (float64: a
    # batch of one frame may round differently from a batch of three).
    with torch.no_grad():
        ae64, video64 = ae.double(), video.double()
        alone = ae64.encode(video64[:, :, 1:2])
        torch.testing.assert_close(alone, ae64.encode(video64)[:, :, 1:2], atol=1e-9, rtol=0)


def test_chunked_equals_unchunked_and_keeps_frame_order() -> None:
    # float64: chunks are batches of other sizes, which CPU kernels may round differently
    ae = FrameAutoencoder(_tiny_vae().eval().double(), chunk_size=64)
    video = _video(2, 5, 16, seed=1).double()  # 10 frames: chunks of 3 split clips mid-way
    with torch.no_grad():
        whole_z, whole_x = ae.encode(video), ae.decode(ae.encode(video))
        ae.chunk_size = 3
        chunk_z, chunk_x = ae.encode(video), ae.decode(ae.encode(video))
        ae.chunk_size = 1
        single_z = ae.encode(video)
    torch.testing.assert_close(chunk_z, whole_z, atol=1e-9, rtol=0)
    torch.testing.assert_close(single_z, whole_z, atol=1e-9, rtol=0)
    torch.testing.assert_close(chunk_x, whole_x, atol=1e-9, rtol=0)
    # Swapping two frames of the input swaps them in the latents (no mix-up of B and T).
    swapped = video[:, :, [1, 0, 2, 3, 4]]
    with torch.no_grad():
        z = ae.encode(swapped)
    torch.testing.assert_close(z[:, :, 0], whole_z[:, :, 1], atol=1e-9, rtol=0)
    torch.testing.assert_close(z[1, :, 4], whole_z[1, :, 4], atol=1e-9, rtol=0)


def test_scaling_and_shift_follow_diffusers_convention() -> None:
    vae = _tiny_vae(scaling_factor=1.0).eval()
    ae = FrameAutoencoder(vae)
    video = _video(1, 2, 16, seed=2)
    frames = video.permute(0, 2, 1, 3, 4).reshape(2, 3, 16, 16)
    with torch.no_grad():
        raw = vae.encode(frames).latent_dist.mean  # (2, 4, 8, 8)
        ae.set_scaling(2.5, 0.3)
        z = ae.encode(video)
        expected = ((raw - 0.3) * 2.5).reshape(1, 2, 4, 8, 8).permute(0, 2, 1, 3, 4)
        torch.testing.assert_close(z, expected, atol=1e-5, rtol=1e-5)
        # decode undoes the scaling: same pixels as the raw decoder on the raw latents.
        torch.testing.assert_close(
            ae.decode(z)[0].permute(1, 0, 2, 3), vae.decode(raw).sample, atol=1e-5, rtol=1e-5
        )
        sampled = ae.encode(video, generator=torch.Generator().manual_seed(0))
    assert not torch.allclose(sampled, z)  # a posterior sample is not the mean
    with pytest.raises(SpacetimeError, match="scaling_factor"):
        ae.set_scaling(0.0)


def test_estimate_scaling_gives_unit_variance_latents() -> None:
    ae = FrameAutoencoder(_tiny_vae().eval())
    videos = [_video(1, 3, 16, seed=s) for s in range(3)]
    scale, shift = estimate_scaling(ae, videos)
    ae.set_scaling(scale, shift)
    with torch.no_grad():
        z = torch.cat([ae.encode(v).flatten() for v in videos]).double()
    assert abs(z.mean().item()) < 1e-5
    assert z.std(unbiased=False).item() == pytest.approx(1.0, abs=1e-4)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    ae = build_autoencoder("shapes-f4", chunk_size=4).eval()
    ae.set_scaling(3.25, -0.125)
    folder = ae.save_pretrained(tmp_path / "ae")
    assert (folder / "config.json").is_file() and list(folder.glob("*.safetensors"))
    assert not list(folder.glob("*.bin"))  # never pickle
    again = FrameAutoencoder.from_pretrained(folder, chunk_size=2)
    assert (again.scaling_factor, again.shift_factor, again.chunk_size) == (3.25, -0.125, 2)
    video = _video(1, 3, 16, seed=3)
    with torch.no_grad():
        torch.testing.assert_close(again.encode(video), ae.encode(video))
        torch.testing.assert_close(again.reconstruct(video), ae.reconstruct(video))


def test_stable_diffusion_vae_folder_loads_through_the_same_path(tmp_path: Path) -> None:
    vae = _tiny_vae(scaling_factor=0.18215).eval()  # SD 1.x convention, no shift
    vae.save_pretrained(str(tmp_path / "sd" / "vae"), safe_serialization=True)
    (tmp_path / "sd" / "model_index.json").write_text("{}")
    for path in (tmp_path / "sd" / "vae", tmp_path / "sd"):  # the VAE or its pipeline folder
        ae = load_autoencoder(path)
        assert ae.scaling_factor == pytest.approx(0.18215)
        assert ae.shift_factor == 0.0
        assert (ae.spatial_factor, ae.latent_channels) == (2, 4)
        video = _video(1, 2, 16, seed=4)
        frames = video[0].permute(1, 0, 2, 3)  # (T, 3, H, W)
        with torch.no_grad():
            expected = vae.encode(frames).latent_dist.mean * 0.18215  # (T, 4, 8, 8)
            torch.testing.assert_close(ae.encode(video)[0].permute(1, 0, 2, 3), expected)


def test_load_rejects_missing_or_foreign_folders(tmp_path: Path) -> None:
    with pytest.raises(SpacetimeError, match="does not exist"):
        load_autoencoder(tmp_path / "absent")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SpacetimeError, match=r"no config\.json"):
        load_autoencoder(empty)
    unet = tmp_path / "unet"
    unet.mkdir()
    (unet / "config.json").write_text(json.dumps({"_class_name": "UNet2DModel"}))
    with pytest.raises(SpacetimeError, match="UNet2DModel, expected an AutoencoderKL"):
        load_autoencoder(unet)
    bare = tmp_path / "bare"
    _tiny_vae().save_pretrained(str(bare), safe_serialization=True)
    for weights in bare.glob("*.safetensors"):
        weights.unlink()
    with pytest.raises(SpacetimeError, match="no \\*\\.safetensors"):
        load_autoencoder(bare)


def test_bad_inputs_raise_spacetime_errors() -> None:
    ae = FrameAutoencoder(_tiny_vae())
    with pytest.raises(SpacetimeError, match=r"\(B, 3, T, H, W\)"):
        ae.encode(torch.zeros(3, 2, 16, 16))
    with pytest.raises(SpacetimeError, match="multiple of the autoencoder's spatial factor 2"):
        ae.encode(torch.zeros(1, 3, 2, 15, 16))
    with pytest.raises(SpacetimeError, match=r"latents must be \(B, 4"):
        ae.decode(torch.zeros(1, 3, 2, 8, 8))
    with pytest.raises(SpacetimeError, match="chunk_size"):
        ae.chunk_size = 0
    with pytest.raises(SpacetimeError, match=r"unknown autoencoder preset 'nope'.*shapes-f4"):
        build_autoencoder("nope")
    assert set(AUTOENCODER_PRESETS) >= {"shapes-f4", "shapes-f8"}


def test_psnr_matches_the_definition_on_8_bit_pixels() -> None:
    reference = torch.full((2, 3, 2, 4, 4), -1.0)  # pixel value 0
    estimate = reference.clone()
    estimate[0] = 10 / 127.5 - 1  # pixel value 10 everywhere: MSE = 100
    values = psnr(reference, estimate)
    assert values[0].item() == pytest.approx(10 * math.log10(255**2 / 100), abs=1e-9)
    assert values[1].item() > 140  # identical clip: capped, finite
    with pytest.raises(SpacetimeError, match="one shape"):
        psnr(reference, estimate[:, :, :1])
