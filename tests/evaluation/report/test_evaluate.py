"""Evaluating clips and files: the JSON schema of DESIGN.md, captions, oracle, input errors."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from spacetime.data import shapes
from spacetime.errors import SpacetimeError
from spacetime.evaluation.metrics import METRIC_NAMES
from spacetime.evaluation.report.captions import match_captions
from spacetime.evaluation.report.compare import compare_generators
from spacetime.evaluation.report.evaluate import (
    collect_videos,
    evaluate_frames,
    evaluate_video,
    evaluate_videos,
)
from spacetime.evaluation.report.schema import EvalRun, load_report, write_report
from spacetime.video import read_video, write_mp4
from spacetime.video.writer import STRIP_MARK

CAPTION = "a red circle moves right"


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    """A 10-frame 32 px ShapesWorld clip of :data:`CAPTION`."""
    scene = shapes.scene_from_caption(CAPTION, seed=0, size=32, frames=10)
    return shapes.render(scene).video


def test_step_in_brightness_is_the_worst_flicker_frame(clip) -> None:
    stepped = clip.astype(np.int16)
    stepped[6:] += 40  # a brightness step between frames 5 and 6
    stepped = np.clip(stepped, 0, 255).astype(np.uint8)
    report = evaluate_frames(
        stepped, video="stepped.mp4", fps=8.0, names=["flicker", "dynamic_degree"], with_strip=True
    )
    flicker = report.metrics["flicker"]
    # Transition 5 -> 6 is the worst; the failure shows on frame 6, which the strip marks
    # (dynamic_degree's maximum is motion, not a failure: not marked).
    assert flicker["worst_frame"] == 5 and report.worst_frames() == {"flicker": 6}
    strip = np.asarray(Image.open(io.BytesIO(report.strip)).convert("RGB"))
    tile = 32 + 2 * 2
    assert strip.shape == (tile, 10 * tile, 3)
    marked = [k for k in range(10) if tuple(strip[0, k * tile + 2]) == tuple(STRIP_MARK)]
    assert marked == [6]
    assert len(flicker["per_frame"]) == 9
    assert flicker["max"] == pytest.approx(40, rel=0.2)  # a uniform step of k levels gives ~k
    assert flicker["max"] > 5 * np.median(flicker["per_frame"])


def test_entry_schema_and_json_round_trip(clip, tmp_path) -> None:
    report = evaluate_frames(clip, video="clip.mp4", fps=8.0, caption=CAPTION)
    entry = report.to_dict()
    assert list(entry) == [
        "video", "frames", "height", "width", "fps", "metrics", "caption", "oracle",
    ]  # fmt: skip
    assert (entry["frames"], entry["height"], entry["width"], entry["fps"]) == (10, 32, 32, 8.0)
    assert list(entry["metrics"]) == list(METRIC_NAMES)
    for series in entry["metrics"].values():
        assert set(series) == {"mean", "p95", "max", "worst_frame", "per_frame"}
        assert len(series["per_frame"]) == 9
        assert series["mean"] == pytest.approx(np.mean(series["per_frame"]))
    assert 0.0 <= entry["oracle"]["adherence"] <= 1.0
    path = write_report(tmp_path / "out.json", EvalRun([report]))
    data = json.loads(path.read_text())
    assert set(data) == {"spacetime_version", "analysis_size", "videos", "failed"}
    assert data["videos"] == [json.loads(json.dumps(entry))]
    assert load_report(path).videos[0].to_dict() == data["videos"][0]


def test_oracle_only_for_shapes_captions(clip) -> None:
    plain = evaluate_frames(clip, video="a.mp4", fps=8.0, caption="a dog runs", names=["flicker"])
    assert plain.caption == "a dog runs" and plain.oracle is None
    assert "oracle" not in plain.to_dict()
    bare = evaluate_frames(clip, video="a.mp4", fps=8.0, names=["flicker"]).to_dict()
    assert "caption" not in bare and "oracle" not in bare
    with pytest.raises(SpacetimeError, match="unknown metric"):
        evaluate_frames(clip, video="a.mp4", fps=8.0, names=["sharpness"])


def test_evaluate_video_reads_files_and_resizes(clip, tmp_path) -> None:
    path = write_mp4(tmp_path / "clip.mp4", clip, 8.0)
    report = evaluate_video(path, max_frames=6, names=["flicker", "dynamic_degree"])
    assert (report.frames, report.height, report.width, report.fps) == (6, 32, 32, 8.0)
    assert report.video == str(path)
    small = evaluate_video(path, size=16, names=["flicker"])
    assert (small.frames, small.height, small.width) == (10, 16, 16)
    with pytest.raises(SpacetimeError, match="--max-frames"):
        evaluate_video(path, max_frames=1)


def test_collect_videos_and_input_errors(clip, tmp_path) -> None:
    folder = tmp_path / "gen"
    folder.mkdir()
    for name in ("b.mp4", "a.mp4"):
        write_mp4(folder / name, clip[:4], 8.0)
    (folder / "notes.txt").write_text("not a video")
    assert [p.name for p in collect_videos([folder])] == ["a.mp4", "b.mp4"]
    assert collect_videos([folder / "a.mp4", folder]) == [folder / "a.mp4", folder / "b.mp4"]
    with pytest.raises(SpacetimeError, match="no such file"):
        collect_videos([tmp_path / "missing.mp4"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(SpacetimeError, match="no video files"):
        collect_videos([tmp_path / "empty"])
    with pytest.raises(SpacetimeError, match="not a video"):
        collect_videos([folder / "notes.txt"])


def test_captions_by_file_name_and_errors(tmp_path) -> None:
    videos = [tmp_path / "x" / "a.mp4", tmp_path / "y" / "b.mp4", tmp_path / "c.mp4"]
    manifest = tmp_path / "captions.jsonl"
    rows = [{"file": "a.mp4", "caption": "first"}, {"file": "sub/b.mp4", "caption": "second"}]
    manifest.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert match_captions(videos, captions_file=manifest) == ["first", "second", None]
    assert match_captions(videos, caption="same") == ["same"] * 3
    with pytest.raises(SpacetimeError, match="exclusive"):
        match_captions(videos, caption="same", captions_file=manifest)
    manifest.write_text('{"file": "a.mp4", "caption": "ok"}\n{"file": oops}\n')
    with pytest.raises(SpacetimeError, match=r"captions.jsonl:2"):
        match_captions(videos, captions_file=manifest)


def test_captions_key_on_the_path_relative_to_the_manifest(tmp_path) -> None:
    manifest = tmp_path / "f" / "captions.jsonl"
    manifest.parent.mkdir()
    rows = [{"file": "a/clip.mp4", "caption": "in a"}, {"file": "b/clip.mp4", "caption": "in b"}]
    manifest.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    videos = [tmp_path / "f" / "b" / "clip.mp4", tmp_path / "f" / "a" / "clip.mp4"]
    assert match_captions(videos, captions_file=manifest) == ["in b", "in a"]
    # Same name in two rows and the video is neither: ambiguous, so an error naming it.
    with pytest.raises(SpacetimeError, match=r"2 rows are named 'clip\.mp4'"):
        match_captions([tmp_path / "h" / "clip.mp4"], captions_file=manifest)


def test_a_caption_claimed_by_path_is_not_reused_by_name(tmp_path) -> None:
    # `eval f/ h/ --captions f/captions.jsonl`: h/clip_0.mp4 must not get f/clip_0.mp4's caption.
    manifest = tmp_path / "f" / "captions.jsonl"
    manifest.parent.mkdir()
    manifest.write_text('{"file": "clip_0.mp4", "caption": "real"}\n')
    videos = [tmp_path / "f" / "clip_0.mp4", tmp_path / "h" / "clip_0.mp4"]
    assert match_captions(videos, captions_file=manifest) == ["real", None]
    # Without the claiming video the unique name still matches (folder-free manifests).
    assert match_captions(videos[1:], captions_file=manifest) == ["real"]


def test_an_unreadable_file_fails_before_any_video_is_scored(clip, tmp_path) -> None:
    good = write_mp4(tmp_path / "good.mp4", clip, 8.0)
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video")
    with pytest.raises(SpacetimeError, match=r"bad\.mp4") as info:
        evaluate_videos([good, bad], progress=False, names=["flicker"])
    # Raised by the up-front probe in evaluate_videos, not by evaluate_video on the 2nd file
    # after the 1st was scored.
    assert [e.name for e in info.traceback][:2] == [
        "test_an_unreadable_file_fails_before_any_video_is_scored",
        "evaluate_videos",
    ]
    assert "evaluate_video" not in [e.name for e in info.traceback]


def test_empty_metric_list_is_not_every_metric(clip) -> None:
    # names=[] is a (bad) explicit choice, not "the default": it must not compute all metrics.
    with pytest.raises(SpacetimeError, match="expected some of"):
        evaluate_frames(clip, video="v", fps=8.0, names=[])


def test_real_footage_moves_and_its_freeze_is_flagged_frozen(real_dir, tmp_path) -> None:
    real = evaluate_video(real_dir / "03_blocks.mp4", max_frames=8, size=64)
    assert (real.frames, real.width, real.height) == (8, 64, 36)  # 1280x720, aspect kept
    frozen = np.repeat(read_video(real_dir / "03_blocks.mp4", max_frames=1).frames, 8, axis=0)
    path = write_mp4(tmp_path / "frozen.mp4", frozen, 8.0)
    still = evaluate_video(path, size=64)
    comparison = compare_generators({"camera": [real], "freeze": [still]})
    by_name = {g.name: g for g in comparison.generators}
    assert by_name["camera"].means["frozen"] == 0.0 and by_name["freeze"].means["frozen"] == 1.0
    assert by_name["freeze"].ranks["frozen"] == 2
