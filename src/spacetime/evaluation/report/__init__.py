"""Evaluation reports: run the metrics and the oracle on files, then tables, JSON and HTML.

``evaluate`` (files -> :class:`VideoReport`), ``compare`` (rank generators), ``table``
(terminal), ``plots`` (PNG pictures) and ``html`` (self-contained pages).
"""

from spacetime.evaluation.report.compare import (
    FROZEN_THRESHOLD,
    Comparison,
    GeneratorSummary,
    compare_generators,
)
from spacetime.evaluation.report.evaluate import (
    EvalRun,
    VideoReport,
    collect_videos,
    evaluate_frames,
    evaluate_video,
    evaluate_videos,
    load_captions,
    load_report,
    match_captions,
    probe_videos,
    write_json,
    write_report,
)
from spacetime.evaluation.report.html import compare_html, eval_html, write_html
from spacetime.evaluation.report.table import (
    compare_table,
    eval_tables,
    print_tables,
    render_text,
    short_names,
)

__all__ = [
    "FROZEN_THRESHOLD",
    "Comparison",
    "EvalRun",
    "GeneratorSummary",
    "VideoReport",
    "collect_videos",
    "compare_generators",
    "compare_html",
    "compare_table",
    "eval_html",
    "eval_tables",
    "evaluate_frames",
    "evaluate_video",
    "evaluate_videos",
    "load_captions",
    "load_report",
    "match_captions",
    "print_tables",
    "probe_videos",
    "render_text",
    "short_names",
    "write_html",
    "write_json",
    "write_report",
]
