"""The training skeleton on a line fit: the AdamW step, accumulation, logging, EMA, checkpoints,
snapshots, exact resume, the divergence stop and the accelerator."""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from helpers import assert_same_state
from spacetime.errors import SpacetimeError
from spacetime.training.checkpoint import find_checkpoint, load_state
from spacetime.training.config import OptimConfig
from spacetime.training.loop import TrainingDivergedError, TrainLoop, make_accelerator
from spacetime.training.seeding import stream

W0, B0 = 0.5, 0.0  # the line's starting weights


@dataclass
class LineConfig:
    """The settings a :class:`~spacetime.training.loop.LoopConfig` has, for the line fit."""

    seed: int = 0
    steps: int = 4
    batch_size: int = 4
    micro_batch_size: int = 0
    optim: OptimConfig = field(
        default_factory=lambda: OptimConfig(
            lr=0.05, weight_decay=0.0, warmup_steps=1, grad_clip=0.0
        )
    )
    ema_decay: float = 0.0
    ema_warmup: bool = False
    log_every: int = 1
    checkpoint_every: int = 0
    snapshot_every: int = 0
    progress: bool = False


class LineFit(nn.Module):
    """``y ~ w x + b`` plus a frozen offset; the loss terms are the squared and absolute error."""

    def __init__(self, extra: bool = False) -> None:
        super().__init__()
        self.line = nn.Linear(1, 1)
        with torch.no_grad():
            self.line.weight.fill_(W0)
            self.line.bias.fill_(B0)
        self.offset = nn.Parameter(torch.zeros(1), requires_grad=False)
        if extra:
            self.extra = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        err = self.line(x) + self.offset - y  # (m, 1)
        return {"loss": (err**2).mean(), "mae": err.abs().mean()}


@dataclass
class Points:
    """A micro-batch: ``x``, ``y`` (m, 1), shard ``shard`` of ``step``."""

    x: torch.Tensor
    y: torch.Tensor
    step: int
    shard: int


