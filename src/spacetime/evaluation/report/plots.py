"""Pictures for the HTML report: per-transition metric curves and the marked frame strip.

Everything returns PNG bytes, drawn on bare :class:`matplotlib.figure.Figure` objects (Agg
canvas, no pyplot state, no display needed), so that the page
can inline them as ``data:image/png;base64,...`` and stay a single self-contained file.
"""

from __future__ import annotations

import base64
import io
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure

from spacetime.video import write_strip

if TYPE_CHECKING:
    from spacetime.evaluation.report.evaluate import VideoReport

__all__ = ["bar_chart_png", "data_uri", "metric_plot_png", "strip_png"]

_PLOT_COLUMNS = 4


def data_uri(png: bytes) -> str:
    """``data:image/png;base64,...`` for inlining ``png`` in HTML."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def metric_plot_png(
    metrics: Mapping[str, Mapping[str, Any]], *, dpi: int = 80, panel_inches: float = 2.6
) -> bytes:
    """Small multiples: one panel per metric of its ``per_frame`` curve, worst transition in red.

    The x axis is the transition index ``i`` (frame ``i`` to ``i + 1``); each panel's title
    gives the metric's mean and max. Returns PNG bytes.
    """
    names = [n for n, s in metrics.items() if s.get("per_frame")]
    columns = min(_PLOT_COLUMNS, max(1, len(names)))
    rows = max(1, -(-len(names) // columns))
    fig = Figure(figsize=(panel_inches * columns, 0.72 * panel_inches * rows), dpi=dpi)
    axes = fig.subplots(rows, columns, squeeze=False)
    for ax in axes.flat[len(names) :]:
        ax.set_visible(False)
    for ax, name in zip(axes.flat, names, strict=False):
        series = metrics[name]
        values = np.asarray([np.nan if v is None else v for v in series["per_frame"]], dtype=float)
        steps = np.arange(values.size)
        ax.plot(steps, values, color="#3465a4", linewidth=1.2)
        ax.fill_between(steps, values, color="#3465a4", alpha=0.12)
        worst = int(series["worst_frame"])
        if 0 <= worst < values.size:
            ax.plot([worst], [values[worst]], "o", color="#cc0000", markersize=5)
        ax.set_title(f"{name}\nmean {_fmt(series['mean'])}  max {_fmt(series['max'])}", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_xlim(0, max(1, values.size - 1))
        ax.grid(alpha=0.3, linewidth=0.5)
    for ax in axes[-1]:
        ax.set_xlabel("transition i → i+1", fontsize=7)
    return _png(fig)


def strip_png(frames: np.ndarray, report: VideoReport, *, max_frames: int = 16) -> bytes:
    """The clip ``(T, H, W, 3)`` uint8 as a PNG strip, worst frames of the report marked.

    A metric's worst transition ``i`` marks frame ``i + 1`` (where the failure shows).
    """
    marks = sorted(set(report.worst_frames().values()))
    with tempfile.TemporaryDirectory() as tmp:
        path = write_strip(Path(tmp) / "strip.png", frames, max_frames=max_frames, marks=marks)
        return Path(path).read_bytes()


def bar_chart_png(
    labels: Sequence[str], values: Sequence[float | None], *, title: str, dpi: int = 80
) -> bytes:
    """A horizontal bar chart (one bar per generator), for the comparison page."""
    numbers = [np.nan if v is None else float(v) for v in values]
    fig = Figure(figsize=(3.2, 0.35 * len(labels) + 0.8), dpi=dpi)
    ax = fig.subplots()
    ax.barh(range(len(labels)), numbers, color="#3465a4")
    ax.set_yticks(range(len(labels)), labels=list(labels), fontsize=7)
    ax.invert_yaxis()
    ax.set_title(title, fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    return _png(fig)


def _png(fig: Figure) -> bytes:
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}"
