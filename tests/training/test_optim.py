"""AdamW parameter groups and the warm-up / cosine learning-rate schedule."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from spacetime.training.config import OptimConfig
from spacetime.training.optim import build_optimizer, build_scheduler, lr_factor, param_groups


def test_weight_decay_only_on_matrices() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.Conv2d(4, 2, 3))
    model[1].weight.requires_grad_(False)
    decay, no_decay = param_groups(model, 0.1, 1e-3)
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert [p.shape for p in decay["params"]] == [(4, 3), (2, 4, 3, 3)]
    # biases of Linear, LayerNorm and Conv; the frozen LayerNorm weight is left out.
    assert [tuple(p.shape) for p in no_decay["params"]] == [(4,), (4,), (2,)]


def test_warmup_then_constant_and_cosine() -> None:
    const = OptimConfig(lr=1.0, warmup_steps=4, schedule="constant")
    assert [lr_factor(s, const, 10) for s in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    cos = OptimConfig(lr=1.0, warmup_steps=0, schedule="cosine", min_lr_ratio=0.1)
    assert lr_factor(0, cos, 10) == pytest.approx(1.0)
    assert lr_factor(5, cos, 10) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi / 2)))
    assert lr_factor(10, cos, 10) == pytest.approx(0.1)
    assert lr_factor(50, cos, 10) == pytest.approx(0.1)  # clamped past the end


def test_scheduler_drives_optimizer_lr() -> None:
    model = nn.Linear(2, 2)
    config = OptimConfig(lr=0.5, warmup_steps=2, schedule="constant")
    optimizer = build_optimizer(model, config)
    scheduler = build_scheduler(optimizer, config, total_steps=10)
    seen = []
    for _ in range(3):
        seen.append(optimizer.param_groups[0]["lr"])
        model(torch.ones(1, 2)).sum().backward()
        optimizer.step()
        scheduler.step()
    assert seen == pytest.approx([0.25, 0.5, 0.5])
    assert optimizer.param_groups[0]["betas"] == config.betas
