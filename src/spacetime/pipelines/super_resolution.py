"""``SuperResolutionPipeline``: low-resolution video -> video ``factor`` times larger.

The spatial stage of a cascade (:mod:`spacetime.models.super_resolution` has the model and the
references). Calling it upsamples the input bicubically, noises it to ``noise_level``
(conditioning augmentation: the level the network is told), and samples the high-resolution
video with any sampler of :data:`spacetime.diffusion.SAMPLERS`, one seed per video. Clips
longer than ``window`` frames are denoised as overlapping windows fused at every step
(:class:`~spacetime.diffusion.windowed.WindowedDenoiser`), so memory stays that of one window and
no seam appears between chunks.

Folder: ``model_index.json`` (``_class_name: SuperResolutionPipeline``, the objective, factor,
default noise level and window) and ``denoiser/`` (config.json + safetensors).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

import spacetime
from spacetime.contracts.conditioning import FrameCondition
from spacetime.contracts.pixels import to_model_range, to_uint8
from spacetime.data.clip_dataset import mix_seed
from spacetime.diffusion.context import noised_frames
from spacetime.diffusion.objectives import Objective
from spacetime.diffusion.registry import build_objective
from spacetime.diffusion.sampling import sample
from spacetime.diffusion.windowed import WindowedDenoiser
from spacetime.errors import SpacetimeError
from spacetime.models.super_resolution import LowResConditioned, upsample
from spacetime.pipelines.pretrained import MODEL_INDEX, class_ref, load_part, write_atomically

SR_CLASS = "SuperResolutionPipeline"

__all__ = ["SR_CLASS", "SuperResolutionPipeline"]


class SuperResolutionPipeline:
    """Spatial super-resolution around a denoiser built by
    :func:`~spacetime.models.super_resolution.build_sr_model`.

    Args:
        denoiser: the network (``2C + 1`` input channels, ``C`` output channels).
        objective: the objective it was trained with.
        factor: output size / input size (integer, both axes).
        noise_level: default conditioning augmentation at sampling, in training units.
        window: frames per network call; longer clips are denoised in fused windows.
    """

    def __init__(
        self,
        denoiser: torch.nn.Module,
        objective: Objective,
        *,
        factor: int = 2,
        noise_level: float = 100.0,
        window: int = 16,
    ) -> None:
        if factor < 2 or window < 2 or noise_level < 0:
            raise SpacetimeError(
                f"need factor >= 2, window >= 2 and noise_level >= 0; got {factor}, {window}, "
                f"{noise_level}"
            )
        self.denoiser, self.objective = denoiser, objective
        self.factor, self.noise_level, self.window = int(factor), float(noise_level), int(window)

    @property
    def device(self) -> torch.device:
        """Device of the denoiser's weights."""
        return next(self.denoiser.parameters()).device

    def to(self, device: str | torch.device) -> SuperResolutionPipeline:
        """Move the denoiser to ``device``; returns ``self``."""
        self.denoiser.to(device)
        return self

    def model_index(self) -> dict[str, Any]:
        """The ``model_index.json`` content."""
        return {
            "_class_name": SR_CLASS,
            "_spacetime_version": spacetime.__version__,
            "denoiser": class_ref(self.denoiser),
            "objective": self.objective.to_config(),
            "factor": self.factor,
            "noise_level": self.noise_level,
            "window": self.window,
        }

    def save_pretrained(self, path: str | Path) -> Path:
        """Write the pipeline folder ``path`` atomically; returns it."""

        def write(tmp: Path) -> None:
            self.denoiser.save_pretrained(tmp / "denoiser")
            text = json.dumps(self.model_index(), indent=2, sort_keys=True)
            (tmp / MODEL_INDEX).write_text(text + "\n", encoding="utf-8")

        return write_atomically(path, write)

    @classmethod
    def from_pretrained(
        cls, path: str | Path, *, device: str | torch.device | None = None
    ) -> SuperResolutionPipeline:
        """Load a folder written by :meth:`save_pretrained` (SpacetimeError if it is not one)."""
        path = Path(path)
        index_file = path / MODEL_INDEX
        try:
            index = json.loads(index_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise SpacetimeError(f"{path} is not a super-resolution pipeline: {err}") from None
        if not isinstance(index, dict) or index.get("_class_name") != SR_CLASS:
            raise SpacetimeError(f"{index_file} does not hold a {SR_CLASS}")
        pipe = cls(
            load_part(path, index, "denoiser"), build_objective(index["objective"]),
            factor=int(index["factor"]), noise_level=float(index["noise_level"]),
            window=int(index["window"]),
        )  # fmt: skip
        return pipe.to(device) if device is not None else pipe

    @torch.no_grad()
    def __call__(
        self,
        videos: np.ndarray | Sequence[np.ndarray],
        *,
        seeds: Sequence[int],
        steps: int = 20,
        sampler: str = "ddim",
        noise_level: float | None = None,
        progress: bool = False,
    ) -> np.ndarray:
        """Upsample uint8 videos (B, T, h, w, 3) to uint8 (B, T, f h, f w, 3).

        ``noise_level`` (default: the pipeline's) is the conditioning augmentation; video ``i``
        depends only on ``(videos[i], seeds[i])`` and the settings.
        """
        videos = [np.asarray(v) for v in videos]
        if not videos or len(seeds) != len(videos):
            raise SpacetimeError(f"need one seed per video; got {len(videos)} and {len(seeds)}")
        level = self.noise_level if noise_level is None else float(noise_level)
        if not 0 <= level < 1000:
            raise SpacetimeError(f"noise_level must be in [0, 1000); got {level}")
        low = torch.stack([to_model_range(v) for v in videos]).to(self.device)  # (B, 3, T, h, w)
        up = upsample(low, self.factor)  # (B, 3, T, H, W)
        mask = torch.ones(up.shape[0], up.shape[2], dtype=torch.bool, device=up.device)
        augment_seeds = [mix_seed(int(s), 1) for s in seeds]  # not the sampler's noise stream
        up = noised_frames(self.objective, FrameCondition(mask, up), level, augment_seeds).values
        model: Any = LowResConditioned(self.denoiser, up, torch.full((len(videos),), level))
        if up.shape[2] > self.window:
            model = WindowedDenoiser(model, self.window, self.window // 2)
        x = sample(
            model, self.objective, shape=tuple(up.shape[1:]), seeds=[int(s) for s in seeds],
            steps=steps, sampler=sampler, progress=progress, device=self.device,
        )  # fmt: skip
        return to_uint8(x)
