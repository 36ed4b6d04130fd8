"""Exponential moving average of model weights (Polyak & Juditsky 1992).

``shadow <- d * shadow + (1 - d) * param`` after every optimizer step. With ``warmup`` the
decay ramps up as ``d_n = min(decay, (1 + n) / (10 + n))`` (n = updates so far, the schedule
of TensorFlow's ExponentialMovingAverage and diffusers' EMAModel), so early weights, which
are mostly noise, are forgotten quickly. Shadows are kept in float32 whatever the training
precision. The EMA weights are what spacetime publishes as the trained model.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["EMA"]


class EMA:
    """EMA of the trainable floating-point parameters of a module.

    Args:
        module: the model whose parameters are tracked (its current values start the EMA).
        decay: the target decay ``d`` in [0, 1]; 0 copies the weights, 1 freezes them.
        warmup: ramp the decay up as ``(1 + n) / (10 + n)`` while that is below ``decay``.
    """

    def __init__(self, module: nn.Module, decay: float, *, warmup: bool = True) -> None:
        if not 0.0 <= decay <= 1.0:
            raise ValueError(f"EMA decay must be in [0, 1], got {decay}")
        self.decay = decay
        self.warmup = warmup
        self.num_updates = 0
        self.shadow: dict[str, torch.Tensor] = {
            name: p.detach().float().clone()
            for name, p in module.named_parameters()
            if p.requires_grad and p.is_floating_point()
        }

    def current_decay(self) -> float:
        """The decay the next :meth:`update` will use."""
        if not self.warmup:
            return self.decay
        n = self.num_updates
        return min(self.decay, (1 + n) / (10 + n))

    @torch.no_grad()
    def update(self, module: nn.Module) -> None:
        """Move the shadows towards the current parameters of ``module``."""
        d = self.current_decay()
        params = dict(module.named_parameters())
        for name, shadow in self.shadow.items():
            shadow.lerp_(params[name].detach().float(), 1.0 - d)
        self.num_updates += 1

    @torch.no_grad()
    def copy_to(self, module: nn.Module) -> None:
        """Write the EMA weights into ``module`` (in its dtype); other tensors are untouched."""
        params = dict(module.named_parameters())
        for name, shadow in self.shadow.items():
            params[name].copy_(shadow.to(params[name].dtype))

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The shadows by parameter name (``num_updates`` is kept separately, as JSON)."""
        return {name: t.clone() for name, t in self.shadow.items()}

    def load_state_dict(self, state: dict[str, torch.Tensor], num_updates: int) -> None:
        """Restore shadows saved by :meth:`state_dict`; the names must match exactly."""
        if state.keys() != self.shadow.keys():
            missing = sorted(self.shadow.keys() - state.keys())[:5]
            extra = sorted(state.keys() - self.shadow.keys())[:5]
            raise ValueError(
                f"EMA state does not match the model: missing {missing}, extra {extra}"
            )
        for name, tensor in state.items():
            self.shadow[name].copy_(tensor)
        self.num_updates = num_updates
