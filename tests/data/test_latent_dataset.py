"""Latent datasets: clips encoded once into safetensors shards, read back as clips; interrupted
encodings continue; folders of other data or another latent space are refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from spacetime.data.latent_dataset import LatentDataset, read_index, write_latent_dataset
from spacetime.data.shapes_dataset import ShapesDataset
from spacetime.errors import SpacetimeError


def encode(video: torch.Tensor) -> torch.Tensor:
    """A stand-in latent space: 2x2 average pooling of the first two channels."""
    b, _, t, h, w = video.shape
    frames = video[:, :2].transpose(1, 2).reshape(b * t, 2, h, w)
    pooled = torch.nn.functional.avg_pool2d(frames, 2)  # (B*T, 2, H/2, W/2)
    return pooled.reshape(b, t, 2, h // 2, w // 2).transpose(1, 2)


def write(folder: Path, data: ShapesDataset, **kw: object) -> Path:
    options = {"fingerprint": "ae", "source": {"seed": data.seed}, "shard_clips": 3,
               "batch_clips": 2, "progress": False} | kw  # fmt: skip
    return write_latent_dataset(data, encode, folder, **options)


def test_round_trip_gives_each_clip_its_latents_and_caption(tmp_path: Path) -> None:
    data = ShapesDataset(size=32, frames=4, length=7, seed=3, flip=0.5)
    dataset = LatentDataset(write(tmp_path / "lat", data))
    assert len(dataset) == 7 and read_index(tmp_path / "lat")["shape"] == [2, 4, 16, 16]
    for i in range(7):
        clip = data.item(i, seed=i)  # the augmentation seed of item i is i
        assert dataset[i]["caption"] == clip["caption"]
        assert torch.equal(dataset[i]["video"], encode(clip["video"][None])[0])
    assert (dataset.fingerprint, dataset.source) == ("ae", {"seed": 3})


def test_an_interrupted_encoding_keeps_complete_shards(tmp_path: Path) -> None:
    data = ShapesDataset(size=32, frames=4, length=7, seed=3)
    folder = write(tmp_path / "lat", data)
    (folder / "index.json").unlink()  # as if killed before the end
    (folder / "shard_00002.safetensors").write_bytes(b"truncated")  # killed mid-shard
    kept = (folder / "shard_00000.safetensors").stat().st_mtime_ns
    calls = []

    def counting(video: torch.Tensor) -> torch.Tensor:
        calls.append(video.shape[0])
        return encode(video)

    write_latent_dataset(data, counting, folder, fingerprint="ae", source={"seed": 3},
                         shard_clips=3, batch_clips=2, progress=False)  # fmt: skip
    assert sum(calls) == 1  # only the broken last shard (1 clip) was encoded again
    assert (folder / "shard_00000.safetensors").stat().st_mtime_ns == kept
    assert len(LatentDataset(folder)) == 7


def test_bad_folders_are_refused_with_the_reason(tmp_path: Path) -> None:
    data = ShapesDataset(size=32, frames=4, length=4, seed=3)
    with pytest.raises(SpacetimeError, match="not a latent dataset"):
        LatentDataset(tmp_path)
    folder = write(tmp_path / "lat", data)
    with pytest.raises(SpacetimeError, match="another autoencoder"):
        write(folder, data, fingerprint="other")
    index = json.loads((folder / "index.json").read_text())
    (folder / "index.json").write_text(json.dumps(index | {"version": 99}))
    with pytest.raises(SpacetimeError, match="version 99"):
        LatentDataset(folder)
    (folder / "index.json").write_text(json.dumps(index))
    (folder / "shard_00001.safetensors").write_bytes(b"\x00" * 16)
    with pytest.raises(SpacetimeError, match=r"shard_00001\.safetensors is unreadable"):
        LatentDataset(folder)
