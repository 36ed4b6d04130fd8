"""``compute_metrics``: every temporal-coherence metric of a clip, sharing one flow pass."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from spacetime.errors import SpacetimeError
from spacetime.evaluation.flow import FLOW_WORKERS
from spacetime.evaluation.metrics.camera import background_swim
from spacetime.evaluation.metrics.context import AnalysisClip
from spacetime.evaluation.metrics.edges import edge_shimmer
from spacetime.evaluation.metrics.identity import identity_drift
from spacetime.evaluation.metrics.motion import dynamic_degree, motion_smoothness
from spacetime.evaluation.metrics.photometric import flicker, warp_error
from spacetime.evaluation.metrics.series import MetricSeries
from spacetime.evaluation.metrics.teleport import teleport

METRICS: dict[str, Callable[[AnalysisClip], np.ndarray]] = {
    "flicker": flicker,
    "warp_error": warp_error,
    "edge_shimmer": edge_shimmer,
    "background_swim": background_swim,
    "identity_drift": identity_drift,
    "motion_smoothness": motion_smoothness,
    "teleport": teleport,
    "dynamic_degree": dynamic_degree,
}
"""Metric functions by name; each maps an :class:`AnalysisClip` to ``(T - 1,)`` values."""

METRIC_NAMES: tuple[str, ...] = tuple(METRICS)
"""The eight metric names, in report order (DESIGN.md)."""

UNITS: dict[str, str] = {
    "flicker": "8-bit levels",
    "warp_error": "8-bit levels",
    "edge_shimmer": "fraction of edge energy",
    "background_swim": "%diag/frame",
    "identity_drift": "8-bit Lab levels",
    "motion_smoothness": "%diag/frame^3",
    "teleport": "%diag",
    "dynamic_degree": "%diag/frame",
}
"""Unit of each metric (``%diag``: percent of the image diagonal)."""


def compute_metrics(
    frames: np.ndarray,
    *,
    names: Sequence[str] | None = None,
    analysis_size: int | None = 256,
    flow_preset: str = "ultrafast",
    threads: int | None = None,
) -> dict[str, MetricSeries]:
    """Temporal-coherence metrics of one clip, no model weights needed.

    Args:
        frames: ``(T, H, W, 3)`` uint8 RGB, ``T >= 2``.
        names: metrics to compute (default: all of :data:`METRIC_NAMES`, in that order).
        analysis_size: the frames are downscaled (area interpolation, never upscaled) so that
            their longer side is this many pixels before any analysis; None keeps the native
            size. Values are in resolution-free units (:data:`UNITS`), so they compare across
            sizes, but the same ``analysis_size`` should be used to compare clips.
        flow_preset: DIS preset, ``"ultrafast"`` (default), ``"fast"`` or ``"medium"``.
        threads: threads for the flow pairs and the metrics (default
            :data:`~spacetime.evaluation.flow.FLOW_WORKERS`, one per core); 1 when several
            clips are scored in parallel processes. The values do not depend on it.

    Returns:
        ``{name: MetricSeries}`` with ``T - 1`` values each (one per transition ``t -> t+1``).
        Failure metrics are 0 for a perfect clip and grow with the failure;
        ``dynamic_degree`` measures the amount of motion.

    Raises:
        SpacetimeError: bad frames (dtype, shape, fewer than 2 frames) or unknown names.
    """
    selected = tuple(METRIC_NAMES if names is None else names)
    unknown = [n for n in selected if n not in METRICS]
    if unknown or not selected:
        raise SpacetimeError(
            f"unknown metric name(s) {unknown or list(selected)}; expected some of {METRIC_NAMES}"
        )
    clip = AnalysisClip(frames, analysis_size=analysis_size, flow_preset=flow_preset)
    if threads is not None and threads < 1:
        raise SpacetimeError(f"threads must be >= 1, got {threads}")
    clip.flow.prefetch(threads)  # every metric needs every flow pair: compute them in parallel
    values = run_metrics(clip, selected, threads)
    return {name: MetricSeries(values[name]) for name in selected}


def run_metrics(
    clip: AnalysisClip, names: Sequence[str], workers: int | None = None
) -> dict[str, np.ndarray]:
    """``{name: (T - 1,) values}`` of the metrics ``names`` on ``clip``, ``workers`` at a time
    (default :data:`~spacetime.evaluation.flow.FLOW_WORKERS`).

    The metrics only read the clip and fill its caches (at worst, two threads compute the
    same cached entry twice), and their work is in OpenCV and numpy, which release the GIL.
    """
    workers = FLOW_WORKERS if workers is None else workers
    if workers <= 1 or len(names) < 2:
        return {name: METRICS[name](clip) for name in names}
    with ThreadPoolExecutor(max_workers=min(workers, len(names))) as pool:
        return dict(zip(names, pool.map(lambda name: METRICS[name](clip), names), strict=True))
