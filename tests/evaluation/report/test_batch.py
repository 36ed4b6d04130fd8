"""Batches: shard arithmetic, bad files listed, the resumable journal, merging shard reports."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from spacetime.errors import SpacetimeError
from spacetime.evaluation.report.batch import (
    BatchOptions,
    default_workers,
    evaluate_batch,
    journal_path,
    merge_runs,
    parse_shard,
    shard_files,
)
from spacetime.evaluation.report.evaluate import evaluate_video
from spacetime.evaluation.report.schema import EvalRun, FailedVideo, Shard
from spacetime.video import write_mp4

FLICKER = BatchOptions(names=("flicker",))


def _clip(seed: int) -> np.ndarray:
    """8 frames of 32 px: a texture of 4 px blocks panning 1 px per frame (its own per seed)."""
    rng = np.random.default_rng(seed)
    texture = np.repeat(np.repeat(rng.integers(0, 256, (10, 10, 3), dtype=np.uint8), 4, 0), 4, 1)
    return np.stack([texture[:32, t : t + 32] for t in range(8)])


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """a.mp4, b.mp4 (not a video), c.mp4, d.mp4 (one frame), e.mp4, in that order."""
    root = tmp_path_factory.mktemp("batch")
    for name, seed in (("a", 0), ("c", 1), ("e", 2)):
        write_mp4(root / f"{name}.mp4", _clip(seed), 8.0)
    (root / "b.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 truncated")
    write_mp4(root / "d.mp4", _clip(3)[:1], 8.0)
    return [root / f"{name}.mp4" for name in "abcde"]


def test_parse_shard_reads_k_of_n() -> None:
    assert parse_shard("1/1") == (1, 1) and parse_shard("3/4") == (3, 4)
    for text in ("0/2", "3/2", "2", "a/b", "1/2/3", "-1/2", ""):
        with pytest.raises(SpacetimeError, match=r"is not of the form K/N with 1 <= K <= N"):
            parse_shard(text)


def test_shards_interleave_balanced_and_cover_every_file_once() -> None:
    paths = [Path(f"{i}.mp4") for i in range(10)]
    shards = [shard_files(paths, k, 3) for k in (1, 2, 3)]
    assert [[int(p.stem) for p in s] for s in shards] == [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]]
    assert sorted(p for s in shards for p in s) == sorted(paths)
    assert shard_files(paths, 1, 1) == paths and shard_files(paths[:2], 3, 3) == []


def test_journal_sits_beside_the_report_and_workers_fit_the_work() -> None:
    assert journal_path("out/r.json") == Path("out/r.json.partial")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert default_workers(1) == 1 and default_workers(0) == 1
    assert default_workers(10**6) == cores and default_workers(2) == min(2, cores)


def test_options_are_json_native() -> None:
    data = FLICKER.to_dict()
    assert data == {"max_frames": None, "size": None, "names": ["flicker"],
                    "analysis_size": 256, "with_strip": False}  # fmt: skip
    assert json.loads(json.dumps(data)) == data
    assert BatchOptions().to_dict()["names"] is None


def test_bad_files_are_listed_in_order_and_the_rest_scored_as_alone(files: list[Path]) -> None:
    run, resumed = evaluate_batch(files, options=FLICKER, progress=False)
    assert resumed == 0 and run.analysis_size == 256 and run.shard is None
    assert [Path(r.video).name for r in run.videos] == ["a.mp4", "c.mp4", "e.mp4"]
    assert [Path(f.video).name for f in run.failed] == ["b.mp4", "d.mp4"]
    assert "not a readable video" in run.failed[0].error
    assert run.failed[1].error.endswith("d.mp4: has 1 frame; at least 2 are needed")
    for report in run.videos:  # the same scores as the file evaluated on its own
        alone = evaluate_video(report.video, names=["flicker"])
        assert report.to_dict() == json.loads(json.dumps(alone.to_dict()))


def test_captions_and_strips_reach_the_reports(files: list[Path]) -> None:
    options = BatchOptions(names=("flicker",), max_frames=4, with_strip=True)
    run, _ = evaluate_batch(files[:1], captions=["a dog"], options=options, progress=False)
    (report,) = run.videos
    assert report.caption == "a dog" and report.frames == 4
    assert report.strip is not None and report.strip.startswith(b"\x89PNG")


def test_bad_arguments(files: list[Path]) -> None:
    with pytest.raises(SpacetimeError, match="--workers must be >= 1, got 0"):
        evaluate_batch(files, options=FLICKER, workers=0, progress=False)
    with pytest.raises(SpacetimeError, match="--max-frames must be at least 2, got 1"):
        evaluate_batch(files, options=BatchOptions(max_frames=1), progress=False)
    with pytest.raises(ValueError, match="1 captions for 5 videos"):
        evaluate_batch(files, captions=["x"], options=FLICKER, progress=False)


def test_a_journal_is_reused_line_by_line_and_only_for_the_same_run(
    files: list[Path], tmp_path: Path
) -> None:
    journal = tmp_path / "r.json.partial"
    first, _ = evaluate_batch(files, options=FLICKER, journal=journal, progress=False)
    header, *lines = [json.loads(line) for line in journal.read_text().splitlines()]
    assert header["files"] == [str(f) for f in files] and header["options"] == FLICKER.to_dict()
    assert [line["index"] for line in lines] == [0, 2, 4]  # failures are not kept: retried
    # Mark the recorded result of c.mp4: a rerun takes it from the journal, not from the file.
    lines[1]["entry"]["metrics"]["flicker"]["max"] = -1.0
    journal.write_text("".join(json.dumps(line) + "\n" for line in [header, *lines]))
    again, resumed = evaluate_batch(files, options=FLICKER, journal=journal, progress=False)
    assert resumed == 3
    assert again.videos[1].metrics["flicker"]["max"] == -1.0
    assert again.videos[0] == first.videos[0] and again.failed == first.failed
    # A line torn by a kill is dropped (and what follows it): only a.mp4 is reused.
    text = journal.read_text().splitlines()
    journal.write_text(text[0] + "\n" + text[1] + "\n" + text[2][: len(text[2]) // 2])
    torn, resumed = evaluate_batch(files, options=FLICKER, journal=journal, progress=False)
    assert resumed == 1 and torn.to_dict() == first.to_dict()
    # Other options: the journal is of another run, nothing is reused.
    other = BatchOptions(names=("flicker",), max_frames=6)
    _, resumed = evaluate_batch(files, options=other, journal=journal, progress=False)
    assert resumed == 0


def test_shards_merge_back_into_the_one_machine_report(files: list[Path]) -> None:
    whole, _ = evaluate_batch(files, options=FLICKER, progress=False)
    shards = []
    for k in (1, 2):
        part, _ = evaluate_batch(
            shard_files(files, k, 2), options=FLICKER, shard=(k, 2), progress=False
        )
        assert part.shard == Shard(k, 2, [str(f) for f in files[k - 1 :: 2]], FLICKER.to_dict())
        shards.append(part)
    assert merge_runs(shards[::-1]).to_dict() == whole.to_dict()


def _shard_run(index: int, count: int, files: list[str], **options: object) -> EvalRun:
    """A shard report whose files all failed (merging only reads files and results)."""
    failed = [FailedVideo(f, f"{f}: broken") for f in files]
    return EvalRun([], failed=failed, shard=Shard(index, count, files, dict(options)))


def test_merge_refuses_reports_that_are_not_one_run() -> None:
    one, two = _shard_run(1, 2, ["a", "c"]), _shard_run(2, 2, ["b"])
    merged = merge_runs([two, one])
    assert [f.video for f in merged.failed] == ["a", "b", "c"] and merged.shard is None
    cases = [
        ([], "merge needs the reports of every shard; got none"),
        ([one, EvalRun([])], r"report 2: not a shard's report"),
        ([one, _shard_run(2, 2, ["b"], size=64)], r"report 2: shard 2/2 with options .* does not"),
        ([one, _shard_run(2, 3, ["b"])], r"report 2: shard 2/3 .* does not belong"),
        ([one, one], r"report 2: shard 1/2 is given twice"),
        ([one], r"shard\(s\) 2/2 missing"),
        ([one, _shard_run(2, 2, ["b", "d", "f"])], r"shard 1/2 lists 2 files, which does not fit"),
        ([one, EvalRun([], shard=two.shard)], r"shard 2/2 has no result for b"),
    ]
    for runs, message in cases:
        with pytest.raises(SpacetimeError, match=message):
            merge_runs(runs)
    small = EvalRun([], analysis_size=64, shard=two.shard, failed=two.failed)
    with pytest.raises(SpacetimeError, match=r"b\.json: analysis_size differs"):
        merge_runs([one, small], names=["a.json", "b.json"])
