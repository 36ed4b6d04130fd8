"""A diffusion transformer over space-time patches (DiT extended to video).

The video ``(B, C, T, H, W)`` is cut into patches of ``pt x p x p`` (time x space) and each
patch becomes a token of a ``(B, T', S, D)`` grid (``T' = T / pt``, ``S = H W / p^2``).
Spatial position is a fixed 2D sin-cos embedding added to the tokens; temporal position is
*relative* (rotary or bucketed bias inside the attention), so any clip length is accepted.

Blocks (Peebles & Xie 2023, "DiT", with adaLN-zero conditioning on the per-frame time):

- ``attention="factorized"``: spatial self-attention, then temporal self-attention, then text
  cross-attention, then MLP (STDiT / Latte, Ma et al. 2024 "variant 3" inside one block);
- ``attention="full"``: joint self-attention over all ``T' * S`` tokens (CogVideoX), then
  cross-attention and MLP.

``temporal=False`` is the per-frame baseline: no temporal attention (full attention becomes
spatial-only) and no temporal position — every other weight is shared. The adaLN scale, shift
and gate are computed per frame, so every frame can carry its own diffusion time.
"""

from __future__ import annotations

from typing import Literal

import torch
from diffusers.configuration_utils import register_to_config
from torch import nn

from spacetime.contracts.conditioning import FrameCondition, TextEmbedding
from spacetime.errors import SpacetimeError
from spacetime.models.attention import Attention, TimePosition
from spacetime.models.base import TextContext, VideoDenoiser
from spacetime.models.embeddings import TimestepEmbedder, sincos_2d
from spacetime.models.layers import FeedForward, modulate

AttentionMode = Literal["factorized", "full"]


class DiTBlock(nn.Module):
    """One space-time transformer block with adaLN-zero (DiT sec. 3.2) on ``(B, T, S, D)``.

    Args:
        dim: token width ``D``.
        heads: attention heads.
        mlp_ratio: MLP hidden width / ``D``.
        text_dim: width of the text context (None: no cross-attention).
        attention: ``"factorized"`` or ``"full"``.
        temporal: attend across frames (else every frame is processed on its own).
        time_position: relative frame position: ``"rope"`` or ``"bias"``.
    """

    def __init__(
        self,
        dim: int,
        heads: int,
        mlp_ratio: float,
        text_dim: int | None,
        attention: AttentionMode,
        temporal: bool,
        time_position: TimePosition,
    ) -> None:
        super().__init__()
        full = attention == "full" and temporal
        self.norm_attn = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.attn = Attention(
            dim, heads, axis="spacetime" if full else "space", time_position=time_position
        )
        self.temporal_attn = self.temporal_modulation = None
        if temporal and not full:
            self.norm_temporal = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
            self.temporal_attn = Attention(dim, heads, axis="time", time_position=time_position)
            self.temporal_modulation = nn.Sequential(nn.SiLU(), nn.Linear(dim, 3 * dim))
        self.cross_attn = None
        if text_dim is not None:
            self.norm_cross = nn.LayerNorm(dim, eps=1e-6)
            self.cross_attn = Attention(dim, heads, context_dim=text_dim)
        self.norm_mlp = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.mlp = FeedForward(dim, mlp_ratio)
        # (shift, scale, gate) of the attention and MLP branches; the temporal branch has its
        # own, so that temporal=False shares every other weight with the temporal model
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(dim, 6 * dim))

    def forward(
        self,
        x: torch.Tensor,
        c: torch.Tensor,
        context: torch.Tensor | None,
        context_mask: torch.Tensor | None,
    ) -> torch.Tensor:
        """``x`` (B, T, S, D), per-frame condition ``c`` (B, T, D) -> (B, T, S, D)."""
        mod = self.adaLN_modulation(c)[:, :, None].chunk(6, dim=-1)  # each (B, T, 1, D)
        shift_a, scale_a, gate_a, shift_m, scale_m, gate_m = mod
        x = x + gate_a * self.attn(modulate(self.norm_attn(x), shift_a, scale_a))  # (B, T, S, D)
        if self.temporal_attn is not None and x.shape[1] > 1:  # images (T == 1) bypass it
            mod_t = self.temporal_modulation(c)[:, :, None].chunk(3, dim=-1)  # (B, T, 1, D)
            shift_t, scale_t, gate_t = mod_t
            h = modulate(self.norm_temporal(x), shift_t, scale_t)  # (B, T, S, D)
            x = x + gate_t * self.temporal_attn(h)  # (B, T, S, D)
        if self.cross_attn is not None:
            x = x + self.cross_attn(
                self.norm_cross(x), context=context, context_mask=context_mask
            )  # (B, T, S, D)
        return x + gate_m * self.mlp(modulate(self.norm_mlp(x), shift_m, scale_m))  # (B, T, S, D)


