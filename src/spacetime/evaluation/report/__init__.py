"""Evaluation reports: run the metrics and the oracle on files, then tables, JSON and HTML.

``schema`` (:class:`VideoReport`, the JSON file), ``captions`` (which caption goes with which
file), ``evaluate`` (clips and files -> :class:`VideoReport`), ``batch`` (large runs: bad
files listed, processes, resume, shards and merge), ``compare`` (rank generators), ``table``
(terminal), ``plots`` (PNG pictures) and ``html`` (self-contained pages).
"""

from spacetime.evaluation.report.batch import (
    BatchOptions,
    default_workers,
    evaluate_batch,
    journal_path,
    merge_runs,
    parse_shard,
    shard_files,
)
from spacetime.evaluation.report.captions import load_captions, match_captions
from spacetime.evaluation.report.compare import (
    FROZEN_THRESHOLD,
    Comparison,
    GeneratorSummary,
    compare_generators,
)
from spacetime.evaluation.report.evaluate import (
    collect_videos,
    evaluate_frames,
    evaluate_video,
    evaluate_videos,
    probe_videos,
)
from spacetime.evaluation.report.html import compare_html, eval_html, write_html
from spacetime.evaluation.report.schema import (
    EvalRun,
    FailedVideo,
    VideoReport,
    load_report,
    write_json,
    write_report,
)
from spacetime.evaluation.report.table import (
    compare_table,
    eval_tables,
    failed_table,
    print_tables,
    render_text,
    short_names,
)

__all__ = [
    "FROZEN_THRESHOLD",
    "BatchOptions",
    "Comparison",
    "EvalRun",
    "FailedVideo",
    "GeneratorSummary",
    "VideoReport",
    "collect_videos",
    "compare_generators",
    "compare_html",
    "compare_table",
    "default_workers",
    "eval_html",
    "eval_tables",
    "evaluate_batch",
    "evaluate_frames",
    "evaluate_video",
    "evaluate_videos",
    "failed_table",
    "journal_path",
    "load_captions",
    "load_report",
    "match_captions",
    "merge_runs",
    "parse_shard",
    "print_tables",
    "probe_videos",
    "render_text",
    "shard_files",
    "short_names",
    "write_html",
    "write_json",
    "write_report",
]
