"""Where a training run keeps its model: the run-folder layout that readers rely on.

A training run folder ``RUN/`` holds its newest checkpoint in ``RUN/checkpoint/`` (written by
:mod:`spacetime.training.checkpoint`), complete only once its ``COMPLETE`` marker exists; a
process killed between the two renames of a checkpoint write leaves it in
``RUN/.checkpoint.old``. The checkpoint's ``pipeline/`` is a
:class:`~spacetime.pipelines.VideoPipeline` folder. This module lets everything that *reads*
a run (``spacetime generate``, cascades, inflation, benchmarks) find that folder without
importing the trainer, which sits above the pipelines.
"""

from __future__ import annotations

from pathlib import Path

from spacetime.errors import SpacetimeError
from spacetime.pipelines.pretrained import MODEL_INDEX

__all__ = ["CHECKPOINT_NAME", "COMPLETE", "find_checkpoint", "pipeline_folder"]

CHECKPOINT_NAME = "checkpoint"
COMPLETE = "COMPLETE"  # written last into a checkpoint folder: a folder without it is never read


def find_checkpoint(run_dir: str | Path) -> Path | None:
    """The newest complete checkpoint folder of ``run_dir``, or None when there is none."""
    run_dir = Path(run_dir)
    for candidate in (run_dir / CHECKPOINT_NAME, run_dir / f".{CHECKPOINT_NAME}.old"):
        if (candidate / COMPLETE).is_file():
            return candidate
    return None


def pipeline_folder(path: str | Path, *, what: str = "--checkpoint") -> Path:
    """The pipeline folder ``path`` names: a pipeline folder itself (with ``model_index.json``)
    or a training run folder (its latest complete ``checkpoint/pipeline``). ``what`` names the
    input in the :class:`SpacetimeError` raised for anything else."""
    folder = Path(path)
    if not folder.exists():
        raise SpacetimeError(f"{what} {folder} does not exist")
    if (folder / MODEL_INDEX).is_file():
        return folder
    found = find_checkpoint(folder) if folder.is_dir() else None
    if found is not None and (found / "pipeline" / MODEL_INDEX).is_file():
        return found / "pipeline"
    raise SpacetimeError(
        f"{what} {folder} is neither a pipeline folder (with {MODEL_INDEX}) nor a "
        "training run with a complete checkpoint/pipeline/ (has training saved one yet?)"
    )
