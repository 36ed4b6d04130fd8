"""`spacetime demo`: the default model beside ground truth, and the evaluation-only showcase."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from helpers import tiny_pipeline
from spacetime.cli.main import main
from spacetime.data.shapes import vocabulary
from spacetime.pipelines import default
from spacetime.pipelines.demo import DEMO_CAPTIONS, MODEL_PROMPTS
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


def test_no_model_showcase_prints_where_the_files_are(tmp_path: Path, capsys) -> None:
    out = tmp_path / "demo"
    assert _demo(["--no-model", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert str(out / "report.html") in printed and str(out / "report.json") in printed
    corrupted = f"{len(DEMO_CAPTIONS) + 1:02d}_bounce_corrupted.mp4"
    assert f"the clip {corrupted} was corrupted on purpose" in printed
    assert f"evaluated {len(DEMO_CAPTIONS) + 1} clips in" in printed
    assert len(list((out / "clips").glob("*.mp4"))) == len(DEMO_CAPTIONS) + 1
