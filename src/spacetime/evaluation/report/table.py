"""Terminal tables (rich) for ``spacetime eval`` and ``spacetime compare``.

Numbers are shown with 3 significant digits; the full precision is in the JSON report.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from spacetime.evaluation.report.compare import Comparison
from spacetime.evaluation.report.schema import MOTION_METRIC, FailedVideo, VideoReport

__all__ = [
    "compare_table",
    "eval_tables",
    "failed_table",
    "format_value",
    "oracle_columns",
    "print_tables",
    "render_text",
    "short_names",
    "video_labels",
]


def format_value(value: Any) -> str:
    """3 significant digits for numbers, ``–`` for a missing value."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return f"{value:.3g}"
    return str(value)


SHORT_NAMES: dict[str, str] = {
    "flicker": "flicker",
    "warp_error": "warp",
    "edge_shimmer": "shimmer",
    "background_swim": "swim",
    "identity_drift": "drift",
    "motion_smoothness": "jerk",
    "teleport": "teleport",
    "dynamic_degree": "motion",
    "adherence": "adherence",
    "teleport_rate": "teleport",
    "identity_consistency": "identity",
    "background_stability": "backgr.",
    "occlusion_reappearance": "occlusion",
    "physics": "physics",
}
"""Column headers short enough for 8+ columns in an 80-column terminal (legend under the table)."""


def _header(name: str) -> str:
    return SHORT_NAMES.get(name, name[:9])


def _legend(names: Sequence[str]) -> str:
    pairs = [f"{_header(n)}={n}" for n in names if _header(n) != n]
    return ", ".join(pairs)


def _label_width(labels: Iterable[str]) -> int:
    # Labels keep their width (up to 28) when the terminal is narrow; numbers never wrap.
    return min(28, max((len(label) for label in labels), default=5))


def _table(title: str, caption: str | None = None) -> Table:
    # No vertical rules and one space between columns: 8 metrics fit 80 terminal columns.
    return Table(
        title=title,
        caption=caption,
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 0, 0, 1),
    )


def oracle_columns(reports: Sequence[VideoReport]) -> list[str]:
    """The scalar oracle scores (numbers or None) present in any report, in first-seen order."""
    columns: list[str] = []
    for report in reports:
        for key, value in (report.oracle or {}).items():
            if isinstance(value, (int, float, type(None))) and key not in columns:
                columns.append(key)
    return columns


def short_names(paths: Sequence[str | Path]) -> list[str]:
    """The shortest path suffixes that tell ``paths`` apart.

    ``["a/x/clip.mp4", "a/y/clip.mp4"]`` gives ``["x/clip.mp4", "y/clip.mp4"]``.
    """
    parts = [Path(path).parts for path in paths]
    for depth in range(1, max((len(p) for p in parts), default=1) + 1):
        names = ["/".join(p[-depth:]) for p in parts]
        if len(set(names)) == len(names):
            return names
    return [str(path) for path in paths]


def video_labels(reports: Sequence[VideoReport]) -> list[str]:
    """Row labels of ``reports``: :func:`short_names` of their paths."""
    return short_names([report.video for report in reports])


def _metric_cell(name: str, series: dict[str, Any]) -> str:
    """The max (worst transition) of a failure metric, the mean of the motion metric."""
    return format_value(series.get("mean" if name == MOTION_METRIC else "max"))


def eval_tables(reports: Sequence[VideoReport]) -> list[Table]:
    """Per video the worst transition of each failure metric (its max: a one-frame failure is
    not averaged away; where it is, is in the JSON/HTML) and the mean motion; then oracle
    scores if any."""
    metric_names = list(dict.fromkeys(name for r in reports for name in r.metrics))
    labels = dict(zip(map(id, reports), video_labels(reports), strict=True))
    metrics = _table(
        "coherence metrics: worst transition (max), 0 = no failure "
        "(motion: mean over transitions, 0 = frozen)",
        _legend(metric_names),
    )
    metrics.add_column("video", overflow="fold", min_width=_label_width(labels.values()))
    for name in metric_names:
        metrics.add_column(_header(name), justify="right")
    for report in reports:
        cells = [_metric_cell(name, report.metrics.get(name, {})) for name in metric_names]
        metrics.add_row(labels[id(report)], *cells)
    tables = [metrics]
    scored = [r for r in reports if r.oracle is not None]
    if scored:
        columns = oracle_columns(scored)
        oracle = _table(
            "ShapesWorld oracle (against the scene the caption describes)", _legend(columns)
        )
        oracle.add_column("video", overflow="fold", min_width=_label_width(labels.values()))
        for column in columns:
            oracle.add_column(_header(column), justify="right")
        for report in scored:
            assert report.oracle is not None
            cells = [format_value(report.oracle.get(c)) for c in columns]
            oracle.add_row(labels[id(report)], *cells)
        tables.append(oracle)
    return tables


def failed_table(failed: Sequence[FailedVideo]) -> Table:
    """The files that could not be scored, each with its reason."""
    table = _table(f"{len(failed)} video(s) could not be scored")
    table.add_column("video", no_wrap=True)
    table.add_column("reason", justify="left")
    for failure, label in zip(failed, short_names([f.video for f in failed]), strict=True):
        table.add_row(label, failure.error)
    return table


def compare_table(comparison: Comparison) -> Table:
    """Generators side by side (best first, one column each); a row per metric, ``mean (rank)``.

    ``dynamic_degree`` is shown without a rank (it is ranked through ``frozen``); the last rows
    are the mean rank and the overall rank.
    """
    generators = comparison.generators
    table = _table("generators: mean over clips (rank)")
    table.add_column("metric", no_wrap=True)
    for generator in generators:
        table.add_column(generator.name, justify="right", overflow="fold")
    table.add_row("clips", *(str(len(g.reports)) for g in generators))
    for column in comparison.columns:
        table.add_row(
            column,
            *(f"{format_value(g.means.get(column))} ({g.ranks[column]})" for g in generators),
        )
    if any(MOTION_METRIC in g.means for g in generators):
        table.add_row(
            MOTION_METRIC, *(format_value(g.means.get(MOTION_METRIC)) for g in generators)
        )
    table.add_row("mean rank", *(f"{g.score:.2f}" for g in generators), end_section=True)
    table.add_row("overall rank", *(str(g.rank) for g in generators), style="bold")
    return table


def print_tables(tables: Sequence[Table], console: Console | None = None) -> None:
    """Print ``tables``; one wider than the console is printed whole (never cropped)."""
    console = console or Console()
    for table in tables:
        needed = Measurement.get(console, console.options, table).minimum
        console.print(table, width=max(console.width, needed), crop=False)


def render_text(tables: Sequence[Table], *, width: int = 160) -> str:
    """Tables rendered as plain text (no colour), e.g. for logs and tests."""
    console = Console(width=width, record=True, color_system=None, file=io.StringIO())
    print_tables(tables, console)
    return console.export_text()
