"""The factorised space-time U-Net of Video Diffusion Models (Ho et al. 2022, sec. 3).

An ADM image U-Net (Dhariwal & Nichol 2021) made to see a video ``(B, C, T, H, W)``:

- every convolution is space-only 3x3 (a 2D conv per frame); down/up-sampling is spatial only;
- after each residual block, a :class:`SpaceTimeBlock`: an optional temporal convolution
  (pseudo-3D, Make-A-Video), spatial self-attention + text cross-attention + MLP at the chosen
  levels, and temporal self-attention across frames with a relative frame position (every
  level by default);
- the time embedding is per frame, so given (clean, ``t = 0``) and noisy frames can be mixed.

The temporal layers' output projections start at zero (:meth:`UNet3D.initialize_weights`), so
the network starts as a per-frame image model. ``temporal=False`` removes them all: the
per-frame baseline, with every other weight shaped the same. With ``T == 1`` (image batches
in joint image-video training) they are bypassed.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import register_to_config
from torch import nn

from spacetime.contracts.conditioning import FrameCondition, TextEmbedding
from spacetime.errors import SpacetimeError
from spacetime.models.attention import Attention, TimePosition
from spacetime.models.base import TextContext, VideoDenoiser
from spacetime.models.embeddings import TimestepEmbedder
from spacetime.models.layers import (
    Downsample,
    FeedForward,
    FrameGroupNorm,
    ResBlock,
    TemporalConv,
    Upsample,
    modulate,
    spatial_conv,
)


class SpaceTimeBlock(nn.Module):
    """The layers that follow each U-Net residual block, on ``(B, C, T, H, W)``.

    Order: temporal conv -> [spatial self-attention] -> [text cross-attention] -> [MLP] ->
    temporal self-attention; each a pre-norm residual branch. Temporal branches are skipped
    when ``T == 1``. The temporal attention's pre-norm is modulated by the per-frame embedding
    (time and pooled caption; DiT's adaLN, Peebles & Xie 2023, sec. 3.2), so *how* frames are
    mixed can depend on the caption ("moves left" against "moves up").

    Args:
        channels: ``C``.
        heads: attention heads.
        emb_dim: width of the per-frame embedding ``(B, T, E)``; None: the temporal
            attention's pre-norm is not modulated.
        spatial: build the spatial self-attention (and the MLP).
        text_dim: width of the text context (None: no cross-attention).
        temporal_attention: build the temporal self-attention.
        temporal_conv: build the pseudo-3D temporal convolution.
        time_position: relative frame position of the temporal attention.
        groups: GroupNorm groups of the temporal conv.
    """

    def __init__(
        self,
        channels: int,
        heads: int,
        emb_dim: int | None,
        *,
        spatial: bool,
        text_dim: int | None,
        temporal_attention: bool,
        temporal_conv: bool,
        time_position: TimePosition,
        groups: int,
    ) -> None:
        super().__init__()
        self.temporal_conv = TemporalConv(channels, groups) if temporal_conv else None
        self.spatial_attn = self.cross_attn = self.ff = None
        if spatial:
            self.norm_spatial = nn.LayerNorm(channels)
            self.spatial_attn = Attention(channels, heads, axis="space")
        if text_dim is not None:
            self.norm_cross = nn.LayerNorm(channels)
            self.cross_attn = Attention(channels, heads, context_dim=text_dim)
        if spatial or text_dim is not None:
            self.norm_ff = nn.LayerNorm(channels)
            self.ff = FeedForward(channels)
        self.temporal_attn = self.temporal_modulation = None
        if temporal_attention:
            self.norm_temporal = nn.LayerNorm(channels)
            if emb_dim is not None:
                self.temporal_modulation = nn.Linear(emb_dim, 2 * channels)
            self.temporal_attn = Attention(
                channels, heads, axis="time", time_position=time_position
            )

    @property
    def is_empty(self) -> bool:
        """True when the block has no layer at all (then the U-Net does not build it)."""
        return self.temporal_conv is None and self.ff is None and self.temporal_attn is None

    def forward(
        self,
        x: torch.Tensor,
        emb: torch.Tensor,
        context: torch.Tensor | None,
        context_mask: torch.Tensor | None,
    ) -> torch.Tensor:
        """``x`` (B, C, T, H, W), ``emb`` (B, T, E); ``context`` (B, L, D_text),
        ``context_mask`` (B, L)."""
        b, c, t, h, w = x.shape
        video = t > 1  # images (T == 1) bypass every temporal layer
        if self.temporal_conv is not None and video:
            x = self.temporal_conv(x)  # (B, C, T, H, W)
        if self.ff is None and not (self.temporal_attn is not None and video):
            return x
        tokens = x.permute(0, 2, 3, 4, 1).reshape(b, t, h * w, c)  # (B, T, S, C)
        if self.spatial_attn is not None:
            tokens = tokens + self.spatial_attn(self.norm_spatial(tokens))  # (B, T, S, C)
        if self.cross_attn is not None:
            tokens = tokens + self.cross_attn(
                self.norm_cross(tokens), context=context, context_mask=context_mask
            )  # (B, T, S, C)
        if self.ff is not None:
            tokens = tokens + self.ff(self.norm_ff(tokens))  # (B, T, S, C)
        if self.temporal_attn is not None and video:
            hidden = self.norm_temporal(tokens)  # (B, T, S, C)
            if self.temporal_modulation is not None:
                mod = self.temporal_modulation(F.silu(emb))[:, :, None]  # (B, T, 1, 2C)
                shift, scale = mod.chunk(2, dim=-1)  # (B, T, 1, C) each
                hidden = modulate(hidden, shift, scale)  # (B, T, S, C)
            tokens = tokens + self.temporal_attn(hidden)  # (B, T, S, C)
        return tokens.reshape(b, t, h, w, c).permute(0, 4, 1, 2, 3)  # (B, C, T, H, W)


class UNetStage(nn.Module):
    """One residual block and its (optional) :class:`SpaceTimeBlock`."""

    def __init__(self, res: ResBlock, block: SpaceTimeBlock) -> None:
        super().__init__()
        self.res = res
        self.block = None if block.is_empty else block

    def forward(
        self,
        x: torch.Tensor,
        emb: torch.Tensor,
        context: torch.Tensor | None,
        context_mask: torch.Tensor | None,
    ) -> torch.Tensor:
        """``x`` (B, C_in, T, H, W), ``emb`` (B, T, E) -> (B, C_out, T, H, W)."""
        x = self.res(x, emb)  # (B, C_out, T, H, W)
        return x if self.block is None else self.block(x, emb, context, context_mask)


class UNet3D(VideoDenoiser):
    """Factorised space-time U-Net: ``model(x_t, t, *, text, frames) -> (B, C_out, T, H, W)``.

    Args:
        in_channels: channels of ``x_t`` (3 for pixels, the latent width for latents).
        out_channels: channels of the output (default ``in_channels``; ``2 * C`` for learned
            variance).
        base_channels: width of the first level.
        channel_mult: width multiplier per level; H and W must be multiples of
            ``2 ** (len(channel_mult) - 1)``.
        num_res_blocks: residual blocks per level on the way down (one more on the way up).
        attention_levels: levels (0 = full resolution) with spatial self-attention; the
            middle block always has it.
        cross_attention_levels: levels with text cross-attention (None: ``attention_levels``);
            the middle block always has it. Cross-attention to a few caption tokens is cheap
            even at full resolution, where self-attention is not.
        heads: attention heads (divide every level's width).
        text_dim: width of the text tokens; None builds no cross-attention.
        temporal: build temporal layers (attention across frames, temporal convolutions);
            False is the per-frame image baseline.
        temporal_attention_levels: levels with temporal attention (None: every level; the
            middle block always has it). Full-resolution temporal attention is the costliest
            temporal layer on a CPU; the temporal convolution still mixes time there.
        temporal_conv: add a pseudo-3D temporal convolution after every residual block.
        pooled_text: add the pooled caption to the timestep embedding (see
            :class:`~spacetime.models.base.TextContext`) and modulate every temporal
            attention's pre-norm by that embedding; needs ``text_dim``.
        time_position: relative frame position of temporal attention: ``"rope"`` or ``"bias"``
            (VDM's bucketed relative bias).
        frame_conditioning: take given frames (``frames=``) and one mask input channel.
        norm_groups: GroupNorm groups (divide every level's width).
        dropout: dropout in residual blocks.
    """

    @register_to_config
    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int | None = None,
        base_channels: int = 64,
        channel_mult: Sequence[int] = (1, 2, 4),
        num_res_blocks: int = 2,
        attention_levels: Sequence[int] = (1, 2),
        cross_attention_levels: Sequence[int] | None = None,
        heads: int = 4,
        text_dim: int | None = None,
        temporal: bool = True,
        temporal_attention_levels: Sequence[int] | None = None,
        temporal_conv: bool = True,
        time_position: TimePosition = "rope",
        frame_conditioning: bool = False,
        pooled_text: bool = False,
        norm_groups: int = 32,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        widths = [base_channels * m for m in channel_mult]
        levels = range(len(widths))
        temporal_levels = levels if temporal_attention_levels is None else temporal_attention_levels
        cross_levels = (
            attention_levels if cross_attention_levels is None else cross_attention_levels
        )
        _check_levels(len(widths), attention_levels=attention_levels,
                      cross_attention_levels=cross_levels,
                      temporal_attention_levels=temporal_levels)  # fmt: skip
        _check_config(widths, heads, norm_groups, time_position, temporal)
        self.spatial_multiple = 2 ** (len(widths) - 1)
        emb_dim = 4 * base_channels

        def stage(c_in: int, c_out: int, level: int | None, spatial: bool = False) -> UNetStage:
            """Residual block + space-time block at ``level`` (None: the middle block)."""
            res = ResBlock(c_in, c_out, emb_dim, norm_groups, dropout)
            cross = spatial if level is None else level in cross_levels
            block = SpaceTimeBlock(
                c_out, heads, emb_dim if pooled_text else None,
                spatial=spatial or level in attention_levels,
                text_dim=text_dim if cross else None,
                temporal_attention=temporal and (level is None or level in temporal_levels),
                temporal_conv=temporal and temporal_conv, time_position=time_position,
                groups=norm_groups,
            )  # fmt: skip
            return UNetStage(res, block)

        if pooled_text and text_dim is None:
            raise SpacetimeError("pooled_text=True needs text_dim (a text encoder's width)")
        self.text_context = None
        if text_dim is not None:
            self.text_context = TextContext(text_dim, emb_dim if pooled_text else None)
        self.time_embed = TimestepEmbedder(emb_dim)
        self.conv_in = spatial_conv(self.input_channels, widths[0])

        self.down = nn.ModuleList()
        skip_widths, c = [widths[0]], widths[0]
        for level, width in enumerate(widths):
            for _ in range(num_res_blocks):
                self.down.append(stage(c, width, level))
                c = width
                skip_widths.append(c)
            if level < len(widths) - 1:
                self.down.append(Downsample(c))
                skip_widths.append(c)

        self.mid = nn.ModuleList([stage(c, c, None, spatial=True), stage(c, c, None)])

        self.up = nn.ModuleList()
        for level, width in reversed(list(enumerate(widths))):
            for _ in range(num_res_blocks + 1):
                self.up.append(stage(c + skip_widths.pop(), width, level))
                c = width
            if level > 0:
                self.up.append(Upsample(c))

        self.norm_out = FrameGroupNorm(norm_groups, c)
        self.conv_out = spatial_conv(c, out_channels or in_channels)
        self.initialize_weights()

    def initialize_weights(self) -> None:
        """Zero-init every residual branch's last layer and the output convolution (ADM, DiT).

        Each residual block, attention and MLP branch then starts as the identity, which keeps
        activations at unit scale through depth and makes the first gradient steps well
        conditioned. Zeroing the *temporal* branches (temporal conv, temporal attention output)
        makes the initial network exactly a per-frame image model (VDM / Make-A-Video): time
        mixing is learned from that starting point.
        """
        for module in self.modules():
            if isinstance(module, ResBlock | TemporalConv):
                module.zero_output()
            elif isinstance(module, Attention):
                nn.init.zeros_(module.to_out.weight)
                nn.init.zeros_(module.to_out.bias)
            elif isinstance(module, FeedForward):
                nn.init.zeros_(module.fc2.weight)
                nn.init.zeros_(module.fc2.bias)
            elif isinstance(module, SpaceTimeBlock) and module.temporal_modulation is not None:
                # adaLN-zero: the temporal attention starts with a plain pre-norm
                nn.init.zeros_(module.temporal_modulation.weight)
                nn.init.zeros_(module.temporal_modulation.bias)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    def forward(
        self,
        x_t: torch.Tensor,
        t: torch.Tensor | float,
        *,
        text: TextEmbedding | None = None,
        frames: FrameCondition | None = None,
    ) -> torch.Tensor:
        """:class:`~spacetime.models.base.VideoDenoiser`'s call (shapes there): the
        encoder, middle and decoder of the factorised U-Net."""
        x, t_frames, context, context_mask = self.prepare(x_t, t, text, frames)
        emb = self.time_embed(t_frames)  # (B, T, E)
        emb = self.add_pooled_text(emb, context, context_mask)  # (B, T, E)
        h = self.conv_in(x)  # (B, C0, T, H, W)
        skips = [h]
        for layer in self.down:
            if isinstance(layer, Downsample):
                h = layer(h)  # (B, C, T, H/2, W/2)
            else:
                h = self.run_block(layer, h, emb, context, context_mask)  # (B, C, T, H, W)
            skips.append(h)
        for layer in self.mid:
            h = self.run_block(layer, h, emb, context, context_mask)  # (B, C, T, h, w)
        for layer in self.up:
            if isinstance(layer, Upsample):
                h = layer(h)  # (B, C, T, 2h, 2w)
            else:
                h = torch.cat([h, skips.pop()], dim=1)  # (B, C + C_skip, T, h, w)
                h = self.run_block(layer, h, emb, context, context_mask)  # (B, C, T, h, w)
        assert not skips, "every skip connection is consumed"
        return self.conv_out(F.silu(self.norm_out(h)))  # (B, C_out, T, H, W)


def _check_levels(n_levels: int, **levels: Sequence[int]) -> None:
    """Raise :class:`SpacetimeError` for level indices outside ``0..n_levels - 1``."""
    for name, chosen in levels.items():
        out_of_range = [a for a in chosen if not 0 <= a < n_levels]
        if out_of_range:
            raise SpacetimeError(
                f"{name} {out_of_range} out of range: levels are 0..{n_levels - 1}"
            )


def _check_config(
    widths: list[int], heads: int, groups: int, time_position: str, temporal: bool
) -> None:
    """Raise :class:`SpacetimeError` for a U-Net configuration that cannot be built."""
    if not widths or min(widths) <= 0:
        raise SpacetimeError(f"channel widths must be positive; got {widths}")
    bad = [w for w in widths if w % groups or w % heads or (w // heads) % 2]
    if bad:
        raise SpacetimeError(
            f"level widths {bad} must be divisible by norm_groups={groups} and by heads={heads} "
            f"with an even head width"
        )
    if temporal and time_position not in ("rope", "bias"):
        raise SpacetimeError(f"time_position must be 'rope' or 'bias'; got {time_position!r}")
