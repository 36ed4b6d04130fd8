"""The training skeleton on 🤗 accelerate, shared by every trainer of the package.

A trainer subclasses :class:`TrainLoop` and says only *what* it trains: it builds the module
whose ``forward`` returns the loss terms and hands it to :meth:`TrainLoop.start`, and it
implements

- :meth:`~TrainLoop.batches`: this process's micro-batches of the steps to run, in order;
- :meth:`~TrainLoop.forward`: the loss terms of one micro-batch through :attr:`TrainLoop.model`;
- :meth:`~TrainLoop.ema_model`: what the run publishes, on copies of the EMA weights.

Everything else happens here, the same way for every trainer. A step: each process runs its
micro-batches (gradient accumulation, DDP sync only on the last), the loss terms are averaged
over rounds and processes, the loss is checked (a NaN/inf stops the run with
:class:`TrainingDivergedError` before the weights change, leaving the last checkpoint intact),
gradients are clipped, AdamW steps, the learning-rate schedule advances (not after an fp16
step the gradient scaler skipped) and the EMA of the trainable parameters follows. Dropout
inside the network draws from the global generator, reseeded per ``(seed, step, shard)``; the
trainer's other draws come from :func:`~spacetime.training.seeding.stream` with the same keys.
So, for every trainer,

- resume = rerun the same command, and reaches bit-exactly the weights of an uninterrupted run
  on CPU (the checkpoint is written atomically, :mod:`.checkpoint`; a run killed at any moment
  keeps its last complete one, and a changed setting other than ``resumable`` is refused);
- the result depends on the global batch and ``micro_batch_size``, not on the number of
  processes: 2 processes of 1 micro-batch each = 1 process accumulating 2 micro-batches.

Run folder: ``config.yaml`` (the resolved config, atomic), ``log.jsonl`` (one JSON per log
step: the loss terms, lr, gradient norm, throughput, CPU minutes, step time and the share of it
outside the network, plus what the trainer adds), ``checkpoint/`` (``pipeline/`` holds
:meth:`~TrainLoop.ema_model`) and, with ``snapshot_every``, ``snapshots/step_0001000/``.
"""

from __future__ import annotations

import contextlib
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, Protocol

import torch
from accelerate import Accelerator
from accelerate.state import AcceleratorState
from accelerate.utils import DistributedDataParallelKwargs
from torch import nn
from tqdm.auto import tqdm

from spacetime.contracts.dataclass_yaml import merge, read_yaml
from spacetime.errors import SpacetimeError
from spacetime.training.batches import BatchPlan
from spacetime.training.checkpoint import (
    TrainingState,
    find_checkpoint,
    load_state,
    load_state_meta,
    save_checkpoint,
)
from spacetime.training.config import OptimConfig, diff_configs, dump_config
from spacetime.training.ema import EMA
from spacetime.training.monitor import RunLog, StepTimer
from spacetime.training.optim import build_optimizer, build_scheduler
from spacetime.training.seeding import derive_seed

__all__ = ["LoopConfig", "Shard", "TrainLoop", "TrainingDivergedError", "make_accelerator"]


class TrainingDivergedError(SpacetimeError):
    """The loss became NaN or infinite; the last checkpoint is left as it was."""


class LoopConfig(Protocol):
    """The settings the skeleton reads; every trainer's config dataclass has them."""

    seed: int  # every random stream is seeded from (seed, step, shard)
    steps: int  # optimizer steps in total
    batch_size: int  # samples per optimizer step over all processes
    micro_batch_size: int  # samples per forward pass (0 = batch_size / processes)
    optim: OptimConfig  # AdamW, schedule and gradient clipping
    ema_decay: float  # EMA of the trainable weights (the published model)
    ema_warmup: bool  # decay ramps up as (1 + n) / (10 + n)
    log_every: int  # steps between log lines
    checkpoint_every: int  # steps between checkpoints (0 = only at the end)
    snapshot_every: int  # steps between kept copies of the published model (0 = none)
    progress: bool  # progress bar and summary


class Shard(Protocol):
    """A micro-batch names the step and the shard of the global batch it holds."""

    step: int
    shard: int


class HasSavePretrained(Protocol):
    """What a run publishes: a model or pipeline that saves itself into a folder."""

    def save_pretrained(self, folder: Path) -> Any: ...


