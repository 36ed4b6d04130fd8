"""One multi-head attention module along any axis of a video token grid.

Tokens are laid out as ``(B, T, S, D)``: ``T`` frames of ``S`` spatial tokens of width ``D``
(a U-Net feature map ``(B, C, T, H, W)`` has ``S = H * W``, ``D = C``). The module folds the
grid so that attention runs along one axis, on ``torch.nn.functional.scaled_dot_product_attention``:

- ``axis="space"``: every frame separately, over its ``S`` tokens (batch ``B * T``);
- ``axis="time"``: every spatial location separately, over the ``T`` frames (batch ``B * S``),
  as the temporal attention of Video Diffusion Models (Ho et al. 2022);
- ``axis="spacetime"``: jointly over all ``T * S`` tokens (full 3D attention, CogVideoX).

With ``context_dim`` set it is a cross-attention: every token attends to a context sequence
(text tokens) under a key mask. Along ``time`` and ``spacetime`` the frame index enters as a
*relative* position: rotary (RoFormer) or a bucketed bias (T5, as in VDM).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from spacetime.models.embeddings import RelativePositionBias, apply_rotary, rotary_cos_sin

Axis = Literal["space", "time", "spacetime"]
TimePosition = Literal["rope", "bias", "none"]
AXES: tuple[str, ...] = ("space", "time", "spacetime")
TIME_POSITIONS: tuple[str, ...] = ("rope", "bias", "none")


def fold(x: torch.Tensor, axis: str) -> torch.Tensor:
    """``(B, T, S, ...)`` -> ``(B', N, ...)``: a batch of sequences along ``axis``."""
    b, t, s = x.shape[:3]
    if axis == "space":
        return x.reshape(b * t, s, *x.shape[3:])
    if axis == "time":
        return x.transpose(1, 2).reshape(b * s, t, *x.shape[3:])
    return x.reshape(b, t * s, *x.shape[3:])


def unfold(x: torch.Tensor, axis: str, b: int, t: int, s: int) -> torch.Tensor:
    """Inverse of :func:`fold`: ``(B', N, D)`` -> ``(B, T, S, D)``."""
    if axis == "time":
        return x.reshape(b, s, t, -1).transpose(1, 2)
    return x.reshape(b, t, s, -1)


def frame_positions(axis: str, t: int, s: int, device: torch.device) -> torch.Tensor:
    """Frame index of each token of a folded sequence: ``(T,)`` for time, ``(T*S,)`` joint."""
    frames = torch.arange(t, device=device)
    return frames if axis == "time" else frames.repeat_interleave(s)


class Attention(nn.Module):
    """Multi-head self- or cross-attention along one axis of a ``(B, T, S, D)`` token grid.

    Args:
        dim: token width ``D`` (divisible by ``heads``).
        heads: number of heads; the head width ``D / heads`` must be even for rotary position.
        axis: ``"space"``, ``"time"`` or ``"spacetime"`` (self-attention only).
        context_dim: width of the context tokens; set for cross-attention (``axis`` is then
            irrelevant: every token attends to the whole context).
        time_position: relative frame position along ``time``/``spacetime``: ``"rope"``,
            ``"bias"`` (bucketed, per head) or ``"none"``. Ignored along ``space``.
        qkv_bias: learn biases in the q, k, v projections.
    """

    def __init__(
        self,
        dim: int,
        heads: int,
        *,
        axis: Axis = "space",
        context_dim: int | None = None,
        time_position: TimePosition = "none",
        qkv_bias: bool = True,
    ) -> None:
        super().__init__()
        assert axis in AXES and time_position in TIME_POSITIONS, (axis, time_position)
        assert dim % heads == 0, f"dim {dim} is not divisible by heads {heads}"
        self.heads, self.head_dim = heads, dim // heads
        self.axis = axis
        self.is_cross = context_dim is not None
        self.time_position = "none" if self.is_cross or axis == "space" else time_position
        assert self.time_position != "rope" or self.head_dim % 2 == 0, "rope needs even head dim"
        kv_dim = context_dim if context_dim is not None else dim
        self.to_q = nn.Linear(dim, dim, bias=qkv_bias)
        self.to_k = nn.Linear(kv_dim, dim, bias=qkv_bias)
        self.to_v = nn.Linear(kv_dim, dim, bias=qkv_bias)
        self.to_out = nn.Linear(dim, dim)
        self.rel_bias = RelativePositionBias(heads) if self.time_position == "bias" else None

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        """``(B', N, D)`` -> ``(B', heads, N, D / heads)``."""
        return x.unflatten(-1, (self.heads, self.head_dim)).transpose(1, 2)

    def forward(
        self,
        x: torch.Tensor,
        *,
        context: torch.Tensor | None = None,
        context_mask: torch.Tensor | None = None,
        key_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Attend along the axis (or to ``context``).

        Args:
            x: tokens ``(B, T, S, D)``.
            context: ``(B, L, context_dim)``, required for (and only for) cross-attention.
            context_mask: ``(B, L)`` bool, True on tokens that may be attended; every row needs
                at least one True (the denoisers prepend a learned null token to ensure it).
            key_mask: self-attention only: ``(B, T, S)`` bool, True on tokens that may be
                attended (e.g. False on padded frames); every query needs one True key.

        Returns:
            ``(B, T, S, D)``.
        """
        b, t, s, d = x.shape
        if self.is_cross:
            assert context is not None and key_mask is None, "cross-attention takes context only"
            q = self._split(self.to_q(x.reshape(b, t * s, d)))  # (B, h, T*S, hd)
            k = self._split(self.to_k(context))  # (B, h, L, hd)
            v = self._split(self.to_v(context))  # (B, h, L, hd)
            mask = None if context_mask is None else context_mask[:, None, None, :]  # (B,1,1,L)
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # (B, h, T*S, hd)
            out = out.transpose(1, 2).reshape(b, t, s, d)  # (B, T, S, D)
            return self.to_out(out)

        assert context is None, "self-attention takes no context"
        seq = fold(x, self.axis)  # (B', N, D)
        q, k, v = (self._split(proj(seq)) for proj in (self.to_q, self.to_k, self.to_v))
        mask: torch.Tensor | None = None
        if key_mask is not None:
            mask = fold(key_mask, self.axis)[:, None, None, :]  # (B', 1, 1, N) bool
        if self.time_position != "none":
            pos = frame_positions(self.axis, t, s, x.device)  # (N,)
            if self.time_position == "rope":
                cos, sin = rotary_cos_sin(pos, self.head_dim)  # (N, hd) each
                q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)  # (B', h, N, hd)
            else:
                bias = self.rel_bias(pos, pos)[None].to(q.dtype)  # (1, h, N, N)
                if mask is not None:
                    bias = bias.masked_fill(~mask, float("-inf"))  # (B', h, N, N)
                mask = bias
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # (B', h, N, hd)
        out = out.transpose(1, 2).flatten(2)  # (B', N, D)
        return self.to_out(unfold(out, self.axis, b, t, s))  # (B, T, S, D)
