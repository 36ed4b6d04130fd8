"""Generate ShapesWorld clips with a pipeline and score them against exact ground truth.

A :class:`ShapesTask` pairs a rendered ground-truth clip (caption, geometry, frames) with a
sampling seed and a *mode*: ``text`` (caption only), ``image`` (the caption plus the ground
truth's first frame: image->video) or ``interpolate`` (plus its first and last frames).
:func:`generate_tasks` samples every task in one batched pipeline call; :func:`score_clips`
runs the coherence metrics and the ShapesWorld oracle; :func:`summarize` averages them into
the numbers ``benchmarks/default_quality.py`` and ``spacetime demo`` report::

    tasks = held_out_tasks(8, size=64, frames=16)
    videos = generate_tasks(pipe, tasks, steps=25)               # uint8 (8, 16, 64, 64, 3)
    summary = summarize(score_clips(videos, tasks))               # {"adherence": ..., ...}

Held-out scenes: training draws ShapesWorld scenes from ``ShapesDataset`` seeds
``mix_seed(base, i)``, 63-bit hashes, while held-out scenes use the consecutive seeds
``HELD_OUT_SEED + i`` (10,000,000 onward). The chance that any of a few hundred held-out
seeds equals one of a few million training hashes is below 1e-10, so held-out geometry is
unseen; captions are drawn from the same grammar, so the *wording* is in-distribution.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from spacetime.data import shapes
from spacetime.errors import SpacetimeError
from spacetime.evaluation.oracle import score_video
from spacetime.evaluation.report import VideoReport, evaluate_frames
from spacetime.pipelines.video_pipeline import VideoPipeline

MODES: tuple[str, ...] = ("text", "image", "interpolate")
"""Generation modes: caption only; plus the first frame; plus the first and last frames."""

HELD_OUT_SEED = 10_000_000
"""First ShapesWorld scene seed of the held-out set (see the module docstring)."""

ORACLE_SCORES: tuple[str, ...] = (
    "adherence",
    "teleport_rate",
    "identity_consistency",
    "occlusion_reappearance",
    "physics",
    "background_stability",
)
"""Oracle scores averaged by :func:`summarize` (``occlusion_reappearance`` over pillar clips)."""

ATTRIBUTES: tuple[str, ...] = (
    "background",
    "count",
    "colour",
    "shape",
    "size",
    "motion",
    "pillar",
)
"""The caption's attributes the oracle checks one by one (``OracleReport.attributes``)."""

TARGETS: dict[str, tuple[str, float]] = {
    "adherence": (">=", 0.90),
    "teleport_rate": ("<=", 0.01),
    "identity_consistency": (">=", 0.95),
    "occlusion_reappearance": (">=", 0.80),
}
"""Quality targets of the default model: ``score -> (comparison, threshold)``."""

__all__ = [
    "ATTRIBUTES",
    "HELD_OUT_SEED",
    "MODES",
    "ORACLE_SCORES",
    "TARGETS",
    "ShapesTask",
    "caption_task",
    "generate_tasks",
    "held_out_tasks",
    "meets_target",
    "score_clips",
    "summarize",
]


@dataclass(frozen=True)
class ShapesTask:
    """One clip to generate: ``clip`` is the ground truth (its caption is the prompt),
    ``mode`` one of :data:`MODES`, ``seed`` the sampler's noise seed, ``name`` a label."""

    name: str
    clip: shapes.ShapesClip
    mode: str = "text"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise SpacetimeError(f"task {self.name!r}: mode {self.mode!r} is not one of {MODES}")

    @property
    def caption(self) -> str:
        """The prompt: the ground-truth clip's ShapesWorld caption."""
        return self.clip.caption

    def given_frames(self) -> dict[int, np.ndarray] | None:
        """Frames the pipeline keeps fixed: none, the first, or the first and the last."""
        video = self.clip.video  # (T, H, W, 3) uint8
        if self.mode == "image":
            return {0: video[0]}
        if self.mode == "interpolate":
            return {0: video[0], -1: video[-1]}
        return None


def caption_task(
    name: str,
    caption: str,
    *,
    scene_seed: int = 0,
    mode: str = "text",
    seed: int = 0,
    size: int = 64,
    frames: int = 16,
    fps: float = 8.0,
) -> ShapesTask:
    """A task for a given ShapesWorld ``caption``; its ground truth is laid out from
    ``scene_seed`` at ``size`` px, ``frames`` frames and ``fps`` (SpacetimeError if the caption
    is not of ShapesWorld form or does not fit)."""
    scene = shapes.scene_from_caption(caption, scene_seed, size=size, frames=frames, fps=fps)
    return ShapesTask(name, shapes.render(scene), mode, seed)


def held_out_tasks(
    n: int,
    *,
    size: int = 64,
    frames: int = 16,
    fps: float = 8.0,
    mode: str = "text",
    first_seed: int = HELD_OUT_SEED,
) -> list[ShapesTask]:
    """``n`` random ShapesWorld scenes with scene seeds ``first_seed + i``, sampler seed ``i``."""
    if n < 1:
        raise SpacetimeError(f"the number of held-out clips must be >= 1; got {n}")
    return [
        ShapesTask(
            f"heldout_{i:04d}",
            shapes.generate(first_seed + i, size=size, frames=frames, fps=fps),
            mode,
            i,
        )
        for i in range(n)
    ]


