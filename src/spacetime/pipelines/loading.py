"""Which pipeline folder a user means, and loading it.

A pipeline is named in one of three ways (first match wins):

1. a pipeline folder: it holds ``model_index.json``, as written by
   :meth:`VideoPipeline.save_pretrained <spacetime.pipelines.VideoPipeline.save_pretrained>`;
2. a training run folder ``RUN``: its newest complete checkpoint's pipeline,
   ``RUN/checkpoint/pipeline`` (the EMA weights the trainer writes; the layout is
   :func:`spacetime.pipelines.run_folder.pipeline_folder`'s);
3. nothing (``None``): the default model, :func:`spacetime.pipelines.default.default_model_path`
   (the bundled pipeline, or ``$SPACETIME_DEFAULT_MODEL``); a development checkout without the
   bundled weights gets a :class:`~spacetime.errors.SpacetimeError` saying how to proceed.
"""

from __future__ import annotations

from pathlib import Path

import torch

from spacetime.pipelines.default import require_default_model
from spacetime.pipelines.run_folder import pipeline_folder
from spacetime.pipelines.video_pipeline import VideoPipeline

__all__ = ["load_pipeline", "resolve_pipeline"]


def resolve_pipeline(source: str | Path | None, *, what: str = "--checkpoint") -> Path:
    """The pipeline folder ``source`` names (see the module docstring); ``None`` is the default
    model. ``what`` names the input in the :class:`~spacetime.errors.SpacetimeError` raised for
    a path that is neither a pipeline nor a run with a complete checkpoint."""
    return require_default_model() if source is None else pipeline_folder(source, what=what)


def load_pipeline(
    source: str | Path | None = None, *, device: str | torch.device | None = None
) -> VideoPipeline:
    """Load the pipeline ``source`` names (:func:`resolve_pipeline`) onto ``device`` (default
    CPU)."""
    return VideoPipeline.from_pretrained(resolve_pipeline(source), device=device)
