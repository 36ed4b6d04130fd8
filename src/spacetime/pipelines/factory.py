"""Build a fresh (untrained) :class:`VideoPipeline` from a model preset and captions.

The trainer's starting point and the quickest way to a working pipeline in tests, notebooks
and benchmarks::

    pipe = build_pipeline("unet3d-tiny", captions=["a red circle moves left"], frames=8, size=32)
    video = pipe(["a red circle moves left"], seeds=[0], steps=10)   # uint8 (1, 8, 32, 32, 3)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from spacetime.data.transforms import Size
from spacetime.pipelines.video_pipeline import VideoPipeline


def build_pipeline(
    model: str,
    *,
    captions: Iterable[str],
    frames: int = 16,
    size: Size = 64,
    text_dim: int = 64,
    text_layers: int = 2,
    text_heads: int = 4,
    frame_conditioning: bool = True,
    objective: dict[str, Any] | None = None,
    **model_options: Any,
) -> VideoPipeline:
    """A pipeline with a randomly initialised denoiser and word text encoder.

    Args:
        model: a preset name of :data:`spacetime.models.MODEL_PRESETS` (e.g. ``"dit-small"``).
        captions: the training captions; their words are the text encoder's vocabulary.
        frames, size: the default sample shape (the training clip length and frame size).
        text_dim, text_layers, text_heads: the word encoder's width, depth and heads.
        frame_conditioning: give the denoiser the frame-mask input (image->video, interpolation,
            extension).
        objective: :func:`spacetime.diffusion.build_objective` config (default: Gaussian, eps).
        **model_options: overrides of the preset (e.g. ``base_channels=16``).
    """
    from spacetime.diffusion import build_objective
    from spacetime.models import build_model
    from spacetime.models.text import WordTextEncoder

    encoder = WordTextEncoder.from_captions(
        captions, dim=text_dim, layers=text_layers, heads=text_heads
    )
    denoiser = build_model(
        model, text_dim=text_dim, frame_conditioning=frame_conditioning, **model_options
    )
    return VideoPipeline(
        denoiser.eval(),
        encoder.eval(),
        build_objective(objective or {"kind": "gaussian"}),
        sample_frames=frames,
        sample_size=size,
    )
