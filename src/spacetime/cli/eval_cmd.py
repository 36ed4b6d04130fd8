"""`spacetime eval` (score videos) and `spacetime compare` (rank generators).

Both are thin over :mod:`spacetime.evaluation.report`; the library is imported inside the
commands so that ``spacetime --help`` does not load torch, OpenCV and matplotlib.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from spacetime.cli.options import integer, real
from spacetime.errors import SpacetimeError

if TYPE_CHECKING:
    from spacetime.evaluation.report import EvalRun, VideoReport

_CAPTION_HELP = (
    "Caption of every video (same text for all). Of ShapesWorld form, it adds the oracle's "
    "scores against the scene it describes."
)
_CAPTIONS_HELP = (
    'A captions.jsonl ({"file", "caption"} per line, as written by `spacetime shapes`), '
    "matched by path (the manifest's folder / file), else by a file name it lists once."
)

# The options eval and compare share, defined once.
CaptionOpt = Annotated[str | None, typer.Option("--caption", help=_CAPTION_HELP)]
CaptionsOpt = Annotated[Path | None, typer.Option("--captions", help=_CAPTIONS_HELP)]
# (--max-frames >= 2 and --size >= 16 are checked by the library, in one-line errors.)
MaxFramesOpt = Annotated[
    int | None,
    typer.Option("--max-frames", parser=integer(), help="Read at most N frames (>= 2)."),
]
SizeOpt = Annotated[
    int | None,
    typer.Option(
        "--size", parser=integer(), help="Resize so the longer side is PX (>= 16; aspect kept)."
    ),
]


def _metric_names(metrics: str | None) -> list[str] | None:
    if metrics is None:
        return None
    names = [name.strip() for name in metrics.split(",") if name.strip()]
    if not names:
        raise SpacetimeError(
            f"--metrics {metrics!r} names no metric; expected e.g. flicker,teleport"
        )
    return names


def _note_uncaptioned(paths: list[Path], texts: list[str | None], captions: Path | None) -> None:
    missing = [path.name for path, text in zip(paths, texts, strict=True) if text is None]
    if captions is not None and missing:
        shown = ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else "")
        typer.echo(
            f"note: {len(missing)} video(s) not in {captions}, scored without caption: {shown}",
            err=True,
        )


def _note_unscored(reports: list[VideoReport]) -> None:
    """Say how many captions the oracle could not score, and why for the first (the parser's
    message: not of ShapesWorld form, or a scene it cannot be, like 'moves up behind a pillar').
    """
    from spacetime.data.shapes import parse_caption

    unscored = [r for r in reports if r.caption is not None and r.oracle is None]
    if unscored:
        try:
            parse_caption(str(unscored[0].caption))
            why = f"{unscored[0].caption!r} was not scored"
        except SpacetimeError as err:
            why = str(err)
        typer.echo(
            f"note: the oracle did not score {len(unscored)} caption(s) (the metrics did); "
            f"e.g. {why}",
            err=True,
        )


def eval_command(
    videos: list[Path] = typer.Argument(..., help="Video files or folders of videos."),
    caption: CaptionOpt = None,
    captions: CaptionsOpt = None,
    json_path: Path | None = typer.Option(
        None,
        "--json",
        help="Write the JSON report here. Results are kept in FILE.partial as they come: "
        "rerunning the same command after an interruption resumes.",
    ),
    html_path: Path | None = typer.Option(
        None, "--html", help="Write a self-contained HTML report (plots, frame strips) here."
    ),
    max_frames: MaxFramesOpt = None,
    size: SizeOpt = None,
    metrics: str | None = typer.Option(
        None, "--metrics", help="Comma-separated subset of the metrics (default: all)."
    ),
    workers: int | None = typer.Option(
        None,
        "--workers",
        min=1,
        help="Processes scoring videos in parallel (default: one per core, at most one per video).",
    ),
    shard: str | None = typer.Option(
        None,
        "--shard",
        help="Score only shard K of N (K/N): every N-th video from the K-th. Merge the "
        "shards' --json reports with `spacetime merge`.",
    ),
) -> None:
    """Score videos for temporal failures (flicker, teleports, shimmer, drift, ...).

    A file that cannot be scored (unreadable, too short) is listed in the report with its
    reason and the others are scored; the exit code is then 1 (2 when none could be).
    """
    from spacetime.evaluation.report import (
        BatchOptions,
        collect_videos,
        default_workers,
        evaluate_batch,
        journal_path,
        match_captions,
        parse_shard,
    )

    paths = collect_videos(videos)
    texts = match_captions(paths, caption=caption, captions_file=captions)
    part = parse_shard(shard) if shard is not None else None
    if part is not None:
        paths, texts = paths[part[0] - 1 :: part[1]], texts[part[0] - 1 :: part[1]]
    _note_uncaptioned(paths, texts, captions)
    names = _metric_names(metrics)
    options = BatchOptions(
        max_frames=max_frames,
        size=size,
        names=tuple(names) if names is not None else None,
        with_strip=html_path is not None,
    )
    journal = journal_path(json_path) if json_path is not None else None
    run, resumed = evaluate_batch(
        paths,
        captions=texts,
        options=options,
        workers=workers if workers is not None else default_workers(len(paths)),
        journal=journal,
        shard=part,
    )
    if resumed:
        typer.echo(f"note: resumed: {resumed} of {len(paths)} video(s) were read from {journal}")
    _finish(run, json_path, html_path)
    if journal is not None:
        journal.unlink(missing_ok=True)  # the report is complete: nothing left to resume
    _exit_on_failures(run)


def merge_command(
    reports: list[Path] = typer.Argument(
        ..., help="The --json reports of every shard of one `spacetime eval --shard K/N` run."
    ),
    json_path: Path = typer.Option(..., "--json", help="Write the merged JSON report here."),
    html_path: Path | None = typer.Option(
        None, "--html", help="Write an HTML report too (without frame strips: JSON has none)."
    ),
) -> None:
    """Merge shard reports into the report one machine would have written, exactly."""
    from spacetime.evaluation.report import load_report, merge_runs

    merged = merge_runs([load_report(p) for p in reports], names=[str(p) for p in reports])
    _finish(merged, json_path, html_path)
    _exit_on_failures(merged)


def _finish(run: EvalRun, json_path: Path | None, html_path: Path | None) -> None:
    """Print the tables of ``run`` and write its JSON and HTML reports."""
    from spacetime.evaluation.report import (
        eval_html,
        eval_tables,
        failed_table,
        print_tables,
        write_html,
        write_report,
    )

    _note_unscored(run.videos)
    tables = eval_tables(run.videos) if run.videos else []
    print_tables([*tables, failed_table(run.failed)] if run.failed else tables)
    if json_path is not None:
        typer.echo(f"wrote {write_report(json_path, run)}")
    if html_path is not None:
        page = eval_html(run.videos, failed=run.failed)
        typer.echo(f"wrote {write_html(html_path, page)}")


def _exit_on_failures(run: EvalRun) -> None:
    """Exit 1 when some videos could not be scored, 2 when none could (after the reports
    are written, so the reasons are in them)."""
    if run.failed:
        total = len(run.failed) + len(run.videos)
        typer.echo(
            f"spacetime: error: {len(run.failed)} of {total} video(s) could not be scored "
            f"(listed in the report), e.g. {run.failed[0].error}",
            err=True,
        )
        raise typer.Exit(1 if run.videos else 2)


def compare_command(
    folders: list[Path] = typer.Argument(..., help="One folder of videos per generator."),
    caption: CaptionOpt = None,
    captions: CaptionsOpt = None,
    json_path: Path | None = typer.Option(None, "--json", help="Write the JSON comparison here."),
    html_path: Path | None = typer.Option(
        None, "--html", help="Write a self-contained HTML comparison here."
    ),
    max_frames: MaxFramesOpt = None,
    size: SizeOpt = None,
    frozen_threshold: float | None = typer.Option(
        None,
        "--frozen-threshold",
        parser=real(0.0, 100.0),
        help="A clip whose mean dynamic_degree (%diag/frame, >= 0) is below this counts as frozen.",
    ),
) -> None:
    """Rank generators (one folder of videos each) on every metric and overall."""
    from spacetime.evaluation.report import (
        FROZEN_THRESHOLD,
        collect_videos,
        compare_generators,
        compare_html,
        compare_table,
        evaluate_videos,
        match_captions,
        print_tables,
        probe_videos,
        short_names,
        write_html,
        write_json,
    )

    if len(folders) < 2:
        raise SpacetimeError(
            f"compare needs at least two folders (one per generator), got {len(folders)}"
        )
    for folder in folders:
        if not folder.is_dir():
            raise SpacetimeError(
                f"{folder}: not a folder; expected one folder of videos per generator"
            )
    if len({folder.resolve() for folder in folders}) < len(folders):
        raise SpacetimeError("the same folder is given twice; expected one folder per generator")
    groups: dict[str, list[VideoReport]] = {}
    where: dict[str, str] = {}
    # Every file of every folder is found and probed first: a bad file in the last folder
    # fails the run before the first folder is scored.
    listed = [collect_videos([folder]) for folder in folders]
    probe_videos([path for paths in listed for path in paths])
    # Each generator is named by its folder (with parent folders only where names repeat).
    names = short_names([f.resolve() for f in folders])
    for folder, name, paths in zip(folders, names, listed, strict=True):
        texts = match_captions(paths, caption=caption, captions_file=captions)
        _note_uncaptioned(paths, texts, captions)
        groups[name] = evaluate_videos(
            paths,
            captions=texts,
            max_frames=max_frames,
            size=size,
            with_strip=html_path is not None,
            desc=name,
        )
        where[name] = str(folder)
        _note_unscored(groups[name])
    clip_sets = {frozenset(Path(r.video).name for r in reports) for reports in groups.values()}
    if len(clip_sets) > 1:
        typer.echo(
            "note: the folders hold different file names, so the generators are not compared "
            "on the same prompts/clips",
            err=True,
        )
    threshold = FROZEN_THRESHOLD if frozen_threshold is None else frozen_threshold
    comparison = compare_generators(groups, paths=where, frozen_threshold=threshold)
    print_tables([compare_table(comparison)])
    if json_path is not None:
        typer.echo(f"wrote {write_json(json_path, comparison.to_dict())}")
    if html_path is not None:
        typer.echo(f"wrote {write_html(html_path, compare_html(comparison))}")


def register(app: typer.Typer) -> None:
    """Add ``eval`` and ``compare`` to ``app``."""
    app.command("eval")(eval_command)
    app.command("compare")(compare_command)
    app.command("merge")(merge_command)
