"""`spacetime shapes`: writes clips, captions and ground truth; bad options exit 2."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spacetime.cli.main import main
from spacetime.data.shapes import generate, is_shapes_caption
from spacetime.video import read_video


def test_shapes_command_writes_a_dataset(tmp_path, capsys):
    out = tmp_path / "ds"
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "shapes",
                "--n",
                "3",
                "--out",
                str(out),
                "--size",
                "48",
                "--frames",
                "8",
                "--seed",
                "10",
                "--quiet",
            ]
        )
    assert exit_info.value.code in (0, None)
    assert "wrote 3 clips" in capsys.readouterr().out
    lines = [json.loads(x) for x in (out / "captions.jsonl").read_text().splitlines()]
    truth = [json.loads(x) for x in (out / "ground_truth.jsonl").read_text().splitlines()]
    assert [x["seed"] for x in lines] == [10, 11, 12] and len(truth) == 3
    for entry, gt in zip(lines, truth, strict=False):
        assert is_shapes_caption(entry["caption"]) and gt["caption"] == entry["caption"]
        video = read_video(out / entry["file"])
        assert video.frames.shape == (8, 48, 48, 3)
        clip = generate(entry["seed"], size=48, frames=8)
        assert entry["caption"] == clip.caption
        assert np.abs(video.frames.astype(int) - clip.video.astype(int)).mean() < 4.0


def test_same_seed_same_videos(tmp_path):
    for name in ("a", "b"):
        with pytest.raises(SystemExit):
            main(
                [
                    "shapes",
                    "--n",
                    "2",
                    "--out",
                    str(tmp_path / name),
                    "--frames",
                    "4",
                    "--seed",
                    "3",
                    "--quiet",
                ]
            )
    for f in ("clip_00000.mp4", "clip_00001.mp4"):
        a, b = read_video(tmp_path / "a" / f).frames, read_video(tmp_path / "b" / f).frames
        assert np.array_equal(a, b)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--n", "0"], "--n"),
        (["--size", "16"], "size"),
        (["--frames", "0"], "frames"),
        (["--frames", "1"], "'--frames': 1 is not in [2, 4096]"),
        (["--size", "33"], "--size must be even"),
        (["--background", "dots"], "'dots' is not one of"),
        (["--occluder", "maybe"], "--occluder"),
        (["--objects", "5"], "--objects"),
    ],
)
def test_bad_options_exit_2(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as exit_info:
        main(["shapes", "--out", str(tmp_path / "x"), "--quiet", *args])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_unwritable_out_is_one_line_error(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    with pytest.raises(SystemExit) as exit_info:
        main(["shapes", "--n", "1", "--out", str(tmp_path / "file" / "x"), "--quiet"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "Traceback" not in err
    assert err.startswith("spacetime: error: --out ") and "cannot write there" in err


def test_help_lists_the_choices(capsys):
    with pytest.raises(SystemExit):
        main(["shapes", "--help"])
    out = capsys.readouterr().out
    assert "auto|yes|no" in out and "plain|stripes|checkered" in out


def test_background_choices_are_shapesworld_backgrounds():
    from spacetime.cli.shapes_cmd import Background
    from spacetime.data.shapes.palette import BACKGROUNDS

    assert tuple(b.value for b in Background) == BACKGROUNDS
