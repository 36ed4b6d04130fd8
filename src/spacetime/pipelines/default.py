"""The bundled default model: where it lives and how to load it.

spacetime ships one small trained pipeline (a text->video latent 3D U-Net on ShapesWorld: 16
frames at 64x64, ``shapes-f4`` autoencoder, built-in word encoder, trained with random frame
masks, so it also does image->video and interpolation) as package data in
``spacetime/assets/default_model/`` — a :class:`~spacetime.pipelines.VideoPipeline` folder
(``model_index.json``, ``denoiser/``, ``text_encoder/``, ``autoencoder/``). ``spacetime
generate`` without ``--checkpoint`` and ``spacetime demo`` use it.

The environment variable ``SPACETIME_DEFAULT_MODEL`` (a pipeline folder) overrides the bundled
folder, e.g. to try a freshly trained model everywhere the default is used::

    SPACETIME_DEFAULT_MODEL=runs/shapes/checkpoint/pipeline spacetime demo --out demo_out

Development checkouts do not hold the weights; :func:`load_default_pipeline` then raises a
:class:`SpacetimeError` that says so and how to proceed.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import torch

from spacetime.errors import SpacetimeError
from spacetime.pipelines.pretrained import MODEL_INDEX
from spacetime.pipelines.video_pipeline import VideoPipeline

DEFAULT_MODEL_ENV = "SPACETIME_DEFAULT_MODEL"
"""Environment variable naming a pipeline folder to use instead of the bundled model."""

BUNDLED_MODEL_DIR = Path(str(resources.files("spacetime") / "assets" / "default_model"))
"""Where the bundled default pipeline lives inside the installed package (package data, found
through :mod:`importlib.resources`: an installed wheel has it as a source checkout does)."""

__all__ = [
    "BUNDLED_MODEL_DIR",
    "DEFAULT_MODEL_ENV",
    "default_model_path",
    "has_default_model",
    "load_default_pipeline",
    "require_default_model",
]


def default_model_path() -> Path:
    """The default pipeline folder: ``$SPACETIME_DEFAULT_MODEL`` when set (and not empty),
    else the bundled ``spacetime/assets/default_model``. The folder may not exist (see
    :func:`has_default_model`)."""
    override = os.environ.get(DEFAULT_MODEL_ENV, "").strip()
    return Path(override).expanduser() if override else BUNDLED_MODEL_DIR


def has_default_model() -> bool:
    """Whether :func:`default_model_path` holds a pipeline (a ``model_index.json``)."""
    return (default_model_path() / MODEL_INDEX).is_file()


def require_default_model() -> Path:
    """:func:`default_model_path`, or a :class:`SpacetimeError` explaining why it is missing."""
    path = default_model_path()
    if (path / MODEL_INDEX).is_file():
        return path
    if os.environ.get(DEFAULT_MODEL_ENV, "").strip():
        raise SpacetimeError(
            f"{DEFAULT_MODEL_ENV}={path} is not a spacetime pipeline folder (no {MODEL_INDEX}); "
            "point it at a folder written by VideoPipeline.save_pretrained (e.g. "
            "RUN/checkpoint/pipeline) or unset it to use the bundled model"
        )
    raise SpacetimeError(
        f"no default model is bundled with this spacetime (expected {path}; development "
        "checkouts do not ship the weights). Pass --checkpoint RUN (a training run folder from "
        f"`spacetime train`, or a saved pipeline folder), or set {DEFAULT_MODEL_ENV} to one"
    )


def load_default_pipeline(device: str | torch.device | None = None) -> VideoPipeline:
    """Load the default pipeline (see the module docstring) onto ``device`` (default CPU).

    Raises :class:`SpacetimeError` when no default model is available or it cannot be loaded.
    """
    return VideoPipeline.from_pretrained(require_default_model(), device=device)
