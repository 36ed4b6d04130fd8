"""Atomic, pickle-free training checkpoints.

Layout of ``RUN/checkpoint/``::

    pipeline/               VideoPipeline.save_pretrained: the EMA weights, loadable with
                            VideoPipeline.from_pretrained (what `spacetime generate` reads)
    state/model.safetensors the raw (non-EMA) trainable weights, by parameter name
    state/ema.safetensors   the EMA shadows (float32)
    state/optimizer.safetensors + optimizer.json
                            the optimizer state: tensors by "<param index>.<key>", the rest
                            (param groups, hyper-parameters) as JSON
    state/trainer.json      step, seed, samples seen, EMA update count, scheduler state
    COMPLETE                written last: a folder without it is never read

Writing is atomic: everything goes to ``RUN/.checkpoint.tmp`` first and is flushed to disk
(fsync); only when it is complete is the previous checkpoint renamed to
``RUN/.checkpoint.old``, the new one renamed into place and the old one deleted. A process
killed at any moment therefore leaves either the previous complete checkpoint or the new one
(:func:`find_checkpoint` also looks at ``.checkpoint.old`` for a kill between the two
renames). A write that fails (a full disk, a quota, a lost mount) removes its partial folder
and raises :class:`CheckpointWriteError`, which says that the previous checkpoint is intact.
A checkpoint that cannot be read back raises :class:`SpacetimeError` naming the file.

No RNG state is stored: every random stream of the trainer is re-derived from
``(seed, step, shard)`` (see :mod:`spacetime.training.seeding`), so the step is enough.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from spacetime.errors import SpacetimeError
from spacetime.pipelines.run_folder import (
    CHECKPOINT_NAME,
    COMPLETE,
    find_checkpoint,
    pipeline_folder,
)

__all__ = [
    "CHECKPOINT_NAME",
    "MEASURED_META",
    "CheckpointWriteError",
    "TrainingState",
    "find_checkpoint",
    "load_state",
    "optimizer_state_from_tensors",
    "optimizer_state_to_tensors",
    "pipeline_folder",
    "save_checkpoint",
]


MEASURED_META: tuple[str, ...] = ("cpu_seconds",)
"""Keys of a checkpoint's ``trainer.json`` that measure the run (CPU time spent) rather than
being part of its result: an exact resume reproduces everything else, not these."""


class CheckpointWriteError(SpacetimeError):
    """A checkpoint could not be written (disk full, ...); the previous one is untouched."""


@dataclass
class TrainingState:
    """Everything needed to continue training bit-exactly.

    ``model``/``ema`` map parameter names to tensors; ``optimizer`` is a torch optimizer
    ``state_dict()``; ``meta`` is JSON (step, seed, samples seen, scheduler state, ...).
    """

    model: dict[str, torch.Tensor]
    ema: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    meta: dict[str, Any]

    @property
    def step(self) -> int:
        """Optimizer steps completed when the state was saved."""
        return int(self.meta["step"])


def optimizer_state_to_tensors(
    state_dict: dict[str, Any],
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split a torch optimizer ``state_dict`` into safetensors-ready tensors and JSON.

    Tensors of ``state[i][key]`` become ``"{i}.{key}"``; non-tensor per-parameter values and
    ``param_groups`` go to the JSON part (tuples become lists).
    """
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, slots in state_dict["state"].items():
        for key, value in slots.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{index}.{key}"] = value.detach().cpu().contiguous().clone()
            else:
                scalars.setdefault(str(index), {})[key] = value
    groups = [
        {k: list(v) if isinstance(v, tuple) else v for k, v in group.items()}
        for group in state_dict["param_groups"]
    ]
    return tensors, {"param_groups": groups, "scalars": scalars}


def optimizer_state_from_tensors(
    tensors: dict[str, torch.Tensor], meta: dict[str, Any]
) -> dict[str, Any]:
    """Inverse of :func:`optimizer_state_to_tensors`: a ``state_dict`` for ``load_state_dict``."""
    state: dict[int, dict[str, Any]] = {}
    for name, tensor in tensors.items():
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = tensor
    for index, slots in meta["scalars"].items():
        state.setdefault(int(index), {}).update(slots)
    groups = [
        {k: tuple(v) if k == "betas" else v for k, v in group.items()}
        for group in meta["param_groups"]
    ]
    return {"state": state, "param_groups": groups}


def _save_tensors(tensors: dict[str, torch.Tensor], path: Path) -> None:
    # Clone: safetensors refuses tensors that share storage (tied weights, views).
    save_file({k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()}, str(path))


