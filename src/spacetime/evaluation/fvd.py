"""Fréchet Video Distance (Unterthiner et al. 2018, arXiv:1812.01717) over any feature extractor.

FVD embeds each clip with a video network and reports the Fréchet distance between Gaussians
fitted to the real and the generated embeddings (:mod:`spacetime.evaluation.frechet`).

**Protocol** (the one behind published numbers: the original TensorFlow FVD and StyleGAN-V's
PyTorch port, Skorokhodov et al. 2022, which checked the two agree):

- network: Kinetics-400 I3D as the TorchScript file ``i3d_torchscript.pt`` used by StyleGAN-V,
  called with ``rescale=False, resize=False, return_features=True`` so it returns the 400-d
  pre-softmax features of clips this module has already prepared;
- clips: the first 16 frames of each video (pass clips of exactly the frames you mean);
- frames: resized to 224 x 224 by bilinear interpolation (no anti-aliasing, aspect ratio not
  kept, as in the original; ``center_crop=True`` resizes the short side and crops, as some
  ports do), RGB scaled from ``[0, 255]`` to ``[-1, 1]``, laid out ``(N, 3, 16, 224, 224)``;
- sample size: report the number of clips with the score. StyleGAN-V's ``FVD_2048`` uses
  2048 real and 2048 generated clips; with fewer clips than feature dimensions (400) the
  covariances are singular and the score is biased upwards, so compare only numbers
  computed with the same clip count.

Nothing is downloaded: :class:`I3DFeatures` loads a file the user already has.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import torch
import torch.nn.functional as F

from spacetime.errors import SpacetimeError
from spacetime.evaluation.frechet import frechet_from_features
from spacetime.video.frames import Video

FVD_FRAMES = 16  # frames per clip in the FVD protocol
FVD_SIZE = 224  # I3D input height and width in pixels
I3D_KWARGS = {"rescale": False, "resize": False, "return_features": True}


@runtime_checkable
class FeatureExtractor(Protocol):
    """Embeds clips: ``uint8 (N, T, H, W, 3)`` RGB -> ``(N, D)`` float features."""

    def __call__(self, videos: np.ndarray) -> np.ndarray: ...


def prepare_clips(
    videos: np.ndarray | torch.Tensor,
    *,
    num_frames: int | None = FVD_FRAMES,
    size: int = FVD_SIZE,
    center_crop: bool = False,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """uint8 ``(N, T, H, W, 3)`` -> float32 ``(N, 3, num_frames, size, size)`` in ``[-1, 1]``.

    Keeps the first ``num_frames`` frames (``None``: all); raises :class:`SpacetimeError` when a
    clip is shorter. Bilinear resize without anti-aliasing (``align_corners=False``).
    """
    clips = torch.as_tensor(np.asarray(videos) if not torch.is_tensor(videos) else videos)
    if clips.dtype != torch.uint8 or clips.ndim != 5 or clips.shape[-1] != 3:
        raise SpacetimeError(
            f"videos must be uint8 (N, T, H, W, 3) RGB, got {clips.dtype} {tuple(clips.shape)}"
        )
    if num_frames is not None:
        if clips.shape[1] < num_frames:
            raise SpacetimeError(
                f"clips have {clips.shape[1]} frames but the protocol needs {num_frames}; pass "
                f"longer clips or num_frames={clips.shape[1]} (scores are then not comparable)"
            )
        clips = clips[:, :num_frames]
    n, t, h, w, _ = clips.shape
    x = clips.to(device).permute(0, 1, 4, 2, 3).reshape(n * t, 3, h, w).float()  # (N*T, 3, H, W)
    if center_crop:
        scale = size / min(h, w)
        target = (max(size, round(h * scale)), max(size, round(w * scale)))
        x = F.interpolate(x, size=target, mode="bilinear", align_corners=False)
        top, left = (target[0] - size) // 2, (target[1] - size) // 2
        x = x[:, :, top : top + size, left : left + size]  # (N*T, 3, size, size)
    else:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    x = x / 255.0 * 2.0 - 1.0  # [0, 255] -> [-1, 1], exact at both ends
    return x.reshape(n, t, 3, size, size).permute(0, 2, 1, 3, 4).contiguous()  # (N, 3, T, S, S)


class I3DFeatures:
    """I3D features from a local TorchScript file (StyleGAN-V's ``i3d_torchscript.pt``).

    Args:
        path: the ``.pt`` TorchScript file. It is never downloaded: fetch it once yourself.
        device: where the network runs (``"cpu"``, ``"cuda"``...).
        num_frames, size, center_crop: the clip preparation (:func:`prepare_clips`); the
            defaults are the FVD protocol.

    Calling it on ``uint8 (N, T, H, W, 3)`` returns float64 ``(N, D)`` features (``D = 400``
    for the Kinetics-400 I3D). A module whose ``forward`` does not take the StyleGAN-V
    keywords (``rescale``, ``resize``, ``return_features``) is called with the clip alone.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        device: torch.device | str = "cpu",
        num_frames: int | None = FVD_FRAMES,
        size: int = FVD_SIZE,
        center_crop: bool = False,
    ) -> None:
        self.path = Path(path)
        if num_frames is not None and (not isinstance(num_frames, int) or num_frames < 1):
            raise SpacetimeError(
                f"num_frames must be a positive integer or None, got {num_frames!r}"
            )
        if not isinstance(size, int) or size < 1:
            raise SpacetimeError(f"size must be a positive integer (pixels), got {size!r}")
        if not self.path.is_file():
            raise SpacetimeError(
                f"{self.path}: I3D TorchScript file not found; pass the local path of "
                "i3d_torchscript.pt (StyleGAN-V's FVD detector). spacetime downloads nothing: "
                "fetch the file once yourself and point to it"
            )
        try:
            module = torch.jit.load(str(self.path), map_location="cpu")
        except (RuntimeError, ValueError) as err:
            raise SpacetimeError(
                f"{self.path}: not a TorchScript module (torch.jit.load failed: "
                f"{str(err).splitlines()[0] if str(err) else type(err).__name__})"
            ) from err
        self.device = torch.device(device)
        self.module = module.eval().to(self.device)
        self.num_frames, self.size, self.center_crop = num_frames, size, center_crop
        arguments = {a.name for a in self.module.forward.schema.arguments}
        self.kwargs = I3D_KWARGS if set(I3D_KWARGS) <= arguments else {}

    @torch.no_grad()
    def __call__(self, videos: np.ndarray) -> np.ndarray:
        clips = prepare_clips(
            videos,
            num_frames=self.num_frames,
            size=self.size,
            center_crop=self.center_crop,
            device=self.device,
        )  # (N, 3, T, S, S)
        out = self.module(clips, **self.kwargs)
        if isinstance(out, (tuple, list)):
            out = out[0]
        return out.reshape(out.shape[0], -1).double().cpu().numpy()  # (N, D)


