"""The demo: the default model generating ShapesWorld clips, scored against ground truth.

:func:`run_model_demo` generates one clip per prompt of :data:`MODEL_PROMPTS` with a pipeline —
one object, several objects, a small object passing behind a pillar, a bounce, and an
image->video clip whose first frame comes from ShapesWorld — in one batched sampler call, and
writes each as mp4 and gif next to the ShapesWorld ground-truth rendering of the same caption
(``*_truth``). Both are read back from the mp4 files and scored with the coherence metrics and
the ShapesWorld oracle, so the report shows the model's numbers beside the numbers of a
perfect clip. Side-by-side gifs (generated | truth) are in ``OUT/side_by_side``.

:func:`run_demo` is the evaluation half alone, with no model: it renders a few ShapesWorld
clips, breaks a copy of one on purpose (its object teleports for one frame,
:func:`spacetime.evaluation.corruptions.teleport_object`, plus brightness flicker) and scores
them; the corrupted clip stands out in the table, in ``report.json`` and in ``report.html``.

``spacetime demo`` runs one or the other and prints the result.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spacetime.data import shapes
from spacetime.errors import SpacetimeError
from spacetime.evaluation import corruptions
from spacetime.evaluation.report import (
    EvalRun,
    VideoReport,
    eval_html,
    evaluate_videos,
    write_html,
    write_report,
)
from spacetime.pipelines.shapes_eval import caption_task, generate_tasks
from spacetime.pipelines.video_pipeline import VideoPipeline
from spacetime.video import write_gif, write_mp4

__all__ = [
    "CORRUPTED_SOURCE",
    "DEMO_CAPTIONS",
    "MODEL_PROMPTS",
    "DemoResult",
    "run_demo",
    "run_model_demo",
    "side_by_side",
]

DEMO_CAPTIONS: tuple[tuple[str, str], ...] = (
    ("occlusion", "a red circle moves right behind a pillar on a striped background"),
    ("bounce", "a large blue square bounces on a checkered background"),
    (
        "three_objects",
        "a yellow triangle moves left and a green circle moves down and a purple square "
        "stays still",
    ),
)
"""(name, caption) of each clean clip of the no-model showcase (:func:`run_demo`)."""

CORRUPTED_SOURCE = "bounce"
"""The clean no-model clip that is copied and corrupted (teleport + flicker)."""

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
    """The no-model showcase: render, corrupt, write and evaluate clips under ``out``.

    ``size`` is the frame side in px (32..256), ``frames`` the clip length, ``fps`` the frame
    rate, ``seed`` fixes the scenes' geometry (same seed, same files).
    """
    named = []
    for index, (name, caption) in enumerate(DEMO_CAPTIONS):
        scene = shapes.scene_from_caption(caption, seed + index, size=size, frames=frames, fps=fps)
        named.append((name, shapes.render(scene)))
    source = dict(named)[CORRUPTED_SOURCE]
    broken = corruptions.flicker(
        corruptions.teleport_object(source.video, source.ground_truth), 1.0, seed=seed
    )
    entries = [
        (f"{i + 1:02d}_{name}", clip.video, clip.caption) for i, (name, clip) in enumerate(named)
    ]
    entries.append((f"{len(entries) + 1:02d}_{CORRUPTED_SOURCE}_corrupted", broken, source.caption))
    return _write_and_evaluate(out, entries, fps, "spacetime demo (evaluation only)")


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
    height, width = pipe.sample_size
    if size is None and height != width:
        raise SpacetimeError(
            f"the model makes {height}x{width} frames; ShapesWorld is square: pass a size (--size)"
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
