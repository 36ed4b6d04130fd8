"""Training data: ShapesWorld (``spacetime.data.shapes``), video/image folders, augmentations.

Every dataset yields ``{"video": float32 (C, T, H, W) in [-1, 1], "caption": str}`` with its
randomness drawn from an explicit seed (``dataset.item(index, seed)``); see
:mod:`spacetime.data.clip_dataset` for the contract and :func:`collate_clips` for batching.

The names below are imported on first access (PEP 562): the datasets need torch, which
``spacetime.data.shapes`` and the evaluation code (``spacetime eval``) do not, so importing
those stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "ClipWindow": "spacetime.data.augment",
    "TemporalAugment": "spacetime.data.augment",
    "hflip": "spacetime.data.augment",
    "mirror_caption": "spacetime.data.augment",
    "CaptionedFile": "spacetime.data.captions",
    "list_captioned": "spacetime.data.captions",
    "read_manifest": "spacetime.data.captions",
    "Batch": "spacetime.data.clip_dataset",
    "Clip": "spacetime.data.clip_dataset",
    "ClipDataset": "spacetime.data.clip_dataset",
    "SeededView": "spacetime.data.clip_dataset",
    "collate_clips": "spacetime.data.clip_dataset",
    "mix_seed": "spacetime.data.clip_dataset",
    "ImageFolderDataset": "spacetime.data.image_folder",
    "read_image": "spacetime.data.image_folder",
    "ShapesDataset": "spacetime.data.shapes_dataset",
    "as_hw": "spacetime.data.transforms",
    "resize_center_crop": "spacetime.data.transforms",
    "VideoFolderDataset": "spacetime.data.video_folder",
    "probe_video": "spacetime.data.video_folder",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'spacetime.data' has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
