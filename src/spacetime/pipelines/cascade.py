"""``Cascade``: base model -> long video (temporal stage) -> spatial super-resolution, from YAML.

Imagen Video (Ho et al. 2022, Sec. 2) generates a short low-resolution video and raises its
frame count and size with further stages. A :class:`Cascade` chains spacetime's stages, each
optional past the first:

1. **base**: a text(+frames)->video :class:`~.video_pipeline.VideoPipeline` (``base``: a pipeline
   or run folder, or ``default`` for the bundled model);
2. **temporal**: ``frames`` frames in windows with a :mod:`.long_video` method (``long``) —
   ``keyframes`` is keyframes over the whole duration, then interpolation in between;
   with ``frames`` at most the base window this stage is one plain call;
3. **spatial**: a :class:`~.super_resolution.SuperResolutionPipeline` (``super_resolution.path``;
   empty: no spatial stage), applied to the whole clip in fused windows.

::

    # cascade.yaml
    base: default
    frames: 128
    long: {method: keyframes}
    super_resolution: {path: runs/sr-shapes, steps: 20}

    spacetime generate "a red circle bounces" --cascade cascade.yaml --out clip.mp4

Unknown keys and badly typed values are errors naming the key (the same YAML rules as training
configs); relative paths resolve against the working directory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from spacetime.pipelines.long_video import (
    DEFAULT_CONTEXT_NOISE,
    DEFAULT_GUIDANCE_WEIGHT,
    LongVideo,
    generate_long,
)

__all__ = ["Cascade", "LongStage", "SuperResolutionStage"]


@dataclass
class LongStage:
    """The temporal stage: :class:`~.long_video.LongVideo`'s settings."""

    method: str = "keyframes"  # extend | guided | noisy | sliding | keyframes
    window: int | None = None  # frames per call (null: the base model's clip length)
    overlap: int | None = None  # frames consecutive windows share (null: half the window)
    guidance_weight: float = DEFAULT_GUIDANCE_WEIGHT  # guided: w_r
    context_noise: float = DEFAULT_CONTEXT_NOISE  # noisy: context level (training units)

    def settings(self) -> LongVideo:
        """The :class:`LongVideo` of this stage (checked)."""
        return LongVideo(self.method, self.window, self.overlap, self.guidance_weight,
                         self.context_noise)  # fmt: skip


@dataclass
class SuperResolutionStage:
    """The spatial stage; an empty ``path`` leaves it out."""

    path: str = ""  # a SuperResolutionPipeline folder or a run folder of one
    steps: int = 20  # sampler steps
    noise_level: float | None = None  # conditioning augmentation (null: the pipeline's)


@dataclass
class Cascade:
    """A cascade of generation stages (see the module docstring)."""

    base: str = "default"  # pipeline or run folder of the base model; default = bundled
    frames: int | None = None  # frames of the result (null: the base model's clip length)
    steps: int = 25  # sampler steps of the base model's calls
    guidance: float = 5.0  # classifier-free guidance of the base model
    sampler: str = "ddim"  # sampler of every stage
    long: LongStage = field(default_factory=LongStage)
    super_resolution: SuperResolutionStage = field(default_factory=SuperResolutionStage)

    @classmethod
    def from_yaml(cls, path: str | Path) -> Cascade:
        """Read a cascade YAML file (unknown keys are errors): a path, or the name of a bundled
        recipe (``cascade-shapes`` = ``spacetime/configs/cascade-shapes.yaml``)."""
        from spacetime.contracts.dataclass_yaml import merge, read_yaml
        from spacetime.contracts.presets import config_file

        file = config_file(path)
        cascade = merge(cls(), read_yaml(file), source=str(file))
        cascade.long.settings()  # checks the method and strengths now, not after stage 1
        return cascade

    def to_yaml(self, path: str | Path | None = None) -> str:
        """The cascade as YAML text (written to ``path`` when given); ``from_yaml`` inverts it."""
        from spacetime.contracts.dataclass_yaml import dataclass_to_dict

        text = yaml.safe_dump(dataclass_to_dict(self), sort_keys=False)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def run(
        self,
        prompts: Sequence[str],
        seeds: Sequence[int],
        *,
        device: Any = "cpu",
        image: np.ndarray | None = None,
        frames: int | None = None,
        long: LongVideo | None = None,
        progress: bool = True,
    ) -> np.ndarray:
        """Generate one video per prompt through every stage; uint8 (B, T, H, W, 3).

        ``frames`` and ``long`` override the file's (the CLI's ``--frames`` / ``--long``)."""
        from spacetime.pipelines.loading import resolve_pipeline
        from spacetime.pipelines.video_pipeline import VideoPipeline

        folder = resolve_pipeline(
            None if self.base == "default" else self.base, what="cascade base"
        )
        pipe = VideoPipeline.from_pretrained(folder, device=device)
        total = frames or self.frames or pipe.sample_frames
        sampling = {"steps": self.steps, "guidance": self.guidance, "sampler": self.sampler}
        if total <= pipe.sample_frames and long is None:
            videos = pipe(list(prompts), seeds=list(seeds), frames=total, image=image,
                          progress=progress, **sampling)  # fmt: skip
        else:
            videos = generate_long(
                pipe, prompts, seeds=seeds, total_frames=total,
                settings=long or self.long.settings(), image=image, progress=progress,
                **sampling,
            )  # fmt: skip
        if not self.super_resolution.path:
            return videos
        return self._upsample(videos, seeds, device, progress)

    def _upsample(
        self, videos: np.ndarray, seeds: Sequence[int], device: Any, progress: bool
    ) -> np.ndarray:
        from spacetime.pipelines.run_folder import pipeline_folder
        from spacetime.pipelines.super_resolution import SuperResolutionPipeline

        stage = self.super_resolution
        folder = pipeline_folder(stage.path, what="cascade super_resolution.path")
        sr = SuperResolutionPipeline.from_pretrained(folder, device=device)
        return np.concatenate([
            sr(videos[i : i + 1], seeds=[seed], steps=stage.steps, sampler=self.sampler,
               noise_level=stage.noise_level, progress=progress)
            for i, seed in enumerate(seeds)
        ])  # fmt: skip
