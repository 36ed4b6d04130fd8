"""`spacetime eval` on batches: bad files listed, processes, kill -9 and resume, shards."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from helpers import run_cli
from spacetime.evaluation.report import journal_path
from spacetime.video import write_mp4

FAST = ["--metrics", "flicker,teleport,dynamic_degree"]


def _clip(seed: int, frames: int = 8, size: int = 40) -> np.ndarray:
    """A small textured clip panning by 1-2 px per frame (its own texture per seed)."""
    rng = np.random.default_rng(seed)
    texture = rng.integers(0, 256, (size + 4 * frames, size + 4 * frames, 3), dtype=np.uint8)
    texture = np.repeat(np.repeat(texture[::4, ::4], 4, 0), 4, 1)  # 4 px blocks: trackable
    step = 1 + seed % 2
    return np.stack([texture[t * step : t * step + size, :size] for t in range(frames)])


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """Five readable clips, a corrupt file and a one-frame file, named so they interleave."""
    root = tmp_path_factory.mktemp("batch")
    for index in range(5):
        write_mp4(root / f"clip_{2 * index}.mp4", _clip(index), 8.0)
    (root / "clip_1.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 truncated")
    write_mp4(root / "clip_3.mp4", _clip(9, frames=1), 8.0)
    return root


def _console() -> list[str]:
    script = Path(sys.executable).with_name("spacetime")
    return [str(script)] if script.exists() else [sys.executable, "-m", "spacetime"]


def test_bad_files_are_listed_and_the_rest_scored(folder, tmp_path, capsys) -> None:
    report, page = tmp_path / "r.json", tmp_path / "r.html"
    argv = ["eval", str(folder), "--json", str(report), "--html", str(page), "--workers", "1"]
    code, out, err = run_cli([*argv, *FAST], capsys)
    assert code == 1  # something failed; the run went on
    assert "2 of 7 video(s) could not be scored" in err and "Traceback" not in err
    data = json.loads(report.read_text())
    names = [Path(e["video"]).name for e in data["videos"]]
    assert names == ["clip_0.mp4", "clip_2.mp4", "clip_4.mp4", "clip_6.mp4", "clip_8.mp4"]
    failed = {Path(f["video"]).name: f["error"] for f in data["failed"]}
    assert set(failed) == {"clip_1.mp4", "clip_3.mp4"}
    assert "not a readable video" in failed["clip_1.mp4"]
    assert "at least 2 are needed" in failed["clip_3.mp4"]
    assert "could not be scored" in out and "clip_3.mp4" in out
    html = page.read_text()
    assert "2 video(s) could not be scored" in html and "clip_1.mp4" in html
    assert not journal_path(report).exists()  # complete: nothing left to resume


def test_only_bad_files_exit_2(folder, tmp_path, capsys) -> None:
    argv = ["eval", str(folder / "clip_1.mp4"), str(folder / "clip_3.mp4"), *FAST]
    code, _, err = run_cli([*argv, "--json", str(tmp_path / "r.json")], capsys)
    assert code == 2 and err.startswith("spacetime: error: 2 of 2 video(s)")
    assert len(json.loads((tmp_path / "r.json").read_text())["failed"]) == 2


def test_workers_and_shards_give_the_one_machine_report_exactly(folder, tmp_path, capsys):
    serial, parallel = tmp_path / "serial.json", tmp_path / "parallel.json"
    base = ["eval", str(folder), *FAST]
    assert run_cli([*base, "--json", str(serial), "--workers", "1"], capsys)[0] == 1
    assert run_cli([*base, "--json", str(parallel), "--workers", "2"], capsys)[0] == 1
    assert parallel.read_text() == serial.read_text()
    shards = [tmp_path / f"shard_{k}.json" for k in (1, 2, 3)]
    for k, shard in enumerate(shards, 1):
        run_cli([*base, "--json", str(shard), "--shard", f"{k}/3", "--workers", "1"], capsys)
    part = json.loads(shards[1].read_text())
    assert part["shard"]["index"] == 2 and len(part["shard"]["files"]) == 2  # files 2 and 5
    merged = tmp_path / "merged.json"
    code, _, _ = run_cli(["merge", *map(str, shards[::-1]), "--json", str(merged)], capsys)
    assert code == 1  # the merged run has the same failures as the one-machine run
    assert merged.read_text() == serial.read_text()
    code, _, err = run_cli(["merge", *map(str, shards[:2]), "--json", str(merged)], capsys)
    assert code == 2 and "shard(s) 3/3 missing" in err
    code, _, err = run_cli(["merge", str(serial), "--json", str(merged)], capsys)
    assert code == 2 and "not a shard's report" in err


def test_bad_shard_option(folder, capsys) -> None:
    code, _, err = run_cli(["eval", str(folder), "--shard", "3/2"], capsys)
    assert code == 2 and "not of the form K/N" in err


def test_kill_9_then_rerun_resumes_and_gives_the_same_report(tmp_path) -> None:
    clips = tmp_path / "clips"
    clips.mkdir()
    for index in range(8):
        write_mp4(clips / f"v{index}.mp4", _clip(index, frames=24, size=96), 8.0)
    report = tmp_path / "r.json"
    argv = [*_console(), "eval", str(clips), "--json", str(report), "--workers", "1"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    journal = journal_path(report)
    deadline = time.monotonic() + 120
    # Kill as soon as two videos are on record (header + 2 lines): six are still to do.
    while time.monotonic() < deadline and process.poll() is None:
        if journal.exists() and journal.read_text().count("\n") >= 3:
            break
        time.sleep(0.01)
    assert process.poll() is None, "the run ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL and not report.exists()
    done_before = journal.read_text().count("\n") - 1
    assert 2 <= done_before < 8
    rerun = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert f"resumed: {done_before} of 8 video(s)" in rerun.stdout
    assert not journal.exists()
    fresh = tmp_path / "fresh.json"
    argv = [*_console(), "eval", str(clips), "--json", str(fresh), "--workers", "1"]
    subprocess.run(argv, env=env, capture_output=True, timeout=300, check=True)
    assert report.read_text() == fresh.read_text()


def test_a_torn_journal_line_is_redone_and_other_options_start_over(folder, tmp_path, capsys):
    report = tmp_path / "r.json"
    argv = ["eval", str(folder / "clip_0.mp4"), str(folder / "clip_2.mp4"), "--workers", "1"]
    run_cli([*argv, *FAST, "--json", str(report)], capsys)
    complete = report.read_text()
    # A journal as a kill leaves it: the header, one whole line, half of the next.
    from spacetime.evaluation.report import BatchOptions, evaluate_batch

    paths = [folder / "clip_0.mp4", folder / "clip_2.mp4"]
    options = BatchOptions(names=("flicker", "teleport", "dynamic_degree"))
    journal = journal_path(report)
    evaluate_batch(paths, options=options, journal=journal, progress=False)
    lines = journal.read_text().splitlines()
    journal.write_text(lines[0] + "\n" + lines[1] + "\n" + lines[2][: len(lines[2]) // 2])
    code, out, _ = run_cli([*argv, *FAST, "--json", str(report)], capsys)
    assert code == 0 and "resumed: 1 of 2" in out and report.read_text() == complete
    evaluate_batch(paths, options=options, journal=journal, progress=False)
    code, out, _ = run_cli([*argv, "--metrics", "flicker", "--json", str(report)], capsys)
    assert code == 0 and "resumed" not in out  # other options: nothing reused
    assert list(json.loads(report.read_text())["videos"][0]["metrics"]) == ["flicker"]
