"""Atomic checkpoints: optimizer state through safetensors + JSON, crash safety."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from spacetime.training.checkpoint import (
    TrainingState,
    find_checkpoint,
    load_state,
    optimizer_state_from_tensors,
    optimizer_state_to_tensors,
    save_checkpoint,
)
from spacetime.training.config import OptimConfig
from spacetime.training.optim import build_optimizer


def _trained_optimizer() -> tuple[nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Linear(8, 2))
    optimizer = build_optimizer(model, OptimConfig(lr=0.01, weight_decay=0.1))
    for _ in range(3):
        model(torch.randn(5, 4)).square().mean().backward()
        optimizer.step()
        optimizer.zero_grad()
    return model, optimizer


def _state(model: nn.Module, optimizer: torch.optim.Optimizer, step: int) -> TrainingState:
    return TrainingState(
        model=dict(model.state_dict()),
        ema={k: v + 1 for k, v in model.state_dict().items()},
        optimizer=optimizer.state_dict(),
        meta={"step": step, "seed": 3},
    )


def test_optimizer_state_round_trip_continues_identically() -> None:
    model, optimizer = _trained_optimizer()
    tensors, meta = optimizer_state_to_tensors(optimizer.state_dict())
    json.dumps(meta)  # the non-tensor part is plain JSON
    assert all(isinstance(t, torch.Tensor) for t in tensors.values())

    clone = nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Linear(8, 2))
    clone.load_state_dict(model.state_dict())
    restored = build_optimizer(clone, OptimConfig(lr=0.5))  # lr comes from the state
    restored.load_state_dict(optimizer_state_from_tensors(tensors, json.loads(json.dumps(meta))))
    assert restored.param_groups[0]["lr"] == 0.01

    x = torch.randn(5, 4)
    for m, opt in ((model, optimizer), (clone, restored)):
        m(x).square().mean().backward()
        opt.step()
    for a, b in zip(model.parameters(), clone.parameters(), strict=True):
        assert torch.equal(a, b)


def test_save_load_and_replace(tmp_path: Path) -> None:
    model, optimizer = _trained_optimizer()
    pipeline_calls: list[Path] = []

    def write_pipeline(folder: Path) -> None:
        folder.mkdir()
        (folder / "marker.txt").write_text("pipeline")
        pipeline_calls.append(folder)

    assert find_checkpoint(tmp_path) is None
    first = save_checkpoint(tmp_path, _state(model, optimizer, 10), write_pipeline)
    assert first == tmp_path / "checkpoint"
    assert (first / "pipeline" / "marker.txt").read_text() == "pipeline"
    loaded = load_state(first)
    assert loaded.step == 10 and loaded.meta["seed"] == 3
    for k, v in model.state_dict().items():
        assert torch.equal(loaded.model[k], v) and torch.equal(loaded.ema[k], v + 1)

    save_checkpoint(tmp_path, _state(model, optimizer, 20))
    assert load_state(find_checkpoint(tmp_path)).step == 20
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint"]  # no leftovers


def test_kill_while_writing_keeps_previous(tmp_path: Path) -> None:
    model, optimizer = _trained_optimizer()
    save_checkpoint(tmp_path, _state(model, optimizer, 5))

    def dies(folder: Path) -> None:
        folder.mkdir()
        raise KeyboardInterrupt  # the process is stopped mid-write

    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(tmp_path, _state(model, optimizer, 6), dies)
    assert load_state(find_checkpoint(tmp_path)).step == 5
    # The next save cleans the half-written folder up.
    save_checkpoint(tmp_path, _state(model, optimizer, 7))
    assert load_state(find_checkpoint(tmp_path)).step == 7
    assert not (tmp_path / ".checkpoint.tmp").exists()


def test_kill_between_renames_finds_old(tmp_path: Path) -> None:
    model, optimizer = _trained_optimizer()
    save_checkpoint(tmp_path, _state(model, optimizer, 5))
    (tmp_path / "checkpoint").rename(tmp_path / ".checkpoint.old")  # the state after rename 1
    assert find_checkpoint(tmp_path) == tmp_path / ".checkpoint.old"
    save_checkpoint(tmp_path, _state(model, optimizer, 9))
    assert find_checkpoint(tmp_path) == tmp_path / "checkpoint"
    assert not (tmp_path / ".checkpoint.old").exists()
