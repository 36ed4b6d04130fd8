"""Self-contained HTML pages for ``spacetime eval`` and ``spacetime compare``.

One file, no external assets: the CSS is inline and every picture is a base64 PNG ``data:``
URI, so a report can be mailed or attached to an issue as is. Every piece of user text (file
names, captions, generator names) is HTML-escaped.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from spacetime import __version__
from spacetime.evaluation.report.compare import Comparison
from spacetime.evaluation.report.plots import comparison_plot_png, data_uri, metric_plot_png
from spacetime.evaluation.report.schema import MOTION_METRIC, FailedVideo, VideoReport, write_text
from spacetime.evaluation.report.table import format_value, oracle_columns, video_labels

__all__ = ["compare_html", "eval_html", "write_html"]

_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1150px; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { margin-top: 2em; font-size: 1.2em; }
.meta { color: #666; font-size: 0.9em; }
table { border-collapse: collapse; margin: 0.6em 0; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 9px; border-bottom: 1px solid #ddd; text-align: right; }
th { background: #f3f3f3; font-weight: 600; }
td:first-child, th:first-child { text-align: left; }
td.best { font-weight: 600; background: #eef7ee; }
.scroll { overflow-x: auto; }
.worst { color: #b00; font-weight: 600; }
section.video { border-top: 2px solid #ccc; margin-top: 2.2em; }
.caption { font-style: italic; background: #f8f8f0; padding: 0.3em 0.6em;
           border-left: 3px solid #cc9; }
img { max-width: 100%; image-rendering: pixelated; }
img.plot { image-rendering: auto; }
pre { background: #f6f6f6; padding: 0.6em; overflow-x: auto; font-size: 0.85em; }
"""


def _page(title: str, body: str) -> str:
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<h1>{escape(title)}</h1>\n"
        f"<p class='meta'>spacetime {escape(__version__)} · {stamp}</p>\n"
        f"{body}\n</body>\n</html>\n"
    )


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], *, raw: bool = False) -> str:
    """An HTML table; cells are escaped unless ``raw`` (then they are already HTML)."""
    cell = (lambda text: text) if raw else escape
    # <wbr> lets long metric names wrap at their underscores in narrow windows.
    head = "".join(f"<th>{escape(h).replace('_', '_<wbr>')}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell(c)}</td>" for c in row) + "</tr>" for row in rows)
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f"<div class='scroll'>{table}</div>"


def _summary_table(reports: Sequence[VideoReport], *, anchor: str = "video") -> str:
    """All videos × metric means; the worst video of each metric in red."""
    names = list(dict.fromkeys(n for r in reports for n in r.metrics))
    worst: dict[str, int] = {}
    for name in names:
        if name == MOTION_METRIC:
            continue
        means = [r.metrics.get(name, {}).get("mean") for r in reports]
        scored = [(m, i) for i, m in enumerate(means) if m is not None]
        if len(scored) > 1:
            worst[name] = max(scored)[1]
    rows = []
    for index, (report, label) in enumerate(zip(reports, video_labels(reports), strict=True)):
        cells = [f"<a href='#{anchor}-{index}' title='{escape(report.video)}'>{escape(label)}</a>"]
        for name in names:
            value = escape(format_value(report.metrics.get(name, {}).get("mean")))
            cls = " class='worst'" if worst.get(name) == index else ""
            cells.append(f"<span{cls}>{value}</span>")
        rows.append(cells)
    return _table(["video", *names], rows, raw=True)


def _oracle_table(reports: Sequence[VideoReport]) -> str:
    scored = [r for r in reports if r.oracle is not None]
    if not scored:
        return ""
    columns = oracle_columns(scored)
    labels = video_labels(scored)
    rows = [
        [label, *(format_value((r.oracle or {}).get(c)) for c in columns)]
        for r, label in zip(scored, labels, strict=True)
    ]
    return "<h3>ShapesWorld oracle</h3>" + _table(["video", *columns], rows)


