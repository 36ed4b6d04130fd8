"""One metric over a clip: a value per frame transition and its summaries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class MetricSeries:
    """A metric's value on each of the ``T - 1`` transitions of a ``T``-frame clip.

    Summaries keep a one-frame failure visible: ``p95`` and ``max`` are not averaged away,
    and ``worst_frame`` is the index ``t`` of the worst transition ``t -> t + 1``.

    Attributes:
        per_frame: ``(T - 1,)`` float64; entry ``t`` describes frames ``t`` and ``t + 1``.
    """

    per_frame: np.ndarray

    def __post_init__(self) -> None:
        values = np.asarray(self.per_frame, dtype=np.float64)
        assert values.ndim == 1 and values.size >= 1, values.shape
        assert np.all(np.isfinite(values)), "metric values must be finite"
        object.__setattr__(self, "per_frame", values)

    @property
    def mean(self) -> float:
        """Mean over transitions."""
        return float(self.per_frame.mean())

    @property
    def p95(self) -> float:
        """95th percentile over transitions (linear interpolation)."""
        return float(np.percentile(self.per_frame, 95))

    @property
    def max(self) -> float:
        """Largest value over transitions."""
        return float(self.per_frame.max())

    @property
    def worst_frame(self) -> int:
        """Index of the transition with the largest value (the first one on ties)."""
        return int(np.argmax(self.per_frame))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready ``{"mean", "p95", "max", "worst_frame", "per_frame"}`` (DESIGN.md)."""
        return {
            "mean": self.mean,
            "p95": self.p95,
            "max": self.max,
            "worst_frame": self.worst_frame,
            "per_frame": [float(v) for v in self.per_frame],
        }
