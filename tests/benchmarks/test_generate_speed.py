"""benchmarks/generate_speed.py on a tiny random pipeline: timings, device, threads, JSON."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
import torch

from spacetime.pipelines.factory import build_pipeline

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "generate_speed.py"


def test_speed_table_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("generate_speed_benchmark", SCRIPT)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench
    spec.loader.exec_module(bench)

    pipe = build_pipeline(
        "unet3d-tiny", captions=bench.PROMPTS, frames=4, size=16, text_dim=16, text_layers=1,
        text_heads=2,
    )  # fmt: skip
    folder = pipe.save_pretrained(tmp_path / "model")
    args = ["--checkpoint", str(folder), "--frames", "4", "--size", "16", "--steps", "2"]
    more = ["--repeats", "2", "--device", "cpu", "--json", str(tmp_path / "s.json")]
    assert bench.main([*args, *more]) == 0
    printed = capsys.readouterr().out
    assert f"torch CPU threads: {torch.get_num_threads()}" in printed and "device: cpu" in printed
    assert "4 frames at 16x16, 2 ddim steps, guidance 5" in printed
    rows = [line for line in printed.splitlines() if line.startswith("| ") and "batch" not in line]
    assert [row.split("|")[1].strip() for row in rows] == ["1", "4"]

    result = json.loads((tmp_path / "s.json").read_text())
    assert [r["batch"] for r in result["results"]] == [1, 4]
    for row in result["results"]:
        assert len(row["runs"]) == 2 and all(t > 0 for t in row["runs"])
        assert row["median_s"] == pytest.approx(sum(row["runs"]) / 2)  # median of two runs
        assert row["per_video_s"] == pytest.approx(row["median_s"] / row["batch"])
    assert result["denoiser_parameters"] == sum(p.numel() for p in pipe.denoiser.parameters())
    assert bench.main([*args, "--repeats", "0"]) == 2
