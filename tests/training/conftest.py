"""A tiny frozen latent space for latent-training tests: a random f = 4 ``AutoencoderKL``."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from spacetime.data.shapes_dataset import ShapesDataset
from spacetime.models.autoencoder import build_autoencoder, estimate_scaling

_ENC, _DEC = "DownEncoderBlock2D", "UpDecoderBlock2D"


def save_tiny_autoencoder(folder: Path, *, seed: int = 0) -> Path:
    """A random 3-level (f = 4, 4 latent channels, 8 wide) autoencoder saved in ``folder``,
    its latents scaled to unit variance on a few ShapesWorld clips (as a trained one is)."""
    torch.manual_seed(seed)
    autoencoder = build_autoencoder(
        "shapes-f4", block_out_channels=(8, 8, 8), down_block_types=(_ENC,) * 3,
        up_block_types=(_DEC,) * 3, norm_num_groups=4, latent_channels=4,
    )  # fmt: skip
    clips = ShapesDataset(size=32, frames=4, length=2, seed=seed)
    video = torch.stack([clips[i]["video"] for i in range(len(clips))])  # (2, 3, 4, 32, 32)
    autoencoder.set_scaling(*estimate_scaling(autoencoder, [video]))
    autoencoder.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_autoencoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder of a tiny random autoencoder (32x32 pixels -> 8x8x4 latents)."""
    return save_tiny_autoencoder(tmp_path_factory.mktemp("tiny-ae") / "autoencoder")
