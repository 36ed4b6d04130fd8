"""The run log and periodic samples scored with the evaluator (metrics and oracle)."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from spacetime.data.shapes import vocabulary
from spacetime.diffusion.registry import build_objective
from spacetime.evaluation.metrics import METRIC_NAMES
from spacetime.models import build_model
from spacetime.models.text import WordTextEncoder
from spacetime.pipelines.video_pipeline import VideoPipeline
from spacetime.training.monitor import RunLog, SampleMonitor


def test_run_log_append_read_truncate(tmp_path: Path) -> None:
    log = RunLog(tmp_path / "log.jsonl")
    assert log.read() == []
    for step in (5, 10, 15):
        log.append({"step": step, "loss": 1.0 / step, "extra": {"x": float("nan")}})
    lines = (tmp_path / "log.jsonl").read_text().splitlines()
    assert len(lines) == 3 and json.loads(lines[0])["extra"] == {"x": None}  # valid JSON
    log.truncate_after(10)
    assert [r["step"] for r in log.read()] == [5, 10]


def _pipeline() -> VideoPipeline:
    torch.manual_seed(0)
    encoder = WordTextEncoder.from_captions(vocabulary(), dim=16, layers=1, heads=2)
    denoiser = build_model("dit-tiny", patch_size=4, text_dim=16)
    objective = build_objective({"kind": "gaussian", "prediction": "eps"})
    return VideoPipeline(denoiser, encoder, objective, sample_frames=4, sample_size=32).to("cpu")


def test_samples_are_written_and_scored(tmp_path: Path) -> None:
    prompts = ["a red square moves left", "a blue circle bounces"]
    monitor = SampleMonitor(tmp_path, prompts, seed=3, steps=2, guidance=2.0, oracle=True)
    entry = monitor(_pipeline(), step=40)
    assert entry["files"] == ["samples/step_0000040_0.gif", "samples/step_0000040_1.gif"]
    assert all((tmp_path / f).stat().st_size > 0 for f in entry["files"])
    assert set(entry["metrics"]) == set(METRIC_NAMES)
    assert all(v >= 0 for v in entry["metrics"].values())
    assert len(entry["oracle"]) == 2 and 0 <= entry["oracle"][0]["adherence"] <= 1
    assert "objects" not in entry["oracle"][0]  # flat scores only in the log
    json.dumps(entry)
    # Fixed seeds: the same weights give the same clips and scores.
    again = SampleMonitor(tmp_path / "again", prompts, seed=3, steps=2, guidance=2.0)
    repeat = again(_pipeline(), step=40)
    assert repeat["metrics"] == entry["metrics"] and "oracle" not in repeat
