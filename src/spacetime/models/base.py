"""What every space-time denoiser shares: input checks, frame and text conditioning.

The denoiser contract (DESIGN.md): ``model(x_t, t, *, text=None, frames=None)`` with
``x_t (B, C, T, H, W)`` and ``t`` of shape ``(B,)`` or per-frame ``(B, T)`` in the objective's
units (continuous, [0, 1000]; given frames have ``t = 0``). Returns ``(B, C_out, T, H, W)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from diffusers.configuration_utils import ConfigMixin
from diffusers.models.modeling_utils import ModelMixin
from torch import nn

from spacetime.contracts.conditioning import FrameCondition, TextEmbedding
from spacetime.errors import SpacetimeError


class TextContext(nn.Module):
    """Text tokens for cross-attention, with a learned *null token* always in front, and
    optionally a pooled caption vector for the timestep embedding.

    The null token is a key every query can attend to, so an empty prompt (``text=None`` or an
    all-False mask row) is a well-defined unconditional input instead of a softmax over an
    empty key set (which would be NaN) — the unconditional branch of classifier-free guidance.

    The pooled vector (:meth:`pooled`) is the mean of the context's real tokens (null token
    included) through a two-layer MLP: Imagen's pooled text embedding added to the timestep
    embedding (Saharia et al. 2022, sec. 2.1), the global conditioning DiT's adaLN found
    stronger than cross-attention alone (Peebles & Xie 2023, sec. 3.2). Every residual block
    and temporal layer modulated by the timestep embedding is then modulated by the caption.
    It is a function of the row's own tokens only, so the empty prompt's pooled vector is a
    fixed learned one: the unconditional branch carries no caption, token-wise or pooled.

    Args:
        text_dim: width ``D`` of the encoder's tokens.
        pooled_dim: width of the pooled vector (the timestep embedding's); None: no pooling.
    """

    def __init__(self, text_dim: int, pooled_dim: int | None = None) -> None:
        super().__init__()
        self.text_dim = text_dim
        self.null = nn.Parameter(torch.randn(1, 1, text_dim) * 0.02)
        self.norm = nn.LayerNorm(text_dim)
        self.pool = None
        if pooled_dim is not None:
            self.pool = nn.Sequential(
                nn.Linear(text_dim, pooled_dim), nn.SiLU(), nn.Linear(pooled_dim, pooled_dim)
            )

    def forward(self, text: TextEmbedding | None, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Context ``(B, 1 + L, D)`` and its key mask ``(B, 1 + L)`` (``L = 0`` for no text)."""
        null = self.null.expand(batch, 1, -1)  # (B, 1, D)
        ones = torch.ones(batch, 1, dtype=torch.bool, device=null.device)  # (B, 1)
        if text is None:
            return self.norm(null), ones
        tokens = torch.cat([null, text.tokens.to(null)], dim=1)  # (B, 1 + L, D)
        mask = torch.cat([ones, text.mask.to(device=null.device, dtype=torch.bool)], dim=1)
        return self.norm(tokens), mask

    def pooled(self, context: torch.Tensor, mask: torch.Tensor) -> torch.Tensor | None:
        """The pooled caption ``(B, pooled_dim)`` of a :meth:`forward` output, or None."""
        if self.pool is None:
            return None
        weight = mask.to(context.dtype)[..., None]  # (B, 1 + L, 1)
        mean = (context * weight).sum(1) / weight.sum(1)  # (B, D); the null token counts
        return self.pool(mean)  # (B, pooled_dim)


class VideoDenoiser(ModelMixin, ConfigMixin):
    """Base of the denoisers :class:`~spacetime.models.unet3d.UNet3D` and
    :class:`~spacetime.models.dit.SpaceTimeDiT`.

    Subclasses register ``in_channels``, ``text_dim``, ``frame_conditioning`` and ``temporal``
    in their config, set :attr:`spatial_multiple` / :attr:`temporal_multiple`, build
    ``self.text_context`` (or None) and call :meth:`prepare` at the top of ``forward``.

    The call every denoiser implements, ``model(x_t, t, *, text=None, frames=None)``:

    - ``x_t``: noisy video ``(B, C, T, H, W)``;
    - ``t``: time in the objective's units (``[0, N]`` training steps): a number or ``(B,)``
      for one time per clip, ``(B, T)`` for one per frame;
    - ``text``: :class:`TextEmbedding` tokens for cross-attention (needs ``text_dim``);
    - ``frames``: :class:`FrameCondition`, the given frames (needs ``frame_conditioning``);
    - returns ``(B, C_out, T, H, W)``, the objective's prediction (eps, v, x0 or velocity).
    """

    _supports_gradient_checkpointing = True
    #: H and W must be multiples of this (U-Net downsampling factor, DiT patch size).
    spatial_multiple: int = 1
    #: T must be a multiple of this (DiT temporal patch size).
    temporal_multiple: int = 1

    def __init__(self) -> None:
        super().__init__()
        self.gradient_checkpointing = False

    @property
    def input_channels(self) -> int:
        """Channels of the first layer: the video plus one frame-mask channel if conditioned."""
        return self.config.in_channels + int(self.config.frame_conditioning)

    def add_pooled_text(
        self, emb: torch.Tensor, context: torch.Tensor | None, context_mask: torch.Tensor | None
    ) -> torch.Tensor:
        """The per-frame embedding ``emb`` (B, T, E) plus the pooled caption (B, E) on every
        frame, when the model pools its text (``pooled_text``); else ``emb`` unchanged."""
        if self.text_context is None or context is None or context_mask is None:
            return emb
        pooled = self.text_context.pooled(context, context_mask)  # (B, E) or None
        return emb if pooled is None else emb + pooled[:, None].to(emb.dtype)  # (B, T, E)

    def run_block(self, block: Callable[..., torch.Tensor], *args: Any) -> torch.Tensor:
        """``block(*args)``, rematerialised in the backward pass when gradient checkpointing is on
        (``model.enable_gradient_checkpointing()``): less memory for one more forward."""
        if self.gradient_checkpointing and self.training and torch.is_grad_enabled():
            return self._gradient_checkpointing_func(block, *args)
        return block(*args)

    def prepare(
        self,
        x_t: torch.Tensor,
        t: torch.Tensor | float,
        text: TextEmbedding | None,
        frames: FrameCondition | None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """Check the inputs and apply the conditioning shared by every architecture.

        Returns:
            ``x`` (B, C_in [+1], T, H, W): ``x_t`` with the given frames pasted in and the frame
            mask as one extra channel when ``frame_conditioning`` (zeros when ``frames=None``);
            ``t`` (B, T) float: per-frame time; ``context`` (B, 1 + L, D) and its mask
            (B, 1 + L) when the model has text cross-attention, else ``None, None``.
        """
        cfg = self.config
        if not isinstance(x_t, torch.Tensor) or x_t.ndim != 5:
            shape = tuple(x_t.shape) if isinstance(x_t, torch.Tensor) else type(x_t).__name__
            raise SpacetimeError(f"x_t must be a video batch (B, C, T, H, W); got {shape}")
        b, c, n_frames, h, w = x_t.shape
        if c != cfg.in_channels:
            raise SpacetimeError(
                f"x_t has {c} channels but the model was built with in_channels={cfg.in_channels}"
            )
        m = self.spatial_multiple
        if h % m or w % m or h == 0 or w == 0:
            raise SpacetimeError(
                f"frame size {h}x{w} is not supported: {type(self).__name__} needs height and "
                f"width that are positive multiples of {m}"
            )
        if n_frames == 0 or n_frames % self.temporal_multiple:
            raise SpacetimeError(
                f"frame count T={n_frames} is not supported: {type(self).__name__} needs a "
                f"positive multiple of {self.temporal_multiple} (its temporal patch size)"
            )
        t_frames = self._per_frame_time(t, b, n_frames, x_t.device)

        x = x_t
        if frames is not None and not cfg.frame_conditioning:
            raise SpacetimeError(
                "frames were given but the model was built with frame_conditioning=False"
            )
        if cfg.frame_conditioning:
            if frames is None:
                mask = torch.zeros(b, 1, n_frames, h, w, dtype=x_t.dtype, device=x_t.device)
            else:
                if tuple(frames.values.shape) != tuple(x_t.shape):
                    raise SpacetimeError(
                        f"frames.values has shape {tuple(frames.values.shape)}; expected the "
                        f"shape of x_t {tuple(x_t.shape)}"
                    )
                x = frames.apply(x_t)  # (B, C, T, H, W)
                mask = frames.mask.to(device=x_t.device, dtype=x_t.dtype)[:, None, :, None, None]
                mask = mask.expand(b, 1, n_frames, h, w)  # (B, 1, T, H, W)
            x = torch.cat([x, mask], dim=1)  # (B, C + 1, T, H, W)

        if self.text_context is None:
            if text is not None:
                raise SpacetimeError("text was given but the model was built with text_dim=None")
            return x, t_frames, None, None
        if text is not None and (
            text.tokens.shape[-1] != cfg.text_dim or text.tokens.shape[0] != b
        ):
            raise SpacetimeError(
                f"text tokens have shape {tuple(text.tokens.shape)}; expected "
                f"({b}, L, {cfg.text_dim}) (batch of x_t, the model's text_dim)"
            )
        context, context_mask = self.text_context(text, b)
        return x, t_frames, context, context_mask

    @staticmethod
    def _per_frame_time(
        t: torch.Tensor | float, b: int, n_frames: int, device: torch.device
    ) -> torch.Tensor:
        """``t`` scalar, (B,) or (B, T) -> (B, T) float32."""
        t = torch.as_tensor(t, device=device, dtype=torch.float32)
        if t.ndim == 0:
            return t.expand(b, n_frames)
        if t.shape == (b,):
            return t[:, None].expand(b, n_frames)
        if t.shape == (b, n_frames):
            return t
        raise SpacetimeError(
            f"t has shape {tuple(t.shape)}; expected ({b},) or per-frame ({b}, {n_frames})"
        )
