"""`spacetime demo`: the default model generating ShapesWorld clips, scored against ground truth.

``spacetime demo --out DIR`` loads the default model (:mod:`spacetime.pipelines.default`),
generates one clip per prompt of :data:`MODEL_PROMPTS` — one object, several objects, a small
object passing behind a pillar, a bounce, and an image->video clip whose first frame comes from
ShapesWorld — in one batched sampler call, and writes each as mp4 and gif next to the
ShapesWorld ground-truth rendering of the same caption (``*_truth``). Both are read back from
the mp4 files and scored with the coherence metrics and the ShapesWorld oracle, so the report
shows the model's numbers beside the numbers of a perfect clip. Side-by-side gifs
(generated | truth) are in ``DIR/side_by_side``.

``spacetime demo --no-model`` is the evaluation half alone, with no model: it renders a few
ShapesWorld clips, breaks a copy of one on purpose (its object teleports for one frame, plus
brightness flicker from :mod:`spacetime.evaluation.corruptions`) and scores them;
the corrupted clip stands out in the table, in ``report.json`` and in ``report.html``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import typer

from spacetime.cli.options import GUIDANCE, SAMPLER_STEPS, SEED, integer, number_option
from spacetime.errors import SpacetimeError

if TYPE_CHECKING:
    from spacetime.evaluation.report import VideoReport
    from spacetime.pipelines import VideoPipeline

DEMO_CAPTIONS: tuple[tuple[str, str], ...] = (
    ("occlusion", "a red circle moves right behind a pillar on a striped background"),
    ("bounce", "a large blue square bounces on a checkered background"),
    (
        "three_objects",
        "a yellow triangle moves left and a green circle moves down and a purple square "
        "stays still",
    ),
)
"""(name, caption) of each clean clip of the ``--no-model`` showcase."""

CORRUPTED_SOURCE = "bounce"
"""The clean ``--no-model`` clip that is copied and corrupted (teleport + flicker)."""

MODEL_PROMPTS: tuple[tuple[str, str, str], ...] = (
    ("single", "a red circle moves right", "text"),
    ("multi", "a yellow triangle moves left and a blue square moves down", "text"),
    (
        "occlusion",
        "a small green circle moves right behind a pillar on a striped background",
        "text",
    ),
    ("bounce", "a large purple square bounces on a checkered background", "text"),
    ("image_to_video", "a cyan triangle moves up on a striped background", "image"),
)
"""(name, caption, mode) of each clip the model generates; mode ``image`` gives the model the
ground truth's first frame (see :mod:`spacetime.pipelines.shapes_eval`)."""

GAP = 2
"""Pixels of white between the generated and the ground-truth clip in side-by-side gifs."""


@dataclass
class DemoResult:
    """Where a demo put things: one mp4 and one gif per clip, captions, reports, timings (s)."""

    out: Path
    videos: list[Path]
    gifs: list[Path]
    captions: Path
    report_json: Path
    report_html: Path
    reports: list[VideoReport]
    side_by_side: list[Path] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def _write_and_evaluate(
    out: Path, entries: list[tuple[str, np.ndarray, str]], fps: float, title: str
) -> DemoResult:
    """Write ``(stem, uint8 (T, H, W, 3), caption)`` entries to ``out/clips`` as mp4 + gif with
    a ``captions.jsonl``, then score the mp4 files (decoded back, as ``spacetime eval`` would)
    into ``out/report.json`` and ``out/report.html``."""
    from spacetime.evaluation.report import (
        EvalRun,
        eval_html,
        evaluate_videos,
        write_html,
        write_report,
    )
    from spacetime.video import write_gif, write_mp4

    clips_dir = out / "clips"
    clips_dir.mkdir(parents=True, exist_ok=True)
    videos, gifs = [], []
    for stem, video, _ in entries:
        videos.append(write_mp4(clips_dir / f"{stem}.mp4", video, fps))
        gifs.append(write_gif(clips_dir / f"{stem}.gif", video, fps))
    captions = clips_dir / "captions.jsonl"
    lines = [json.dumps({"file": f"{stem}.mp4", "caption": text}) for stem, _, text in entries]
    captions.write_text("\n".join(lines) + "\n", encoding="utf-8")
    started = time.perf_counter()
    reports = evaluate_videos(
        videos, captions=[text for _, _, text in entries], with_strip=True, desc="evaluating"
    )
    seconds = {"evaluate": time.perf_counter() - started}
    report_json = write_report(out / "report.json", EvalRun(reports))
    report_html = write_html(out / "report.html", eval_html(reports, title=title))
    return DemoResult(out, videos, gifs, captions, report_json, report_html, reports, [], seconds)


