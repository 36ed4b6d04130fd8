"""`spacetime generate --long / --cascade`: long videos and cascades from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import run_cli, tiny_pipeline
from spacetime.diffusion import build_objective
from spacetime.models.super_resolution import build_sr_model
from spacetime.pipelines.super_resolution import SuperResolutionPipeline
from spacetime.video.reader import read_video

PROMPT = "a red circle moves left"


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    tiny_pipeline([PROMPT], frames=4, size=8, text_dim=8).save_pretrained(root / "base")
    sr = SuperResolutionPipeline(
        build_sr_model("unet3d-tiny").eval(), build_objective({"kind": "gaussian"}), window=4
    )
    sr.save_pretrained(root / "sr")
    return {"base": root / "base", "sr": root / "sr"}


def test_long_writes_every_frame(
    folders: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "long.gif"
    args = ["generate", PROMPT, "-c", str(folders["base"]), "--steps", "1", "--frames", "10"]
    code, stdout, _ = run_cli(
        [*args, "--long", "sliding", "--window", "4", "--overlap", "1", "--out", str(out)], capsys
    )
    assert code == 0 and "10 frames, 8x8" in stdout
    assert read_video(out).frames.shape == (10, 8, 8, 3)


def test_cascade_from_one_yaml(
    folders: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "cascade.yaml"
    config.write_text(
        f"base: {folders['base']}\nframes: 7\nsteps: 1\nlong:\n  method: keyframes\n"
        f"super_resolution:\n  path: {folders['sr']}\n  steps: 1\n"
    )
    out = tmp_path / "cascade.gif"
    code, _, err = run_cli(
        ["generate", PROMPT, "--cascade", str(config), "--out", str(out)], capsys
    )
    assert code == 0, err
    assert read_video(out).frames.shape == (7, 16, 16, 3)  # keyframes to 7 frames, then 2x


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--long", "loop"], "--long 'loop': expected one of extend, guided, noisy"),
        (["--window", "4"], "--window and --overlap apply to --long"),
        (["--long", "extend", "--overlap", "4"], "overlap must be in [1, window=4)"),
        (["--cascade", "{tmp}/none.yaml"], "none.yaml does not exist"),
    ],
)
def test_bad_long_options_exit_2_with_one_line(
    folders: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    filled = [a.format(tmp=tmp_path) for a in args]
    checkpoint = [] if "--cascade" in args else ["-c", str(folders["base"])]
    code, _, err = run_cli(
        [
            "generate",
            PROMPT,
            *checkpoint,
            *filled,
            "--frames",
            "8",
            "--steps",
            "1",
            "--out",
            str(tmp_path / "o.gif"),
        ],
        capsys,
    )
    assert code == 2 and message in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
