"""Videos longer than the training window: five methods around one window loop.

A model trained on clips of ``W`` frames makes a long video in windows of at most ``W``
frames. Everything between windows stays in the model's (latent) space: context is never
decoded and re-encoded, and the video is decoded ``W`` frames at a time at the end, so memory is
that of one window plus the latents of the whole clip (``C x N x h x w`` floats: 0.5 MB for
128 frames of the default model).

=============  ==============================================================================
method         how a window is tied to the frames before it
=============  ==============================================================================
``extend``     replacement: the last ``overlap`` frames are given through the frame mask,
               clean at ``t = 0``, substituted at every denoising step (the model's trained
               frame conditioning; needs a frame-conditioned model)
``guided``     reconstruction guidance (Ho et al. 2022, Sec. 3.1, eq. 7): the context frames
               are replaced by noisy draws of themselves and the gradient of their
               reconstruction error steers the new frames
               (:class:`~spacetime.diffusion.context.ReconstructionGuidance`); any model
``noisy``      Diffusion Forcing (Chen et al. 2024): context given through the mask at a small
               noise level ``context_noise`` (training units), not as exact frames
``sliding``    every window of ``W`` frames at stride ``W - overlap`` denoised *together* at
               every step, overlaps fused, from FreeNoise's rescheduled noise (Qiu et al. 2024)
``keyframes``  keyframes spread over the whole duration first (both ends in the first call),
               then each gap filled by interpolation with its two ends given (FramePack's
               anti-drifting order, Zhang & Agrawala 2025)
=============  ==============================================================================

Window ``i`` of a call samples with the seeds ``mix_seed(seed, i)`` (window 0 with ``seed``
itself, so a long video's first window is what the pipeline makes for that seed alone), and
the video depends only on ``(prompt, seed, settings)``, never on the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from spacetime.contracts.conditioning import FrameCondition, TextEmbedding
from spacetime.contracts.pixels import to_uint8
from spacetime.data.clip_dataset import mix_seed
from spacetime.data.transforms import as_hw
from spacetime.diffusion.context import NoisyContext, ReconstructionGuidance, noised_frames
from spacetime.diffusion.sampling import sample
from spacetime.diffusion.windowed import WindowedDenoiser, freenoise_noise, window_starts
from spacetime.errors import SpacetimeError
from spacetime.pipelines.long_plan import Window, autoregressive_plan, keyframe_plan
from spacetime.pipelines.video_pipeline import VideoPipeline

__all__ = ["LONG_METHODS", "LongVideo", "decode_chunks", "generate_long", "generate_videos"]

LONG_METHODS: dict[str, str] = {
    "extend": "replacement: the last frames given clean through the frame mask (VDM)",
    "guided": "reconstruction guidance on the last frames (VDM, Ho et al. 2022, eq. 7)",
    "noisy": "the last frames given slightly noisy (Diffusion Forcing, Chen et al. 2024)",
    "sliding": "overlapping windows denoised together, FreeNoise noise (Qiu et al. 2024)",
    "keyframes": "keyframes over the whole clip first, then interpolation fills (FramePack)",
}
"""Method name -> one-line description (the CLI's ``--long`` choices)."""

DEFAULT_GUIDANCE_WEIGHT = 2.0
"""``w_r`` of ``guided``: VDM (Sec. 3.1) found weights above 1 condition better than 1."""

DEFAULT_CONTEXT_NOISE = 100.0
"""``noisy``'s context level in training units (of 1000), chosen from the drift curve of
``benchmarks/long_video_drift.py --noise-levels`` on the bundled model (see the README)."""


@dataclass(frozen=True)
class LongVideo:
    """Settings of a long video (see the module docstring).

    Args:
        method: a key of :data:`LONG_METHODS`.
        window: frames per network call ``W`` (default: the pipeline's ``sample_frames``).
        overlap: frames two consecutive windows share (default ``W // 2``); ``keyframes``
            ignores it (its windows share their end frames).
        guidance_weight: ``w_r`` of ``guided`` (0 = VDM's replacement method alone).
        context_noise: the context's noise level for ``noisy``, in training units.
    """

    method: str = "extend"
    window: int | None = None
    overlap: int | None = None
    guidance_weight: float = DEFAULT_GUIDANCE_WEIGHT
    context_noise: float = DEFAULT_CONTEXT_NOISE

    def __post_init__(self) -> None:
        if self.method not in LONG_METHODS:
            raise SpacetimeError(
                f"unknown long-video method {self.method!r}; choose one of "
                f"{', '.join(LONG_METHODS)}"
            )
        if self.window is not None and self.window < 2:
            raise SpacetimeError(f"window must be >= 2 frames; got {self.window}")
        if self.guidance_weight < 0 or not np.isfinite(self.guidance_weight):
            raise SpacetimeError(f"guidance_weight must be >= 0; got {self.guidance_weight}")
        if not 0 <= self.context_noise < 1000:
            raise SpacetimeError(f"context_noise must be in [0, 1000); got {self.context_noise}")

    def resolve(self, sample_frames: int) -> tuple[int, int]:
        """``(window, overlap)`` with the defaults filled in, checked."""
        window = sample_frames if self.window is None else int(self.window)
        overlap = window // 2 if self.overlap is None else int(self.overlap)
        if not 1 <= overlap < window:
            raise SpacetimeError(f"overlap must be in [1, window={window}); got {overlap}")
        return window, overlap

    def windows(self, total: int, sample_frames: int) -> int:
        """Network calls per denoising pass of a ``total``-frame video (for progress bars):
        windows of the plan, or for ``sliding`` the windows fused at every step."""
        window, overlap = self.resolve(sample_frames)
        if self.method == "sliding":
            return len(window_starts(total, window, window - overlap))
        if self.method == "keyframes":
            return len(keyframe_plan(total, window))
        return len(autoregressive_plan(total, window, overlap))


def decode_chunks(pipe: VideoPipeline, latents: torch.Tensor, chunk: int) -> np.ndarray:
    """uint8 (B, N, H, W, 3) of latents (B, C, N, h, w), decoded ``chunk`` frames at a time."""
    parts = []
    with torch.no_grad():
        for lo in range(0, latents.shape[2], chunk):
            part = latents[:, :, lo : lo + chunk]
            if pipe.autoencoder is not None:
                part = pipe.autoencoder.decode(part)  # (B, 3, chunk, H, W)
            parts.append(to_uint8(part))
    return np.concatenate(parts, axis=1)


class _Sampler:
    """What every network call of one long video shares: model, text, seeds, settings."""

    def __init__(
        self,
        pipe: VideoPipeline,
        settings: LongVideo,
        text: tuple[TextEmbedding, TextEmbedding],
        seeds: list[int],
        sampling: dict[str, Any],
    ) -> None:
        self.pipe, self.settings, self.seeds, self.sampling = pipe, settings, seeds, sampling
        self.text, self.null_text = text
        self.conditioned = bool(getattr(pipe.denoiser.config, "frame_conditioning", False))
        if settings.method in ("extend", "noisy") and not self.conditioned:
            raise SpacetimeError(
                f"--long {settings.method} gives context through the frame mask, but this model "
                "was not trained with frame conditioning; use --long guided or sliding"
            )

    def seeds_of(self, index: int, stream: int = 0) -> list[int]:
        """Seeds of network call ``index`` (call 0: the video's own seeds); ``stream`` 1 is the
        independent stream of the context noise."""
        seeds = [s if index == 0 else mix_seed(s, index) for s in self.seeds]
        return seeds if stream == 0 else [mix_seed(s, stream) for s in seeds]

    def run(
        self, model: Any, shape: tuple[int, ...], seeds: list[int], **extra: Any
    ) -> torch.Tensor:
        return sample(
            model, self.pipe.objective, shape=shape, seeds=seeds, text=self.text,
            null_text=self.null_text, progress=False, **self.sampling, **extra,
        )  # fmt: skip

    def window(self, context: FrameCondition | None, shape: tuple[int, ...], index: int) -> Any:
        """Sample one window ``(B, C, T, h, w)`` given ``context`` (or none), per the method.

        ``keyframes`` conditions like ``extend`` (or like ``guided`` for a model without frame
        conditioning)."""
        method, seeds = self.settings.method, self.seeds_of(index)
        if context is None:
            return self.run(self.pipe.denoiser, shape, seeds)
        if method == "guided" or (method == "keyframes" and not self.conditioned):
            guide = ReconstructionGuidance(
                self.pipe.denoiser, self.pipe.objective, context,
                weight=self.settings.guidance_weight, seeds=self.seeds_of(index, 1),
            )  # fmt: skip
            return self.run(guide, shape, seeds)
        if method == "noisy":
            level = self.settings.context_noise
            noisy = noised_frames(self.pipe.objective, context, level, self.seeds_of(index, 1))
            return self.run(NoisyContext(self.pipe.denoiser, level), shape, seeds, frames=noisy)
        return self.run(self.pipe.denoiser, shape, seeds, frames=context)


def _run_plan(
    sampler: _Sampler,
    plan: list[Window],
    latents: torch.Tensor,
    final: torch.Tensor,
    tick: Callable[[], None],
) -> None:
    """The window loop: each window is sampled given its final frames and writes its committed
    ones into ``latents`` (B, C, N, h, w); ``final`` (N,) bool marks frames already decided."""
    for index, window in enumerate(plan):
        frames = torch.tensor(window.frames)
        known = final[frames]  # (T,) context frames of this window
        shape = (latents.shape[1], len(window.frames), *latents.shape[3:])
        context = None
        if bool(known.any()):
            mask = known[None].expand(latents.shape[0], -1)  # (B, T)
            context = FrameCondition(mask, latents[:, :, frames])
        out = sampler.window(context, shape, index)  # (B, C, T, h, w)
        new = ~known
        latents[:, :, frames[new]] = out[:, :, new].to(latents)
        final[frames] = True
        tick()


def _sliding(
    sampler: _Sampler, latents: torch.Tensor, final: torch.Tensor, window: int, stride: int,
    tick: Callable[[], None],
) -> None:  # fmt: skip
    """All windows denoised together at every step, from FreeNoise noise (see the docstring)."""
    shape = tuple(latents.shape[1:])
    noise = freenoise_noise(sampler.seeds, shape, window, stride)  # (B, C, N, h, w)
    context = None
    if bool(final.any()):
        context = FrameCondition(final[None].expand(latents.shape[0], -1), latents)
    fused = WindowedDenoiser(sampler.pipe.denoiser, window, stride)
    out = sampler.run(fused, shape, sampler.seeds, frames=context, noise=noise,
                      callback=lambda *_: tick())  # fmt: skip
    latents[:, :, ~final] = out[:, :, ~final].to(latents)


def generate_long(
    pipe: VideoPipeline,
    prompts: Sequence[str],
    *,
    seeds: Sequence[int],
    total_frames: int,
    settings: LongVideo | None = None,
    size: int | tuple[int, int] | None = None,
    image: np.ndarray | None = None,
    start: np.ndarray | None = None,
    steps: int = 25,
    guidance: float = 5.0,
    sampler: str = "ddim",
    progress: bool = True,
) -> np.ndarray:
    """Generate ``total_frames`` frames per prompt in windows (see the module docstring).

    Args:
        pipe: the pipeline; ``extend`` and ``noisy`` need a frame-conditioned denoiser.
        prompts, seeds: one seed per prompt, as for :meth:`VideoPipeline.__call__`.
        total_frames: frames of the result (>= 1).
        settings: method, window, overlap and the methods' strengths (default: ``extend``).
        size: frame size in pixels (default: the pipeline's).
        image: uint8 (H, W, 3) first frame, given (image -> long video).
        start: uint8 (T0, H, W, 3) clip to continue: its last ``overlap`` frames are given as
            the first frames, and the result is the continuation only (``start`` left out).
        steps, guidance, sampler: as for :meth:`VideoPipeline.__call__`, for every window.
        progress: a progress bar over windows (for ``sliding``: over steps, each of which
            runs every window).

    Returns:
        uint8 (B, total_frames, H, W, 3).
    """
    settings = settings or LongVideo()
    window, overlap = settings.resolve(pipe.sample_frames)
    if total_frames < 1:
        raise SpacetimeError(f"total_frames must be >= 1; got {total_frames}")
    prompts, seeds = list(prompts), [int(s) for s in seeds]
    if not prompts or len(seeds) != len(prompts):
        raise SpacetimeError(f"need one seed per prompt; got {len(prompts)} and {len(seeds)}")
    if image is not None and start is not None:
        raise SpacetimeError("give either image (a first frame) or start (a clip to continue)")
    hw = pipe.sample_size if size is None else as_hw(size)
    pipe._check_shape(min(window, total_frames), hw)
    given = _first_frames(image, start, overlap)
    skip = overlap if start is not None else 0
    total = total_frames + skip

    c, _, h, w = pipe._latent_shape(1, hw)
    latents = torch.zeros(len(prompts), c, total, h, w)  # the whole clip, in latents
    final = torch.zeros(total, dtype=torch.bool)
    if given:
        cond = pipe.frame_condition(given, total, hw)  # (1, T) mask, (1, C, T, h, w) values
        latents[:] = cond.values.cpu()
        final |= cond.mask[0].cpu()
    run = _Sampler(
        pipe, settings, pipe.encode_prompts(prompts), seeds,
        {"steps": steps, "guidance": guidance, "sampler": sampler},
    )  # fmt: skip
    _fill(run, latents, final, window, overlap, progress)
    return decode_chunks(pipe, latents[:, :, skip:].to(pipe.device), window)


def _first_frames(
    image: np.ndarray | None, start: np.ndarray | None, overlap: int
) -> dict[int, np.ndarray]:
    """The frames a long video starts from: ``image`` as frame 0, or the last ``overlap``
    frames of the clip ``start`` it continues (``{}`` for neither)."""
    if start is None:
        return {} if image is None else {0: image}
    start = np.asarray(start)
    if start.dtype != np.uint8 or start.ndim != 4 or len(start) < overlap:
        raise SpacetimeError(
            f"start must be uint8 (T0 >= {overlap}, H, W, 3); got {start.dtype} {start.shape}"
        )
    return dict(enumerate(start[-overlap:]))


def _fill(
    run: _Sampler,
    latents: torch.Tensor,
    final: torch.Tensor,
    window: int,
    overlap: int,
    progress: bool,
) -> None:
    """Sample every frame of ``latents`` (B, C, T, h, w) not yet ``final`` (T,), in place, by
    the settings' method, with a progress bar over windows (``sliding``: over steps)."""
    settings, total = run.settings, latents.shape[2]
    calls, unit = settings.windows(total, run.pipe.sample_frames), "window"
    if settings.method == "sliding":  # every step runs all windows: count steps
        calls, unit = run.sampling["steps"], f"step of {calls} windows"
    bar = tqdm(total=calls, disable=not progress, desc=f"long video ({settings.method})",
               unit=unit)  # fmt: skip
    with torch.no_grad():
        if settings.method == "sliding":
            _sliding(run, latents, final, window, window - overlap, lambda: bar.update(1))
        elif settings.method == "keyframes":
            plan = keyframe_plan(total, window)
            _run_plan(run, plan, latents, final, lambda: bar.update(1))
        else:
            plan = autoregressive_plan(total, window, overlap)
            _run_plan(run, plan, latents, final, lambda: bar.update(1))
    bar.close()


def generate_videos(
    pipe: VideoPipeline,
    prompts: Sequence[str],
    *,
    seeds: Sequence[int],
    frames: int | None = None,
    size: int | tuple[int, int] | None = None,
    image: np.ndarray | None = None,
    long: LongVideo | None = None,
    batch_size: int | None = None,
    steps: int = 25,
    guidance: float = 5.0,
    sampler: str = "ddim",
) -> np.ndarray:
    """uint8 (B, T, H, W, 3): one call of ``pipe`` (one window of ``frames`` frames), or with
    ``long`` set :func:`generate_long` of ``frames`` frames (default: the pipeline's clip
    length) in chunks of ``batch_size`` prompts (default: all at once). What ``spacetime
    generate`` runs; the other arguments are :meth:`VideoPipeline.__call__`'s."""
    sampling = {"steps": steps, "guidance": guidance, "sampler": sampler}
    if long is None:
        return pipe(list(prompts), seeds=list(seeds), frames=frames, size=size, image=image,
                    batch_size=batch_size, **sampling)  # fmt: skip
    prompts, seeds = list(prompts), list(seeds)
    chunk = batch_size or len(prompts)
    return np.concatenate([
        generate_long(pipe, prompts[lo : lo + chunk], seeds=seeds[lo : lo + chunk],
                      total_frames=frames or pipe.sample_frames, settings=long, size=size,
                      image=image, **sampling)
        for lo in range(0, len(prompts), chunk)
    ])  # fmt: skip
