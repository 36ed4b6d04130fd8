"""Conditioning inputs shared by every denoiser, objective and sampler (DESIGN.md contracts).

They live on the ground floor (:mod:`spacetime.contracts`) because ``models`` produces and
consumes them and ``diffusion`` and ``pipelines`` pass them along.


- Text: an encoder returns :class:`TextEmbedding` — ``tokens (B, L, D)`` and ``mask (B, L)``.
- Frames: :class:`FrameCondition` — ``mask (B, T)`` True where a frame is given, and the
  given frames ``values (B, C, T, H, W)`` (only the masked frames are read).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class TextEmbedding:
    """Encoded text: ``tokens`` (B, L, D) float and ``mask`` (B, L) bool, True on real tokens."""

    tokens: torch.Tensor
    mask: torch.Tensor

    def __post_init__(self) -> None:
        if self.tokens.ndim != 3 or self.mask.shape != self.tokens.shape[:2]:
            raise ValueError(
                f"TextEmbedding expects tokens (B, L, D) and mask (B, L); got "
                f"{tuple(self.tokens.shape)} and {tuple(self.mask.shape)}"
            )

    def index(self, idx: torch.Tensor | slice) -> TextEmbedding:
        """Rows ``idx`` of the batch."""
        return TextEmbedding(self.tokens[idx], self.mask[idx])

    @staticmethod
    def cat(parts: list[TextEmbedding]) -> TextEmbedding:
        """Concatenate along the batch, padding the token axis to the longest part."""
        length = max(p.tokens.shape[1] for p in parts)
        tokens, masks = [], []
        for p in parts:
            pad = length - p.tokens.shape[1]
            tokens.append(torch.nn.functional.pad(p.tokens, (0, 0, 0, pad)))
            masks.append(torch.nn.functional.pad(p.mask, (0, pad), value=False))
        return TextEmbedding(torch.cat(tokens), torch.cat(masks))


@dataclass(frozen=True)
class FrameCondition:
    """Given frames: ``mask`` (B, T) bool, True where given; ``values`` (B, C, T, H, W)."""

    mask: torch.Tensor
    values: torch.Tensor

    def __post_init__(self) -> None:
        if self.mask.ndim != 2 or self.values.ndim != 5:
            raise ValueError(
                f"FrameCondition expects mask (B, T) and values (B, C, T, H, W); got "
                f"{tuple(self.mask.shape)} and {tuple(self.values.shape)}"
            )
        b, _, t = self.values.shape[:3]
        if tuple(self.mask.shape) != (b, t):
            raise ValueError(
                f"FrameCondition mask {tuple(self.mask.shape)} does not match values (B={b}, T={t})"
            )

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        """Replace the given frames of ``x`` (B, C, T, H, W) by the clean ``values``."""
        keep = self.mask[:, None, :, None, None].to(x.device)  # (B, 1, T, 1, 1)
        return torch.where(keep, self.values.to(x.dtype), x)

    def index(self, idx: torch.Tensor | slice) -> FrameCondition:
        """Rows ``idx`` of the batch."""
        return FrameCondition(self.mask[idx], self.values[idx])
