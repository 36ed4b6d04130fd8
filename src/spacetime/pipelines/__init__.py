"""Pipelines: text -> video (and image -> video, interpolation, extension), long videos.

- :class:`VideoPipeline` — sampling around a trained denoiser; ``save_pretrained`` /
  ``from_pretrained`` to a folder (:mod:`.pretrained` has the format);
- :func:`build_pipeline` — a fresh untrained pipeline from a model preset and captions;
- :func:`generate_long` — videos longer than the training window, window by window.
"""

from spacetime.pipelines.factory import build_pipeline
from spacetime.pipelines.long_video import generate_long
from spacetime.pipelines.pretrained import MODEL_INDEX, read_model_index
from spacetime.pipelines.video_pipeline import LatentAutoencoder, VideoPipeline

__all__ = [
    "MODEL_INDEX",
    "LatentAutoencoder",
    "VideoPipeline",
    "build_pipeline",
    "generate_long",
    "read_model_index",
]
