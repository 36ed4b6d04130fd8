"""`spacetime train-autoencoder` and `spacetime autoencode` end to end, in-process."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch
import yaml

from helpers import run_cli
from spacetime.contracts.pixels import to_model_range
from spacetime.data import shapes
from spacetime.models.autoencoder import build_autoencoder, load_autoencoder, psnr
from spacetime.training.config import config_file
from spacetime.video import read_video, write_mp4

TINY = ["size=32", "clip_frames=4", "crop=16", "train_clips=4", "eval_clips=2", "scaling_clips=2"]


def _sets(items: list[str]) -> list[str]:
    return [arg for item in items for arg in ("--set", item)]


@pytest.fixture(scope="module")
def assets(tmp_path_factory) -> tuple[Path, Path]:
    """A 32x32 ShapesWorld mp4 of 5 frames and a saved (untrained, scaled) shapes-f4 folder."""
    root = tmp_path_factory.mktemp("autoencode")
    clip = root / "clip.mp4"
    write_mp4(clip, shapes.generate(7, size=32, frames=5).video, 8.0)
    torch.manual_seed(0)
    ae = build_autoencoder("shapes-f4")
    ae.set_scaling(2.0, 0.1)
    ae.save_pretrained(root / "ae")
    return clip, root / "ae"


def test_train_autoencoder_prints_psnr_and_writes_the_run(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    argv = ["train-autoencoder", "--out", str(out), "--steps", "3", "--batch-size", "4"]
    code, stdout, stderr = run_cli(
        [*argv, "--seed", "2", *_sets([*TINY, "progress=false"])], capsys
    )
    assert code == 0, stderr
    metrics = json.loads((out / "metrics.json").read_text())
    printed = float(re.search(r"held-out PSNR ([\d.]+) dB", stdout).group(1))
    assert printed == pytest.approx(metrics["psnr"], abs=0.005)
    assert metrics["step"] == 3
    saved = yaml.safe_load((out / "config.yaml").read_text())
    assert (saved["steps"], saved["batch_size"], saved["seed"], saved["data"]) == (
        3,
        4,
        2,
        "shapes",
    )
    assert load_autoencoder(out / "autoencoder").scaling_factor == pytest.approx(
        metrics["scaling_factor"]
    )
    # Rerunning the finished command resumes at step 3: nothing to train, same result.
    code, _, _ = run_cli([*argv, "--seed", "2", *_sets([*TINY, "progress=false"])], capsys)
    assert code == 0 and json.loads((out / "metrics.json").read_text())["psnr"] == metrics["psnr"]


def test_dry_run_prints_the_resolved_recipe(tmp_path: Path, capsys) -> None:
    recipe = config_file("autoencoder-shapes")  # a bundled recipe, named
    argv = ["train-autoencoder", "--out", str(tmp_path / "x"), "--config", "autoencoder-shapes"]
    code, stdout, stderr = run_cli(
        [*argv, "--preset", "shapes-f8", "--steps", "7", "--dry-run"], capsys
    )
    assert code == 0, stderr
    resolved = yaml.safe_load(stdout)
    assert (resolved["preset"], resolved["steps"]) == ("shapes-f8", 7)
    assert resolved["optim"]["lr"] == yaml.safe_load(recipe.read_text())["optim"]["lr"]
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--preset", "shapes-f5"], "unknown autoencoder preset 'shapes-f5'"),
        (["--data", "/nonexistent/videos"], "no such file or folder"),
        (["--set", "bogus=1"], "unknown key 'bogus'"),
        (["--batch-size", "0"], "'--batch-size': 0 is not >= 1"),
        (["--config", "/nonexistent.yaml"], "does not exist"),
        ([], "--out DIR is required"),
    ],
)
def test_train_autoencoder_user_errors_exit_2(extra, message, tmp_path: Path, capsys) -> None:
    out = ["--out", str(tmp_path / "run")] if extra else []
    code, _, stderr = run_cli(["train-autoencoder", *out, *_sets(TINY), *extra], capsys)
    assert code == 2
    assert message in stderr and "Traceback" not in stderr


def test_autoencode_round_trip_prints_the_psnr(assets, tmp_path: Path, capsys) -> None:
    clip, folder = assets
    out = tmp_path / "recon.gif"
    argv = ["autoencode", str(clip), "--checkpoint", str(folder), "--out", str(out)]
    code, stdout, stderr = run_cli([*argv, "--chunk-size", "2"], capsys)
    assert code == 0, stderr
    assert "5 frames -> latents 4x5x8x8" in stdout
    printed = float(re.search(r"PSNR ([\d.]+) dB", stdout).group(1))
    pixels = to_model_range(read_video(clip).frames).unsqueeze(0)
    with torch.no_grad():
        expected = psnr(pixels, load_autoencoder(folder).reconstruct(pixels))[0].item()
    assert printed == pytest.approx(expected, abs=0.005)
    assert read_video(out).frames.shape == (5, 32, 32, 3)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--size", "30"], "multiple of the autoencoder's spatial factor 4"),
        (["--size", "big"], "--size expects S or HxW"),
        (["--device", "nonsense"], "--device nonsense"),
    ],
)
def test_autoencode_user_errors_exit_2(assets, extra, message, capsys) -> None:
    clip, folder = assets
    code, _, stderr = run_cli(
        ["autoencode", str(clip), "--checkpoint", str(folder), *extra], capsys
    )
    assert code == 2 and message in stderr and "Traceback" not in stderr


def test_autoencode_rejects_missing_inputs(assets, tmp_path: Path, capsys) -> None:
    clip, folder = assets
    code, _, stderr = run_cli(["autoencode", str(clip), "--checkpoint", str(tmp_path)], capsys)
    assert code == 2 and "no config.json" in stderr
    code, _, stderr = run_cli(
        ["autoencode", str(tmp_path / "no.mp4"), "--checkpoint", str(folder)], capsys
    )
    assert code == 2 and "no.mp4" in stderr
