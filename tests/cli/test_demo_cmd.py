"""`spacetime demo`: the default model beside ground truth, and the evaluation-only showcase."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from helpers import tiny_pipeline
from spacetime.cli.demo_cmd import DEMO_CAPTIONS, MODEL_PROMPTS, side_by_side
from spacetime.cli.main import main
from spacetime.data.shapes import vocabulary
from spacetime.pipelines import default
from spacetime.video.reader import read_video


@pytest.fixture(autouse=True)
def no_default_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever is bundled, the default model is absent unless a test points at one."""
    monkeypatch.delenv(default.DEFAULT_MODEL_ENV, raising=False)
    monkeypatch.setattr(default, "BUNDLED_MODEL_DIR", tmp_path / "no_bundled_model")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random tiny pipeline knowing ShapesWorld's words: 16 frames (a pillar needs 15 at
    32 px) of 32x32."""
    pipe = tiny_pipeline([" ".join(vocabulary())], frames=16, size=32)
    return pipe.save_pretrained(tmp_path_factory.mktemp("demo") / "model")


def _demo(args: list[str]) -> int:
    with pytest.raises(SystemExit) as done:  # click's standalone mode always exits
        main(["demo", *args])
    return int(done.value.code or 0)


def test_model_demo_puts_ground_truth_beside_each_clip(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv(default.DEFAULT_MODEL_ENV, str(tiny_model))
    out = tmp_path / "demo"
    assert _demo(["--out", str(out), "--steps", "1"]) == 0
    printed = capsys.readouterr().out
    assert f"model: {tiny_model}" in printed and str(out / "report.html") in printed
    assert "generated 5 clips in" in printed and "total" in printed

    names = [f"{i + 1:02d}_{name}" for i, (name, _, _) in enumerate(MODEL_PROMPTS)]
    stems = [s for n in names for s in (n, f"{n}_truth")]
    assert sorted(p.stem for p in (out / "clips").glob("*.mp4")) == sorted(stems)
    assert sorted(p.stem for p in (out / "clips").glob("*.gif")) == sorted(stems)
    pairs = sorted((out / "side_by_side").glob("*.gif"))
    assert [p.stem for p in pairs] == names
    assert read_video(pairs[0]).frames.shape == (16, 32, 66, 3)

    entries = {Path(e["video"]).stem: e for e in json.loads((out / "report.json").read_text())[
        "videos"]}  # fmt: skip
    assert sorted(entries) == sorted(stems)
    captions = {name: caption for name, caption, _ in MODEL_PROMPTS}
    for stem, entry in entries.items():
        assert entry["caption"] == captions[stem[3:].removesuffix("_truth")]
        assert entry["frames"] == 16 and entry["width"] == 32 and "oracle" in entry
    for name in names:  # ShapesWorld's own rendering is what a perfect model would make
        assert entries[f"{name}_truth"]["oracle"]["adherence"] == 1.0
    assert entries["03_occlusion_truth"]["oracle"]["occlusion_reappearance"] == 1.0
    # image->video starts from the ground truth's first frame (H.264 is lossy).
    i2v = read_video(out / "clips" / "05_image_to_video.mp4").frames.astype(int)
    truth = read_video(out / "clips" / "05_image_to_video_truth.mp4").frames.astype(int)
    assert np.abs(i2v[0] - truth[0]).mean() < 4 < np.abs(i2v[5] - truth[5]).mean()
    page = (out / "report.html").read_text()
    assert page.count("<section class='video'") == 10


def test_side_by_side_keeps_both_clips() -> None:
    a = np.zeros((3, 4, 5, 3), np.uint8)
    b = np.full((3, 4, 5, 3), 7, np.uint8)
    pair = side_by_side(a, b)
    assert pair.shape == (3, 4, 12, 3)
    assert (pair[:, :, :5] == 0).all() and (pair[:, :, 5:7] == 255).all()
    assert (pair[:, :, 7:] == 7).all()


def test_without_a_model_it_falls_back_to_the_evaluator_showcase(tmp_path: Path, capsys) -> None:
    out = tmp_path / "demo"
    assert _demo(["--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "no default model is bundled" in err and "spacetime demo --no-model" in err
    assert (out / "report.html").is_file() and (out / "report.json").is_file()


def test_a_missing_checkpoint_exits_2_without_traceback(tmp_path: Path, capsys) -> None:
    out = tmp_path / "demo"
    assert _demo(["--checkpoint", str(tmp_path / "nope"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and "Traceback" not in err and not out.exists()


def test_no_model_showcase_writes_clips_and_the_corrupted_one_stands_out(
    tmp_path: Path, capsys
) -> None:
    out = tmp_path / "demo"
    assert _demo(["--no-model", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert str(out / "report.html") in printed and str(out / "report.json") in printed

    count = len(DEMO_CAPTIONS) + 1  # the clean clips and one corrupted copy
    mp4s = sorted((out / "clips").glob("*.mp4"))
    gifs = sorted((out / "clips").glob("*.gif"))
    assert len(mp4s) == len(gifs) == count
    assert all(p.stat().st_size > 0 for p in [*mp4s, *gifs])
    captions = [json.loads(line) for line in (out / "clips" / "captions.jsonl").open()]
    assert [c["file"] for c in captions] == [p.name for p in mp4s]

    entries = json.loads((out / "report.json").read_text())["videos"]
    assert len(entries) == count
    assert all(e["frames"] == 16 and e["width"] == 64 and "oracle" in e for e in entries)
    occlusion = entries[0]["oracle"]
    assert "behind a pillar" in entries[0]["caption"]
    assert occlusion["occlusion_reappearance"] is not None
    # The corrupted clip is the bounce clip with its object teleported on the middle frame,
    # plus brightness flicker: both the coherence metrics and the oracle see it.
    source = next(e for e in entries if "bounce" in e["video"] and "corrupted" not in e["video"])
    broken = entries[-1]
    assert "corrupted" in broken["video"] and broken["caption"] == source["caption"]
    for metric in ("flicker", "warp_error"):
        assert broken["metrics"][metric]["max"] > 2 * source["metrics"][metric]["max"]
    jump = broken["metrics"]["teleport"]
    assert jump["max"] > 5 * source["metrics"]["teleport"]["max"]
    assert jump["worst_frame"] in (7, 8)  # the middle frame (8 of 16) is left and re-entered
    assert broken["oracle"]["teleport_rate"] > 0 == source["oracle"]["teleport_rate"]
    page = (out / "report.html").read_text()
    assert page.count("<section class='video'") == count and "data:image/png;base64," in page