def _batches(
    videos: np.ndarray | Iterable[np.ndarray | Video], batch_size: int
) -> Iterator[np.ndarray]:
    """Stack consecutive clips of one shape into batches of at most ``batch_size``."""
    batch: list[np.ndarray] = []
    for item in videos:
        clip = np.asarray(item.frames if isinstance(item, Video) else item)
        if batch and (len(batch) == batch_size or clip.shape != batch[0].shape):
            yield np.stack(batch)
            batch = []
        batch.append(clip)
    if batch:
        yield np.stack(batch)


def extract_features(
    videos: np.ndarray | Iterable[np.ndarray | Video],
    extractor: FeatureExtractor,
    *,
    batch_size: int = 8,
) -> np.ndarray:
    """Run ``extractor`` over clips in batches and return float64 ``(N, D)`` features.

    ``videos`` is a uint8 ``(N, T, H, W, 3)`` array or any iterable of ``(T, H, W, 3)`` arrays
    or :class:`~spacetime.video.Video` (e.g. a generator reading files one by one); clips of
    different shapes go to different batches.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise SpacetimeError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    chunks = []
    for batch in _batches(videos, batch_size):
        if batch.dtype != np.uint8 or batch.ndim != 5 or batch.shape[-1] != 3:
            raise SpacetimeError(
                "each clip must be uint8 (T, H, W, 3) RGB, got "
                f"{batch.dtype} {tuple(batch.shape[1:])}"
            )
        features = np.asarray(extractor(batch), dtype=np.float64)
        if features.ndim != 2 or features.shape[0] != batch.shape[0]:
            raise SpacetimeError(
                f"the feature extractor returned shape {features.shape} for {batch.shape[0]} "
                "clips; expected (N, D)"
            )
        chunks.append(features)
    if not chunks:
        raise SpacetimeError("no clips given to the feature extractor")
    return np.concatenate(chunks)


def frechet_video_distance(
    real_videos: np.ndarray | Iterable[np.ndarray | Video],
    fake_videos: np.ndarray | Iterable[np.ndarray | Video],
    extractor: FeatureExtractor,
    *,
    batch_size: int = 8,
) -> float:
    """FVD between two sets of clips: Fréchet distance of their ``extractor`` features.

    With :class:`I3DFeatures` this is FVD under the protocol of the module docstring; with any
    other :class:`FeatureExtractor` it is the same statistic in that feature space. Each set
    needs at least 2 clips (report the clip count with the score).
    """
    real = extract_features(real_videos, extractor, batch_size=batch_size)
    fake = extract_features(fake_videos, extractor, batch_size=batch_size)
    return frechet_from_features(real, fake)
