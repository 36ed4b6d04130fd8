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

Two code paths compute the same function (tested against each other in float64):

- *fused* (the default): one matmul for q, k and v from the weights of ``to_q``, ``to_k``,
  ``to_v`` concatenated at run time (the parameters stay separate, so checkpoints keep their
  names and shapes), scaled-dot-product attention, and for a cross-attention to a few caption
  tokens :func:`few_keys_attention`, which beats the flash kernel by ~5x there on a CPU;
- *eager* (``set_fused_attention(model, False)``): separate projections and an explicit
  ``softmax(q k^T / sqrt(d)) v``, as in diffusers' ``AttnProcessor``; the reference the fused
  path is tested against and the baseline of ``benchmarks/sample_latency.py``.
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


#: Cross-attention takes :func:`few_keys_attention` when ``heads * L`` is at most this: there its
#: two block-diagonal matmuls (``heads`` times the FLOPs of per-head attention, on a handful of
#: keys) are cheaper than a kernel tiled for long key sequences.
FEW_KEYS_MAX = 128


def few_keys_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, heads: int, mask: torch.Tensor | None
) -> torch.Tensor:
    """Multi-head ``softmax(q k^T / sqrt(d)) v`` for many queries and a few keys, in token layout.

    Each head's keys (and values) sit on their own rows of a block-diagonal ``(heads * L, D)``
    matrix, so all heads' scores are one matmul against the unsplit queries, computed as
    ``(heads * L, N)`` so that the softmax runs along a short axis with the long axis
    contiguous, and the output is one matmul back to ``(B, N, D)``: no head split, no copy of
    the queries or of the output.

    Args:
        q: ``(B, N, D)`` queries; k, v: ``(B, L, D)`` keys and values; ``D`` divisible by heads.
        heads: number of heads.
        mask: ``(B, L)`` bool, True on keys that may be attended (None: all).

    Returns:
        ``(B, N, D)``, equal to scaled-dot-product attention over the heads.
    """
    b, n, d = q.shape
    length, head_dim = k.shape[1], d // heads
    eye = torch.eye(heads, dtype=k.dtype, device=k.device)[None, :, None, :, None]  # (1,h,1,h,1)

    def block_diagonal(z: torch.Tensor) -> torch.Tensor:
        """``(B, L, D)`` -> ``(B, h * L, D)``: row ``(i, j)`` is token j's head-i slice, in
        head i's columns."""
        per_head = z.unflatten(-1, (heads, head_dim)).transpose(1, 2)  # (B, h, L, hd)
        return (per_head[:, :, :, None, :] * eye).reshape(b, heads * length, d)

    keys = block_diagonal(k) * head_dim**-0.5  # (B, h*L, D)
    scores = torch.bmm(keys, q.transpose(1, 2)).view(b, heads, length, n)  # (B, h, L, N)
    if mask is not None:
        bias = torch.zeros(b, 1, length, 1, dtype=scores.dtype, device=scores.device)
        scores = scores + bias.masked_fill(~mask[:, None, :, None], float("-inf"))
    weights = scores.softmax(dim=2).view(b, heads * length, n)  # (B, h*L, N)
    return torch.bmm(weights.transpose(1, 2), block_diagonal(v))  # (B, N, D)


def eager_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None
) -> torch.Tensor:
    """``softmax(q k^T / sqrt(d) + mask) v`` written out (Vaswani et al. 2017, eq. 1).

    Shapes as :func:`torch.nn.functional.scaled_dot_product_attention`: ``q`` (..., N, d),
    ``k``, ``v`` (..., L, d); ``mask`` bool (True: may attend) or float (added), broadcast to
    (..., N, L).
    """
    scores = q @ k.transpose(-1, -2) * q.shape[-1] ** -0.5  # (..., N, L)
    if mask is not None and mask.dtype == torch.bool:
        scores = scores.masked_fill(~mask, float("-inf"))
    elif mask is not None:
        scores = scores + mask
    return scores.softmax(dim=-1) @ v  # (..., N, d)


