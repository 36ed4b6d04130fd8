"""Best of N: generate several variants of a prompt and keep the one the evaluator ranks first.

Sampling is cheap next to a user's time, and the evaluator sees what a user would see. Every
variant is scored with the coherence metrics and, when the prompt is a ShapesWorld caption,
with the oracle; the variants are then ordered

1. by oracle adherence (the share of the caption's objects drawn as asked), higher first, when
   the caption can be scored;
2. by :func:`~spacetime.evaluation.report.compare.compare_generators`' overall rank: the mean of
   the per-metric ranks (every failure metric, and the other oracle scores), where a frozen
   variant cannot win by not moving.

The ranking uses nothing but the frames and the prompt, so it works for any model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spacetime.errors import SpacetimeError
from spacetime.evaluation.report import VideoReport, evaluate_frames
from spacetime.evaluation.report.compare import compare_generators

__all__ = ["RankedVariant", "best_of_groups", "rank_variants"]


@dataclass(frozen=True)
class RankedVariant:
    """One variant: its ``index`` among the candidates, ``adherence`` (None: caption not
    scorable), overall coherence ``rank`` (1 = best) and the evaluator's ``report``."""

    index: int
    adherence: float | None
    rank: int
    report: VideoReport


def rank_variants(
    videos: Sequence[np.ndarray] | np.ndarray,
    prompt: str,
    *,
    fps: float = 8.0,
    analysis_size: int = 256,
) -> list[RankedVariant]:
    """The variants ``videos[i]`` uint8 (T, H, W, 3) of ``prompt``, best first (module docstring).

    Raises :class:`SpacetimeError` for no variant or clips of one frame (nothing to measure).
    """
    if len(videos) == 0:
        raise SpacetimeError("best-of needs at least one variant")
    reports = [
        evaluate_frames(
            np.asarray(v),
            video=f"variant {i}",
            fps=fps,
            caption=prompt or None,
            analysis_size=analysis_size,
        )
        for i, v in enumerate(videos)
    ]
    comparison = compare_generators({str(i): [r] for i, r in enumerate(reports)})
    rank = {int(g.name): g.rank for g in comparison.generators}
    ranked = [
        RankedVariant(i, None if r.oracle is None else float(r.oracle["adherence"]), rank[i], r)
        for i, r in enumerate(reports)
    ]
    return sorted(ranked, key=lambda v: (-(v.adherence or 0.0), v.rank, v.index))


def best_of_groups(
    candidates: np.ndarray, prompt: str, group: int, *, fps: float = 8.0
) -> list[RankedVariant]:
    """The first-ranked variant of each run of ``group`` consecutive ``candidates`` (uint8
    (num * group, T, H, W, 3), video ``i``'s variants at rows ``i * group .. i * group + group -
    1``), one per video; its ``index`` counts within the group."""
    if group < 1 or len(candidates) % group:
        raise SpacetimeError(f"{len(candidates)} candidates do not split into groups of {group}")
    return [
        rank_variants(candidates[lo : lo + group], prompt, fps=fps)[0]
        for lo in range(0, len(candidates), group)
    ]
