"""Rank several generators (folders of their videos) on the coherence metrics and the oracle.

Per generator, each metric is averaged over its clips (the mean of each clip's per-transition
mean). Generators are then ranked per column, 1 = best:

* failure metrics (``flicker``, ``warp_error``, ..., ``teleport``): lower is better;
* ``dynamic_degree`` is *not* ranked by itself: more motion is not better, but a frozen clip
  scores 0 on every failure metric and must not win for it. A clip is *frozen* when its mean
  ``dynamic_degree`` is below ``frozen_threshold``; the ranked column is ``frozen`` (the
  fraction of a generator's clips that are frozen, lower is better), and the failure-metric
  means are taken over the generator's *moving* clips only (all frozen: ``None``, ranked last),
  so a generator that never moves cannot win the failure columns either;
* oracle scores (when captions of ShapesWorld form apply): ``teleport_rate`` lower is better,
  the others (adherence, identity consistency, background stability, occlusion reappearance,
  physics) higher is better. ``None`` (e.g. no occlusion in the scene, or no object found so
  no transition to check) is left out of the mean; a generator whose mean is ``None`` ranks
  last on that column.

The overall score is the mean of a generator's per-column ranks (a scale-free aggregate, like
the average rank of Demšar, JMLR 2006), and the overall rank orders that score. Ties share the
smaller rank.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spacetime import __version__
from spacetime.errors import SpacetimeError
from spacetime.evaluation.report.schema import MOTION_METRIC, VideoReport

__all__ = [
    "FROZEN_THRESHOLD",
    "HIGHER_IS_BETTER",
    "Comparison",
    "GeneratorSummary",
    "compare_generators",
    "rank_values",
]

FROZEN_THRESHOLD = 0.1
"""A clip whose mean ``dynamic_degree`` is below this (%diag/frame) counts as frozen.

Measured: a frozen frame written to mp4 scores ~0.0004; ShapesWorld objects moving
1.5-3 px/frame at 64 px ~1.8; the first 8 frames of the real clips in ``../shared/data/real``
at 128 px 0.02-1.3 (``02_cups``, a nearly still camera, 0.023 and so counts as frozen;
``03_blocks`` 0.58; ``cockatoo`` 1.25). Caveat: per-frame noise on a frozen frame (sigma 3
levels) makes optical flow report ~0.67, so a noisy freeze is not caught.
"""

HIGHER_IS_BETTER = frozenset(
    {
        "adherence",
        "identity_consistency",
        "background_stability",
        "occlusion_reappearance",
        "physics",
    }
)
"""Ranked columns where a larger value is better; every other ranked column is lower-better."""


@dataclass
class GeneratorSummary:
    """One generator's row: means over its clips, per-column ranks and the overall rank."""

    name: str
    path: str
    reports: list[VideoReport]
    means: dict[str, float | None]
    ranks: dict[str, int] = field(default_factory=dict)
    score: float = float("nan")
    rank: int = 0

    def to_dict(self) -> dict[str, Any]:
        """``{"name", "path", "videos", "means", "ranks", "score", "rank", "entries"}``."""
        return {
            "name": self.name,
            "path": self.path,
            "videos": len(self.reports),
            "means": self.means,
            "ranks": self.ranks,
            "score": self.score,
            "rank": self.rank,
            "entries": [report.to_dict() for report in self.reports],
        }


@dataclass
class Comparison:
    """The generators, best first, and the columns they were ranked on."""

    generators: list[GeneratorSummary]
    columns: list[str]
    frozen_threshold: float = FROZEN_THRESHOLD

    def to_dict(self) -> dict[str, Any]:
        """``{"spacetime_version", "columns", "frozen_threshold", "generators": [...]}``."""
        return {
            "spacetime_version": __version__,
            "columns": self.columns,
            "frozen_threshold": self.frozen_threshold,
            "generators": [g.to_dict() for g in self.generators],
        }


