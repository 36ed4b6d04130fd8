"""`spacetime eval` and `spacetime compare` end to end on real mp4 files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import run_cli
from spacetime.data import shapes
from spacetime.evaluation import corruptions
from spacetime.video import write_mp4

CAPTIONS = ("a red circle moves right", "a blue square moves down")


@pytest.fixture(scope="module")
def generators(tmp_path_factory) -> tuple[Path, Path, Path]:
    """Two folders of 2 clips each (clean, and the same clips broken) plus captions.jsonl."""
    root = tmp_path_factory.mktemp("generators")
    clean, broken = root / "clean", root / "broken"
    clean.mkdir()
    broken.mkdir()
    rows = []
    for index, caption in enumerate(CAPTIONS):
        scene = shapes.scene_from_caption(caption, seed=index, size=48, frames=10)
        video = shapes.render(scene).video
        bad = corruptions.flicker(corruptions.teleport(video, 1.0, seed=index), 1.0, seed=index)
        write_mp4(clean / f"clip_{index}.mp4", video, 8.0)
        write_mp4(broken / f"clip_{index}.mp4", bad, 8.0)
        rows.append(json.dumps({"file": f"clip_{index}.mp4", "caption": caption}))
    captions = root / "captions.jsonl"
    captions.write_text("\n".join(rows) + "\n")
    return clean, broken, captions


def test_eval_writes_table_json_and_html(generators, tmp_path, capsys) -> None:
    clean, _, captions = generators
    report, page = tmp_path / "r.json", tmp_path / "r.html"
    argv = ["eval", str(clean), "--captions", str(captions), "--json", str(report)]
    code, out, _ = run_cli([*argv, "--html", str(page)], capsys)
    assert code == 0
    assert "clip_0.mp4" in out and "clip_1.mp4" in out and "oracle" in out
    data = json.loads(report.read_text())
    entries = data["videos"]
    assert [Path(e["video"]).name for e in entries] == ["clip_0.mp4", "clip_1.mp4"]
    assert [e["caption"] for e in entries] == list(CAPTIONS)
    assert all(e["frames"] == 10 and e["height"] == e["width"] == 48 for e in entries)
    assert all("adherence" in e["oracle"] for e in entries)
    html = page.read_text()
    assert html.count("<section class='video'") == 2 and "a blue square moves down" in html


def test_compare_ranks_clean_above_corrupted(generators, tmp_path, capsys) -> None:
    clean, broken, captions = generators
    result = tmp_path / "cmp.json"
    argv = ["compare", str(broken), str(clean), "--captions", str(captions), "--json", str(result)]
    code, out, _ = run_cli(argv, capsys)
    assert code == 0
    assert out.index("clean") < out.index("broken")  # the table lists the best first
    ranked = json.loads(result.read_text())["generators"]
    assert [g["name"] for g in ranked] == ["clean", "broken"]
    assert ranked[0]["rank"] == 1 and ranked[1]["rank"] == 2
    assert ranked[0]["ranks"]["flicker"] == 1 and ranked[0]["ranks"]["warp_error"] == 1
    assert ranked[0]["means"]["flicker"] < ranked[1]["means"]["flicker"]
    assert any(column.startswith("oracle.") for column in ranked[0]["ranks"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["eval", "{root}/missing.mp4"], "no such file"),
        (["eval", "{root}/empty"], "no video files"),
        (["eval", "{root}/fake.mp4"], "not a readable video"),
        (["eval", "{clean}", "--captions", "{root}/bad.jsonl"], "bad.jsonl:1"),
        (["eval", "{clean}", "--max-frames", "1"], "--max-frames"),
        (["compare", "{clean}"], "at least two folders"),
        (["compare", "{clean}", "{root}/fake.mp4"], "not a folder"),
        (["eval", "{clean}", "--json", "{root}/fake.mp4/r.json"], "r.json: cannot write"),
        (["compare", "{clean}", "{clean}/../broken", "--frozen-threshold", "-1"], "--frozen"),
    ],
)
def test_user_errors_exit_2_without_traceback(generators, tmp_path, capsys, argv, message):
    clean, _, _ = generators
    (tmp_path / "empty").mkdir()
    (tmp_path / "fake.mp4").write_bytes(b"this is not an mp4 file")
    (tmp_path / "bad.jsonl").write_text("{not json}\n")
    argv = [a.format(root=tmp_path, clean=clean) for a in argv]
    code, _, err = run_cli(argv, capsys)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert err.startswith("spacetime: error:") or "Invalid value" in err  # ours, or click's


def test_console_script_reports_exclusive_captions(generators) -> None:
    clean, _, captions = generators
    script = Path(sys.executable).with_name("spacetime")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "spacetime"]
    argv = [
        "eval",
        str(clean),
        "--caption",
        "a red circle moves right",
        "--captions",
        str(captions),
    ]
    done = subprocess.run([*command, *argv], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "--caption and --captions are exclusive" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_same_caption_for_several_videos(generators, tmp_path, capsys) -> None:
    clean, _, _ = generators
    report = tmp_path / "same.json"
    argv = ["eval", str(clean), "--caption", CAPTIONS[0], "--json", str(report)]
    code, _, _ = run_cli([*argv, "--metrics", "flicker,teleport"], capsys)
    assert code == 0
    entries = json.loads(report.read_text())["videos"]
    assert [e["caption"] for e in entries] == [CAPTIONS[0]] * 2
    assert all(list(e["metrics"]) == ["flicker", "teleport"] for e in entries)
    # clip_0 matches the caption, clip_1 (a blue square) does not: the oracle sees it.
    adherence = [e["oracle"]["adherence"] for e in entries]
    assert adherence[0] > adherence[1]
    assert np.isfinite(adherence).all()


def test_notes_for_free_text_and_missing_captions(generators, tmp_path, capsys) -> None:
    clean, _, _ = generators
    report = tmp_path / "free.json"
    argv = ["eval", str(clean), "--caption", "a dog runs", "--metrics", "flicker"]
    code, _, err = run_cli([*argv, "--json", str(report)], capsys)
    assert code == 0 and "did not score 2 caption(s)" in err
    assert "'a dog runs' is not of ShapesWorld form" in err
    entries = json.loads(report.read_text())["videos"]
    assert all(e["caption"] == "a dog runs" and "oracle" not in e for e in entries)
    partial = tmp_path / "partial.jsonl"
    partial.write_text(json.dumps({"file": "clip_1.mp4", "caption": CAPTIONS[1]}) + "\n")
    argv = ["eval", str(clean), "--captions", str(partial), "--metrics", "flicker"]
    code, _, err = run_cli([*argv, "--json", str(report)], capsys)
    assert code == 0 and "1 video(s) not in" in err and "clip_0.mp4" in err
    entries = json.loads(report.read_text())["videos"]
    assert "caption" not in entries[0] and entries[1]["oracle"]["adherence"] == 1.0


def test_inconsistent_shapes_caption_note_gives_the_reason(generators, capsys) -> None:
    clean, _, _ = generators
    argv = ["eval", str(clean), "--caption", "a red circle moves up behind a pillar"]
    code, _, err = run_cli([*argv, "--metrics", "flicker"], capsys)
    assert code == 0
    assert "must move left or right, not 'moves up'" in err and "ShapesWorld form" not in err


def test_compare_probes_every_folder_before_scoring(generators, tmp_path, capsys) -> None:
    clean, _, _ = generators
    late = tmp_path / "late"
    late.mkdir()
    (late / "clip_0.mp4").write_bytes(b"not a video")
    code, out, err = run_cli(["compare", str(clean), str(late)], capsys)
    assert code == 2 and "late/clip_0.mp4: not a readable video" in err
    assert "evaluating" not in err and out == ""  # failed before scoring clean/
