"""Large batches: bad files listed not fatal, parallel processes, resume, shards and merge.

:func:`evaluate_batch` scores every file it can and lists the others
(:class:`~spacetime.evaluation.report.schema.FailedVideo`: unreadable, too short, too small)
with their reason, in the order the files were given:

- **processes**: ``workers`` processes score one file each at a time (one thread each, so
  ``workers`` cores are busy); ``workers=1`` scores in this process, with threads.
- **resume**: with a ``journal`` path, each finished video is appended to it as one JSON line
  (flushed and synced) after a header line that names the files and options. A run that is
  killed (even ``kill -9``) and started again with the same files and options reuses every
  complete line and scores only the rest; a torn last line is dropped; failures are retried.
- **shards**: :func:`shard_files` gives shard ``K`` of ``N`` every ``N``-th file (from the
  ``K``-th), so any scheduler (a SLURM array, a Kubernetes indexed job) can split a run; its
  report names its shard and files, and :func:`merge_runs` interleaves the shards back into
  the one-machine report, exactly.

The values do not depend on ``workers`` or shards: each video is scored the same way alone.
"""

from __future__ import annotations

import base64
import json
import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from spacetime import __version__
from spacetime.errors import SpacetimeError
from spacetime.evaluation.report.evaluate import check_options, evaluate_video
from spacetime.evaluation.report.schema import EvalRun, FailedVideo, Shard, VideoReport

__all__ = [
    "BatchOptions",
    "default_workers",
    "evaluate_batch",
    "journal_path",
    "merge_runs",
    "parse_shard",
    "shard_files",
]


