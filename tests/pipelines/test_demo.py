"""spacetime.pipelines.demo: the evaluation-only showcase and the pieces of the model demo
(`spacetime demo` end to end is tests/cli/test_demo_cmd.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from helpers import tiny_pipeline
from spacetime.errors import SpacetimeError
from spacetime.pipelines.demo import DEMO_CAPTIONS, run_demo, run_model_demo, side_by_side


def test_the_model_demo_needs_square_frames(tmp_path: Path) -> None:
    pipe = tiny_pipeline(["a red circle"], frames=4, size=16)
    pipe.sample_size = (16, 32)
    with pytest.raises(SpacetimeError, match="16x32 frames; ShapesWorld is square"):
        run_model_demo(tmp_path / "demo", pipe, steps=1)
    assert not (tmp_path / "demo").exists()


def test_side_by_side_keeps_both_clips() -> None:
    a = np.zeros((3, 4, 5, 3), np.uint8)
    b = np.full((3, 4, 5, 3), 7, np.uint8)
    pair = side_by_side(a, b)
    assert pair.shape == (3, 4, 12, 3)
    assert (pair[:, :, :5] == 0).all() and (pair[:, :, 5:7] == 255).all()
    assert (pair[:, :, 7:] == 7).all()


def test_no_model_showcase_writes_clips_and_the_corrupted_one_stands_out(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = run_demo(out)
    assert result.report_html == out / "report.html" and result.report_json == out / "report.json"
    assert result.side_by_side == [] and set(result.seconds) == {"evaluate"}

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
