"""cache-latents: a run's training clips encoded once, tied to its data, seed and autoencoder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from spacetime.data.latent_dataset import LatentDataset
from spacetime.errors import SpacetimeError
from spacetime.training.components import build_datasets, latent_source
from spacetime.training.config import TrainConfig, load_config
from spacetime.training.latent import (
    autoencoder_fingerprint,
    encode_latents,
    load_frozen_autoencoder,
)
from spacetime.training.latent_data import cache_latents


def tiny(autoencoder: Path | str, *sets: str) -> TrainConfig:
    """shapes-tiny (4 frames of 32 px) with 5 ShapesWorld clips in the tiny latent space."""
    return load_config("shapes-tiny", None, [
        "progress=false", f"autoencoder.path={autoencoder}", "model.overrides.patch_size=2",
        "data.shapes_count=5", *sets,
    ])  # fmt: skip


def test_every_clip_is_encoded_with_its_caption_and_source(
    tiny_autoencoder: Path, tmp_path: Path
) -> None:
    config = tiny(tiny_autoencoder)
    out = cache_latents(config, tmp_path / "latents", batch_clips=2, progress=False)
    assert out == tmp_path / "latents"
    cached = LatentDataset(out)
    autoencoder = load_frozen_autoencoder(config.autoencoder)
    assert cached.fingerprint == autoencoder_fingerprint(autoencoder)
    assert cached.source == latent_source(config)
    assert cached.source == {"data": {"kind": "shapes", "path": "", "frames": 4, "size": 32,
                              "augment": True, "shapes_count": 5}, "seed": 0}  # fmt: skip
    videos = build_datasets(config)[0]
    assert len(cached) == len(videos) == 5
    for i in range(5):
        item = videos.item(i, seed=i)  # clip i with augmentation seed i, fixed once
        expected = encode_latents(autoencoder, torch.stack([item["video"]]))[0]  # (4, 4, 8, 8)
        assert cached[i]["caption"] == item["caption"]
        assert torch.equal(cached[i]["video"], expected), i


def test_the_latents_do_not_depend_on_the_encoding_batch(
    tiny_autoencoder: Path, tmp_path: Path
) -> None:
    config = tiny(tiny_autoencoder)
    one = LatentDataset(cache_latents(config, tmp_path / "one", batch_clips=1, progress=False))
    five = LatentDataset(cache_latents(config, tmp_path / "five", batch_clips=5, progress=False))
    assert torch.equal(one.latents, five.latents)


def test_a_complete_folder_is_kept_and_another_run_is_refused(
    tiny_autoencoder: Path, tmp_path: Path
) -> None:
    out = tmp_path / "latents"
    cache_latents(tiny(tiny_autoencoder), out, progress=False)
    index = (out / "index.json").read_text()
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    cache_latents(tiny(tiny_autoencoder), out, progress=False)  # the same config: nothing to do
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == stamps
    assert json.loads(index)["clips"] == 5
    with pytest.raises(SpacetimeError, match="already holds a latent dataset of other data"):
        cache_latents(tiny(tiny_autoencoder, "seed=1"), out, progress=False)


def test_pixel_space_has_nothing_to_encode(tmp_path: Path) -> None:
    config = load_config("shapes-tiny", None, ["progress=false"])
    with pytest.raises(SpacetimeError, match=r"cache-latents needs autoencoder\.path"):
        cache_latents(config, tmp_path / "latents", progress=False)
    assert not (tmp_path / "latents").exists()
    with pytest.raises(SpacetimeError, match=r"autoencoder.path '.*missing' does not exist"):
        cache_latents(tiny(tmp_path / "missing"), tmp_path / "latents", progress=False)