def make_accelerator(mixed_precision: str) -> Accelerator:
    """An ``Accelerator`` for this process (DDP when launched by torchrun / accelerate).

    ``find_unused_parameters``: image steps bypass the temporal layers, and an all-empty
    caption batch leaves the text encoder unused, so some parameters may get no gradient.
    """
    if mixed_precision == "fp16" and not torch.cuda.is_available():
        raise SpacetimeError("mixed_precision=fp16 needs a CUDA GPU; use bf16 or no on CPU")
    shared = AcceleratorState._shared_state
    if shared and shared.get("_mixed_precision") != mixed_precision:
        # accelerate keeps one state per process; a later run with another precision (in a
        # notebook, or the tests) replaces it instead of failing.
        AcceleratorState._reset_state()
    ddp = DistributedDataParallelKwargs(find_unused_parameters=True)
    # Without a GPU, cpu=True lets accelerate see torchrun's WORLD_SIZE (MULTI_CPU over gloo).
    cpu = not torch.accelerator.is_available()
    return Accelerator(mixed_precision=mixed_precision, cpu=cpu, kwargs_handlers=[ddp])


class TrainLoop(ABC):
    """Resume, steps with accumulation, clipping, EMA, logging, divergence check, atomic
    checkpoints and progress for the run of ``config`` in the folder ``out``.

    A subclass builds its parts, calls :meth:`start` with the module to train, and implements
    :meth:`batches`, :meth:`forward` and :meth:`ema_model` (and, where it has more to say, the
    hooks :meth:`check_state`, :meth:`state_meta`, :meth:`log_entries`, :meth:`periodic`,
    :meth:`summary`).
    """

    name: ClassVar[str] = "train"  # label of the progress bar
    unit: ClassVar[str] = "clips"  # what batch_size counts: "<unit>_seen", "<unit>_per_s"
    resumable: ClassVar[frozenset[str]] = frozenset()  # config keys a resume may change
    divergence_hint: ClassVar[str] = "Lower optim.lr or keep optim.grad_clip > 0, then rerun."

    def __init__(self, config: LoopConfig, out: str | Path, accelerator: Accelerator) -> None:
        self.config, self.out, self.accelerator = config, Path(out), accelerator
        acc = accelerator
        self.plan = BatchPlan(
            config.batch_size, config.micro_batch_size, acc.num_processes, acc.process_index
        )
        self.step = 0
        self.cpu_seconds = 0.0  # CPU time of the training steps so far (all threads), resumed
        self.history: list[float] = []  # loss of every step run by this object
        self.run_steps, self.run_seconds = 0, 0.0  # steps run by this object, their wall time
        self.log = RunLog(self.out / "log.jsonl")
        self._check_config()

    @property
    def is_main(self) -> bool:
        """Whether this is the process that writes files."""
        return self.accelerator.is_main_process

    # ------------------------------------------------------------ what a trainer provides

    @abstractmethod
    def batches(self, end: int) -> Iterator[Shard]:
        """This process's micro-batches of steps ``self.step .. end - 1``, in order (each step's
        :meth:`~spacetime.training.batches.BatchPlan.local_shards`)."""

    @abstractmethod
    def forward(self, batch: Any) -> dict[str, torch.Tensor]:
        """Loss terms (scalars) of one micro-batch through :attr:`model`; ``"loss"`` is the
        one minimised, every term is averaged into the log."""

    @abstractmethod
    def ema_model(self) -> HasSavePretrained:
        """What the run publishes, on copies of the parts holding the EMA weights (eval
        mode); ``save_pretrained(folder)`` writes it into the checkpoint and snapshots."""

    def check_state(self, state: TrainingState) -> None:
        """Refuse to resume ``state`` (raise :class:`SpacetimeError`) when it was trained
        from something else than this run builds (other starting weights, another data
        space); called before the weights are loaded. The skeleton checks nothing more
        than the config (:attr:`resumable`) and the tensor names."""
        return None

    def state_meta(self) -> dict[str, Any]:
        """What the trainer adds to the checkpoint's JSON meta (fingerprints, ...)."""
        return {}

    def log_entries(self, steps: range) -> dict[str, Any]:
        """What the trainer adds to a log line covering ``steps``."""
        return {}

    def periodic(self) -> dict[str, Any]:
        """Called on every process after each step: log entries of periodic work at
        :attr:`step` (held-out scores, samples), or ``{}``."""
        return {}

    def summary(self, end: int) -> list[str]:
        """Lines printed (main process, with ``progress``) before training to step ``end``."""
        return []

    # ---------------------------------------------------------------------- setup, resume

    def start(self, system: nn.Module, lr_scales: dict[str, float] | None = None) -> None:
        """Train ``system`` (on the device; ``forward`` returns the loss terms): optimizer
        (``lr_scales``: per-parameter factors), schedule, EMA, resume, accelerate's wrapper."""
        cfg = self.config
        self.system = system
        self.optimizer = build_optimizer(system, cfg.optim, lr_scales)
        self.scheduler = build_scheduler(self.optimizer, cfg.optim, cfg.steps)
        self.ema = EMA(system, cfg.ema_decay, warmup=cfg.ema_warmup)
        self._resume()
        self.model, self.optimizer = self.accelerator.prepare(system, self.optimizer)

    def _check_config(self) -> None:
        """A run folder with a checkpoint resumes only with the same settings (but
        :attr:`resumable` ones): its ``config.yaml`` is compared with this config."""
        saved = self.out / "config.yaml"
        if find_checkpoint(self.out) is None or not saved.is_file():
            return
        before = merge(type(self.config)(), read_yaml(saved), source=str(saved))
        changed = [k for k in diff_configs(before, self.config) if k not in self.resumable]
        if changed:
            raise SpacetimeError(
                f"{self.out} holds a run with a different config ({', '.join(changed)} "
                f"changed); resume with the same settings or use a new --out folder"
            )

    def _resume(self) -> None:
        checkpoint = find_checkpoint(self.out)
        if checkpoint is not None:
            self._load(load_state(checkpoint))
        self.accelerator.wait_for_everyone()
        if self.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
            dump_config(self.config, self.out / "config.yaml")
            self.log.truncate_after(self.step)

    def _load(self, state: TrainingState) -> None:
        self.check_state(state)
        missing, unexpected = self.system.load_state_dict(state.model, strict=False)
        frozen = {k for k, _ in self.system.named_parameters() if k not in self.ema.shadow}
        if unexpected or set(missing) - frozen:
            raise SpacetimeError(
                f"checkpoint of {self.out} does not match the model: missing "
                f"{sorted(set(missing) - frozen)[:5]}, unexpected {sorted(unexpected)[:5]}"
            )
        self.optimizer.load_state_dict(state.optimizer)
        self.scheduler.load_state_dict(state.meta["scheduler"])
        self.ema.load_state_dict(
            {k: v.to(self.accelerator.device) for k, v in state.ema.items()},
            state.meta["ema_updates"],
        )
        self.step = state.step
        self.cpu_seconds = float(state.meta.get("cpu_seconds", 0.0))

    # ------------------------------------------------------------------------ one step

    def _micro_step(self, batch: Shard, sync: bool) -> dict[str, torch.Tensor]:
        """Forward + backward of one micro-batch; returns its detached loss terms."""
        assert batch.step == self.step, (batch.step, self.step)
        # Dropout inside the network draws from the global generator: reseed it per shard.
        torch.manual_seed(derive_seed(self.config.seed, "dropout", batch.step, batch.shard))
        ctx = contextlib.nullcontext() if sync else self.accelerator.no_sync(self.model)
        with ctx:
            terms = self.forward(batch)
            self.accelerator.backward(terms["loss"] / self.plan.accum)
        return {k: t.detach().float() for k, t in terms.items()}

    def _optimizer_step(self, loss: torch.Tensor) -> float | None:
        """Check the averaged loss, clip, step; returns the gradient norm (None: no clip)."""
        if not torch.isfinite(loss):
            checkpoint = find_checkpoint(self.out)
            where = "none"
            if checkpoint is not None:
                where = f"{checkpoint} (step {load_state_meta(checkpoint)['step']})"
            raise TrainingDivergedError(
                f"loss is {loss.item()} at step {self.step}: training stopped before updating "
                f"the weights. Last good checkpoint: {where}, left intact. {self.divergence_hint}"
            )
        norm = None
        if self.config.optim.grad_clip > 0:
            norm = float(
                self.accelerator.clip_grad_norm_(
                    self.system.parameters(), self.config.optim.grad_clip
                )
            )
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        if not self.accelerator.optimizer_step_was_skipped:  # fp16 overflow: scaler backs off
            self.scheduler.step()
        return norm

    # ------------------------------------------------------------------------ the loop

    def train(self, stop_at: int | None = None) -> int:
        """Train until ``config.steps`` (or until step ``stop_at``, then checkpoint and return,
        as a stopped run would). Returns the number of completed steps."""
        cfg, acc = self.config, self.accelerator
        end = cfg.steps if stop_at is None else min(stop_at, cfg.steps)
        if self.step >= end:
            return self.step
        batches = self.batches(end)
        if self.is_main and cfg.progress:
            for line in self.summary(end):
                acc.print(line)
        bar = tqdm(
            total=end, initial=self.step, desc=self.name, dynamic_ncols=True,
            disable=not (self.is_main and cfg.progress),
        )  # fmt: skip
        window: list[dict[str, float]] = []  # loss terms of the steps since the last log line
        timer = StepTimer()  # wall time of the steps, and of what is not the network in them
        clock, started = time.perf_counter(), self.step
        self.model.train()
        while self.step < end:
            cpu_clock = time.process_time()
            timer.start()
            total, names = torch.zeros((), device=acc.device), []  # summed over the rounds
            for round_ in range(self.plan.accum):
                with timer.overhead():
                    batch = next(batches)
                terms = self._micro_step(batch, sync=round_ == self.plan.accum - 1)
                total, names = total + torch.stack(list(terms.values())), list(terms)
            mean = acc.reduce(total / self.plan.accum, reduction="mean")  # over processes
            terms = dict(zip(names, mean, strict=True))
            lr = self.optimizer.param_groups[0]["lr"]
            norm = self._optimizer_step(terms["loss"])
            with timer.overhead():
                self.ema.update(self.system)
            timer.stop()
            self.cpu_seconds += time.process_time() - cpu_clock
            self.step += 1
            window.append({k: v.item() for k, v in terms.items()})
            self.history.append(window[-1]["loss"])
            bar.update(1)
            bar.set_postfix(loss=f"{window[-1]['loss']:.4f}", lr=f"{lr:.2e}")
            record: dict[str, Any] = {}
            if self.step % cfg.log_every == 0 or self.step == end:
                elapsed = time.perf_counter() - clock
                record = {
                    "step": self.step,
                    **{k: sum(w[k] for w in window) / len(window) for k in window[0]},
                    "lr": lr, "grad_norm": norm, "cpu_minutes": self.cpu_seconds / 60,
                    f"{self.unit}_per_s": (self.step - started) * cfg.batch_size
                    / max(elapsed, 1e-9),
                    **timer.report(),
                    **self.log_entries(range(self.step - len(window), self.step)),
                }  # fmt: skip
                window = []
            extra = self.periodic()
            if extra:
                record = {"step": self.step, **record, **extra}
            if record and self.is_main:
                self.log.append(record)
            snapshot = bool(cfg.snapshot_every) and self.step % cfg.snapshot_every == 0
            due = bool(cfg.checkpoint_every) and self.step % cfg.checkpoint_every == 0
            if snapshot or due or self.step == end:
                self.save(snapshot=snapshot)
        bar.close()
        self.run_steps += self.step - started
        self.run_seconds += time.perf_counter() - clock
        return self.step

    # ------------------------------------------------------------------------- saving

    def training_state(self) -> TrainingState:
        """Everything a resume needs (weights, EMA, optimizer, schedule, step)."""
        model = self.accelerator.get_state_dict(self.model)
        frozen = {k for k, p in self.system.named_parameters() if not p.requires_grad}
        return TrainingState(
            model={k: v for k, v in model.items() if k not in frozen},
            ema=self.ema.state_dict(),
            optimizer=self.optimizer.state_dict(),
            meta={
                "step": self.step,
                "seed": self.config.seed,
                f"{self.unit}_seen": self.step * self.config.batch_size,
                "ema_updates": self.ema.num_updates,
                "scheduler": self.scheduler.state_dict(),
                "processes": self.accelerator.num_processes,
                **self.state_meta(),
                "cpu_seconds": self.cpu_seconds,  # of this process's training steps
            },
        )

    def save(self, snapshot: bool = False) -> Path | None:
        """Write the checkpoint atomically (main process); every process waits for it.

        With ``snapshot`` the published model is also kept as ``RUN/snapshots/step_0001000/``
        (for learning curves: every snapshot is a complete folder)."""
        state = self.training_state()
        path = None
        if self.is_main:
            published = self.ema_model()
            path = save_checkpoint(self.out, state, published.save_pretrained)
            if snapshot:
                published.save_pretrained(self.out / "snapshots" / f"step_{self.step:07d}")
        self.accelerator.wait_for_everyone()
        return path
