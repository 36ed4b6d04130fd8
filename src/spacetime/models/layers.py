"""Convolutional and normalisation layers of the space-time denoisers, on ``(B, C, T, H, W)``.

Spatial layers are 2D convolutions applied to every frame (:class:`SpatialConv`), so their
weights have exactly the layout of a 2D image model's. Time
is mixed only by the layers that say so (:class:`TemporalConv` here, temporal attention in
:mod:`spacetime.models.attention`), so switching those off leaves a per-frame image model
(the factorisation of Video Diffusion Models, Ho et al. 2022, and Make-A-Video's pseudo-3D
convolution, Singer et al. 2022, sec. 3.2).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """adaLN modulation ``x * (1 + scale) + shift`` (DiT, Peebles & Xie 2023, sec. 3.2)."""
    return x * (1 + scale) + shift


def needs_contiguous_input(x: torch.Tensor, weight: torch.Tensor | None) -> bool:
    """True where ``F.group_norm`` must get a contiguous copy of ``x`` to run its backward.

    PyTorch's CPU kernel for the backward of a channels-last group norm crashes the process
    (segmentation fault, torch 2.13) when the input needs no gradient but the affine weights
    do: exactly the first trainable norm after frozen layers (``finetune.spatial=frozen``, whose
    frozen :class:`SpatialConv` outputs are channels-last). The contiguous kernel is fine.
    """
    return (
        x.device.type == "cpu"
        and torch.is_grad_enabled()
        and not x.requires_grad
        and weight is not None
        and weight.requires_grad
        and not x.is_contiguous()
    )


class FrameGroupNorm(nn.GroupNorm):
    """GroupNorm whose statistics are taken per frame of a ``(B, C, T, H, W)`` tensor.

    A plain GroupNorm on the 5D tensor would pool statistics over time, so one frame's
    content would shift every other frame's activations — the per-frame image model (and
    image batches with T = 1 in joint image-video training) would no longer be one.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, T, H, W)`` -> same shape, normalised per (sample, frame, group)."""
        b, c, t, h, w = x.shape
        frames = x.transpose(1, 2).reshape(b * t, c, h, w)  # (B*T, C, H, W)
        if needs_contiguous_input(frames, self.weight):
            frames = frames.contiguous()
        out = F.group_norm(frames, self.num_groups, self.weight, self.bias, self.eps)
        return out.reshape(b, t, c, h, w).transpose(1, 2)  # (B, C, T, H, W)


class SpatialConv(nn.Conv2d):
    """A 2D convolution ("same" padding) applied to every frame of a ``(B, C, T, H, W)`` video.

    Frames are folded into the batch rather than run as a ``Conv3d`` with a ``(1, k, k)``
    kernel: the result is the same and on CPU the 2D kernel is ~4x faster. The frames go in
    and come out *channels-last* (memory ordered ``(B, T, H, W, C)``): oneDNN's convolutions
    are faster in that layout (1.2-2x on CPU at the U-Net's widths), and it is the layout of
    the ``(B, T, S, C)`` token grid, so the attention blocks between convolutions fold it
    without a copy. The returned tensor is a ``(B, C_out, T, H', W')`` view of that memory
    (``torch.channels_last_3d``); the values do not depend on the layout.
    """

    def __init__(self, c_in: int, c_out: int, kernel: int = 3, stride: int = 1) -> None:
        super().__init__(c_in, c_out, kernel, stride, kernel // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C_in, T, H, W)`` -> ``(B, C_out, T, H / stride, W / stride)``."""
        b, c, t, h, w = x.shape
        frames = x.permute(0, 2, 3, 4, 1).reshape(b * t, h, w, c)  # (B*T, H, W, C_in), a view
        # when x is already channels-last (the output of another SpatialConv)
        out = super().forward(frames.permute(0, 3, 1, 2))  # (B*T, C_out, H', W') channels-last
        out = out.permute(0, 2, 3, 1).reshape(b, t, *out.shape[2:], out.shape[1])  # (B,T,H',W',C)
        return out.permute(0, 4, 1, 2, 3)  # (B, C_out, T, H', W')


def spatial_conv(c_in: int, c_out: int, kernel: int = 3, stride: int = 1) -> SpatialConv:
    """A per-frame 2D convolution (see :class:`SpatialConv`)."""
    return SpatialConv(c_in, c_out, kernel, stride)


class ResBlock(nn.Module):
    """ADM residual block with space-only 3x3 convolutions and per-frame scale-shift by ``emb``.

    ``h = conv2(SiLU(norm2(conv1(SiLU(norm1(x)))) * (1 + scale) + shift))``, ``out = skip(x) + h``
    (Dhariwal & Nichol 2021, "BigGAN" block with adaptive group norm). ``scale, shift`` come
    from the per-frame embedding, so each frame can carry its own diffusion time.

    Args:
        c_in, c_out: channels in and out.
        emb_dim: width of the conditioning embedding ``(B, T, emb_dim)``.
        groups: GroupNorm groups (divides both ``c_in`` and ``c_out``).
        dropout: dropout before the last convolution.
    """

    def __init__(self, c_in: int, c_out: int, emb_dim: int, groups: int, dropout: float = 0.0):
        super().__init__()
        self.norm1 = FrameGroupNorm(groups, c_in)
        self.conv1 = spatial_conv(c_in, c_out)
        self.emb_proj = nn.Linear(emb_dim, 2 * c_out)
        self.norm2 = FrameGroupNorm(groups, c_out)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = spatial_conv(c_out, c_out)
        self.skip = nn.Identity() if c_in == c_out else spatial_conv(c_in, c_out, kernel=1)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        """``x`` (B, C_in, T, H, W), ``emb`` (B, T, E) -> (B, C_out, T, H, W)."""
        h = self.conv1(F.silu(self.norm1(x)))  # (B, C_out, T, H, W)
        scale_shift = self.emb_proj(F.silu(emb)).permute(0, 2, 1)  # (B, 2*C_out, T)
        scale, shift = scale_shift[..., None, None].chunk(2, dim=1)  # (B, C_out, T, 1, 1) each
        h = modulate(self.norm2(h), shift, scale)  # (B, C_out, T, H, W)
        h = self.conv2(self.dropout(F.silu(h)))  # (B, C_out, T, H, W)
        return self.skip(x) + h

    def zero_output(self) -> None:
        """Zero the last convolution so the block starts as its skip path."""
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)