@dataclass(frozen=True)
class BatchOptions:
    """What decides a video's scores (so two runs with equal options give equal reports)."""

    max_frames: int | None = None
    size: int | None = None
    names: tuple[str, ...] | None = None
    analysis_size: int = 256
    with_strip: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-native form (the journal header and a shard's report record it)."""
        data = asdict(self)
        data["names"] = list(self.names) if self.names is not None else None
        return data


def default_workers(videos: int) -> int:
    """One process per core this process may use, but no more than ``videos``."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, videos))


def parse_shard(text: str) -> tuple[int, int]:
    """``"K/N"`` -> ``(K, N)`` with ``1 <= K <= N``; :class:`SpacetimeError` otherwise."""
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        index = count = 0
    if not 1 <= index <= count:
        raise SpacetimeError(
            f"--shard {text!r} is not of the form K/N with 1 <= K <= N (e.g. 1/4, the first "
            "of four shards)"
        )
    return index, count


def shard_files(files: Sequence[Path], index: int, count: int) -> list[Path]:
    """Shard ``index`` of ``count`` (1-based): every ``count``-th file from the ``index``-th,
    so shards stay balanced however the files are ordered."""
    return list(files[index - 1 :: count])


def journal_path(report: Path | str) -> Path:
    """Where the resumable partial results of the JSON report ``report`` are kept."""
    report = Path(report)
    return report.with_name(report.name + ".partial")


def _score(job: tuple[int, str, str | None, BatchOptions, int | None]) -> dict[str, Any]:
    """Score one file: ``{"index", "entry", "strip"}`` or ``{"index", "error"}`` (picklable,
    so it runs in a worker process as well as here)."""
    index, path, caption, options, threads = job
    try:
        report = evaluate_video(
            path,
            caption=caption,
            max_frames=options.max_frames,
            size=options.size,
            names=options.names,
            analysis_size=options.analysis_size,
            with_strip=options.with_strip,
            threads=threads,
        )
    except SpacetimeError as err:
        return {"index": index, "error": str(err)}
    except Exception as err:  # a batch of thousands must not die on one file: keep the reason
        return {"index": index, "error": f"{path}: unexpected {type(err).__name__}: {err}"}
    strip = base64.b64encode(report.strip).decode() if report.strip is not None else None
    return {"index": index, "entry": report.to_dict(), "strip": strip}


def _worker_init() -> None:
    """One OpenCV thread per worker process: ``workers`` processes use ``workers`` cores."""
    import cv2

    cv2.setNumThreads(1)


class Journal:
    """The append-only JSON-lines file that makes a run resumable (module docstring)."""

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self.path = path
        self.header = header
        self.done: dict[int, dict[str, Any]] = {}
        self.stale = False  # a journal of other files or options was found and is replaced
        lines = self._read()
        if lines and lines[0] == header:
            for line in lines[1:]:
                self.done[int(line["index"])] = line
        elif lines:
            self.stale = True
        # Rewrite what is kept (drops a torn last line), then append from there on.
        text = "".join(json.dumps(line) + "\n" for line in [header, *self.done.values()])
        tmp = path.with_name(f".{path.name}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
            self._file = path.open("a", encoding="utf-8")
        except OSError as err:
            raise SpacetimeError(
                f"{path.with_suffix('')}: cannot write the JSON report (its partial results "
                f"{path.name}: {err.strerror or err}); expected a writable file path"
            ) from err

    def _read(self) -> list[dict[str, Any]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return []
        lines = []
        for raw in text.splitlines():
            try:
                line = json.loads(raw)
            except json.JSONDecodeError:
                break  # a line torn by a kill: it and anything after it are redone
            if not isinstance(line, dict) or (lines and "index" not in line):
                break
            lines.append(line)
        return lines

    def append(self, result: dict[str, Any]) -> None:
        """Record one scored video; it survives any kill once this returns."""
        self._file.write(json.dumps(result) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self, *, remove: bool) -> None:
        self._file.close()
        if remove:
            self.path.unlink(missing_ok=True)


def _results(
    jobs: list[tuple[int, str, str | None, BatchOptions, int | None]], workers: int
) -> Iterator[dict[str, Any]]:
    """Results of ``jobs`` as they finish: here, or in ``workers`` processes (at most
    ``2 * workers`` jobs in flight, so thousands of files do not queue up at once)."""
    if workers <= 1 or len(jobs) < 2:
        yield from map(_score, jobs)
        return
    context = multiprocessing.get_context("spawn")  # no fork of a threaded process
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init) as pool:
        pending = set()
        queue = iter(jobs)
        try:
            while True:
                for job in queue:
                    pending.add(pool.submit(_score, job))
                    if len(pending) >= 2 * workers:
                        break
                if not pending:
                    return
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    yield future.result()
        finally:
            for future in pending:
                future.cancel()


def evaluate_batch(
    paths: Sequence[Path],
    *,
    captions: Sequence[str | None] | None = None,
    options: BatchOptions = BatchOptions(),
    workers: int = 1,
    journal: Path | None = None,
    shard: tuple[int, int] | None = None,
    progress: bool = True,
) -> tuple[EvalRun, int]:
    """Score ``paths`` (already the shard's files when ``shard`` is given), listing the files
    that cannot be scored instead of stopping at them.

    Args:
        paths: video files, in report order; captions: one per path (or None).
        options: what decides the scores (:class:`BatchOptions`).
        workers: processes (1: score here, with threads).
        journal: partial-results file (see :func:`journal_path`); None: not resumable.
        shard: ``(K, N)`` recorded in the report, so that :func:`merge_runs` can merge it.
        progress: show a tqdm bar on stderr (hidden when stderr is not a terminal).

    Returns:
        ``(run, resumed)``: the report (videos and failures in the order of ``paths``) and
        how many videos were taken from the journal rather than scored.
    """
    check_options(options.max_frames, options.size)
    if workers < 1:
        raise SpacetimeError(f"--workers must be >= 1, got {workers}")
    captions = list(captions) if captions is not None else [None] * len(paths)
    if len(captions) != len(paths):
        raise ValueError(f"{len(captions)} captions for {len(paths)} videos")
    files = [str(p) for p in paths]
    book = None
    if journal is not None:
        header = {
            "spacetime_eval_journal": __version__,
            "options": options.to_dict(),
            "captions": captions,
            "files": files,
        }
        book = Journal(journal, header)
    results: dict[int, dict[str, Any]] = dict(book.done) if book is not None else {}
    resumed = len(results)
    threads = 1 if workers > 1 else None
    todo = [
        (i, files[i], captions[i], options, threads) for i in range(len(files)) if i not in results
    ]
    bar = tqdm(total=len(todo), desc="evaluating", unit="video", disable=None if progress else True)
    try:
        for result in _results(todo, workers):
            results[result["index"]] = result
            if book is not None and "entry" in result:
                book.append(result)
            bar.update()
    finally:
        bar.close()
        if book is not None:
            book.close(remove=False)
    run = EvalRun([], analysis_size=options.analysis_size)
    for i in range(len(files)):
        result = results[i]
        if "error" in result:
            run.failed.append(FailedVideo(files[i], result["error"]))
            continue
        report = VideoReport.from_dict(result["entry"])
        if result.get("strip") is not None:
            report.strip = base64.b64decode(result["strip"])
        run.videos.append(report)
    if shard is not None:
        run.shard = Shard(shard[0], shard[1], files, options.to_dict())
    return run, resumed


def merge_runs(runs: Sequence[EvalRun], names: Sequence[str] | None = None) -> EvalRun:
    """The one-machine report of the shard reports ``runs`` (any order): every shard of one
    run exactly once, with the same options, interleaved back into the original file order.

    Raises:
        SpacetimeError: a report that is not a shard, shards of different runs or options,
            a missing or repeated shard, or a shard without a result for one of its files.
    """
    names = list(names) if names is not None else [f"report {i + 1}" for i in range(len(runs))]
    if not runs:
        raise SpacetimeError("merge needs the reports of every shard; got none")
    for run, name in zip(runs, names, strict=True):
        if run.shard is None:
            raise SpacetimeError(
                f'{name}: not a shard\'s report (no "shard"); expected reports written by '
                "spacetime eval --shard K/N --json"
            )
    first = runs[0].shard
    assert first is not None
    by_index = {}
    for run, name in zip(runs, names, strict=True):
        shard = run.shard
        assert shard is not None
        if shard.count != first.count or shard.options != first.options:
            raise SpacetimeError(
                f"{name}: shard {shard.index}/{shard.count} with options {shard.options} does "
                f"not belong with shard {first.index}/{first.count} ({first.options})"
            )
        if run.analysis_size != runs[0].analysis_size:
            raise SpacetimeError(f"{name}: analysis_size differs from the other shards")
        if shard.index in by_index:
            raise SpacetimeError(f"{name}: shard {shard.index}/{shard.count} is given twice")
        by_index[shard.index] = run
    missing = sorted(set(range(1, first.count + 1)) - set(by_index))
    if missing:
        raise SpacetimeError(
            f"shard(s) {', '.join(f'{k}/{first.count}' for k in missing)} missing; merge "
            "needs every shard's report"
        )
    total = sum(len(run.shard.files) for run in runs if run.shard is not None)
    results: dict[int, dict[str, VideoReport | FailedVideo]] = {}
    for index, run in by_index.items():
        assert run.shard is not None
        if len(run.shard.files) != len(range(index - 1, total, first.count)):
            raise SpacetimeError(
                f"shard {index}/{first.count} lists {len(run.shard.files)} files, which does "
                f"not fit {total} files in {first.count} shards: shards of different inputs?"
            )
        results[index] = {f.video: f for f in run.failed} | {r.video: r for r in run.videos}
    merged = EvalRun([], analysis_size=runs[0].analysis_size)
    for position in range(total):
        index = position % first.count + 1
        file = by_index[index].shard.files[position // first.count]  # type: ignore[union-attr]
        result = results[index].get(file)
        if result is None:
            raise SpacetimeError(
                f"shard {index}/{first.count} has no result for {file}; expected a complete "
                "shard report"
            )
        if isinstance(result, VideoReport):
            merged.videos.append(result)
        else:
            merged.failed.append(result)
    return merged