def global_batch(seed: int, step: int, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The step's ``size`` points on the line ``y = 3 x - 1``."""
    x = torch.randn(size, 1, generator=stream(seed, "batch", step))
    return x, 3 * x - 1


class Published:
    """The EMA line as a run publishes it: one safetensors file in a folder."""

    def __init__(self, module: nn.Module) -> None:
        self.module = module

    def save_pretrained(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        save_file({k: v.contiguous() for k, v in self.module.state_dict().items()},
                  str(folder / "line.safetensors"))  # fmt: skip


class LineLoop(TrainLoop):
    """The skeleton with the line fit; ``nan_at``: the loss of that step is NaN."""

    name, unit = "line", "points"
    resumable = frozenset({"steps", "log_every", "checkpoint_every", "snapshot_every"})

    def __init__(
        self, config: LineConfig, out: Path, *, nan_at: int | None = None, extra: bool = False
    ) -> None:
        super().__init__(config, out, make_accelerator("no"))
        self.nan_at = nan_at
        self.forwards: list[tuple[int, int, int]] = []  # (step, shard, points)
        self.entries: list[range] = []
        self.start(LineFit(extra))

    def batches(self, end: int) -> Iterator[Points]:
        micro = self.plan.micro
        for step in range(self.step, end):
            x, y = global_batch(self.config.seed, step, self.config.batch_size)
            for shard in self.plan.local_shards():
                part = slice(shard * micro, (shard + 1) * micro)
                yield Points(x[part], y[part], step, shard)

    def forward(self, batch: Points) -> dict[str, torch.Tensor]:
        self.forwards.append((batch.step, batch.shard, batch.x.shape[0]))
        terms = self.model(batch.x, batch.y)
        if batch.step == self.nan_at:
            terms["loss"] = terms["loss"] * float("nan")
        return terms

    def ema_model(self) -> Published:
        system = copy.deepcopy(self.system)
        self.ema.copy_to(system)
        return Published(system.eval())

    def log_entries(self, steps: range) -> dict[str, Any]:
        self.entries.append(steps)
        return {"first": steps.start}

    def periodic(self) -> dict[str, Any]:
        return {"probe": self.step} if self.step % 3 == 0 else {}


def config(*, optim: dict[str, Any] | None = None, **values: Any) -> LineConfig:
    base = LineConfig(**values)
    if optim:
        base.optim = OptimConfig(**{**vars(base.optim), **optim})
    return base


def log(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]


def weights(loop: LineLoop) -> tuple[float, float]:
    line = loop.system.line
    return float(line.weight.detach()), float(line.bias.detach())


def test_a_step_is_one_adamw_step_on_the_mean_loss_of_the_batch(tmp_path: Path) -> None:
    loop = LineLoop(config(steps=1, optim={"grad_clip": 0.01}), tmp_path)
    assert loop.train() == 1
    x, y = global_batch(0, 0, 4)
    err = W0 * x + B0 - y
    grad = (float(2 * (err * x).mean()), float(2 * err.mean()))  # d mean(err^2) / d(w, b)
    # Adam's first step with bias correction moves each weight by lr * g / (|g| + eps): by lr
    # against the sign of its gradient, whatever the clipping did to the gradient's scale.
    expected = [start - 0.05 * math.copysign(1, g) for start, g in zip((W0, B0), grad, strict=True)]
    assert weights(loop) == pytest.approx(expected, abs=1e-5)
    (line,) = log(tmp_path)
    assert line["step"] == 1 and line["first"] == 0
    assert line["loss"] == pytest.approx(float((err**2).mean()), rel=1e-6)
    assert line["mae"] == pytest.approx(float(err.abs().mean()), rel=1e-6)
    assert line["grad_norm"] == pytest.approx(math.hypot(*grad), rel=1e-5)  # before clipping
    assert line["lr"] == pytest.approx(0.05) and line["points_per_s"] > 0
    assert {"cpu_minutes", "step_seconds", "overhead"} <= set(line)
    assert loop.history == [line["loss"]]


def test_micro_batches_accumulate_to_the_whole_batch(tmp_path: Path) -> None:
    whole = LineLoop(config(steps=3), tmp_path / "whole")
    whole.train()
    split = LineLoop(config(steps=3, micro_batch_size=1), tmp_path / "split")
    split.train()
    assert whole.forwards == [(s, 0, 4) for s in range(3)]
    assert split.forwards == [(s, k, 1) for s in range(3) for k in range(4)]
    assert weights(split) == pytest.approx(weights(whole), abs=1e-6)
    assert split.history == pytest.approx(whole.history, rel=1e-6)  # the mean over rounds


def test_log_lines_average_their_window_and_carry_periodic_entries(tmp_path: Path) -> None:
    loop = LineLoop(config(steps=5, log_every=2, optim={"warmup_steps": 4}), tmp_path)
    loop.train()
    lines = log(tmp_path)
    assert [line["step"] for line in lines] == [2, 3, 4, 5]
    assert lines[1] == {"step": 3, "probe": 3}  # periodic work between log steps
    history = loop.history
    for line, window in zip([lines[0], *lines[2:]], ([0, 1], [2, 3], [4]), strict=True):
        assert line["loss"] == pytest.approx(sum(history[i] for i in window) / len(window))
    assert loop.entries == [range(0, 2), range(2, 4), range(4, 5)]
    # The lr of a line is the one of its last step: warm-up (s + 1) / 4 of step s (0-based).
    assert [line["lr"] for line in (lines[0], lines[2], lines[3])] == pytest.approx(
        [0.05 * 2 / 4, 0.05, 0.05]
    )
    assert "grad_norm" in lines[0] and lines[0]["grad_norm"] is None  # no clipping: no norm


def test_the_published_weights_are_the_ema(tmp_path: Path) -> None:
    raw = LineLoop(config(steps=3, ema_decay=0.0), tmp_path / "raw")
    raw.train()
    published = load_file(str(tmp_path / "raw" / "checkpoint" / "pipeline" / "line.safetensors"))
    assert float(published["line.weight"]) == pytest.approx(weights(raw)[0], rel=1e-7)  # decay 0
    frozen = LineLoop(config(steps=3, ema_decay=1.0), tmp_path / "frozen")
    frozen.train()
    published = load_file(str(tmp_path / "frozen" / "checkpoint" / "pipeline" / "line.safetensors"))
    saved = (float(published["line.weight"]), float(published["line.bias"]))
    assert saved == pytest.approx((W0, B0), abs=1e-7)  # decay 1: the starting weights
    assert weights(frozen) == weights(raw)  # the EMA never feeds back into training


def test_stop_and_resume_reaches_the_uninterrupted_state_exactly(tmp_path: Path) -> None:
    settings = {"steps": 5, "micro_batch_size": 2, "ema_decay": 0.5, "ema_warmup": True,
                "checkpoint_every": 2, "optim": {"warmup_steps": 3, "grad_clip": 0.5}}  # fmt: skip
    LineLoop(config(**settings), tmp_path / "straight").train()
    first = LineLoop(config(**settings), tmp_path / "stopped")
    assert first.train(stop_at=3) == 3
    assert load_state(find_checkpoint(tmp_path / "stopped")).step == 3  # saved when stopping
    resumed = LineLoop(config(**settings), tmp_path / "stopped")
    assert resumed.step == 3 and resumed.train() == 5
    assert resumed.forwards[0][:2] == (3, 0)  # steps 0..2 are not run again
    straight, stopped = (load_state(tmp_path / d / "checkpoint") for d in ("straight", "stopped"))
    assert_same_state(straight, stopped)
    assert set(stopped.model) == {"line.weight", "line.bias"}  # the frozen offset is not saved
    meta = {k: stopped.meta[k] for k in ("step", "seed", "points_seen", "ema_updates", "processes")}
    assert meta == {"step": 5, "seed": 0, "points_seen": 20, "ema_updates": 5, "processes": 1}
    lines = log(tmp_path / "stopped")  # step 3 is logged once, with its periodic entry
    assert [line["step"] for line in lines] == [1, 2, 3, 4, 5] and lines[2]["probe"] == 3
    assert [line["loss"] for line in lines] == [line["loss"] for line in log(tmp_path / "straight")]


def test_snapshots_keep_the_published_model_of_their_step(tmp_path: Path) -> None:
    loop = LineLoop(config(steps=4, snapshot_every=2, ema_decay=0.0), tmp_path)
    loop.train(stop_at=2)
    at_2 = weights(loop)
    loop.train()
    folders = sorted(p.name for p in (tmp_path / "snapshots").iterdir())
    assert folders == ["step_0000002", "step_0000004"]
    for name, expected in (("step_0000002", at_2), ("step_0000004", weights(loop))):
        saved = load_file(str(tmp_path / "snapshots" / name / "line.safetensors"))
        assert (float(saved["line.weight"]), float(saved["line.bias"])) == pytest.approx(expected)
    assert at_2 != weights(loop)


def test_a_nan_loss_stops_before_the_weights_change(tmp_path: Path) -> None:
    loop = LineLoop(config(steps=4, checkpoint_every=1), tmp_path, nan_at=2)
    message = (
        r"loss is nan at step 2: training stopped before updating the weights\. Last good "
        r"checkpoint: .*checkpoint \(step 2\), left intact\. Lower optim\.lr"
    )
    with pytest.raises(TrainingDivergedError, match=message):
        loop.train()
    saved = load_state(find_checkpoint(tmp_path))
    assert loop.step == 2 and saved.step == 2
    assert torch.equal(saved.model["line.weight"], loop.system.line.weight.detach())
    assert issubclass(TrainingDivergedError, SpacetimeError)
    fresh = LineLoop(config(steps=4), tmp_path / "fresh", nan_at=0)
    with pytest.raises(TrainingDivergedError, match=r"at step 0: .* Last good checkpoint: none"):
        fresh.train()
    assert weights(fresh) == (W0, B0)


def test_a_run_resumes_only_with_its_settings_and_its_model(tmp_path: Path) -> None:
    LineLoop(config(steps=2), tmp_path).train()
    with pytest.raises(SpacetimeError, match=r"different config \(optim\.lr, seed changed\)"):
        LineLoop(config(steps=2, seed=1, optim={"lr": 0.1}), tmp_path)
    longer = LineLoop(config(steps=3, log_every=5), tmp_path)  # resumable keys may change
    assert longer.step == 2 and longer.train() == 3
    with pytest.raises(SpacetimeError, match=r"does not match the model: missing \['extra'\]"):
        LineLoop(config(steps=4), tmp_path, extra=True)


@pytest.mark.skipif(torch.cuda.is_available(), reason="fp16 is allowed where CUDA exists")
def test_the_accelerator_follows_the_precision_asked_for() -> None:
    with pytest.raises(SpacetimeError, match="mixed_precision=fp16 needs a CUDA GPU"):
        make_accelerator("fp16")
    assert make_accelerator("bf16").mixed_precision == "bf16"
    accelerator = make_accelerator("no")  # a later run in the process may change it
    assert accelerator.mixed_precision == "no" and accelerator.num_processes == 1
