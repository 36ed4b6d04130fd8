"""Training data: ShapesWorld (``spacetime.data.shapes``), video/image folders, augmentations.

Every dataset yields ``{"video": float32 (C, T, H, W) in [-1, 1], "caption": str}`` with its
randomness drawn from an explicit seed (``dataset.item(index, seed)``); see
:mod:`spacetime.data.clip_dataset` for the contract and :func:`collate_clips` for batching.
"""

from spacetime.data.augment import ClipWindow, TemporalAugment, hflip, mirror_caption
from spacetime.data.captions import CaptionedFile, list_captioned, read_manifest
from spacetime.data.clip_dataset import (
    Batch,
    Clip,
    ClipDataset,
    SeededView,
    collate_clips,
    mix_seed,
)
from spacetime.data.image_folder import ImageFolderDataset, read_image
from spacetime.data.shapes_dataset import ShapesDataset
from spacetime.data.transforms import as_hw, resize_center_crop, to_model_range, to_uint8
from spacetime.data.video_folder import VideoFolderDataset, probe_video

__all__ = [
    "Batch",
    "CaptionedFile",
    "Clip",
    "ClipDataset",
    "ClipWindow",
    "ImageFolderDataset",
    "SeededView",
    "ShapesDataset",
    "TemporalAugment",
    "VideoFolderDataset",
    "as_hw",
    "collate_clips",
    "hflip",
    "list_captioned",
    "mirror_caption",
    "mix_seed",
    "probe_video",
    "read_image",
    "read_manifest",
    "resize_center_crop",
    "to_model_range",
    "to_uint8",
]
