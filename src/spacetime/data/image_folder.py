"""``ImageFolderDataset``: captioned still images as one-frame clips (T = 1).

Image data trains the spatial layers of a video model (joint image-video training, as in
Video Diffusion Models, Ho et al. 2022, Sec. 3.2) and is far more plentiful than captioned
video. Captions come from sidecar ``.txt`` files or a JSONL/CSV manifest
(:mod:`spacetime.data.captions`). Unreadable images are found at construction (Pillow reads
only the header) and dropped with one warning that names and counts them. Pixels are decoded
by :func:`spacetime.video.read_image` (EXIF orientation applied), the decoder of frame
folders too, so an image and a frame folder of it agree.
"""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image, UnidentifiedImageError

from spacetime.contracts.pixels import to_model_range
from spacetime.data.augment import TemporalAugment
from spacetime.data.captions import list_captioned, warn_skipped, warn_uncaptioned
from spacetime.data.clip_dataset import Clip, ClipDataset
from spacetime.data.transforms import Size, as_hw, resize_center_crop
from spacetime.errors import SpacetimeError
from spacetime.video.reader import IMAGE_SUFFIXES, read_image  # re-exported: one decoder


class ImageFolderDataset(ClipDataset):
    """Images under ``root`` as clips ``{"video": float32 (3, 1, H, W) in [-1, 1], "caption"}``.

    Args:
        root: folder of images (searched recursively) with sidecar captions, or with a
            ``metadata.jsonl`` / ``metadata.csv`` manifest.
        size: output size, an int (square) or ``(height, width)``; images are resized to
            cover it and center-cropped.
        flip: probability of a horizontal flip, which also mirrors the caption's left/right.
        manifest: an explicit JSONL/CSV manifest instead of sidecars.
    """

    def __init__(
        self,
        root: str | Path,
        size: Size,
        *,
        flip: float = 0.0,
        manifest: str | Path | None = None,
    ) -> None:
        self.root = Path(root)
        self.size = as_hw(size)
        self.augment = TemporalAugment(flip=flip)
        files = list_captioned(self.root, IMAGE_SUFFIXES, manifest=manifest)
        self.entries: list[tuple[Path, str | None]] = []
        unreadable: list[Path] = []
        missing = [f.path for f in files if not f.path.is_file()]  # named by a manifest
        absent = set(missing)
        for f in files:
            if f.path in absent:
                continue
            try:
                with Image.open(f.path) as image:
                    image.verify()  # header and structure only; pixels are decoded per item
            except (OSError, UnidentifiedImageError, SyntaxError):
                unreadable.append(f.path)
                continue
            self.entries.append((f.path, f.caption))
        warn_skipped("missing images", missing, "listed in the manifest, not found")
        warn_skipped("unreadable images", unreadable, "not an image Pillow can open")
        missing = sum(not caption for _, caption in self.entries)
        warn_uncaptioned(missing, len(self.entries), self.root)
        if not self.entries:
            raise SpacetimeError(f"dataset folder {self.root}: none of its images is readable")

    def __len__(self) -> int:
        return len(self.entries)

    def _item(self, index: int, generator: torch.Generator) -> Clip:
        path, caption = self.entries[index]
        caption = caption or ""
        pixels = read_image(path)[None]  # (1, H, W, 3)
        video = to_model_range(resize_center_crop(pixels, self.size))  # (3, 1, H, W)
        video, caption = self.augment.maybe_flip(video, caption, generator)
        return Clip(video=video, caption=caption)