def generate_tasks(
    pipe: VideoPipeline,
    tasks: Sequence[ShapesTask],
    *,
    steps: int = 25,
    guidance: float = 5.0,
    sampler: str = "ddim",
    batch_size: int | None = None,
    progress: bool = True,
) -> np.ndarray:
    """Sample every task (its caption, seed and given frames) in batched pipeline calls.

    Clips are generated at the ground truth's length and size. Returns uint8
    (N, T, H, W, 3). Given frames come out as in the ground truth: exactly for pixel models,
    through the autoencoder's reconstruction (encode -> decode) for latent ones.
    """
    if not tasks:
        raise SpacetimeError("no task to generate")
    shapes_seen = {task.clip.video.shape for task in tasks}
    if len(shapes_seen) != 1:
        raise SpacetimeError(f"tasks must share one clip shape (T, H, W, 3); got {shapes_seen}")
    frames, height, width = next(iter(shapes_seen))[:3]
    given = [task.given_frames() for task in tasks]
    return pipe(
        [task.caption for task in tasks],
        seeds=[task.seed for task in tasks],
        frames=frames,
        size=(height, width),
        steps=steps,
        guidance=guidance,
        sampler=sampler,
        given_frames=given if any(given) else None,
        batch_size=batch_size,
        progress=progress,
    )


def score_clips(
    videos: np.ndarray | Sequence[np.ndarray],
    tasks: Sequence[ShapesTask],
    *,
    analysis_size: int = 256,
    with_strip: bool = False,
    progress: bool = False,
    desc: str = "scoring",
) -> list[VideoReport]:
    """Coherence metrics and oracle of each clip ``videos[i]`` uint8 (T, H, W, 3) against
    ``tasks[i]``'s caption (see :func:`spacetime.evaluation.report.evaluate_frames`); clips of
    one frame (still images) get the oracle only."""
    from tqdm.auto import tqdm

    if len(videos) != len(tasks):
        raise SpacetimeError(f"{len(videos)} videos for {len(tasks)} tasks")
    pairs = tqdm(
        list(zip(videos, tasks, strict=True)),
        desc=desc,
        unit="clip",
        disable=None if progress else True,
        leave=False,
    )
    return [
        evaluate_frames(
            np.asarray(video),
            video=task.name,
            fps=task.clip.fps,
            caption=task.caption,
            analysis_size=analysis_size,
            with_strip=with_strip,
        )
        if len(video) >= 2
        else _still_report(np.asarray(video), task)
        for video, task in pairs
    ]


def _still_report(frames: np.ndarray, task: ShapesTask) -> VideoReport:
    """The report of a one-frame clip: the oracle only (coherence needs two frames)."""
    oracle = score_video(frames, task.caption, fps=task.clip.fps).to_dict()
    t, h, w = frames.shape[:3]
    return VideoReport(task.name, t, h, w, task.clip.fps, {}, task.caption, oracle)


def summarize(reports: Sequence[VideoReport]) -> dict[str, Any]:
    """Means over clips: each oracle score of :data:`ORACLE_SCORES` and each coherence metric
    (as ``metric/<name>``, the mean of the per-clip means).

    ``teleport_rate`` pools transitions (teleports of all clips / their transitions), so a
    clip with three objects weighs three times one with one; ``occlusion_reappearance`` is over
    clips whose caption has a pillar (``None`` if none has); ``clips`` and ``pillar_clips``
    count them. ``attributes`` holds the mean of each of :data:`ATTRIBUTES` and
    ``by_objects["1"|"2"|"3"]`` the clip count, adherence and attributes of the clips whose
    caption has that many objects (binding shows in the 2- and 3-object shape scores).
    """
    if not reports:
        raise SpacetimeError("no report to summarize")
    oracles = [r.oracle for r in reports if r.oracle is not None]
    out: dict[str, Any] = {"clips": len(reports)}
    if oracles:
        for name in ORACLE_SCORES:
            values = [o[name] for o in oracles if o.get(name) is not None]
            out[name] = float(np.mean(values)) if values else None
        objects = [obj for o in oracles for obj in o["objects"]]
        transitions = sum(obj["transitions"] for obj in objects)
        if transitions:
            out["teleport_rate"] = sum(obj["teleports"] for obj in objects) / transitions
        out["pillar_clips"] = sum(o.get("occlusion_reappearance") is not None for o in oracles)
        out["attributes"] = _attribute_means(oracles)
        out["by_objects"] = {}
        for n in sorted({len(o["objects"]) for o in oracles}):
            group = [o for o in oracles if len(o["objects"]) == n]
            out["by_objects"][str(n)] = {
                "clips": len(group),
                "adherence": float(np.mean([o["adherence"] for o in group])),
                "attributes": _attribute_means(group),
            }
    for name in reports[0].metrics:
        out[f"metric/{name}"] = float(np.mean([r.metrics[name]["mean"] for r in reports]))
    return out


def _attribute_means(oracles: Sequence[dict[str, Any]]) -> dict[str, float | None]:
    """Mean of each per-clip attribute score (``OracleReport.attributes``) over the clips
    where it applies (None where it applies to none)."""
    names = ATTRIBUTES
    out: dict[str, float | None] = {}
    for name in names:
        values = [o["attributes"][name] for o in oracles if o["attributes"][name] is not None]
        out[name] = float(np.mean(values)) if values else None
    return out


def meets_target(name: str, value: float | None) -> bool | None:
    """Whether ``value`` of score ``name`` meets its :data:`TARGETS` entry (``None`` if the
    score has no target or no value)."""
    if name not in TARGETS or value is None:
        return None
    op, threshold = TARGETS[name]
    return value >= threshold if op == ">=" else value <= threshold
