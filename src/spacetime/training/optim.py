"""AdamW with decoupled weight decay on weight matrices only, and a warm-up learning-rate schedule.

- AdamW: Loshchilov & Hutter, "Decoupled Weight Decay Regularization" (ICLR 2019). As in
  nanoGPT, parameters with ``ndim >= 2`` (linear / conv weights, embeddings) decay; biases and
  normalisation gains do not.
- Schedule: linear warm-up from 0 to the peak rate (Goyal et al. 2017, "Accurate, Large
  Minibatch SGD"), then constant or half-cosine decay (Loshchilov & Hutter 2017, SGDR) to
  ``min_lr_ratio * lr`` at the last step. :func:`lr_factor` is a pure function of the step,
  so a resumed run follows exactly the same schedule.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from spacetime.errors import SpacetimeError
from spacetime.training.config import OptimConfig

__all__ = ["build_optimizer", "build_scheduler", "lr_factor", "param_groups"]


def param_groups(
    module: nn.Module, weight_decay: float, lr: float, scales: dict[str, float] | None = None
) -> list[dict[str, object]]:
    """Trainable parameters of ``module`` split into decayed and non-decayed groups.

    ``scales`` maps parameter names to learning-rate factors (default 1): each distinct factor
    gets its own pair of groups at ``lr * factor``. Returns ``[{"params": [...],
    "weight_decay": weight_decay, "lr": ...}, {"params": [...], "weight_decay": 0.0, "lr": ...},
    ...]`` with the factor-1 pair first, in ``named_parameters`` order (stable, so optimizer
    state indices match across runs).
    """
    scales = scales or {}
    factors = sorted({scales.get(n, 1.0) for n, p in module.named_parameters() if p.requires_grad},
                     key=lambda f: (f != 1.0, -f))  # fmt: skip
    groups = []
    for factor in factors or [1.0]:
        decay, no_decay = [], []
        for name, param in module.named_parameters():
            if param.requires_grad and scales.get(name, 1.0) == factor:
                (decay if param.ndim >= 2 else no_decay).append(param)
        groups += [
            {"params": decay, "weight_decay": weight_decay, "lr": lr * factor},
            {"params": no_decay, "weight_decay": 0.0, "lr": lr * factor},
        ]
    return groups


def build_optimizer(
    module: nn.Module, config: OptimConfig, scales: dict[str, float] | None = None
) -> torch.optim.AdamW:
    """AdamW over the trainable parameters of ``module`` with the settings of ``config``;
    ``scales``: per-parameter learning-rate factors (see :func:`param_groups`)."""
    if not config.eps > 0:  # 0 divides by zero where a moment is 0; torch refuses < 0
        raise SpacetimeError(f"optim.eps must be > 0, got {config.eps}")
    groups = param_groups(module, config.weight_decay, config.lr, scales)
    # foreach=False: the single-tensor path is bit-reproducible across runs on CPU.
    return torch.optim.AdamW(
        groups, lr=config.lr, betas=config.betas, eps=config.eps, foreach=False
    )


def lr_factor(step: int, config: OptimConfig, total_steps: int) -> float:
    """Multiplier of the peak learning rate for optimizer step ``step`` (0-based), in [0, 1].

    Warm-up: ``(step + 1) / warmup_steps`` while ``step < warmup_steps``, so the first
    update already moves. Then 1 (constant) or
    ``min + (1 - min) * (1 + cos(pi * progress)) / 2`` (cosine), progress in [0, 1] over the
    steps after warm-up.
    """
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    if config.schedule == "constant":
        return 1.0
    span = max(1, total_steps - config.warmup_steps)
    progress = min(1.0, (step - config.warmup_steps) / span)
    floor = config.min_lr_ratio
    return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


def build_scheduler(
    optimizer: torch.optim.Optimizer, config: OptimConfig, total_steps: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """A ``LambdaLR`` applying :func:`lr_factor`; call ``step()`` once per optimizer step."""
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: lr_factor(step, config, total_steps)
    )
