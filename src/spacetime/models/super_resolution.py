"""Spatial super-resolution denoisers: a video denoiser conditioned on an upsampled video.

The second stage of a cascade (Imagen Video, Ho et al. 2022a, Sec. 2.5; Cascaded Diffusion
Models, Ho et al. 2022b, Sec. 3): the network sees the noisy high-resolution video ``x_t`` next
to the low-resolution video upsampled to its size, concatenated along channels, plus one
constant channel holding the conditioning's own noise level. That level is *conditioning
augmentation* (CDM Sec. 4.1): in training the upsampled video is noised to a random level and
the network is told which, so at sampling a little noise on the base model's output (whose
artefacts the training pairs never had) is a known input, not a surprise.

The network is a plain :mod:`spacetime.models` denoiser (``unet3d-*`` / ``dit-*``) built with
``in_channels = 2 C + 1`` and ``out_channels = C``; :class:`LowResConditioned` binds the
conditioning so the sampler and the objective call it like any denoiser.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from spacetime.contracts.conditioning import FrameCondition, TextEmbedding
from spacetime.errors import SpacetimeError

__all__ = ["LowResConditioned", "build_sr_model", "downsample", "upsample"]

LEVEL_SCALE = 1000.0
"""The level channel holds ``level / LEVEL_SCALE`` (training units of 1000 steps -> [0, 1])."""


def build_sr_model(preset: str, channels: int = 3, **overrides: Any) -> torch.nn.Module:
    """A fresh super-resolution denoiser: preset ``preset`` taking ``2 * channels + 1``
    input channels (noisy video, upsampled video, level) and predicting ``channels``."""
    from spacetime.models import build_model

    for key in ("in_channels", "out_channels", "text_dim", "frame_conditioning"):
        if key in overrides:
            raise SpacetimeError(f"a super-resolution model sets {key} itself; drop the override")
    return build_model(
        preset, in_channels=2 * channels + 1, out_channels=channels, text_dim=None,
        frame_conditioning=False, **overrides,
    )  # fmt: skip


def downsample(video: torch.Tensor, factor: int) -> torch.Tensor:
    """(B, C, T, H, W) -> (B, C, T, H / f, W / f) by area averaging (box filter), frame by frame."""
    b, c, n, h, w = video.shape
    if h % factor or w % factor:
        raise SpacetimeError(f"frame size {h}x{w} is not a multiple of the factor {factor}")
    frames = video.permute(0, 2, 1, 3, 4).reshape(b * n, c, h, w)
    small = F.avg_pool2d(frames, factor)  # (B T, C, H / f, W / f)
    return small.reshape(b, n, c, h // factor, w // factor).permute(0, 2, 1, 3, 4)


def upsample(video: torch.Tensor, factor: int) -> torch.Tensor:
    """(B, C, T, h, w) -> (B, C, T, f h, f w) bicubic (a = -0.75, PyTorch's), clamped to
    [-1, 1], frame by frame: the conditioning input and the plain-upsampling baseline."""
    b, c, n, h, w = video.shape
    frames = video.permute(0, 2, 1, 3, 4).reshape(b * n, c, h, w)
    big = F.interpolate(frames, scale_factor=factor, mode="bicubic", align_corners=False)
    big = big.clamp(-1, 1).reshape(b, n, c, h * factor, w * factor)
    return big.permute(0, 2, 1, 3, 4)  # (B, C, T, fh, fw)


class LowResConditioned:
    """``net`` with its conditioning bound: ``(x_t, t) -> net(cat[x_t, low, level], t)``.

    Args:
        net: a denoiser built by :func:`build_sr_model`.
        low: the upsampled (and, at ``level > 0``, noise-augmented) low-resolution video
            ``(n, C, T, H, W)``, n = 1 or the batch; rows are tiled to the sampler's batch
            (``2B`` under classifier-free guidance).
        level: the augmentation level of ``low`` in training units, ``(n,)``.
    """

    def __init__(self, net: torch.nn.Module, low: torch.Tensor, level: torch.Tensor) -> None:
        if low.ndim != 5 or level.shape != low.shape[:1]:
            raise SpacetimeError(
                f"low must be (n, C, T, H, W) with one level per row; got {tuple(low.shape)} "
                f"and levels {tuple(level.shape)}"
            )
        self.net, self.low, self.level = net, low, level

    def rows(self, part: slice) -> LowResConditioned:
        """The same model for samples ``part`` only (per-sample calls of the sampler)."""
        if self.low.shape[0] == 1:
            return self
        return LowResConditioned(self.net, self.low[part], self.level[part])

    def restrict(self, part: slice) -> LowResConditioned:
        """The same conditioning on the frames ``part`` (for windowed sampling)."""
        return LowResConditioned(self.net, self.low[:, :, part], self.level)

    def __call__(
        self,
        x: torch.Tensor,
        t: torch.Tensor,
        *,
        text: TextEmbedding | None = None,
        frames: FrameCondition | None = None,
    ) -> torch.Tensor:
        if text is not None or frames is not None:
            raise SpacetimeError("a super-resolution model takes no text or given frames")
        reps = x.shape[0] // self.low.shape[0]
        low = self.low.to(x).repeat(reps, 1, 1, 1, 1)  # (B, C, T, H, W)
        level = (self.level.to(x) / LEVEL_SCALE).repeat(reps)  # (B,)
        plane = level[:, None, None, None, None].expand(-1, 1, *x.shape[2:])  # (B, 1, T, H, W)
        return self.net(torch.cat([x, low, plane], dim=1), t)  # (B, C, T, H, W)