def run_demo(
    out: Path, *, size: int = 64, frames: int = 16, fps: float = 8.0, seed: int = 0
) -> DemoResult:
    """The ``--no-model`` showcase: render, corrupt, write and evaluate clips under ``out``.

    ``size`` is the frame side in px (32..256), ``frames`` the clip length, ``fps`` the frame
    rate, ``seed`` fixes the scenes' geometry (same seed, same files).
    """
    from spacetime.data import shapes
    from spacetime.evaluation import corruptions

    named = []
    for index, (name, caption) in enumerate(DEMO_CAPTIONS):
        scene = shapes.scene_from_caption(caption, seed + index, size=size, frames=frames, fps=fps)
        named.append((name, shapes.render(scene)))
    source = dict(named)[CORRUPTED_SOURCE]
    broken = corruptions.flicker(teleport_object(source.video, source.ground_truth), 1.0, seed=seed)
    entries = [
        (f"{i + 1:02d}_{name}", clip.video, clip.caption) for i, (name, clip) in enumerate(named)
    ]
    entries.append((f"{len(entries) + 1:02d}_{CORRUPTED_SOURCE}_corrupted", broken, source.caption))
    return _write_and_evaluate(out, entries, fps, "spacetime demo (evaluation only)")


def teleport_object(video: np.ndarray, ground_truth: dict, *, jump: float = 3.0) -> np.ndarray:
    """``video`` uint8 (T, H, W, 3) with its first object moved ``jump`` radii sideways on the
    middle frame only: a generator's teleport of the subject, exact because ShapesWorld's
    background is static (the per-pixel median over time) and the object's place is known
    from ``ground_truth``."""
    out = video.copy()
    k = len(video) // 2
    obj = ground_truth["per_frame"][k]["objects"][0]
    (cx, cy), radius = obj["center"], obj["radius"]
    height, width = video.shape[1:3]
    background = np.median(video, axis=0).astype(np.uint8)  # (H, W, 3)
    half = int(np.ceil(radius)) + 2
    y0, y1 = max(0, round(cy) - half), min(height, round(cy) + half)
    x0, x1 = max(0, round(cx) - half), min(width, round(cx) + half)
    box = video[k, y0:y1, x0:x1]  # (h, w, 3)
    is_object = np.abs(box.astype(int) - background[y0:y1, x0:x1]).sum(-1) > 24  # (h, w)
    shift = round(jump * radius) * (-1 if cx > width / 2 else 1)
    nx0 = int(np.clip(x0 + shift, 0, width - (x1 - x0)))
    out[k, y0:y1, x0:x1][is_object] = background[y0:y1, x0:x1][is_object]
    out[k, y0:y1, nx0 : nx0 + (x1 - x0)][is_object] = box[is_object]
    return out


