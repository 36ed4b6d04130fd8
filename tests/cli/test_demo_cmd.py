"""`spacetime demo`: writes its clips and reports, and the corrupted clip stands out."""

from __future__ import annotations

import json

import pytest

from spacetime.cli.demo_cmd import DEMO_CAPTIONS
from spacetime.cli.main import main


def test_demo_writes_clips_and_reports(tmp_path, capsys) -> None:
    out = tmp_path / "demo"
    with pytest.raises(SystemExit) as done:  # click's standalone mode always exits
        main(["demo", "--out", str(out)])
    assert done.value.code in (0, None)
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
    # The corrupted clip is the bounce clip plus a pasted region and brightness flicker.
    source = next(e for e in entries if "bounce" in e["video"] and "corrupted" not in e["video"])
    broken = entries[-1]
    assert "corrupted" in broken["video"] and broken["caption"] == source["caption"]
    for metric in ("flicker", "warp_error"):
        assert broken["metrics"][metric]["max"] > 2 * source["metrics"][metric]["max"]
    page = (out / "report.html").read_text()
    assert page.count("<section class='video'") == count and "data:image/png;base64," in page
