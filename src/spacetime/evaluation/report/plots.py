"""Pictures for the HTML report: per-transition metric curves and the marked frame strip.

Everything returns PNG bytes, drawn on bare :class:`matplotlib.figure.Figure` objects (Agg
canvas, no pyplot state, no display needed), so that the page
can inline them as ``data:image/png;base64,...`` and stay a single self-contained file.
matplotlib is imported inside the functions that draw: ``spacetime eval`` without ``--html``
never pays for it.
"""

from __future__ import annotations

import base64
import io
import tempfile
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from spacetime.video import write_strip

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["comparison_plot_png", "data_uri", "metric_plot_png", "strip_png"]

_PLOT_COLUMNS = 4


def data_uri(png: bytes) -> str:
    """``data:image/png;base64,...`` for inlining ``png`` in HTML."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _grid(
    count: int, panel_inches: tuple[float, float], dpi: int, *, left: float = 0.45
) -> tuple[Figure, list[Any]]:
    """A figure of ``count`` panels, ``_PLOT_COLUMNS`` per row; unused panels hidden.

    ``left`` (inches) is the room for the y tick labels, on the left of every panel.
    """
    columns = min(_PLOT_COLUMNS, max(1, count))
    rows = max(1, -(-count // columns))
    from matplotlib.figure import Figure

    fig = Figure(figsize=(panel_inches[0] * columns, panel_inches[1] * rows), dpi=dpi)
    axes = fig.subplots(rows, columns, squeeze=False).ravel().tolist()
    for ax in axes[count:]:
        ax.set_visible(False)
    # Fixed margins (in inches, so any grid looks alike): tight_layout costs more than drawing.
    width, height = fig.get_size_inches()
    fig.subplots_adjust(
        left=left / width,
        right=1 - 0.1 / width,
        bottom=0.4 / height,
        top=1 - 0.45 / height,
        wspace=left / (panel_inches[0] - left) + 0.12,
        hspace=0.9,
    )
    return fig, axes[:count]


def metric_plot_png(
    metrics: Mapping[str, Mapping[str, Any]],
    *,
    unmarked: Collection[str] = (),
    dpi: int = 80,
    panel_inches: float = 2.6,
) -> bytes:
    """Small multiples: one panel per metric of its ``per_frame`` curve, worst transition in red.

    The x axis is the transition index ``i`` (frame ``i`` to ``i + 1``); each panel's title
    gives the metric's mean and max. Metrics in ``unmarked`` (e.g. ``dynamic_degree``, whose
    maximum is not a failure) get no red dot. Panels are ``panel_inches`` wide and 0.72 of that
    high, 4 per row. Returns PNG bytes.
    """
    names = [n for n, s in metrics.items() if s.get("per_frame")]
    fig, axes = _grid(len(names), (panel_inches, 0.72 * panel_inches), dpi)
    for ax, name in zip(axes, names, strict=True):
        series = metrics[name]
        values = np.asarray([np.nan if v is None else v for v in series["per_frame"]], dtype=float)
        steps = np.arange(values.size)
        ax.plot(steps, values, color="#3465a4", linewidth=1.2)
        ax.fill_between(steps, values, color="#3465a4", alpha=0.12)
        worst = int(series["worst_frame"])
        if 0 <= worst < values.size and name not in unmarked:
            ax.plot([worst], [values[worst]], "o", color="#cc0000", markersize=5)
        ax.set_title(f"{name}\nmean {_fmt(series['mean'])}  max {_fmt(series['max'])}", fontsize=8)
        ax.set_xlim(0, max(1, values.size - 1))
        _style(ax)
        ax.set_xlabel("transition i → i+1", fontsize=7)
    return _png(fig)


def strip_png(
    frames: np.ndarray, marks: Collection[int] = (), *, max_frames: int = 16, tile_height: int = 128
) -> bytes:
    """The clip ``(T, H, W, 3)`` uint8 as a PNG strip with frames ``marks`` framed in red.

    Up to ``max_frames`` tiles (the marked frames always among them, see
    :func:`spacetime.video.write_strip`), each at most ``tile_height`` px high.
    """
    height = None if frames.shape[1] <= tile_height else tile_height
    with tempfile.TemporaryDirectory() as tmp:
        path = write_strip(
            Path(tmp) / "strip.png",
            frames,
            max_frames=max_frames,
            marks=sorted(marks),
            height=height,
        )
        return Path(path).read_bytes()


def comparison_plot_png(
    labels: Sequence[str],
    columns: Sequence[str],
    values: Sequence[Sequence[float | None]],
    *,
    dpi: int = 80,
) -> bytes:
    """Small multiples for the comparison page: per column, one horizontal bar per generator.

    ``values[c][g]`` is column ``c``'s mean for generator ``g`` (``None``: no bar). Bars of the
    best generator (rank 1 on that column) are not singled out here; the table says the ranks.
    """
    height = max(1.2, 0.28 * len(labels) + 0.7)
    fig, axes = _grid(len(columns), (2.8, height), dpi, left=0.8)
    for ax, column, row in zip(axes, columns, values, strict=True):
        numbers = [np.nan if v is None else float(v) for v in row]
        positions = np.arange(len(labels))
        ax.barh(positions, numbers, color="#3465a4")
        ax.set_yticks(positions, labels=[label[:12] for label in labels], fontsize=7)
        ax.invert_yaxis()
        ax.set_title(column, fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
        ax.xaxis.set_major_locator(_ticks(4))
    return _png(fig)


def _ticks(count: int, *, integer: bool = False) -> Any:
    """A matplotlib locator of at most ``count`` nice ticks (whole numbers if ``integer``)."""
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(count, integer=integer)


def _style(ax: Any) -> None:
    ax.tick_params(labelsize=7)
    ax.xaxis.set_major_locator(_ticks(5, integer=True))
    ax.yaxis.set_major_locator(_ticks(4))
    ax.grid(alpha=0.3, linewidth=0.5)


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}"