class TemporalConv(nn.Module):
    """Residual 1D convolution along time at every pixel (Make-A-Video's pseudo-3D conv).

    ``out = x + conv_t(SiLU(norm(x)))`` with a ``(k, 1)`` kernel over ``(T, H*W)`` (the same
    weights at every pixel) and zero padding at the clip ends. Zero-initialised by
    :meth:`zero_output`, so it starts as the identity and the surrounding image model is
    untouched (Make-A-Video initialises it as the identity too).

    Args:
        channels: ``C``.
        groups: GroupNorm groups.
        kernel: odd temporal kernel size (frames).
    """

    def __init__(self, channels: int, groups: int, kernel: int = 3) -> None:
        super().__init__()
        assert kernel % 2 == 1, "temporal kernel must be odd to keep T"
        self.norm = FrameGroupNorm(groups, channels)
        self.conv = nn.Conv2d(channels, channels, (kernel, 1), padding=(kernel // 2, 0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, T, H, W)`` -> same shape."""
        b, c, t, h, w = x.shape
        h_t = F.silu(self.norm(x)).reshape(b, c, t, h * w)  # (B, C, T, H*W)
        return x + self.conv(h_t).reshape(b, c, t, h, w)  # (B, C, T, H, W)

    def zero_output(self) -> None:
        """Zero the convolution: the layer becomes the identity."""
        nn.init.zeros_(self.conv.weight)
        nn.init.zeros_(self.conv.bias)


class Downsample(nn.Module):
    """Halve H and W with a stride-2 space-only 3x3 convolution (T is kept)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = spatial_conv(channels, channels, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, T, H, W)`` -> ``(B, C, T, H/2, W/2)``."""
        return self.conv(x)


class Upsample(nn.Module):
    """Double H and W (nearest) then a space-only 3x3 convolution (T is kept)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = spatial_conv(channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, T, H, W)`` -> ``(B, C, T, 2H, 2W)``."""
        return self.conv(F.interpolate(x, scale_factor=(1.0, 2.0, 2.0), mode="nearest"))


class FeedForward(nn.Module):
    """Transformer MLP ``Linear -> GELU(tanh) -> Linear`` on the last axis."""

    def __init__(self, dim: int, mult: float = 4.0) -> None:
        super().__init__()
        hidden = int(dim * mult)
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(..., D)`` -> ``(..., D)``."""
        return self.fc2(F.gelu(self.fc1(x), approximate="tanh"))
