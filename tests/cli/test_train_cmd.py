"""`spacetime train`: config resolution, --dry-run, user errors (exit 2) and a short real run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from spacetime.cli.main import main
from spacetime.pipelines.video_pipeline import VideoPipeline


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``spacetime ARGV`` run in this process."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


def test_dry_run_prints_the_resolved_config(capsys: pytest.CaptureFixture[str], tmp_path: Path):
    file = tmp_path / "extra.yaml"
    file.write_text("optim:\n  weight_decay: 0.05\n")
    code, out, _ = run(
        ["train", "--preset", "shapes-tiny", "--config", str(file), "--set", "optim.lr=3e-4",
         "--set", "model.temporal=false", "--steps", "12", "--seed", "7", "--dry-run"],
        capsys,
    )  # fmt: skip
    assert code == 0
    config = yaml.safe_load(out)
    assert config["optim"]["lr"] == pytest.approx(3e-4)
    assert config["optim"]["weight_decay"] == pytest.approx(0.05)
    assert config["model"] == {
        "name": "dit-tiny",
        "temporal": False,
        "overrides": {"patch_size": 4},
    }
    assert (config["steps"], config["seed"]) == (12, 7)
    assert not (tmp_path / "config.yaml").exists()  # nothing written


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--preset", "nope", "--dry-run"], "unknown preset 'nope'; expected one of"),
        (["train", "--dry-run"], "give --preset NAME or --config FILE"),
        (["train", "-p", "shapes-tiny", "--set", "optim.warmup=3"], "unknown key 'optim.warmup'"),
        (["train", "-p", "shapes-tiny", "--set", "steps=many"], "steps expects int"),
        (["train", "-p", "shapes-tiny", "--set", "batch_size=0"], "batch_size must be >= 1"),
        (["train", "-p", "shapes-tiny", "--config", "missing.yaml"], "does not exist"),
        (["train", "-p", "shapes-tiny"], "--out RUN is required"),
    ],
)
def test_user_errors_exit_2_without_traceback(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(argv, capsys)
    assert code == 2
    assert message in err and "Traceback" not in err


def test_train_writes_a_run_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "run"
    sets = ["--set=log_every=1", "--set=sample_every=2", "--set=progress=false"]
    argv = ["train", "--preset", "shapes-tiny", "--steps", "2", "--out", str(out), *sets]
    code, stdout, _ = run(argv, capsys)
    assert code == 0 and "trained 2 steps" in stdout
    assert yaml.safe_load((out / "config.yaml").read_text())["steps"] == 2
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2]
    samples = log[-1]["samples"]
    assert (out / samples["files"][0]).is_file()
    assert {"flicker", "teleport", "dynamic_degree"} <= set(samples["metrics"])
    assert "adherence" in samples["oracle"][0]  # ShapesWorld clips are scored by the oracle
    pipe = VideoPipeline.from_pretrained(out / "checkpoint" / "pipeline")
    assert pipe.sample_frames == 4
    # Rerunning the finished command is a no-op resume.
    code, stdout, _ = run(argv, capsys)
    assert code == 0 and "trained 2 steps" in stdout
    assert len((out / "log.jsonl").read_text().splitlines()) == 2


def test_latent_training_from_the_command_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from spacetime.models.autoencoder import build_autoencoder

    encoder_kinds = {"down_block_types": ("DownEncoderBlock2D",) * 3}
    decoder_kinds = {"up_block_types": ("UpDecoderBlock2D",) * 3}
    build_autoencoder(
        "shapes-f4", block_out_channels=(8, 8, 8), norm_num_groups=4, **encoder_kinds,
        **decoder_kinds,
    ).save_pretrained(tmp_path / "ae-run" / "autoencoder")  # fmt: skip
    out = tmp_path / "run"
    argv = ["train", "--preset", "shapes-tiny", "--steps", "1", "--out", str(out),
            f"--set=autoencoder.path={tmp_path / 'ae-run'}", "--set=model.overrides.patch_size=2",
            "--set=sample_every=1", "--set=sample_steps=2"]  # fmt: skip
    code, stdout, err = run(argv, capsys)
    assert code == 0 and "trained 1 steps" in stdout, err
    assert "latent space: 3x4x32x32 pixels -> 4x4x8x8 latents" in stdout
    assert (out / "checkpoint" / "pipeline" / "autoencoder" / "config.json").is_file()
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    gif = out / log[-1]["samples"]["files"][0]
    from spacetime.video.reader import read_video

    assert read_video(gif).frames.shape[1:] == (32, 32, 3)  # decoded back to pixels
    code, _, err = run(["train", "-p", "shapes-tiny", "--out", str(tmp_path / "x"),
                        "--set", "autoencoder.path=no/such/dir"], capsys)  # fmt: skip
    assert code == 2 and "autoencoder.path 'no/such/dir' does not exist" in err