class FinalLayer(nn.Module):
    """adaLN-modulated LayerNorm and a linear map from a token to its patch of pixels."""

    def __init__(self, dim: int, patch_values: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.linear = nn.Linear(dim, patch_values)
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(dim, 2 * dim))

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """``x`` (B, T, S, D), ``c`` (B, T, D) -> (B, T, S, pt * p * p * C_out)."""
        shift, scale = self.adaLN_modulation(c)[:, :, None].chunk(2, dim=-1)  # (B, T, 1, D)
        return self.linear(modulate(self.norm(x), shift, scale))


class SpaceTimeDiT(VideoDenoiser):
    """Space-time diffusion transformer ``model(x_t, t, *, text, frames) -> (B, C_out, T, H, W)``.

    Args:
        in_channels: channels of ``x_t``.
        out_channels: output channels (default ``in_channels``).
        patch_size: spatial patch ``p``; H and W must be multiples of it.
        temporal_patch_size: temporal patch ``pt``; T must be a multiple of it. Per-frame times
            are averaged over a temporal patch.
        hidden_size: token width ``D`` (divisible by 4 and by ``heads``).
        depth: number of blocks.
        heads: attention heads (even head width).
        mlp_ratio: MLP hidden width / ``D``.
        text_dim: width of the text tokens; None builds no cross-attention.
        attention: ``"factorized"`` (space then time) or ``"full"`` (joint space-time).
        temporal: False is the per-frame baseline (requires ``temporal_patch_size == 1``).
        time_position: relative frame position, ``"rope"`` or ``"bias"``.
        frame_conditioning: take given frames (``frames=``) and one mask input channel.
        pooled_text: add the pooled caption to the adaLN condition of every block (see
            :class:`~spacetime.models.base.TextContext`); needs ``text_dim``.
        dropout: dropout on the input tokens.
    """

    @register_to_config
    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int | None = None,
        patch_size: int = 2,
        temporal_patch_size: int = 1,
        hidden_size: int = 384,
        depth: int = 12,
        heads: int = 6,
        mlp_ratio: float = 4.0,
        text_dim: int | None = None,
        attention: AttentionMode = "factorized",
        temporal: bool = True,
        time_position: TimePosition = "rope",
        frame_conditioning: bool = False,
        pooled_text: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        _check_config(hidden_size, heads, attention, temporal, temporal_patch_size, time_position)
        self.spatial_multiple, self.temporal_multiple = patch_size, temporal_patch_size
        self.out_ch = out_channels or in_channels
        kernel = (temporal_patch_size, patch_size, patch_size)
        self.patch_embed = nn.Conv3d(self.input_channels, hidden_size, kernel, stride=kernel)
        self.token_dropout = nn.Dropout(dropout)
        if pooled_text and text_dim is None:
            raise SpacetimeError("pooled_text=True needs text_dim (a text encoder's width)")
        self.text_context = None
        if text_dim is not None:
            self.text_context = TextContext(text_dim, hidden_size if pooled_text else None)
        self.time_embed = TimestepEmbedder(hidden_size)
        self.blocks = nn.ModuleList(
            DiTBlock(hidden_size, heads, mlp_ratio, text_dim, attention, temporal, time_position)
            for _ in range(depth)
        )
        self.final = FinalLayer(hidden_size, temporal_patch_size * patch_size**2 * self.out_ch)
        self.initialize_weights()

    def initialize_weights(self) -> None:
        """DiT initialisation (``models.py: initialize_weights``), adaLN-zero.

        Linear layers are Xavier-uniform with zero bias and the patch embedding is initialised
        like a linear layer. Every adaLN modulation is zeroed, so every gate starts at 0 and
        every block starts as the identity (the "-zero" of adaLN-zero, DiT sec. 3.2, which
        trained best); the ungated cross-attention output and the final linear layer are zeroed
        for the same reason, so the model starts by predicting 0.
        """
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)
        w = self.patch_embed.weight
        nn.init.xavier_uniform_(w.view(w.shape[0], -1))
        nn.init.zeros_(self.patch_embed.bias)
        for layer in (self.time_embed.mlp[0], self.time_embed.mlp[2]):
            nn.init.normal_(layer.weight, std=0.02)
        for block in self.blocks:
            for modulation in (block.adaLN_modulation, block.temporal_modulation):
                if modulation is not None:
                    nn.init.zeros_(modulation[-1].weight)
                    nn.init.zeros_(modulation[-1].bias)
            if block.cross_attn is not None:
                nn.init.zeros_(block.cross_attn.to_out.weight)
                nn.init.zeros_(block.cross_attn.to_out.bias)
        for layer in (self.final.adaLN_modulation[-1], self.final.linear):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(
        self,
        x_t: torch.Tensor,
        t: torch.Tensor | float,
        *,
        text: TextEmbedding | None = None,
        frames: FrameCondition | None = None,
    ) -> torch.Tensor:
        """:class:`~spacetime.models.base.VideoDenoiser`'s call (shapes there): patchify,
        space-time blocks, unpatchify."""
        x, t_frames, context, context_mask = self.prepare(x_t, t, text, frames)
        b, _, n_frames, height, width = x.shape
        pt, p = self.temporal_multiple, self.spatial_multiple
        tp, hp, wp = n_frames // pt, height // p, width // p
        tokens = self.patch_embed(x)  # (B, D, T', h, w)
        tokens = tokens.flatten(3).permute(0, 2, 3, 1)  # (B, T', S, D)
        pos = sincos_2d(hp, wp, tokens.shape[-1], device=x.device)  # (S, D)
        tokens = self.token_dropout(tokens + pos.to(tokens.dtype))  # (B, T', S, D)
        c = self.time_embed(t_frames.reshape(b, tp, pt).mean(-1))  # (B, T', D)
        c = self.add_pooled_text(c, context, context_mask)  # (B, T', D)
        for block in self.blocks:
            tokens = self.run_block(block, tokens, c, context, context_mask)  # (B, T', S, D)
        out = self.final(tokens, c)  # (B, T', S, pt * p * p * C)
        out = out.reshape(b, tp, hp, wp, pt, p, p, self.out_ch)
        out = out.permute(0, 7, 1, 4, 2, 5, 3, 6)  # (B, C, T', pt, h, p, w, p)
        return out.reshape(b, self.out_ch, n_frames, height, width)  # (B, C, T, H, W)


def _check_config(
    hidden_size: int,
    heads: int,
    attention: str,
    temporal: bool,
    temporal_patch_size: int,
    time_position: str,
) -> None:
    """Raise :class:`SpacetimeError` for a DiT configuration that cannot be built."""
    if hidden_size % 4 or hidden_size % heads or (hidden_size // heads) % 2:
        raise SpacetimeError(
            f"hidden_size={hidden_size} must be divisible by 4 and by heads={heads}, with an "
            f"even head width"
        )
    if attention not in ("factorized", "full"):
        raise SpacetimeError(f"attention must be 'factorized' or 'full'; got {attention!r}")
    if time_position not in ("rope", "bias"):
        raise SpacetimeError(f"time_position must be 'rope' or 'bias'; got {time_position!r}")
    if not temporal and temporal_patch_size != 1:
        raise SpacetimeError(
            f"temporal=False (per-frame baseline) needs temporal_patch_size=1; got "
            f"{temporal_patch_size}, which would mix frames inside a patch"
        )
    if temporal_patch_size < 1:
        raise SpacetimeError(f"temporal_patch_size must be >= 1; got {temporal_patch_size}")
