"""The report schema: entries, worst frames, the JSON file (atomic write, load checks), plain()."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from spacetime import __version__
from spacetime.errors import SpacetimeError
from spacetime.evaluation.report.schema import (
    EvalRun,
    FailedVideo,
    Shard,
    VideoReport,
    load_report,
    plain,
    write_json,
    write_report,
    write_text,
)


def test_entry_keys_in_order_and_optional_parts_only_when_present(
    make_report: Callable[..., VideoReport],
) -> None:
    bare = make_report("a.mp4").to_dict()
    assert list(bare) == ["video", "frames", "height", "width", "fps", "metrics"]
    assert (bare["frames"], bare["height"], bare["width"], bare["fps"]) == (9, 32, 48, 8.0)
    full = make_report("b.mp4", caption="a red circle", oracle={"adherence": 0.5}).to_dict()
    assert list(full)[-2:] == ["caption", "oracle"] and full["oracle"] == {"adherence": 0.5}
    report = make_report("c.mp4")
    report.strip = b"\x89PNG"  # only for the HTML page: never in the JSON, not compared
    assert "strip" not in report.to_dict() and report == make_report("c.mp4")


def test_from_dict_inverts_to_dict_and_names_a_malformed_entry(
    make_report: Callable[..., VideoReport],
) -> None:
    report = make_report("a.mp4", caption="a cat", oracle={"adherence": 1.0})
    assert VideoReport.from_dict(report.to_dict()) == report
    as_text = {**report.to_dict(), "frames": "9", "fps": "8"}  # JSON from elsewhere: coerced
    assert VideoReport.from_dict(as_text) == report
    entry = report.to_dict()
    del entry["fps"]
    with pytest.raises(SpacetimeError, match=r"is malformed \(KeyError\('fps'\)\); expected"):
        VideoReport.from_dict(entry)
    with pytest.raises(SpacetimeError, match="malformed"):
        VideoReport.from_dict({**report.to_dict(), "frames": "nine"})


def test_worst_frames_are_the_later_frame_of_failure_metrics(
    make_report: Callable[..., VideoReport],
) -> None:
    report = make_report(spike_at=2)
    report.metrics["flicker"]["worst_frame"] = 5
    report.metrics["teleport"]["per_frame"] = []  # not measured on this clip: no worst frame
    worst = report.worst_frames()
    assert worst["flicker"] == 6  # transition 5 -> 6 shows on frame 6
    assert "dynamic_degree" not in worst and "teleport" not in worst  # motion is no failure
    assert set(worst.values()) == {3, 6}  # every other failure metric peaks at transition 2


def test_run_to_dict_has_version_failures_and_shard_only_when_given(
    make_report: Callable[..., VideoReport],
) -> None:
    run = EvalRun([make_report("a.mp4")], analysis_size=128)
    data = run.to_dict()
    assert list(data) == ["spacetime_version", "analysis_size", "videos", "failed"]
    assert data["spacetime_version"] == __version__ and data["analysis_size"] == 128
    run.failed.append(FailedVideo("bad.mp4", "bad.mp4: not a readable video"))
    run.shard = Shard(2, 3, ["b.mp4", "e.mp4"], {"size": None})
    data = run.to_dict()
    assert data["failed"] == [{"video": "bad.mp4", "error": "bad.mp4: not a readable video"}]
    assert data["shard"] == {
        "index": 2, "count": 3, "files": ["b.mp4", "e.mp4"], "options": {"size": None},
    }  # fmt: skip


def test_report_file_round_trip(make_report: Callable[..., VideoReport], tmp_path: Path) -> None:
    run = EvalRun(
        [make_report("a.mp4"), make_report("b.mp4", caption="x")],
        analysis_size=64,
        failed=[FailedVideo("c.mp4", "c.mp4: too short")],
        shard=Shard(1, 2, ["a.mp4", "c.mp4", "b.mp4"], {"names": ["flicker"]}),
    )
    path = write_report(tmp_path / "deep" / "er" / "r.json", run)  # parents are created
    assert path == tmp_path / "deep" / "er" / "r.json"
    assert json.loads(path.read_text()) == run.to_dict()
    assert path.read_text().endswith("}\n")
    assert load_report(path) == run
    assert [p.name for p in path.parent.iterdir()] == ["r.json"]  # no temporary file left


def test_a_plain_list_of_entries_loads_with_the_defaults(
    make_report: Callable[..., VideoReport], tmp_path: Path
) -> None:
    entries = [make_report("a.mp4").to_dict(), make_report("b.mp4").to_dict()]
    path = write_json(tmp_path / "list.json", entries)
    run = load_report(path)
    assert [r.video for r in run.videos] == ["a.mp4", "b.mp4"]
    assert (run.analysis_size, run.failed, run.shard) == (256, [], None)


def test_load_report_rejects_a_bad_analysis_size(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"analysis_size": "x", "videos": []}))
    with pytest.raises(SpacetimeError, match="analysis_size"):
        load_report(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", r"r\.json: cannot read the report .*; expected JSON"),
        ('{"analysis_size": 64}', r'r\.json: expected an object with a "videos" list'),
        ('"videos"', r'expected an object with a "videos" list'),
        ('{"analysis_size": true, "videos": []}', r'"analysis_size" must be a positive integer'),
        ('{"analysis_size": 0, "videos": []}', r"positive integer \(pixels\), got 0"),
        ('{"videos": [], "failed": [{"video": "a"}]}', r'malformed "failed" or "shard"'),
        ('{"videos": [], "shard": {"index": 1, "count": 2}}', r'malformed "failed" or "shard"'),
        ('{"videos": [{"video": "a.mp4"}]}', r"report entry .* is malformed"),
    ],
)
def test_load_report_names_what_is_wrong(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "r.json"
    path.write_text(content)
    with pytest.raises(SpacetimeError, match=message):
        load_report(path)


def test_a_missing_report_is_named(tmp_path: Path) -> None:
    with pytest.raises(SpacetimeError, match=r"missing\.json: cannot read the report"):
        load_report(tmp_path / "missing.json")


def test_unwritable_json_path_is_a_spacetime_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(SpacetimeError, match=r"file/r.json: cannot write the JSON report"):
        write_report(tmp_path / "file" / "r.json", EvalRun([]))


def test_write_text_replaces_the_file_whole_and_names_what_it_writes(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text("old")
    assert write_text(path, "<p>é</p>", what="HTML page") == path
    assert path.read_bytes() == "<p>é</p>".encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.html"]
    (tmp_path / "dir.html").mkdir()  # a folder in the way
    with pytest.raises(SpacetimeError, match=r"dir\.html: cannot write the HTML page"):
        write_text(tmp_path / "dir.html", "x", what="HTML page")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.html", "page.html"]


def test_plain_turns_numpy_into_json_native_values() -> None:
    value = {
        1: np.float32(0.5),
        "a": np.arange(3, dtype=np.int64),
        "t": (np.int16(2), [np.bool_(True), float("nan")]),
        "inf": -math.inf,
        "m": np.array([[1.5, np.inf]]),
    }
    out = plain(value)
    assert out == {"1": 0.5, "a": [0, 1, 2], "t": [2, [True, None]], "inf": None,
                   "m": [[1.5, None]]}  # fmt: skip
    assert type(out["a"][0]) is int and type(out["t"][1][0]) is bool
    assert json.loads(json.dumps(out)) == out  # valid JSON: no NaN or Infinity
    assert plain("text") == "text" and plain(None) is None
