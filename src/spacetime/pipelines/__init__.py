"""Pipelines: text -> video (and image -> video, interpolation, extension), long videos.

- :class:`VideoPipeline` — sampling around a trained denoiser; ``save_pretrained`` /
  ``from_pretrained`` to a folder (:mod:`.pretrained` has the format);
- :func:`build_pipeline` — a fresh untrained pipeline from a model preset and captions;
- :func:`generate_long` — videos longer than the training window (:class:`LongVideo`: extend,
  guided, noisy, sliding, keyframes);
- :class:`SuperResolutionPipeline` — the spatial stage; :class:`Cascade` chains the stages;
- :func:`load_default_pipeline` — the bundled default model (:mod:`.default`);
- :mod:`.shapes_eval` — generate ShapesWorld clips and score them against ground truth.
"""

from spacetime.pipelines.cascade import Cascade
from spacetime.pipelines.default import (
    DEFAULT_MODEL_ENV,
    default_model_path,
    has_default_model,
    load_default_pipeline,
)
from spacetime.pipelines.factory import build_pipeline
from spacetime.pipelines.long_video import LONG_METHODS, LongVideo, generate_long
from spacetime.pipelines.pretrained import MODEL_INDEX, read_model_index
from spacetime.pipelines.super_resolution import SuperResolutionPipeline
from spacetime.pipelines.video_pipeline import LatentAutoencoder, VideoPipeline

__all__ = [
    "DEFAULT_MODEL_ENV",
    "LONG_METHODS",
    "MODEL_INDEX",
    "Cascade",
    "LatentAutoencoder",
    "LongVideo",
    "SuperResolutionPipeline",
    "VideoPipeline",
    "build_pipeline",
    "default_model_path",
    "generate_long",
    "has_default_model",
    "load_default_pipeline",
    "read_model_index",
]
