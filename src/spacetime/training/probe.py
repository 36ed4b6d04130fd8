"""A cheap training-time signal of whether the denoiser reads its caption.

At high noise the clean clip is mostly undecided by ``x_t``: what is drawn there — which
colour, shape, background, where — can only come from the caption. A model that uses its
text predicts ``x0`` much better with the right caption than with a wrong one or the empty one;
a model that ignores it predicts the same blur for all three. :class:`TextUseProbe` measures
exactly that on a fixed set of held-out clips, with fixed noise, so the numbers of successive
log lines compare::

    text_probe: {"t": [900, 950], "right": 0.28, "wrong": 0.38, "empty": 0.31,
                 "gap_wrong": 0.36, "gap_empty": 0.11}

``right``/``wrong``/``empty`` are mean squared x0 errors (in the units of the clips the model
sees: latents or pixels in [-1, 1]); ``gap_* = (other - right) / right``, the relative increase
of the error when the caption is replaced.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from spacetime.contracts.conditioning import TextEmbedding
from spacetime.diffusion.objectives import Objective, randn
from spacetime.errors import SpacetimeError

__all__ = ["TextUseProbe", "wrong_captions"]


def wrong_captions(captions: Sequence[str]) -> list[str]:
    """Each caption replaced by the next different one of the list (cyclically)."""
    n = len(captions)
    out = []
    for i, caption in enumerate(captions):
        others = (captions[(i + k) % n] for k in range(1, n))
        other = next((c for c in others if c != caption), None)
        if other is None:
            raise SpacetimeError("the probe needs at least two different captions")
        out.append(other)
    return out


class TextUseProbe:
    """x0 error at high noise with the right, a wrong and the empty caption.

    Args:
        clips: clean clips ``(B, C, T, H, W)`` in the denoiser's space (latents or pixels), on
            the denoiser's device.
        captions: their B captions (at least two different ones).
        objective: noising and the x0 conversion.
        t_values: timesteps probed (averaged), in the objective's units.
        seed: seed of the fixed noise.
    """

    def __init__(
        self,
        clips: torch.Tensor,
        captions: Sequence[str],
        objective: Objective,
        *,
        t_values: Sequence[float] = (900.0, 950.0),
        seed: int = 0,
    ) -> None:
        if clips.ndim != 5 or clips.shape[0] != len(captions):
            raise SpacetimeError(
                f"probe clips must be (B, C, T, H, W) with one caption each; got "
                f"{tuple(clips.shape)} and {len(captions)} captions"
            )
        self.clips, self.objective = clips, objective
        self.t_values = [float(t) for t in t_values]
        self.captions = {
            "right": list(captions),
            "wrong": wrong_captions(captions),
            "empty": [""] * len(captions),
        }
        gen = torch.Generator().manual_seed(seed)
        self.noise = [randn(clips.shape, gen, clips.device, clips.dtype) for _ in self.t_values]

    @torch.no_grad()
    def __call__(
        self,
        denoiser: Callable[..., torch.Tensor],
        encode: Callable[[list[str]], TextEmbedding | None],
    ) -> dict[str, Any]:
        """The log entry for ``denoiser`` with text encoder ``encode`` (see module docstring)."""
        x0, b = self.clips, self.clips.shape[0]
        errors: dict[str, float] = {}
        for name, captions in self.captions.items():
            text = encode(captions)
            total = 0.0
            for t_value, noise in zip(self.t_values, self.noise, strict=True):
                t = torch.full((b,), t_value, device=x0.device)
                x_t = self.objective.add_noise(x0, noise.to(x0.device), t)  # (B, C, T, H, W)
                out = denoiser(x_t, t, text=text)  # (B, C, T, H, W)
                x0_hat = self.objective.to_x0(x_t, t, out)
                total += float((x0_hat.float() - x0.float()).pow(2).mean())
            errors[name] = total / len(self.t_values)
        right = max(errors["right"], 1e-12)
        return {
            "t": self.t_values,
            **errors,
            "gap_wrong": (errors["wrong"] - right) / right,
            "gap_empty": (errors["empty"] - right) / right,
        }
