"""Training clips encoded once into a latent space, stored as safetensors shards.

Latent diffusion trains on ``z = E(x)`` (Rombach et al. 2022). Encoding every clip at every
step costs as much as the denoiser's own forward and backward pass on a CPU, and an image
step that uses one frame of a clip would still render and encode all of it. A *latent
dataset* pays that once: :func:`write_latent_dataset` encodes every clip of a dataset with a
frozen autoencoder and stores the latents; :class:`LatentDataset` serves them as clips, so a
training step is network time only.

Layout of a latent-dataset folder::

    shard_00000.safetensors   "latents" float32 (n, c, T, h, w); metadata "captions" (JSON list)
    ...
    index.json                written last: format, clips, shape, the autoencoder fingerprint,
                              the source description and the shard list

Shards are written atomically and a rerun keeps the complete ones, so an interrupted encoding
continues where it stopped. The folder holds tensors and JSON only (no pickle).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from tqdm.auto import tqdm

from spacetime.data.clip_dataset import Clip, ClipDataset
from spacetime.errors import SpacetimeError

__all__ = ["FORMAT", "LatentDataset", "read_index", "write_latent_dataset"]

FORMAT = "spacetime-latents"
VERSION = 1
INDEX = "index.json"


def _shard_name(k: int) -> str:
    return f"shard_{k:05d}.safetensors"


def _read_shard(path: Path) -> tuple[torch.Tensor, list[str]]:
    """``latents`` (n, c, T, h, w) and the n captions of one shard."""
    try:
        with safe_open(str(path), framework="pt") as f:
            latents = f.get_tensor("latents")
            captions = json.loads((f.metadata() or {}).get("captions", "null"))
    except (SafetensorError, OSError, json.JSONDecodeError, KeyError) as err:
        raise SpacetimeError(f"latent shard {path} is unreadable: {err}") from None
    if not isinstance(captions, list) or len(captions) != latents.shape[0]:
        raise SpacetimeError(f"latent shard {path} has no caption per clip")
    return latents, [str(c) for c in captions]


def write_latent_dataset(
    dataset: ClipDataset,
    encode: Callable[[torch.Tensor], torch.Tensor],
    out: str | Path,
    *,
    fingerprint: str,
    source: dict[str, Any],
    shard_clips: int = 512,
    batch_clips: int = 32,
    progress: bool = True,
) -> Path:
    """Encode every clip of ``dataset`` (item ``i`` with seed ``i``) and write the folder ``out``.

    Args:
        dataset: the pixel clips (C, T, H, W) in [-1, 1]; all of one shape.
        encode: ``(B, 3, T, H, W) -> (B, c, T, h, w)`` latents (the frozen autoencoder).
        out: the folder (created; complete shards already there are kept).
        fingerprint: identity of the latent space (see ``autoencoder_fingerprint``), checked
            when a run trains on the folder.
        source: JSON description of what was encoded (data config, seed, count), checked
            against the run's config.
        shard_clips: clips per shard file.
        batch_clips: clips per ``encode`` call (memory and speed only).
        progress: show a progress bar.

    Returns:
        ``out`` as a Path.
    """
    if shard_clips < 1 or batch_clips < 1:
        raise SpacetimeError("shard_clips and batch_clips must be >= 1")
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    index_file = folder / INDEX
    if index_file.is_file():
        index = read_index(folder)
        if index["source"] == source and index["autoencoder"] == fingerprint:
            return folder  # already complete
        raise SpacetimeError(
            f"{folder} already holds a latent dataset of other data or another autoencoder; "
            "use a new --out folder"
        )
    n = len(dataset)
    shards, shape = [], None
    bar = tqdm(total=n, desc="encode", unit="clip", disable=not progress, dynamic_ncols=True)
    for k, lo in enumerate(range(0, n, shard_clips)):
        hi, path = min(lo + shard_clips, n), folder / _shard_name(k)
        latents = _complete_shard(path, hi - lo)
        if latents is None:
            latents = _encode_shard(dataset, encode, range(lo, hi), batch_clips, path, bar)
        else:
            bar.update(hi - lo)
        shards.append({"file": path.name, "clips": hi - lo})
        shape = list(latents.shape[1:])
    bar.close()
    index = {
        "format": FORMAT,
        "version": VERSION,
        "clips": n,
        "shape": shape,
        "autoencoder": fingerprint,
        "source": source,
        "shards": shards,
    }
    tmp = index_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(index, indent=1))
    os.replace(tmp, index_file)
    return folder


def _complete_shard(path: Path, clips: int) -> torch.Tensor | None:
    """The latents of the shard at ``path`` when an earlier run wrote it whole (``clips``
    clips), else None: missing, or broken by a kill while it was renamed (encoded again)."""
    if not path.is_file():
        return None
    try:
        latents, _ = _read_shard(path)
    except SpacetimeError:
        return None
    return latents if latents.shape[0] == clips else None


def _encode_shard(
    dataset: ClipDataset,
    encode: Callable[[torch.Tensor], torch.Tensor],
    items: range,
    batch_clips: int,
    path: Path,
    bar: tqdm,
) -> torch.Tensor:
    """Encode clips ``items`` (item ``i`` with seed ``i``) ``batch_clips`` at a time and write
    them, with their captions, atomically to ``path``; returns the latents (n, c, T, h, w)."""
    parts, captions = [], []
    for b in range(items.start, items.stop, batch_clips):
        batch = [dataset.item(i, seed=i) for i in range(b, min(b + batch_clips, items.stop))]
        video = torch.stack([it["video"] for it in batch])  # (b, 3, T, H, W)
        with torch.no_grad():
            parts.append(encode(video).float().contiguous())  # (b, c, T, h, w)
        captions += [str(it["caption"]) for it in batch]
        bar.update(len(batch))
    latents = torch.cat(parts)
    tmp = path.with_suffix(".tmp")
    save_file({"latents": latents}, str(tmp), metadata={"captions": json.dumps(captions)})
    os.replace(tmp, path)
    return latents


def read_index(folder: str | Path) -> dict[str, Any]:
    """The ``index.json`` of a latent-dataset folder, checked; :class:`SpacetimeError` if the
    folder is not a complete latent dataset."""
    path = Path(folder) / INDEX
    if not path.is_file():
        raise SpacetimeError(
            f"{folder} is not a latent dataset (no {INDEX}); write one with "
            "`spacetime cache-latents`, or it was interrupted: rerun that command"
        )
    try:
        index = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise SpacetimeError(f"{path} is unreadable: {err}") from None
    if not isinstance(index, dict) or index.get("format") != FORMAT:
        raise SpacetimeError(f"{path} is not a {FORMAT} index")
    if index.get("version", 0) > VERSION:
        raise SpacetimeError(
            f"{path} has format version {index['version']}; this spacetime reads up to "
            f"{VERSION}: upgrade spacetime"
        )
    return index


class LatentDataset(ClipDataset):
    """The clips of a latent-dataset folder: ``{"video": float32 (c, T, h, w), "caption"}``.

    Every shard is read into memory at construction (``c * T * h * w * 4`` bytes a clip; 64 KB
    for 16 frames of 16x16x4). Items are deterministic: there is no augmentation in latent
    space (flipping latents is not the latents of the flipped clip).

    Args:
        folder: written by :func:`write_latent_dataset`.
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.index = read_index(self.folder)
        parts, captions = [], []
        for shard in self.index["shards"]:
            latents, shard_captions = _read_shard(self.folder / shard["file"])
            parts.append(latents)
            captions += shard_captions
        self.latents = torch.cat(parts)  # (N, c, T, h, w)
        self.captions: Sequence[str] = captions
        if self.latents.shape[0] != self.index["clips"]:
            raise SpacetimeError(
                f"{self.folder}: index.json lists {self.index['clips']} clips but the shards "
                f"hold {self.latents.shape[0]}"
            )

    @property
    def fingerprint(self) -> str:
        """Fingerprint of the autoencoder the latents come from."""
        return str(self.index["autoencoder"])

    @property
    def source(self) -> dict[str, Any]:
        """What was encoded (as given to :func:`write_latent_dataset`)."""
        return dict(self.index["source"])

    def __len__(self) -> int:
        return int(self.latents.shape[0])

    def _item(self, index: int, generator: torch.Generator) -> Clip:
        return Clip(video=self.latents[index], caption=self.captions[index])