def rank_values(values: Sequence[float | None], *, higher_is_better: bool = False) -> list[int]:
    """Competition ranks ("1224"): 1 = best, ties share the smaller rank, ``None`` ranks last."""
    worst = -np.inf if higher_is_better else np.inf
    keys = [worst if v is None or not np.isfinite(v) else float(v) for v in values]
    sign = -1.0 if higher_is_better else 1.0
    return [1 + sum(sign * other < sign * key for other in keys) for key in keys]


def _is_frozen(report: VideoReport, threshold: float) -> bool:
    """Whether the clip's mean ``dynamic_degree`` is below ``threshold`` (False if unmeasured)."""
    degree = report.metrics.get(MOTION_METRIC, {}).get("mean")
    return isinstance(degree, (int, float)) and degree < threshold


def _mean_or_none(values: Sequence[float | None]) -> float | None:
    kept = [float(v) for v in values if isinstance(v, (int, float)) and np.isfinite(v)]
    return float(np.mean(kept)) if kept else None


def summarize(
    name: str, path: str, reports: Sequence[VideoReport], *, frozen_threshold: float
) -> GeneratorSummary:
    """Means over ``reports`` of every metric, of the frozen fraction and of the oracle scores.

    ``dynamic_degree`` is averaged over every clip; the failure metrics over the moving
    (non-frozen) clips only, ``None`` when every clip is frozen.
    """
    assert reports, "a generator without clips cannot be summarized"
    means: dict[str, float | None] = {}
    metric_names = [n for n in reports[0].metrics if all(n in r.metrics for r in reports)]
    moving = [r for r in reports if not _is_frozen(r, frozen_threshold)]
    for metric in metric_names:
        clips = reports if metric == MOTION_METRIC else moving
        means[metric] = _mean_or_none([r.metrics[metric]["mean"] for r in clips])
    if MOTION_METRIC in means:
        means["frozen"] = 1.0 - len(moving) / len(reports)
    oracles = [r.oracle for r in reports if r.oracle is not None]
    if oracles:
        keys = [k for k, v in oracles[0].items() if isinstance(v, (int, float, type(None)))]
        for key in keys:
            means[f"oracle.{key}"] = _mean_or_none([o.get(key) for o in oracles])
    return GeneratorSummary(name=name, path=path, reports=list(reports), means=means)


def _higher_is_better(column: str) -> bool:
    return column.removeprefix("oracle.") in HIGHER_IS_BETTER


def compare_generators(
    groups: Mapping[str, Sequence[VideoReport]],
    *,
    paths: Mapping[str, str] | None = None,
    frozen_threshold: float = FROZEN_THRESHOLD,
) -> Comparison:
    """Rank generators given as ``{name: its clips' reports}`` (see the module docstring).

    Columns are those every generator has (so oracle columns count only when every generator
    had captions); ``dynamic_degree`` is reported but ranked through ``frozen``.

    Raises:
        SpacetimeError: no generator, or a generator without clips.
    """
    if not groups:
        raise SpacetimeError("no generator given: compare needs at least one folder of videos")
    for name, reports in groups.items():
        if not reports:
            raise SpacetimeError(f"generator {name!r} has no videos to compare")
    summaries = [
        summarize(name, (paths or {}).get(name, name), reports, frozen_threshold=frozen_threshold)
        for name, reports in groups.items()
    ]
    shared = set.intersection(*(set(s.means) for s in summaries))
    columns = [c for c in summaries[0].means if c in shared and c != MOTION_METRIC]
    columns = [c for c in columns if any(s.means[c] is not None for s in summaries)]
    for column in columns:
        ranks = rank_values(
            [s.means[column] for s in summaries], higher_is_better=_higher_is_better(column)
        )
        for summary, rank in zip(summaries, ranks, strict=True):
            summary.ranks[column] = rank
    for summary in summaries:
        summary.score = float(np.mean(list(summary.ranks.values()))) if columns else 0.0
    for summary, rank in zip(summaries, rank_values([s.score for s in summaries]), strict=True):
        summary.rank = rank
    summaries.sort(key=lambda s: (s.rank, s.name))
    return Comparison(generators=summaries, columns=columns, frozen_threshold=frozen_threshold)
