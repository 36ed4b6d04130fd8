"""The frames an autoencoder trains on: :class:`FramePool`, training frames and held-out clips
in memory.

ShapesWorld clips (``data="shapes"``) are rendered once from ``(seed, "autoencoder-train")``;
the held-out clips come from one fixed seed for every run, so PSNRs of different runs compare.
A folder of videos holds out whole videos when it has several, else the tail of the only one.
A batch is ``batch_size`` random frames, each a random ``crop x crop`` window (the preset
networks are fully convolutional, so a crop costs a quarter of a 64x64 frame and teaches the
same filters), drawn from one generator per step.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from spacetime.errors import SpacetimeError
from spacetime.training.autoencoder_config import AutoencoderTrainConfig
from spacetime.training.seeding import derive_seed

__all__ = ["FramePool"]

# ShapesWorld base seed of the held-out clips: fixed, so PSNRs of different runs compare.
_HELDOUT_SEED = derive_seed(0, "autoencoder-heldout")


@dataclass
class FramePool:
    """Training frames and held-out clips, in memory.

    ``train``: uint8 ``(N, T, 3, H, W)`` clips; a batch draws random frames and crops of them.
    ``heldout``: float ``(C, T, H, W)`` clips in [-1, 1], never trained on.
    """

    train: torch.Tensor
    heldout: list[torch.Tensor]

    @classmethod
    def build(cls, config: AutoencoderTrainConfig) -> FramePool:
        """ShapesWorld clips (``data="shapes"``) or the videos at the path ``config.data``."""
        if config.data == "shapes":
            return cls._shapes(config)
        return cls._folder(config)

    @classmethod
    def _shapes(cls, config: AutoencoderTrainConfig) -> FramePool:
        from spacetime.data.shapes_dataset import ShapesDataset

        def clips(seed: int, count: int) -> list[torch.Tensor]:
            data = ShapesDataset(config.size, config.clip_frames, count, seed)
            return [data[i]["video"] for i in range(count)]  # (3, T, H, W) each

        train = clips(derive_seed(config.seed, "autoencoder-train"), config.train_clips)
        return cls(_to_uint8_pool(train), clips(_HELDOUT_SEED, config.eval_clips))

    @classmethod
    def _folder(cls, config: AutoencoderTrainConfig) -> FramePool:
        from spacetime.contracts.pixels import to_model_range
        from spacetime.data.captions import warn_skipped
        from spacetime.data.transforms import resize_center_crop
        from spacetime.video import VideoError, list_videos, read_video

        root = Path(config.data)
        if not root.exists():
            raise SpacetimeError(
                f"--data {root}: no such file or folder (expected 'shapes' or a path of videos)"
            )
        paths = list_videos(root, recursive=True)
        if not paths:
            raise SpacetimeError(f"--data {root}: no videos or frame folders found")
        videos, unreadable = [], []
        for path in paths:
            try:
                frames = read_video(path, max_frames=config.frames_per_video).frames
            except VideoError:
                unreadable.append(path)
                continue
            videos.append(to_model_range(resize_center_crop(frames, config.size)))
        # (3, T_i, size, size) each; a bad file is skipped (one warning), not the whole run
        warn_skipped("unreadable videos", unreadable, "not a decodable video")
        if not videos:
            raise SpacetimeError(
                f"--data {root}: none of its {len(paths)} videos can be decoded "
                f"(e.g. {unreadable[0]}); expected video files or frame folders"
            )
        # Held out: whole videos when there are several, else the tail of the only one.
        n_out = min(config.eval_clips, max(1, len(videos) // 10)) if len(videos) > 1 else 0
        train, heldout = videos[: len(videos) - n_out], videos[len(videos) - n_out :]
        if not heldout:
            frames = videos[0].shape[1]
            if frames < 2:
                raise SpacetimeError(f"--data {root}: one frame is too little to hold any out")
            cut = max(1, frames - min(config.clip_frames, frames // 4 or 1))
            train, heldout = [videos[0][:, :cut]], [videos[0][:, cut:]]
        heldout = [clip[:, : config.clip_frames] for clip in heldout]
        # One frame per pool "clip" so videos of any length mix into one tensor.
        singles = [clip[:, t : t + 1] for clip in train for t in range(clip.shape[1])]
        return cls(_to_uint8_pool(singles), heldout)

    def batch(self, generator: torch.Generator, size: int, crop: int) -> torch.Tensor:
        """``size`` random frames, each a random ``crop`` window (0 = whole frame), as float
        ``(size, 3, crop, crop)`` in [-1, 1]; every draw comes from ``generator``."""
        n, t, _, h, w = self.train.shape
        clip = torch.randint(0, n, (size,), generator=generator)
        frame = torch.randint(0, t, (size,), generator=generator)
        frames = self.train[clip, frame]  # (size, 3, H, W) uint8
        if crop and (crop < h or crop < w):
            top = torch.randint(0, h - crop + 1, (size,), generator=generator).tolist()
            left = torch.randint(0, w - crop + 1, (size,), generator=generator).tolist()
            frames = torch.stack(
                [
                    f[:, y : y + crop, x : x + crop]
                    for f, y, x in zip(frames, top, left, strict=True)
                ]
            )
        return frames.float().div_(127.5).sub_(1.0)


def _to_uint8_pool(clips: list[torch.Tensor]) -> torch.Tensor:
    """Float (3, T, H, W) clips in [-1, 1] -> uint8 (N, T, 3, H, W) (4x less memory)."""
    stacked = torch.stack(clips).permute(0, 2, 1, 3, 4)  # (N, T, 3, H, W)
    return ((stacked + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)
