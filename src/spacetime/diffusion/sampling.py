"""One sampling loop over diffusers schedulers, with guidance, frame conditioning and
per-sample seeds.

diffusers' schedulers supply the timesteps and the update rule (``SAMPLERS``); this loop adds
what they leave to pipelines:

- classifier-free guidance (:func:`~spacetime.diffusion.guidance.classifier_free_guidance`),
  optionally with one scale per frame;
- frame conditioning: given frames are re-imposed, clean and at ``t = 0``, before every network
  call and after every step, so they come out exactly as given;
- per-sample seeds (as in NVlabs/edm2): sample ``i`` draws its initial noise and every per-step
  noise (DDPM) from its own ``torch.Generator(seed_i)`` on the CPU, so a seed gives the same
  starting noise whatever the batch it is in and whatever the device;
- batch invariance: CPU kernels (GEMM blocking, reductions) round differently for different
  batch sizes, so on the CPU the network is called once per sample (its text trimmed to its
  own tokens): a sample is then bit-identical whatever batch it is in. Elsewhere the batch
  runs as one call, and a sample may differ from the same sample alone in the last bits;
- a tqdm progress bar and a per-step ``callback(step, t, x)``.

The network's ``t`` is the scheduler's own timestep, which is in training units for every
sampler here (see :mod:`spacetime.diffusion.objectives`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import torch
from diffusers import SchedulerMixin
from tqdm.auto import tqdm

from spacetime.contracts.conditioning import FrameCondition, TextEmbedding
from spacetime.diffusion.guidance import classifier_free_guidance, guidance_scale
from spacetime.diffusion.objectives import Denoiser, Objective
from spacetime.diffusion.samplers import SAMPLERS
from spacetime.errors import SpacetimeError

__all__ = ["SAMPLERS", "sample"]

#: ``callback(step, t, x)``: step index from 0, the scheduler timestep, the current (B, C, T, H, W).
StepCallback = Callable[[int, float, torch.Tensor], None]


def _model_device_dtype(model: Denoiser) -> tuple[torch.device, torch.dtype]:
    """Device and floating dtype of the first floating parameter (CPU / float32 if none)."""
    if isinstance(model, torch.nn.Module):
        for p in model.parameters():
            if p.is_floating_point():
                return p.device, p.dtype
    return torch.device("cpu"), torch.float32


def _batched_text(text: TextEmbedding, batch: int, name: str) -> TextEmbedding:
    """``text`` with batch ``batch`` (a batch-1 embedding is repeated)."""
    n = text.tokens.shape[0]
    if n == batch:
        return text
    if n == 1:
        return TextEmbedding(text.tokens.expand(batch, -1, -1), text.mask.expand(batch, -1))
    raise SpacetimeError(f"{name} has batch {n}; expected 1 or one per seed ({batch})")


def _batched_frames(
    frames: FrameCondition, batch: int, shape: tuple[int, int, int, int]
) -> FrameCondition:
    """``frames`` checked against ``(B,) + shape``; a batch-1 condition is repeated."""
    if tuple(frames.values.shape[1:]) != tuple(shape):
        raise SpacetimeError(
            f"given frames have shape {tuple(frames.values.shape[1:])} (C, T, H, W) but the "
            f"video to sample is {tuple(shape)}"
        )
    n = frames.mask.shape[0]
    if n == batch:
        return frames
    if n == 1:
        return FrameCondition(
            frames.mask.expand(batch, -1), frames.values.expand(batch, -1, -1, -1, -1)
        )
    raise SpacetimeError(f"given frames have batch {n}; expected 1 or one per seed ({batch})")


def _initial_noise(
    generators: list[torch.Generator], shape: tuple[int, int, int, int]
) -> torch.Tensor:
    """``(B, C, T, H, W)`` standard normal float32, row ``i`` from ``generators[i]`` (CPU)."""
    return torch.stack([torch.randn(shape, generator=g, dtype=torch.float32) for g in generators])


def _guided(
    model: Denoiser,
    text: TextEmbedding,
    null_text: TextEmbedding,
    frames: FrameCondition | None,
    scale: torch.Tensor,
    rescale: float,
) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """``denoise(x (B, C, T, H, W), t)``: the guided output, running the conditional and the
    unconditional branch as one batch of 2B (frames are given to both branches)."""
    both_text = TextEmbedding.cat([text, null_text])
    both_frames = None
    if frames is not None:
        both_frames = FrameCondition(
            torch.cat([frames.mask, frames.mask]), torch.cat([frames.values, frames.values])
        )

    def denoise(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        out = model(
            torch.cat([x, x]), torch.cat([t, t]), text=both_text, frames=both_frames
        )  # (2B, C, T, H, W)
        cond, uncond = out.chunk(2)  # (B, C, T, H, W) each
        return classifier_free_guidance(cond, uncond, scale, rescale=rescale)

    return denoise


def _own_tokens(text: TextEmbedding | None, row: int) -> TextEmbedding | None:
    """Row ``row`` of ``text`` cut after its last real token: what it is when encoded alone."""
    if text is None:
        return None
    real = torch.nonzero(text.mask[row]).flatten()
    length = int(real[-1]) + 1 if len(real) else 1
    return TextEmbedding(text.tokens[row : row + 1, :length], text.mask[row : row + 1, :length])


def _per_sample(
    make: Callable[..., Callable[..., torch.Tensor]],
    text: TextEmbedding | None,
    frames: FrameCondition | None,
    batch: int,
    model: Denoiser,
) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """``denoise(x, t)`` that runs ``make(text_i, frames_i, model_i)(x_i, t_i)`` for each sample
    alone and stacks the results: the same kernels, hence the same bits, as a batch of one.
    ``model_i`` is ``model.rows(slice(i, i + 1))`` for a denoiser wrapper that holds per-sample
    state of its own (e.g. :class:`~spacetime.diffusion.context.ReconstructionGuidance`)."""
    rows = getattr(model, "rows", None)
    calls = [
        make(
            _own_tokens(text, i),
            None if frames is None else frames.index(slice(i, i + 1)),
            model if rows is None else rows(slice(i, i + 1)),
        )
        for i in range(batch)
    ]

    def denoise(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return torch.cat([call(x[i : i + 1], t[i : i + 1]) for i, call in enumerate(calls)])

    return denoise


def sample(
    model: Denoiser,
    objective: Objective,
    *,
    shape: tuple[int, int, int, int],
    seeds: Sequence[int],
    text: TextEmbedding | None = None,
    null_text: TextEmbedding | None = None,
    guidance: float | torch.Tensor = 1.0,
    guidance_rescale: float = 0.0,
    frames: FrameCondition | None = None,
    sampler: str = "ddim",
    steps: int = 25,
    callback: StepCallback | None = None,
    progress: bool = True,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """Sample ``len(seeds)`` videos of shape ``shape = (C, T, H, W)`` from ``model``.

    Args:
        model: the denoiser, ``model(x_t, t, *, text, frames) -> (B, C, T, H, W)`` trained
            with ``objective``. A module in training mode is switched to eval for the call.
        objective: the training objective; it picks the scheduler configuration.
        shape: ``(C, T, H, W)`` of one sample, in the model's data space.
        seeds: one integer seed per sample; the batch size is ``len(seeds)``.
        text: the prompt embedding, batch 1 (shared) or ``len(seeds)``.
        null_text: the embedding of the empty prompt "", needed when ``guidance != 1``.
        guidance: classifier-free guidance scale ``w``, a number or one per frame ``(T,)``;
            ``w = 1`` (everywhere) skips the unconditional pass and is exactly unguided.
        guidance_rescale: φ of guidance rescaling (Lin et al. 2024), 0 disables it.
        frames: given frames (batch 1 or ``len(seeds)``), kept exactly in the output.
        sampler: a key of :data:`SAMPLERS` compatible with ``objective``.
        steps: number of network evaluations (``len(scheduler.timesteps)``).
        callback: called after every step as ``callback(step, t, x)``.
        progress: show a tqdm bar.
        device, dtype: where and in what precision the network runs (default: the model's).
            The sampler state stays float32 (float64 when ``dtype`` is float64).
        noise: the initial noise ``(B, C, T, H, W)`` (standard normal) instead of the draw from
            ``seeds`` (e.g. FreeNoise's rescheduled noise); the seeds still drive DDPM's noise.

    Returns:
        ``(B, C, T, H, W)`` samples in the objective's data space (``[-1, 1]`` for pixels).
    """
    if len(shape) != 4 or any(int(s) < 1 for s in shape):
        raise SpacetimeError(f"shape must be (C, T, H, W) of positive sizes, got {shape}")
    shape = tuple(int(s) for s in shape)  # type: ignore[assignment]
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise SpacetimeError("seeds must hold at least one seed (one per sample)")
    batch = len(seeds)
    model_device, model_dtype = _model_device_dtype(model)
    device = torch.device(device) if device is not None else model_device
    dtype = dtype or model_dtype
    state_dtype = torch.float64 if dtype == torch.float64 else torch.float32

    scale = guidance_scale(guidance, shape[1])
    use_cfg = bool((scale != 1).any())
    if use_cfg and (text is None or null_text is None):
        raise SpacetimeError(
            f"guidance {guidance} needs both text and null_text (the encoded empty prompt); "
            "use guidance=1 for unguided sampling"
        )
    text = _on_device(text, batch, "text", device, dtype)
    null_text = _on_device(null_text if use_cfg else None, batch, "null_text", device, dtype)
    if frames is not None:
        frames = _batched_frames(frames, batch, shape)
        frames = FrameCondition(frames.mask.to(device), frames.values.to(device, state_dtype))

    scheduler = objective.scheduler(sampler, steps, device=device)
    generators = [torch.Generator("cpu").manual_seed(s) for s in seeds]
    # σ_max-scaled noise for Euler's variance-exploding state; 1 for the others
    init_sigma = getattr(scheduler, "init_noise_sigma", 1.0)
    if noise is None:
        noise = _initial_noise(generators, shape)
    elif tuple(noise.shape) != (batch, *shape):
        raise SpacetimeError(f"noise has shape {tuple(noise.shape)}; expected {(batch, *shape)}")
    x = noise.to(device, state_dtype) * init_sigma
    if frames is not None:
        x = frames.apply(x)

    # the network sees the given frames in its own dtype; the state keeps them in state_dtype
    model_frames = None if frames is None else FrameCondition(frames.mask, frames.values.to(dtype))
    make = _network_call(model, null_text, scale, guidance_rescale)
    if device.type == "cpu":  # exact batch invariance (module docstring)
        denoise = _per_sample(make, text, model_frames, batch, model)
    else:
        denoise = make(text, model_frames, model)

    was_training = isinstance(model, torch.nn.Module) and model.training
    if was_training:
        model.eval()
    try:
        # inference mode: no autograd bookkeeping (version counters, views) at all, unless the
        # denoiser differentiates itself (reconstruction guidance): then only no_grad
        needs_grad = getattr(model, "needs_grad", False)
        with torch.no_grad() if needs_grad else torch.inference_mode():
            steps_bar = tqdm(
                scheduler.timesteps, disable=not progress, desc=f"sampling ({sampler})"
            )
            x = _denoise_loop(scheduler, steps_bar, x, denoise, frames, generators, dtype, callback)
    finally:
        if was_training:
            model.train()
    return x.clone()  # a normal tensor again, usable in autograd and in-place ops


def _on_device(
    text: TextEmbedding | None, batch: int, name: str, device: torch.device, dtype: torch.dtype
) -> TextEmbedding | None:
    """``text`` batched to ``batch`` rows (see :func:`_batched_text`) on ``device`` in ``dtype``."""
    if text is None:
        return None
    text = _batched_text(text, batch, name)
    return TextEmbedding(text.tokens.to(device, dtype), text.mask.to(device))


def _network_call(
    model: Denoiser, null_text: TextEmbedding | None, scale: torch.Tensor, rescale: float
) -> Callable[..., Callable[[torch.Tensor, torch.Tensor], torch.Tensor]]:
    """``make(text, frames, net)``: the (guided, when ``null_text`` is given) network call for
    a batch with this text and these frames."""

    def make(
        text: TextEmbedding | None, frames: FrameCondition | None, net: Denoiser = model
    ) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
        if null_text is not None:
            assert text is not None  # sample() checks that guidance has both embeddings
            null = null_text.index(slice(0, text.tokens.shape[0]))
            return _guided(net, text, null, frames, scale, rescale)
        return lambda x_in, t: net(x_in, t, text=text, frames=frames)

    return make


def _denoise_loop(
    scheduler: SchedulerMixin,
    timesteps: Iterable[torch.Tensor],
    x: torch.Tensor,
    denoise: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    frames: FrameCondition | None,
    generators: list[torch.Generator],
    dtype: torch.dtype,
    callback: StepCallback | None,
) -> torch.Tensor:
    """Run ``scheduler`` from the noisy state ``x`` (B, C, T, H, W) over ``timesteps``; given
    ``frames`` are re-imposed (clean, at ``t = 0``) before every call and after every step."""
    batch, n_frames, state_dtype = x.shape[0], x.shape[2], x.dtype
    for i, ts in enumerate(timesteps):
        x_in = x
        if hasattr(scheduler, "scale_model_input"):  # Euler: x / √(σ² + 1)
            x_in = scheduler.scale_model_input(x, ts)
        t = ts.to(x.device, torch.float32).expand(batch)  # (B,) in training units
        if frames is not None:
            x_in = frames.apply(x_in)
            t = t[:, None].expand(batch, n_frames).masked_fill(frames.mask, 0.0)  # (B, T)
        out = denoise(x_in.to(dtype), t)  # (B, C, T, H, W)
        x = scheduler.step(out.to(state_dtype), ts, x, generator=generators).prev_sample
        if frames is not None:
            x = frames.apply(x)
        if callback is not None:
            callback(i, float(ts), x)
    return x
