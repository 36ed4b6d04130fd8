"""Temporal-coherence metrics on any video: flow-based, no downloaded weights.

>>> series = compute_metrics(frames)        # frames: (T, H, W, 3) uint8
>>> series["flicker"].to_dict()              # {"mean", "p95", "max", "worst_frame", "per_frame"}
"""

from spacetime.evaluation.metrics.compute import METRIC_NAMES, METRICS, UNITS, compute_metrics
from spacetime.evaluation.metrics.series import MetricSeries

__all__ = ["METRICS", "METRIC_NAMES", "UNITS", "MetricSeries", "compute_metrics"]