def set_fused_attention(module: nn.Module, fused: bool) -> None:
    """Switch every :class:`Attention` inside ``module`` to the fused (default) or eager path.

    Both compute the same function; the eager path is the reference and a baseline for speed.
    """
    for m in module.modules():
        if isinstance(m, Attention):
            m.fused = fused


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

    Attributes:
        fused: run the fused path (default) or the eager reference (see the module docstring).
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
        self.fused = True  # see set_fused_attention; not a parameter, not in the config

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        """``(B', N, D)`` -> ``(B', heads, N, D / heads)``."""
        return x.unflatten(-1, (self.heads, self.head_dim)).transpose(1, 2)

    def _attend(
        self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None
    ) -> torch.Tensor:
        """Heads ``(B', h, N, hd)`` -> ``(B', N, D)``."""
        if self.fused:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # (B', h, N, hd)
        else:
            out = eager_attention(q, k, v, mask)  # (B', h, N, hd)
        return out.transpose(1, 2).flatten(2)  # (B', N, D)

    def _qkv(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Tokens ``(B, T, S, D)`` -> q, k, v ``(B', heads, N, hd)`` each, rotary applied."""
        t, s = x.shape[1:3]
        rope = self.time_position == "rope"
        if not self.fused:
            seq = fold(x, self.axis)  # (B', N, D)
            q, k, v = (self._split(proj(seq)) for proj in (self.to_q, self.to_k, self.to_v))
            if rope:
                pos = frame_positions(self.axis, t, s, x.device)  # (N,)
                cos, sin = rotary_cos_sin(pos, self.head_dim)  # (N, hd) each
                q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)  # (B', h, N, hd)
            return q, k, v
        weight, bias = self._fused_projection(t if rope else None)
        if not rope:
            qkv = F.linear(fold(x, self.axis), weight, bias)  # (B', N, 3D)
            order = (2, 0, 3, 1, 4)
        elif self.axis == "time":
            seq = x.transpose(0, 1).reshape(t, -1, x.shape[-1])  # (T, B*S, D), one copy
            qkv = torch.baddbmm(bias[:, None], seq, weight)  # (T, B*S, 3D)
            order = (2, 1, 3, 0, 4)
        else:  # spacetime: every token projected by its frame's rotated weights
            qkv = (torch.matmul(x, weight) + bias[:, None]).flatten(1, 2)  # (B, T*S, 3D)
            order = (2, 0, 3, 1, 4)
        q, k, v = qkv.unflatten(-1, (3, self.heads, self.head_dim)).permute(*order).unbind(0)
        return q, k, v  # (B', h, N, hd) each, views

    def _fused_projection(self, frames: int | None) -> tuple[torch.Tensor, torch.Tensor]:
        """The q, k, v weights side by side ``(3D, D)`` and biases ``(3D,)``.

        With ``frames = T``, frame ``f``'s rotary rotation ``R_f`` is folded into the q and k
        rows instead: ``(T, D, 3D)`` and ``(T, 3D)``. ``R_f (W x + b) = (R_f W) x + R_f b``, so
        rotating ``T`` small weight matrices replaces rotating every query and key.
        """
        q, k, v = self.to_q, self.to_k, self.to_v
        weight = torch.cat([q.weight, k.weight, v.weight])  # (3D, D)
        if q.bias is not None:
            bias = torch.cat([q.bias, k.bias, v.bias])  # (3D,)
        else:
            bias = weight.new_zeros(weight.shape[0])
        if frames is None:
            return weight, bias
        rows = torch.cat([weight, bias[:, None]], dim=1)  # (3D, D+1): weights and bias
        rows = rows.unflatten(0, (3, self.heads, self.head_dim)).transpose(-1, -2)  # (3,h,D+1,hd)
        cos, sin = rotary_cos_sin(torch.arange(frames, device=weight.device), self.head_dim)
        shape = (frames, 1, 1, 1, self.head_dim)
        qk = apply_rotary(rows[None, :2], cos.view(shape), sin.view(shape))  # (T, 2, h, D+1, hd)
        rows = torch.cat([qk, rows[None, 2:].expand(frames, -1, -1, -1, -1)], dim=1)
        rows = rows.permute(0, 3, 1, 2, 4).flatten(2)  # (T, D+1, 3D)
        return rows[:, :-1], rows[:, -1]  # (T, D, 3D), (T, 3D)

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
            ``(B, T, S, D)``; along ``time`` a view of ``(B, S, T, D)`` memory.
        """
        if self.is_cross:
            assert context is not None and key_mask is None, "cross-attention takes context only"
            return self._cross(x, context, context_mask)
        assert context is None, "self-attention takes no context"
        b, t, s, _ = x.shape
        q, k, v = self._qkv(x)  # (B', h, N, hd) each
        mask: torch.Tensor | None = None
        if key_mask is not None:
            mask = fold(key_mask, self.axis)[:, None, None, :]  # (B', 1, 1, N) bool
        if self.time_position == "bias":
            pos = frame_positions(self.axis, t, s, x.device)  # (N,)
            bias = self.rel_bias(pos, pos)[None].to(q.dtype)  # (1, h, N, N)
            if mask is not None:
                bias = bias.masked_fill(~mask, float("-inf"))  # (B', h, N, N)
            mask = bias
        out = self._attend(q, k, v, mask)  # (B', N, D)
        return unfold(self.to_out(out), self.axis, b, t, s)  # (B, T, S, D)

    def _cross(
        self, x: torch.Tensor, context: torch.Tensor, context_mask: torch.Tensor | None
    ) -> torch.Tensor:
        """Cross-attention of the tokens ``x`` (B, T, S, D) to ``context`` (B, L, D_ctx)."""
        b, t, s, d = x.shape
        q = self.to_q(x.reshape(b, t * s, d))  # (B, T*S, D)
        k, v = self.to_k(context), self.to_v(context)  # (B, L, D) each
        if self.fused and self.heads * context.shape[1] <= FEW_KEYS_MAX:
            out = few_keys_attention(q, k, v, self.heads, context_mask)  # (B, T*S, D)
        else:
            mask = None if context_mask is None else context_mask[:, None, None, :]  # (B,1,1,L)
            out = self._attend(self._split(q), self._split(k), self._split(v), mask)
        return self.to_out(out).reshape(b, t, s, d)  # (B, T, S, D)
