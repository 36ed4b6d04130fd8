"""``spacetime generate``: sample videos from a trained pipeline.

Where the model comes from: ``--checkpoint`` names a pipeline folder or a training run folder,
and without it the default model is used (:mod:`spacetime.pipelines.loading` has the rules).

Past the model's window: ``--long METHOD`` (:data:`spacetime.pipelines.long_video.LONG_METHODS`)
makes ``--frames`` frames in windows of ``--window`` frames sharing ``--overlap``; without it a
longer ``--frames`` is one window the model never saw. ``--cascade FILE`` runs a YAML-configured
cascade (:mod:`spacetime.pipelines.cascade`) instead of a single pipeline.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import typer

from spacetime.cli.options import (
    FPS,
    GUIDANCE,
    SAMPLER_STEPS,
    SEED,
    SEED_LIMIT,
    integer,
    number_option,
)
from spacetime.errors import SpacetimeError

if TYPE_CHECKING:
    from spacetime.pipelines.long_video import LongVideo

OUT_SUFFIXES = (".mp4", ".gif")


def output_paths(out: Path, num: int) -> list[Path]:
    """``out`` for one video; ``out_0.mp4``, ``out_1.mp4``, ... for ``num`` > 1."""
    if out.suffix.lower() not in OUT_SUFFIXES:
        raise SpacetimeError(f"--out {out} must end in {' or '.join(OUT_SUFFIXES)}")
    if num == 1:
        return [out]
    return [out.with_name(f"{out.stem}_{i}{out.suffix}") for i in range(num)]


def generate(
    prompt: str = typer.Argument(..., help='What to generate, e.g. "a red circle moves left".'),
    out: Path = typer.Option(..., "--out", "-o", help="Output .mp4 or .gif."),
    checkpoint: Path | None = typer.Option(
        None,
        "--checkpoint",
        "-c",
        help="Training run folder or pipeline folder (default: the bundled model, or "
        "$SPACETIME_DEFAULT_MODEL).",
    ),
    frames: int | None = number_option(
        None, "--frames", kind=integer(1, 4096), help="Frames per video (default: the model's)."
    ),
    size: int | None = number_option(
        None, "--size", kind=integer(1, 4096), help="Frame side in pixels (default: the model's)."
    ),
    steps: int = number_option(25, "--steps", kind=SAMPLER_STEPS, help="Sampler steps."),
    guidance: float = number_option(
        5.0, "--guidance", kind=GUIDANCE, help="Classifier-free guidance scale (1 = none)."
    ),
    sampler: str = typer.Option(
        "ddim", help="Sampler (spacetime.diffusion.SAMPLERS), e.g. ddim, dpm++, flow-euler."
    ),
    seed: int = number_option(
        0,
        "--seed",
        kind=SEED,
        help="Seed of the first video; video i uses seed + i (with --best-of N, its variants "
        "use seed + i*N .. seed + i*N + N-1).",
    ),
    num: int = number_option(
        1, "--num", kind=integer(1, 10_000), help="Number of videos (written as OUT_0, ...)."
    ),
    image: Path | None = typer.Option(None, help="First frame (PNG/JPEG): image -> video."),
    fps: float = number_option(8.0, "--fps", kind=FPS, help="Frame rate of the written file."),
    batch_size: int | None = number_option(
        None, "--batch-size", kind=integer(1), help="Videos per forward pass (default: all)."
    ),
    best_of: int = number_option(
        1,
        "--best-of",
        kind=integer(1, 1000),
        help="Generate N variants per video and keep the one the evaluator ranks first "
        "(oracle adherence for ShapesWorld captions, then the coherence metrics).",
    ),
    device: str = typer.Option("cpu", help="torch device, e.g. cpu, cuda, cuda:1, mps."),
    long: str | None = typer.Option(
        None,
        "--long",
        help="Make --frames frames in windows: extend, guided, noisy, sliding or keyframes "
        "(see the README, 'Long videos').",
    ),
    window: int | None = typer.Option(
        None, help="--long: frames per network call (default: the model's clip length)."
    ),
    overlap: int | None = typer.Option(
        None, help="--long: frames consecutive windows share (default: half the window)."
    ),
    cascade: Path | None = typer.Option(
        None,
        help="A cascade YAML file or bundled recipe name, e.g. cascade-shapes "
        "(base -> long video -> super-resolution); no --checkpoint.",
    ),
) -> None:
    """Generate videos from a text prompt with a trained model."""
    import torch

    from spacetime.data.image_folder import read_image
    from spacetime.video.writer import write_video

    if seed + num * best_of - 1 > SEED_LIMIT:
        raise SpacetimeError(
            f"--seed {seed} + --num {num} x --best-of {best_of} passes the largest seed "
            f"{SEED_LIMIT}"
        )
    paths = output_paths(out, num)
    settings = long_settings(long, window, overlap)
    if cascade is not None and checkpoint is not None:
        raise SpacetimeError("--cascade names its own models; drop --checkpoint")
    first = read_image(image) if image is not None else None
    try:
        torch_device = torch.device(device)
    except RuntimeError:
        raise SpacetimeError(f"--device {device!r} is not a torch device") from None
    started = time.perf_counter()
    count = num * best_of  # video i's variants are rows i*N .. i*N + N-1
    prompts, seeds = [prompt] * count, [seed + i for i in range(count)]
    if cascade is not None:
        from spacetime.pipelines.cascade import Cascade

        folder = cascade
        candidates = Cascade.from_yaml(cascade).run(
            prompts, seeds, device=torch_device, image=first, frames=frames, long=settings
        )
    else:
        from spacetime.pipelines.loading import resolve_pipeline
        from spacetime.pipelines.long_video import generate_videos
        from spacetime.pipelines.video_pipeline import VideoPipeline

        folder = resolve_pipeline(checkpoint)
        pipe = VideoPipeline.from_pretrained(folder, device=torch_device)
        candidates = generate_videos(pipe, prompts, seeds=seeds, frames=frames, size=size,
                                     image=first, long=settings, batch_size=batch_size,
                                     steps=steps, guidance=guidance, sampler=sampler)  # fmt: skip
    videos = keep_best(candidates, prompt, best_of, seed, fps)
    for path, video in zip(paths, videos, strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_video(path, video, fps)
    elapsed = time.perf_counter() - started
    t, h, w = videos.shape[1:4]
    for path in paths:
        typer.echo(f"wrote {path} ({t} frames, {w}x{h}, {fps:g} fps)")
    made = f"{num} video(s)" + (f", each the best of {best_of}," if best_of > 1 else "")
    typer.echo(f"generated {made} from {folder} in {elapsed:.1f} s")


def keep_best(
    candidates: np.ndarray, prompt: str, best_of: int, seed: int, fps: float
) -> np.ndarray:
    """uint8 ``(num, T, H, W, 3)``: of each run of ``best_of`` variants in ``candidates``
    (``(num * best_of, T, H, W, 3)``), the one the evaluator ranks first, saying which."""
    if best_of == 1:
        return candidates
    from spacetime.pipelines.best_of import best_of_groups

    kept = []
    for i, best in enumerate(best_of_groups(candidates, prompt, best_of, fps=fps)):
        score = "" if best.adherence is None else f", adherence {best.adherence:.2f}"
        typer.echo(f"video {i}: kept seed {seed + i * best_of + best.index} of {best_of} "
                   f"variants (coherence rank {best.rank}{score})")  # fmt: skip
        kept.append(candidates[i * best_of + best.index])
    return np.stack(kept)


def long_settings(long: str | None, window: int | None, overlap: int | None) -> LongVideo | None:
    """The ``--long`` settings (None without ``--long``); ``--window`` / ``--overlap`` need it."""
    from spacetime.pipelines.long_video import LONG_METHODS, LongVideo

    if long is None:
        if window is not None or overlap is not None:
            raise SpacetimeError("--window and --overlap apply to --long; add --long METHOD")
        return None
    if long not in LONG_METHODS:
        raise SpacetimeError(f"--long {long!r}: expected one of {', '.join(LONG_METHODS)}")
    return LongVideo(long, window=window, overlap=overlap)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("generate")(generate)