def _compact(value: Any) -> str:
    """One cell: numbers with 3 digits, mappings as ``key=value`` pairs, None as a dash."""
    if isinstance(value, dict):
        return ", ".join(f"{k}={_compact(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_compact(v) for v in value)
    return format_value(value)


def _records_table(records: Sequence[dict[str, Any]]) -> str:
    """A table with one row per record and one column per key (first-seen order)."""
    keys = list(dict.fromkeys(key for record in records for key in record))
    rows = [[_compact(record.get(key)) for key in keys] for record in records]
    return _table(keys, rows)


def _video_section(report: VideoReport, anchor: str) -> str:
    """One clip: caption, frame strip (worst frames marked), metric table and per-frame plots."""
    parts = [
        f"<section class='video' id='{anchor}'>",
        f"<h2>{escape(report.video)}</h2>",
        f"<p class='meta'>{report.frames} frames · {report.width}×{report.height} px · "
        f"{report.fps:g} fps</p>",
    ]
    if report.caption is not None:
        parts.append(f"<p class='caption'>{escape(report.caption)}</p>")
    worst = report.worst_frames()
    if report.strip is not None:
        marked = ", ".join(f"{escape(n)} → frame {f}" for n, f in worst.items())
        parts.append(
            f"<img alt='frames of {escape(report.video)}' src='{data_uri(report.strip)}'>"
            f"<p class='meta'>worst frames marked: {marked}</p>"
        )
    rows = []
    for name, series in report.metrics.items():
        stats = [format_value(series.get(k)) for k in ("mean", "p95", "max")]
        frame = str(worst[name]) if name in worst else "–"
        rows.append([name, *stats, frame])
    parts.append(_table(["metric", "mean", "p95", "max", "worst frame"], rows))
    parts.append(
        f"<img class='plot' alt='per-frame metrics of {escape(report.video)}' "
        f"src='{data_uri(metric_plot_png(report.metrics, unmarked={MOTION_METRIC}))}'>"
    )
    if report.oracle is not None:
        scalars = {k: v for k, v in report.oracle.items() if not isinstance(v, (dict, list))}
        rows = [[key, format_value(value)] for key, value in scalars.items()]
        parts.append("<h3>ShapesWorld oracle</h3>" + _table(["score", "value"], rows))
        objects = report.oracle.get("objects")
        if isinstance(objects, list) and objects and all(isinstance(o, dict) for o in objects):
            parts.append("<h4>per object of the caption</h4>" + _records_table(objects))
        details = {k: v for k, v in report.oracle.items() if k not in scalars and k != "objects"}
        if details:
            text = json.dumps(details, indent=1, default=str)
            parts.append(f"<details><summary>details</summary><pre>{escape(text)}</pre></details>")
    parts.append("</section>")
    return "\n".join(parts)


def _failed_section(failed: Sequence[FailedVideo]) -> str:
    if not failed:
        return ""
    rows = [[f.video, f.error] for f in failed]
    return f"<h3 class='worst'>{len(failed)} video(s) could not be scored</h3>" + _table(
        ["video", "reason"], rows
    )


def eval_html(
    reports: Sequence[VideoReport],
    *,
    title: str = "spacetime eval",
    failed: Sequence[FailedVideo] = (),
) -> str:
    """The ``spacetime eval`` page: the files that could not be scored (if any), a summary of
    every clip, then one section per clip."""
    body = [
        _failed_section(failed),
        "<p>Failure metrics are 0 for a perfect video and grow with the failure; "
        "<code>dynamic_degree</code> is the amount of motion. Red: the worst clip per metric. "
        "A metric's worst transition <i>i → i+1</i> is marked on frame <i>i+1</i>.</p>",
        _summary_table(reports),
        _oracle_table(reports),
        *(_video_section(report, f"video-{index}") for index, report in enumerate(reports)),
    ]
    return _page(title, "\n".join(body))


def compare_html(comparison: Comparison, *, title: str = "spacetime compare") -> str:
    """The ``spacetime compare`` page: ranking, one bar chart per column, each generator's clips."""
    generators = comparison.generators

    def row(name: str, cells: Sequence[str], best: Sequence[bool] = ()) -> str:
        tds = "".join(
            f"<td class='best'>{c}</td>" if i < len(best) and best[i] else f"<td>{c}</td>"
            for i, c in enumerate(cells)
        )
        return f"<tr><td>{escape(name)}</td>{tds}</tr>"

    rows = [row("clips", [str(len(g.reports)) for g in generators])]
    for column in comparison.columns:
        cells = [
            f"{escape(format_value(g.means.get(column)))} ({g.ranks[column]})" for g in generators
        ]
        rows.append(row(column, cells, [g.ranks[column] == 1 for g in generators]))
    if any(MOTION_METRIC in g.means for g in generators):
        rows.append(
            row(MOTION_METRIC, [format_value(g.means.get(MOTION_METRIC)) for g in generators])
        )
    rows.append(row("mean rank", [f"{g.score:.2f}" for g in generators]))
    rows.append(
        row("overall rank", [str(g.rank) for g in generators], [g.rank == 1 for g in generators])
    )
    head = "".join(f"<th>{escape(g.name)}</th>" for g in generators)
    ranking = (
        f"<div class='scroll'><table class='ranking'><thead><tr><th>metric</th>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )
    plotted = [
        column
        for column in [*comparison.columns, MOTION_METRIC]
        if any(g.means.get(column) is not None for g in generators)
    ]
    chart = comparison_plot_png(
        [g.name for g in generators],
        plotted,
        [[g.means.get(column) for g in generators] for column in plotted],
    )
    body = [
        "<p>Generators side by side, best first: per metric, the mean over a generator's clips "
        "and its rank (1 = best, in green). "
        "Failure metrics and <code>oracle.teleport_rate</code>: lower is better; other oracle "
        "scores: higher is better. <code>dynamic_degree</code> is not ranked (more motion is not "
        "better); instead <code>frozen</code> is the fraction of clips whose mean dynamic degree "
        f"is below {comparison.frozen_threshold:g} (lower is better), so a generator cannot win "
        "by not moving. The overall rank orders the mean of the per-column ranks.</p>",
        ranking,
        f"<img class='plot' alt='means per generator' src='{data_uri(chart)}'>",
    ]
    for number, g in enumerate(generators):
        anchor = f"generator-{number}"
        body.append(f"<h2>{escape(g.name)} <span class='meta'>({escape(g.path)})</span></h2>")
        body.append(_summary_table(g.reports, anchor=anchor))
        body.extend(
            _video_section(report, f"{anchor}-{index}") for index, report in enumerate(g.reports)
        )
    return _page(title, "\n".join(body))


def write_html(path: Path | str, page: str) -> Path:
    """Write ``page`` (UTF-8), creating parent folders; returns the path.

    Raises:
        SpacetimeError: the path cannot be written (naming it).
    """
    return write_text(path, page, what="HTML report")
