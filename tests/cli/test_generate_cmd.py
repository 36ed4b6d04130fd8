"""Tests for `spacetime generate` end to end: a tiny saved pipeline -> mp4/gif files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers import hide_default_model, save_tiny_run
from spacetime.cli.generate_cmd import output_paths
from spacetime.cli.main import main
from spacetime.errors import SpacetimeError
from spacetime.pipelines import default
from spacetime.video.reader import read_video

PROMPT = "a red circle moves left"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A training run folder holding a tiny pipeline, as `spacetime train` writes it."""
    return save_tiny_run(tmp_path_factory.mktemp("run"), PROMPT)


@pytest.fixture(autouse=True)
def no_default_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever is bundled, the default model is absent unless a test points at one."""
    hide_default_model(tmp_path, monkeypatch)


def _run(args: list[str]) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(["generate", *args])
    return int(exit_info.value.code or 0)


def test_generate_from_a_run_folder_writes_an_mp4(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "clip.mp4"
    code = _run([PROMPT, "-c", str(run_dir), "--steps", "2", "--frames", "6", "--out", str(out)])
    assert code == 0
    video = read_video(out)
    assert video.frames.shape == (6, 16, 16, 3) and video.fps == pytest.approx(8.0)
    printed = capsys.readouterr().out
    assert str(out) in printed and "6 frames, 16x16" in printed and " s" in printed


def test_num_writes_numbered_gifs_from_a_pipeline_folder(run_dir: Path, tmp_path: Path) -> None:
    pipeline = run_dir / "checkpoint" / "pipeline"
    args = [PROMPT, "-c", str(pipeline), "--steps", "1", "--num", "2", "--size", "8"]
    assert _run([*args, "--sampler", "dpm++", "--out", str(tmp_path / "v.gif")]) == 0
    a, b = (read_video(tmp_path / f"v_{i}.gif").frames for i in range(2))
    assert a.shape == b.shape == (4, 8, 8, 3)
    assert not np.array_equal(a, b)  # seeds 0 and 1
    assert not (tmp_path / "v.gif").exists()


def test_without_checkpoint_the_default_model_is_used(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    pipeline = run_dir / "checkpoint" / "pipeline"
    monkeypatch.setenv(default.DEFAULT_MODEL_ENV, str(pipeline))
    out = tmp_path / "default.gif"
    assert _run([PROMPT, "--steps", "1", "--out", str(out)]) == 0
    assert read_video(out).frames.shape == (4, 16, 16, 3)
    assert f"from {pipeline} in" in capsys.readouterr().out
    explicit = tmp_path / "explicit.gif"
    assert _run([PROMPT, "-c", str(pipeline), "--steps", "1", "--out", str(explicit)]) == 0
    assert np.array_equal(read_video(out).frames, read_video(explicit).frames)
    monkeypatch.setenv(default.DEFAULT_MODEL_ENV, str(tmp_path / "gone"))
    assert _run([PROMPT, "--steps", "1", "--out", str(tmp_path / "gone.gif")]) == 2
    assert "SPACETIME_DEFAULT_MODEL=" in capsys.readouterr().err


def test_image_sets_the_first_frame(run_dir: Path, tmp_path: Path) -> None:
    first = np.zeros((32, 32, 3), np.uint8)
    first[:, :16] = (250, 30, 30)
    Image.fromarray(first).save(tmp_path / "first.png")
    out = tmp_path / "i2v.mp4"
    args = [PROMPT, "-c", str(run_dir), "--steps", "1", "--image", str(tmp_path / "first.png")]
    assert _run([*args, "--out", str(out)]) == 0
    frame0 = read_video(out).frames[0].astype(int)
    assert np.abs(frame0[:, :7] - (250, 30, 30)).mean() < 12  # H.264 is lossy
    assert np.abs(frame0[:, 9:]).mean() < 12


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "no default model is bundled with this spacetime"),
        (["-c", "{tmp}/missing"], "does not exist"),
        (["-c", "{tmp}"], "neither a pipeline folder"),
        (["-c", "{run}", "--size", "15"], "size 15x15 is not supported"),
        (["-c", "{run}", "--num", "0"], "'--num': 0 is not in [1, 10000]"),
        (["-c", "{run}", "--image", "{tmp}/none.png"], "none.png: not a readable image"),
        (["-c", "{run}", "--sampler", "flow-euler"], "integrates flow models"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    run_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    filled = [a.format(tmp=tmp_path, run=run_dir) for a in args]
    assert _run([PROMPT, *filled, "--steps", "1", "--out", str(tmp_path / "o.mp4")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "o.mp4").exists()


def test_output_names(tmp_path: Path) -> None:
    assert output_paths(tmp_path / "a.gif", 1) == [tmp_path / "a.gif"]
    assert output_paths(tmp_path / "a.mp4", 2) == [tmp_path / "a_0.mp4", tmp_path / "a_1.mp4"]
    with pytest.raises(SpacetimeError, match=r"must end in \.mp4 or \.gif"):
        output_paths(tmp_path / "a.avi", 1)


def test_user_warnings_are_one_line_each(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The model knows "a red circle moves left" and was trained on 4 frames.
    out = tmp_path / "long.gif"
    args = ["a purple circle zooms", "-c", str(run_dir), "--steps", "1", "--frames", "8"]
    assert _run([*args, "--out", str(out)]) == 0
    err = capsys.readouterr().err.splitlines()
    warned = [line for line in err if line.startswith("spacetime: warning: ")]
    assert len(warned) == 2, err
    vocabulary, window = sorted(warned, key=lambda line: "vocabulary" not in line)
    assert "prompt 'a purple circle zooms': 'purple', 'zooms' not in the model's" in vocabulary
    assert "8 frames is more than the 4 this model was trained on" in window
    assert "--long extend" in window and "generate_long" in window  # the long path is offered
    assert not [line for line in err if "Warning" in line or ".py:" in line]  # no Python format
    assert read_video(out).frames.shape[0] == 8  # it still does what was asked


def test_library_refuses_non_finite_guidance(run_dir: Path) -> None:
    from spacetime.pipelines import VideoPipeline

    pipe = VideoPipeline.from_pretrained(run_dir / "checkpoint" / "pipeline")
    for bad in (float("nan"), float("inf")):
        with pytest.raises(SpacetimeError, match="guidance must be finite"):
            pipe([PROMPT], seeds=[0], steps=1, guidance=bad, progress=False)


def test_best_of_keeps_the_variant_the_evaluator_ranks_first(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = [PROMPT, "-c", str(run_dir), "--steps", "2", "--frames", "4", "--size", "16"]
    assert _run([*base, "--best-of", "3", "--num", "2", "--out", str(tmp_path / "b.mp4")]) == 0
    printed = capsys.readouterr().out
    kept = [int(line.split("kept seed ")[1].split()[0]) for line in printed.splitlines()
            if "kept seed" in line]  # fmt: skip
    assert len(kept) == 2 and kept[0] in range(3) and kept[1] in range(3, 6)
    for i, seed in enumerate(kept):  # each kept video is that seed's video, generated alone
        alone = tmp_path / f"alone{i}.mp4"
        assert _run([*base, "--seed", str(seed), "--out", str(alone)]) == 0
        assert np.array_equal(read_video(tmp_path / f"b_{i}.mp4").frames, read_video(alone).frames)
