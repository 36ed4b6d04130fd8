"""EMA of weights: the update rule, warm-up of the decay, copy and state round trip."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from spacetime.training.ema import EMA


def test_update_follows_the_formula() -> None:
    model = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(0.0)
    ema = EMA(model, decay=0.9, warmup=False)
    with torch.no_grad():
        model.weight.fill_(1.0)
    ema.update(model)
    ema.update(model)
    # shadow_2 = 0.9 * (0.9 * 0 + 0.1 * 1) + 0.1 * 1 = 0.19
    assert torch.allclose(ema.shadow["weight"], torch.full((1, 2), 0.19))


def test_warmup_ramps_decay() -> None:
    ema = EMA(nn.Linear(1, 1), decay=0.999, warmup=True)
    assert ema.current_decay() == pytest.approx(0.1)  # (1 + 0) / (10 + 0)
    ema.num_updates = 10
    assert ema.current_decay() == pytest.approx(11 / 20)
    ema.num_updates = 10**6
    assert ema.current_decay() == 0.999


def test_copy_to_and_state_round_trip() -> None:
    torch.manual_seed(0)
    model = nn.Linear(3, 3)
    ema = EMA(model, decay=0.5, warmup=False)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    ema.update(model)
    other = EMA(nn.Linear(3, 3), decay=0.5, warmup=False)
    other.load_state_dict(ema.state_dict(), ema.num_updates)
    target = nn.Linear(3, 3)
    other.copy_to(target)
    for name, p in target.named_parameters():
        assert torch.equal(p, ema.shadow[name])
    assert other.num_updates == 1
    with pytest.raises(ValueError, match="does not match"):
        other.load_state_dict({"weight": torch.zeros(3, 3)}, 0)