def save_checkpoint(
    run_dir: str | Path,
    state: TrainingState,
    write_pipeline: Callable[[Path], None] | None = None,
) -> Path:
    """Write ``state`` (and the pipeline, via ``write_pipeline(folder)``) atomically.

    Returns the final checkpoint folder ``run_dir/checkpoint``. The previous checkpoint stays
    intact until the new one is complete.
    """
    run_dir = Path(run_dir)
    final = run_dir / CHECKPOINT_NAME
    tmp = run_dir / f".{CHECKPOINT_NAME}.tmp"
    old = run_dir / f".{CHECKPOINT_NAME}.old"
    try:
        if tmp.exists():  # left over by a run killed while writing
            shutil.rmtree(tmp)
        _write_folder(tmp, state, write_pipeline)
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)  # frees what the partial write took
        raise CheckpointWriteError(_write_failed(run_dir, state.step, err)) from err
    if final.exists():
        if old.exists():
            shutil.rmtree(old)
        final.rename(old)
    tmp.rename(final)
    if old.exists():
        shutil.rmtree(old)
    return final


def _write_folder(
    tmp: Path, state: TrainingState, write_pipeline: Callable[[Path], None] | None
) -> None:
    """Write every file of a checkpoint into ``tmp``, ``COMPLETE`` last, flushed to disk."""
    (tmp / "state").mkdir(parents=True)
    if write_pipeline is not None:
        write_pipeline(tmp / "pipeline")
    _save_tensors(state.model, tmp / "state" / "model.safetensors")
    _save_tensors(state.ema, tmp / "state" / "ema.safetensors")
    opt_tensors, opt_meta = optimizer_state_to_tensors(state.optimizer)
    _save_tensors(opt_tensors, tmp / "state" / "optimizer.safetensors")
    (tmp / "state" / "optimizer.json").write_text(json.dumps(opt_meta))
    (tmp / "state" / "trainer.json").write_text(json.dumps(state.meta, indent=2))
    _fsync_tree(tmp)  # the data is on disk before COMPLETE says so
    (tmp / COMPLETE).write_text(f"step {state.step}\n")
    _fsync_tree(tmp, files=False)


def _fsync_tree(folder: Path, *, files: bool = True) -> None:
    """fsync every file (if ``files``) and folder under ``folder``, so a power cut after the
    renames cannot leave a checkpoint whose files are still only in the page cache."""
    for root, _, names in os.walk(folder):
        paths = [os.path.join(root, n) for n in names] if files else []
        for path in [*paths, root]:
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _write_failed(run_dir: Path, step: int, err: OSError) -> str:
    """The message of a failed write: what failed and what is left to resume from."""
    reason = f"{err.strerror or err}" + (f": {err.filename}" if err.filename else "")
    previous = find_checkpoint(run_dir)
    if previous is None:
        kept = "there is no earlier checkpoint, so a rerun starts from step 0"
    else:
        try:
            kept = f"step {load_state_meta(previous)['step']}"
        except SpacetimeError:
            kept = "its step unknown"
        kept = f"the previous checkpoint {previous} ({kept}) is intact and a rerun resumes from it"
    return f"could not write the checkpoint of step {step} in {run_dir} ({reason}); {kept}"


def load_state(checkpoint: str | Path) -> TrainingState:
    """Read the training state of a checkpoint folder written by :func:`save_checkpoint`.

    Raises :class:`SpacetimeError` naming the file when one is missing, truncated or corrupt.
    """
    folder = Path(checkpoint) / "state"
    opt_meta = _read(folder / "optimizer.json")
    opt_tensors = _read(folder / "optimizer.safetensors")
    try:
        optimizer = optimizer_state_from_tensors(opt_tensors, opt_meta)
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise _unreadable(folder / "optimizer.json", f"not an optimizer state: {err!r}") from err
    return TrainingState(
        model=_read(folder / "model.safetensors"),
        ema=_read(folder / "ema.safetensors"),
        optimizer=optimizer,
        meta=load_state_meta(Path(checkpoint)),
    )


def load_state_meta(checkpoint: Path) -> dict[str, Any]:
    """The ``trainer.json`` of a checkpoint folder (step, seed, ...)."""
    path = checkpoint / "state" / "trainer.json"
    meta = _read(path)
    if not isinstance(meta, dict) or not isinstance(meta.get("step"), int):
        raise _unreadable(path, "no integer 'step'")
    return meta


def _read(path: Path) -> Any:
    """A state file: safetensors tensors or JSON; errors name the file."""
    try:
        if path.suffix == ".safetensors":
            return load_file(str(path))
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, SafetensorError, ValueError) as err:  # ValueError: JSON, UTF-8
        reason = getattr(err, "strerror", None) or str(err).splitlines()[0] or type(err).__name__
        raise _unreadable(path, reason) from err


def _unreadable(path: Path, reason: str) -> SpacetimeError:
    return SpacetimeError(
        f"{path}: the training checkpoint is unreadable ({reason}); restore it, or move "
        f"{path.parent.parent} away to start the run over"
    )
