"""The user-facing error type and how the CLI reports it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from spacetime import SpacetimeError
from spacetime.cli.main import main


def test_spacetime_error_is_a_value_error_with_its_message() -> None:
    err = SpacetimeError("clip.mp4: not a video")
    assert isinstance(err, ValueError)
    assert str(err) == "clip.mp4: not a video"


def test_cli_turns_a_user_error_into_exit_2_and_one_line(tmp_path, capsys) -> None:
    missing = tmp_path / "missing.mp4"
    with pytest.raises(SystemExit) as done:
        main(["eval", str(missing)])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("spacetime: error: ") and str(missing) in err
    assert "Traceback" not in err


def test_console_script_exits_2_without_traceback(tmp_path) -> None:
    bad = tmp_path / "not_a_video.mp4"
    bad.write_text("hello")
    proc = subprocess.run(
        [sys.executable, "-m", "spacetime", "eval", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "not_a_video.mp4" in proc.stderr and "Traceback" not in proc.stderr
