"""Terminal tables (rich) for ``spacetime eval`` and ``spacetime compare``.

Numbers are shown with 3 significant digits; the full precision is in the JSON report.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from spacetime.evaluation.report.compare import Comparison
from spacetime.evaluation.report.evaluate import VideoReport

__all__ = ["compare_table", "eval_tables", "format_value", "oracle_columns", "render_text"]


def format_value(value: Any) -> str:
    """3 significant digits for numbers, ``–`` for a missing value."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return f"{value:.3g}"
    return str(value)


def _header(name: str) -> str:
    # Metric names wrap at their underscore so that 8+ columns fit an 100-column terminal.
    return name.replace("_", "\n").replace(".", "\n")


def oracle_columns(reports: Sequence[VideoReport]) -> list[str]:
    """The scalar oracle scores (numbers or None) present in any report, in first-seen order."""
    columns: list[str] = []
    for report in reports:
        for key, value in (report.oracle or {}).items():
            if isinstance(value, (int, float, type(None))) and key not in columns:
                columns.append(key)
    return columns


def eval_tables(reports: Sequence[VideoReport]) -> list[Table]:
    """Metric means per video (worst frame of each in the JSON/HTML), then oracle scores if any."""
    metric_names = list(dict.fromkeys(name for r in reports for name in r.metrics))
    metrics = Table(title="coherence metrics (mean over transitions; 0 = no failure)")
    metrics.add_column("video", overflow="fold", max_width=28)
    metrics.add_column("T×H×W", justify="right")
    for name in metric_names:
        metrics.add_column(_header(name), justify="right")
    for report in reports:
        cells = [format_value(report.metrics.get(n, {}).get("mean")) for n in metric_names]
        shape = f"{report.frames}×{report.height}×{report.width}"
        metrics.add_row(report.video, shape, *cells)
    tables = [metrics]
    scored = [r for r in reports if r.oracle is not None]
    if scored:
        columns = oracle_columns(scored)
        oracle = Table(title="ShapesWorld oracle (against the scene the caption describes)")
        oracle.add_column("video", overflow="fold", max_width=28)
        for column in columns:
            oracle.add_column(_header(column), justify="right")
        for report in scored:
            assert report.oracle is not None
            oracle.add_row(report.video, *(format_value(report.oracle.get(c)) for c in columns))
        tables.append(oracle)
    return tables


def compare_table(comparison: Comparison) -> Table:
    """One row per generator, best first: each ranked column as ``mean (rank)``."""
    table = Table(title="generators ranked (mean over clips; (rank), 1 = best)")
    table.add_column("rank", justify="right")
    table.add_column("generator", overflow="fold", max_width=24)
    table.add_column("clips", justify="right")
    extra = ["dynamic_degree"] if any("dynamic_degree" in g.means for g in comparison.generators) else []
    for column in [*comparison.columns, *extra]:
        table.add_column(_header(column), justify="right")
    table.add_column("mean\nrank", justify="right")
    for generator in comparison.generators:
        cells = []
        for column in comparison.columns:
            cells.append(f"{format_value(generator.means.get(column))} ({generator.ranks[column]})")
        cells += [format_value(generator.means.get(column)) for column in extra]
        table.add_row(
            str(generator.rank),
            generator.name,
            str(len(generator.reports)),
            *cells,
            f"{generator.score:.2f}",
            style="bold" if generator.rank == 1 else None,
        )
    return table


def render_text(tables: Sequence[Table], *, width: int = 160) -> str:
    """Tables rendered as plain text (no colour), e.g. for logs and tests."""
    console = Console(width=width, record=True, color_system=None, file=_Discard())
    for table in tables:
        console.print(table)
    return console.export_text()


class _Discard:
    """A write-only sink: ``render_text`` only wants the recorded text."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass
