"""``VideoPipeline``: text (and optional given frames) -> video, with save/load to a folder.

One pipeline bundles what sampling needs: the denoiser, the text encoder, the objective (which
owns the parameterisation and the scheduler) and, for latent models, the autoencoder. Calling it
encodes the prompts and the empty prompt (the unconditional branch of classifier-free guidance,
Ho & Salimans 2022), builds the frame condition from given frames (image->video with the first
frame, interpolation with the first and last, extension with the first k), runs
:func:`spacetime.diffusion.sample` with one seed per sample — so a video depends only on its
prompt, seed and settings, never on the batch it was made in — and returns uint8 frames.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

import spacetime
from spacetime.contracts.conditioning import FrameCondition, TextEmbedding
from spacetime.contracts.pixels import to_uint8
from spacetime.data.transforms import Size, as_hw
from spacetime.diffusion.objectives import Objective
from spacetime.diffusion.registry import build_objective
from spacetime.diffusion.sampling import sample
from spacetime.errors import SpacetimeError, SpacetimeWarning
from spacetime.pipelines.given_frames import GivenFrames, beyond_window, given_pixels, merge_given
from spacetime.pipelines.pretrained import (
    MODEL_INDEX,
    PIPELINE_CLASS,
    class_ref,
    load_part,
    read_model_index,
    write_atomically,
)


@runtime_checkable
class LatentAutoencoder(Protocol):
    """What a latent pipeline needs from its autoencoder (frame-wise or causal 3D).

    ``encode`` maps video (B, 3, T, H, W) in [-1, 1] to latents (B, C, T / temporal_factor,
    H / spatial_factor, W / spatial_factor); ``decode`` inverts it. It is saved with
    ``save_pretrained`` and loaded with its class's ``from_pretrained``. ``temporal_factor``
    (frames per latent frame) is optional: an autoencoder without it is frame-wise (1), like
    :class:`spacetime.models.autoencoder.FrameAutoencoder`.
    """

    spatial_factor: int  # pixels per latent along H and W

    def encode(self, video: torch.Tensor) -> torch.Tensor: ...

    def decode(self, latents: torch.Tensor) -> torch.Tensor: ...


class VideoPipeline:
    """Text-to-video (and frames-to-video) sampling around a trained denoiser.

    Args:
        denoiser: a spacetime denoiser (``model(x_t, t, *, text, frames)``, diffusers ModelMixin).
        text_encoder: a :class:`spacetime.models.text.TextEncoder` (``encode(prompts) ->
            TextEmbedding``, ``unknown_words``, ``save_pretrained``).
        objective: the :mod:`spacetime.diffusion` objective the denoiser was trained with.
        autoencoder: a :class:`LatentAutoencoder` for latent models; ``None`` for pixel models.
        sample_frames: default clip length T (the training clip length).
        sample_size: default output size in pixels, int (square) or ``(height, width)``.
    """

    def __init__(
        self,
        denoiser: torch.nn.Module,
        text_encoder: torch.nn.Module,
        objective: Objective,
        autoencoder: LatentAutoencoder | None = None,
        *,
        sample_frames: int = 16,
        sample_size: Size = 64,
    ) -> None:
        if sample_frames < 1:
            raise SpacetimeError(f"sample_frames must be >= 1; got {sample_frames}")
        if autoencoder is not None and not isinstance(autoencoder, LatentAutoencoder):
            raise SpacetimeError(
                f"autoencoder {type(autoencoder).__name__} lacks encode/decode/spatial_factor "
                "(see LatentAutoencoder)"
            )
        self.denoiser = denoiser
        self.text_encoder = text_encoder
        self.objective = objective
        self.autoencoder = autoencoder
        self.sample_frames = int(sample_frames)
        self.sample_size = as_hw(sample_size, name="sample_size")

    # ----------------------------------------------------------------------------- devices

    def parts(self) -> dict[str, Any]:
        """The neural parts by folder name (``autoencoder`` only when present)."""
        parts: dict[str, Any] = {"denoiser": self.denoiser, "text_encoder": self.text_encoder}
        if self.autoencoder is not None:
            parts["autoencoder"] = self.autoencoder
        return parts

    @property
    def device(self) -> torch.device:
        """Device of the denoiser's weights (where sampling runs)."""
        return next(self.denoiser.parameters()).device

    def to(self, device: str | torch.device) -> VideoPipeline:
        """Move every part to ``device``; returns ``self``."""
        for part in self.parts().values():
            part.to(device)
        return self

    @property
    def channels(self) -> int:
        """Channels C of the space the denoiser works in (3 for pixels, latent channels)."""
        return int(self.denoiser.config.in_channels)

    # ------------------------------------------------------------------------ save / load

    def model_index(self) -> dict[str, Any]:
        """The ``model_index.json`` content describing this pipeline."""
        return {
            "_class_name": PIPELINE_CLASS,
            "_spacetime_version": spacetime.__version__,
            "autoencoder": None,
            **{name: class_ref(part) for name, part in self.parts().items()},
            "objective": self.objective.to_config(),
            "sample_frames": self.sample_frames,
            "sample_size": list(self.sample_size),
            "channels": self.channels,
        }

    def save_pretrained(self, path: str | Path) -> Path:
        """Write the pipeline folder ``path`` atomically (see :mod:`.pretrained`); returns it."""

        def write(tmp: Path) -> None:
            for name, part in self.parts().items():
                part.save_pretrained(tmp / name)
            text = json.dumps(self.model_index(), indent=2, sort_keys=True)
            (tmp / MODEL_INDEX).write_text(text + "\n", encoding="utf-8")

        return write_atomically(path, write)

    @classmethod
    def from_pretrained(
        cls, path: str | Path, *, device: str | torch.device | None = None
    ) -> VideoPipeline:
        """Load a folder written by :meth:`save_pretrained` (onto ``device``, default CPU)."""
        path = Path(path)
        index = read_model_index(path)
        parts = {name: load_part(path, index, name) for name in ("denoiser", "text_encoder")}
        try:
            objective = build_objective(index["objective"])
        except SpacetimeError as err:
            raise SpacetimeError(f"{path / MODEL_INDEX}: objective: {err}") from None
        pipe = cls(
            parts["denoiser"],
            parts["text_encoder"],
            objective,
            load_part(path, index, "autoencoder"),
            sample_frames=int(index.get("sample_frames", 16)),
            sample_size=tuple(index.get("sample_size", (64, 64))),
        )
        return pipe.to(device) if device is not None else pipe

    # --------------------------------------------------------------------------- sampling

    def _factors(self) -> tuple[int, int]:
        """``(temporal, spatial)`` pixel-to-latent factors (1, 1 for pixel models)."""
        if self.autoencoder is None:
            return 1, 1
        temporal = getattr(self.autoencoder, "temporal_factor", 1)  # absent: frame-wise
        return int(temporal), int(self.autoencoder.spatial_factor)

    def _check_shape(self, frames: int, size: tuple[int, int]) -> None:
        """Raise a :class:`SpacetimeError` for a frame count or size the model cannot take.

        The denoiser needs T a multiple of its ``temporal_multiple`` (DiT temporal patch) and
        H, W multiples of its ``spatial_multiple`` (U-Net downsampling, DiT patch), in latent
        units for latent models.
        """
        t_factor, s_factor = self._factors()
        t_mult = int(self.denoiser.temporal_multiple) * t_factor
        s_mult = int(self.denoiser.spatial_multiple) * s_factor
        if frames < 1 or frames % t_mult:
            raise SpacetimeError(
                f"frames={frames} is not supported by this model: use a positive multiple of "
                f"{t_mult} (trained with {self.sample_frames})"
            )
        if size[0] % s_mult or size[1] % s_mult:
            raise SpacetimeError(
                f"size {size[0]}x{size[1]} is not supported by this model: height and width "
                f"must be multiples of {s_mult} (trained at "
                f"{self.sample_size[0]}x{self.sample_size[1]})"
            )

    def encode_prompts(self, prompts: Sequence[str]) -> tuple[TextEmbedding, TextEmbedding]:
        """``(text, null_text)``: embeddings of ``prompts`` (B rows) and of ``""`` (1 row).

        Warns once per prompt about words the encoder does not know (they encode as
        ``<unk>``); a prompt longer than the encoder's ``max_length`` raises
        :class:`SpacetimeError` (from the encoder).
        """
        for prompt in dict.fromkeys(prompts):
            unknown = self.text_encoder.unknown_words(prompt)
            if unknown:
                warnings.warn(
                    f"prompt {prompt!r}: {', '.join(map(repr, unknown))} not in the model's "
                    "vocabulary; the model never saw these words in training",
                    SpacetimeWarning,
                    stacklevel=3,
                )
        with torch.no_grad():  # one prompt at a time: its tokens do not depend on the batch
            text = TextEmbedding.cat([self.text_encoder.encode([p]) for p in prompts])
            return text, self.text_encoder.encode([""])

    def frame_condition(
        self, given: Mapping[int, np.ndarray], frames: int, size: tuple[int, int]
    ) -> FrameCondition:
        """The condition for the given frames ``{index: uint8 (H, W, 3)}`` (negative from end).

        Each frame is resized to cover ``size`` and center-cropped, as training data is, and
        mapped to [-1, 1] (then encoded for latent models). Batch 1: the sampler shares it
        across the batch. Returns mask (1, T) and values (1, C, T, h, w).
        """
        if not getattr(self.denoiser.config, "frame_conditioning", False):
            raise SpacetimeError(
                "this model was not trained with frame conditioning, so it cannot start from an "
                "image or given frames; train it with frame masks or drop --image"
            )
        mask, pixels = given_pixels(given, frames, size)  # (T,), (3, T, H, W)
        values = pixels[None].to(self.device)  # (1, 3, T, H, W)
        if self.autoencoder is not None:
            if self._factors()[0] != 1:
                raise SpacetimeError(
                    "given frames need an autoencoder without temporal compression"
                )
            with torch.no_grad():
                values = self.autoencoder.encode(values)  # (1, C, T, h, w)
        return FrameCondition(mask[None].to(self.device), values)  # (1, T), (1, C, T, h, w)

    @torch.no_grad()
    def __call__(
        self,
        prompts: Sequence[str],
        *,
        seeds: Sequence[int],
        frames: int | None = None,
        size: Size | None = None,
        steps: int = 25,
        guidance: float = 5.0,
        sampler: str = "ddim",
        image: np.ndarray | Sequence[np.ndarray | None] | None = None,
        given_frames: GivenFrames | Sequence[GivenFrames | None] | None = None,
        batch_size: int | None = None,
        progress: bool = True,
        callback: Callable[..., Any] | None = None,
    ) -> np.ndarray:
        """Generate one video per prompt.

        Args:
            prompts: B prompts (the empty string samples unconditionally).
            seeds: B seeds; sample ``i`` depends only on ``(prompts[i], seeds[i])`` and the
                settings, not on B or ``batch_size``.
            frames: clip length T (default: the training length ``sample_frames``).
            size: output size in pixels, int or ``(height, width)`` (default ``sample_size``).
            steps: sampler steps (>= 1).
            guidance: classifier-free guidance scale w: ``uncond + w (cond - uncond)``; 1 is
                the plain conditional model, 0 the unconditional one.
            sampler: a name of :data:`spacetime.diffusion.SAMPLERS`.
            image: first frame, uint8 (H, W, 3): image -> video. Shorthand for
                ``given_frames={0: image}``. A list of B images (``None`` for text only)
                gives each sample its own first frame.
            given_frames: ``{frame index: uint8 (H, W, 3)}`` kept fixed while the rest is
                generated: ``{0: a, -1: b}`` interpolates, ``{0: a, 1: b, 2: c}`` extends.
                A list of B such mappings (``None`` or ``{}`` for text only) conditions each
                sample on its own frames, so text->video, image->video and interpolation
                share one batch (a sample without given frames is the same as alone).
            batch_size: samples per forward pass (default: all B at once).
            progress: show a progress bar.
            callback: called by the sampler after every step (see
                :func:`spacetime.diffusion.sample`).

        Returns:
            uint8 array (B, T, H, W, 3).
        """
        prompts, seeds = list(prompts), [int(s) for s in seeds]
        if not prompts or len(seeds) != len(prompts):
            raise SpacetimeError(
                f"need one seed per prompt; got {len(prompts)} prompts and {len(seeds)} seeds"
            )
        frames = self.sample_frames if frames is None else int(frames)
        hw = self.sample_size if size is None else as_hw(size)
        self._check_shape(frames, hw)
        if frames > self.sample_frames:
            warnings.warn(beyond_window(frames, self.sample_frames), SpacetimeWarning, stacklevel=3)
        if steps < 1:
            raise SpacetimeError(f"steps must be >= 1; got {steps}")
        chunk = len(prompts) if batch_size is None else int(batch_size)
        if chunk < 1:
            raise SpacetimeError(f"batch_size must be >= 1; got {batch_size}")
        shape = self._latent_shape(frames, hw)
        cond = self._condition(merge_given(image, given_frames, len(prompts)), frames, hw, shape)
        settings = {"guidance": guidance, "sampler": sampler, "steps": steps,
                    "callback": callback, "progress": progress}  # fmt: skip
        videos = [
            self._sample_rows(prompts, seeds, slice(lo, lo + chunk), shape, cond, settings)
            for lo in range(0, len(prompts), chunk)
        ]  # uint8 (b, T, H, W, 3) each
        return np.concatenate(videos)

    def _sample_rows(
        self,
        prompts: list[str],
        seeds: list[int],
        rows: slice,
        shape: tuple[int, int, int, int],
        cond: FrameCondition | None,
        settings: dict[str, Any],
    ) -> np.ndarray:
        """uint8 ``(b, T, H, W, 3)``: the videos of ``prompts[rows]`` in one sampler call."""
        text, null_text = self.encode_prompts(prompts[rows])
        if cond is not None and cond.mask.shape[0] > 1:
            cond = cond.index(rows)  # per-sample frames; batch 1 is shared by every sample
        # (b, C, T', h, w) in the denoiser's space
        x0 = sample(self.denoiser, self.objective, shape=shape, seeds=seeds[rows], text=text,
                    null_text=null_text, frames=cond, **settings)  # fmt: skip
        if self.autoencoder is not None:
            x0 = self.autoencoder.decode(x0)  # (b, 3, T, H, W)
        return to_uint8(x0)  # (b, T, H, W, 3)

    def _latent_shape(self, frames: int, size: tuple[int, int]) -> tuple[int, int, int, int]:
        """``(C, T, H, W)`` the denoiser samples for a clip of ``frames`` at pixel ``size``."""
        t, s = self._factors()
        return (self.channels, frames // t, size[0] // s, size[1] // s)

    def _condition(
        self,
        given: dict[int, np.ndarray] | list[dict[int, np.ndarray]],
        frames: int,
        size: tuple[int, int],
        shape: tuple[int, int, int, int],
    ) -> FrameCondition | None:
        """The sampler's frame condition: batch 1 for shared frames, batch B for per-sample
        ones (rows without frames get an all-False mask, which the denoiser reads exactly as
        ``frames=None``); ``None`` when nothing is given. ``shape`` is the latent (C, T, h, w)."""
        if isinstance(given, dict):
            return self.frame_condition(given, frames, size) if given else None
        if not any(given):
            return None
        empty = FrameCondition(
            torch.zeros(1, shape[1], dtype=torch.bool, device=self.device),
            torch.zeros(1, *shape, device=self.device),
        )
        rows = [self.frame_condition(g, frames, size) if g else empty for g in given]
        return FrameCondition(
            torch.cat([r.mask for r in rows]), torch.cat([r.values.to(empty.values) for r in rows])
        )  # (B, T), (B, C, T, h, w)