def side_by_side(generated: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """``generated | truth`` uint8 (T, H, 2 W + GAP, 3), with a white gap between them."""
    gap = np.full((*generated.shape[:2], GAP, 3), 255, np.uint8)  # (T, H, GAP, 3)
    return np.concatenate([generated, gap, truth], axis=2)


def run_model_demo(
    out: Path,
    pipe: VideoPipeline,
    *,
    steps: int = 20,
    guidance: float = 5.0,
    sampler: str = "ddim",
    seed: int = 0,
    size: int | None = None,
    frames: int | None = None,
    fps: float = 8.0,
    progress: bool = True,
) -> DemoResult:
    """Generate :data:`MODEL_PROMPTS` with ``pipe`` in one batch and score them beside their
    ShapesWorld ground truth (see the module docstring).

    ``size`` (px, square, 32..256) and ``frames`` default to the model's training shape;
    ``seed`` fixes the ground-truth scenes (scene seed ``seed + i``) and the sampler noise
    (seed ``seed + i`` for prompt ``i``); ``steps``, ``guidance`` and ``sampler`` go to the
    pipeline.
    """
    from spacetime.pipelines.shapes_eval import caption_task, generate_tasks
    from spacetime.video import write_gif

    height, width = pipe.sample_size
    if size is None and height != width:
        raise SpacetimeError(
            f"the model makes {height}x{width} frames; ShapesWorld is square: pass --size"
        )
    size = height if size is None else size
    frames = pipe.sample_frames if frames is None else frames
    tasks = [
        caption_task(name, caption, scene_seed=seed + i, mode=mode, seed=seed + i, size=size,
                     frames=frames, fps=fps)
        for i, (name, caption, mode) in enumerate(MODEL_PROMPTS)
    ]  # fmt: skip
    started = time.perf_counter()
    generated = generate_tasks(
        pipe, tasks, steps=steps, guidance=guidance, sampler=sampler, progress=progress
    )  # (N, T, H, W, 3)
    seconds = {"generate": time.perf_counter() - started}
    entries: list[tuple[str, np.ndarray, str]] = []
    for i, (task, video) in enumerate(zip(tasks, generated, strict=True)):
        entries.append((f"{i + 1:02d}_{task.name}", video, task.caption))
        entries.append((f"{i + 1:02d}_{task.name}_truth", task.clip.video, task.caption))
    result = _write_and_evaluate(out, entries, fps, "spacetime demo: default model vs ShapesWorld")
    pairs_dir = out / "side_by_side"
    pairs_dir.mkdir(parents=True, exist_ok=True)
    for i, (task, video) in enumerate(zip(tasks, generated, strict=True)):
        pair = side_by_side(video, task.clip.video)
        result.side_by_side.append(write_gif(pairs_dir / f"{i + 1:02d}_{task.name}.gif", pair, fps))
    result.seconds = {**seconds, **result.seconds}
    return result


def _load_model(checkpoint: Path | None, device: str) -> tuple[VideoPipeline, Path]:
    """The pipeline for ``--checkpoint`` or the default model, with a pointer to
    ``--no-model`` when there is none."""
    import torch

    from spacetime.cli.generate_cmd import resolve_pipeline
    from spacetime.pipelines import VideoPipeline

    try:
        folder = resolve_pipeline(checkpoint)
    except SpacetimeError as err:
        if checkpoint is not None:
            raise
        raise SpacetimeError(
            f"{err}. To see the evaluator alone, with no model, run: spacetime demo --no-model"
        ) from None
    try:
        torch_device = torch.device(device)
    except RuntimeError:
        raise SpacetimeError(f"--device {device!r} is not a torch device") from None
    return VideoPipeline.from_pretrained(folder, device=torch_device), folder


def demo_command(
    out: Path = typer.Option(Path("demo_out"), "--out", help="Folder for the clips and reports."),
    no_model: bool = typer.Option(
        False, "--no-model", help="Evaluation only: render, corrupt and score clips, no model."
    ),
    checkpoint: Path | None = typer.Option(
        None, "--checkpoint", "-c", help="Pipeline or run folder (default: the bundled model)."
    ),
    steps: int = number_option(20, "--steps", kind=SAMPLER_STEPS, help="Sampler steps."),
    guidance: float = number_option(
        5.0, "--guidance", kind=GUIDANCE, help="Classifier-free guidance scale."
    ),
    sampler: str = typer.Option("ddim", "--sampler", help="Sampler name, e.g. ddim, dpm++."),
    size: int | None = number_option(
        None, "--size", kind=integer(1, 4096), help="Frame side in px (default: model's)."
    ),
    frames: int | None = number_option(
        None, "--frames", kind=integer(1, 4096), help="Frames (default: the model's)."
    ),
    seed: int = number_option(
        0, "--seed", kind=SEED, help="Seed of the scenes and of the sampler noise."
    ),
    device: str = typer.Option("cpu", "--device", help="torch device, e.g. cpu, cuda."),
) -> None:
    """Generate ShapesWorld clips with the default model and score them beside ground truth
    (--no-model: score rendered and corrupted clips, no model needed)."""
    from spacetime.evaluation.report import eval_tables, print_tables
    from spacetime.pipelines.default import default_model_path, has_default_model

    started = time.perf_counter()
    if no_model and checkpoint is not None:
        raise SpacetimeError("--no-model and --checkpoint exclude each other: give one")
    if not no_model and checkpoint is None and not has_default_model():
        # A checkout without the bundled weights still shows the evaluation half.
        typer.echo(
            f"spacetime demo: no default model is bundled ({default_model_path()} is missing); "
            "showing the evaluator alone (spacetime demo --no-model). Pass --checkpoint RUN or "
            "set SPACETIME_DEFAULT_MODEL to generate.",
            err=True,
        )
        no_model = True
    if no_model:
        result = run_demo(
            out, size=64 if size is None else size, frames=16 if frames is None else frames,
            seed=seed,
        )  # fmt: skip
    else:
        pipe, folder = _load_model(checkpoint, device)
        typer.echo(f"model: {folder}")
        result = run_model_demo(
            out, pipe, steps=steps, guidance=guidance, sampler=sampler, seed=seed, size=size,
            frames=frames,
        )  # fmt: skip
    print_tables(eval_tables(result.reports))
    typer.echo(f"clips (mp4 + gif): {result.out / 'clips'} ({len(result.videos)} each)")
    if result.side_by_side:
        typer.echo(f"side by side:      {result.out / 'side_by_side'} (generated | truth gifs)")
    typer.echo(f"captions:          {result.captions}")
    typer.echo(f"JSON report:       {result.report_json}")
    typer.echo(f"HTML report:       {result.report_html}")
    if no_model:
        typer.echo(
            f"the clip {result.videos[-1].name} was corrupted on purpose (teleport + flicker); "
            "see how it stands out. Score your own videos with: spacetime eval VIDEO_OR_DIR "
            "--html report.html"
        )
    else:
        typer.echo(
            f"generated {len(MODEL_PROMPTS)} clips in {result.seconds['generate']:.1f} s "
            f"({steps} {sampler} steps, guidance {guidance:g}); *_truth clips are ShapesWorld's "
            "ground truth for the same caption"
        )
    typer.echo(
        f"evaluated {len(result.videos)} clips in {result.seconds['evaluate']:.1f} s; "
        f"total {time.perf_counter() - started:.1f} s"
    )


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``app``."""
    app.command("demo")(demo_command)
