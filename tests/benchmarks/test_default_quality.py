"""benchmarks/default_quality.py end to end on a tiny random pipeline with --n 2."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest
from PIL import Image

from helpers import tiny_pipeline
from spacetime.data.shapes import vocabulary
from spacetime.pipelines.shapes_eval import HELD_OUT_SEED

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "default_quality.py"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("default_quality_benchmark", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and typing look modules up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return _load_script()


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A tiny text->video model and a tiny per-frame baseline (temporal=False), 8 x 32 x 32."""
    root = tmp_path_factory.mktemp("quality")
    folders = []
    for name, temporal in (("model", True), ("baseline", False)):
        pipe = tiny_pipeline([" ".join(vocabulary())], frames=8, size=32, temporal=temporal)
        folders.append(pipe.save_pretrained(root / name))
    return folders[0], folders[1]


def _args(models: tuple[Path, Path], out: Path) -> list[str]:
    """Two held-out clips, one sampler step, analysed at 64 px, written to ``out``."""
    model, baseline = models
    return ["--checkpoint", str(model), "--baseline", str(baseline), "--n", "2", "--steps", "1",
            "--out", str(out), "--device", "cpu", "--analysis-size", "64"]  # fmt: skip


def test_two_clips_give_the_table_json_and_png(
    bench: ModuleType, models: tuple[Path, Path], tmp_path: Path, capsys
) -> None:
    model, baseline = models
    out = tmp_path / "quality"
    assert bench.main(_args(models, out)) == 0
    printed = capsys.readouterr().out
    header = next(line for line in printed.splitlines() if line.startswith("| score"))
    columns = ["ground truth", "model", "baseline", "model image→video", "model interpolation"]
    assert header == "| score | target | " + " | ".join(columns) + " |"
    adherence = next(line for line in printed.splitlines() if line.startswith("| adherence"))
    assert "≥ 90%" in adherence and "100.0% ✓" in adherence.split("|")[3]  # the ground truth
    assert "| teleport_rate | ≤ 1% |" in printed and "| flicker (mean) |" in printed

    report = json.loads((out / "quality.json").read_text())
    assert report["n"] == 2 and report["scene_seeds"] == [HELD_OUT_SEED, HELD_OUT_SEED + 1]
    assert report["checkpoint"] == str(model) and report["baseline"] == str(baseline)
    assert list(report["results"]) == columns
    for summary in report["results"].values():
        assert summary["clips"] == 2 and 0.0 <= summary["adherence"] <= 1.0
        assert summary["metric/dynamic_degree"] >= 0.0
    assert report["results"]["ground truth"]["teleport_rate"] == 0.0
    assert (out / "quality.md").read_text().strip() in printed
    with Image.open(out / "samples.png") as png:  # 2 clips x (caption + 3 strips of 32 px)
        assert png.width >= 8 * 32 and png.height >= 2 * 3 * 32


def test_columns_are_saved_reused_and_split_with_only(
    bench: ModuleType, models: tuple[Path, Path], tmp_path: Path, capsys
) -> None:
    out = tmp_path / "quality"
    common = _args(models, out)
    assert bench.main([*common, "--only", "baseline"]) == 0
    first = json.loads((out / "quality.json").read_text())
    assert list(first["results"]) == ["ground truth", "baseline"]
    assert sorted(p.name for p in (out / "columns").iterdir()) == [
        "baseline.json", "baseline.npz", "truth.json", "truth.npz"
    ]  # fmt: skip
    capsys.readouterr()

    assert bench.main(common) == 0  # the rest is computed, the saved columns reused
    err = capsys.readouterr().err
    assert "ground truth: reusing" in err and "baseline: reusing" in err
    assert "model: generating" in err and "baseline: generating" not in err
    full = json.loads((out / "quality.json").read_text())
    assert len(full["results"]) == 5
    assert full["results"]["baseline"] == first["results"]["baseline"]

    assert bench.main([*common, "--steps", "2", "--only", "model"]) == 0  # new settings
    err = capsys.readouterr().err
    assert "reusing" not in err and "model: generating" in err
    assert list(json.loads((out / "quality.json").read_text())["results"]) == [
        "ground truth", "model"
    ]  # fmt: skip


def test_strips_and_cells(bench: ModuleType) -> None:
    import numpy as np

    video = np.arange(10, dtype=np.uint8)[:, None, None, None] * np.ones((10, 2, 3, 3), np.uint8)
    strip = bench.strip(video, frames=4)
    assert strip.shape == (2, 12, 3) and list(strip[0, ::3, 0]) == [0, 3, 6, 9]
    assert bench.format_cell("adherence", 0.95) == "95.0% ✓"
    assert bench.format_cell("teleport_rate", 0.02) == "2.0% ✗"
    assert bench.format_cell("identity_consistency", 0.9) == "0.9 ✗"
    assert bench.format_cell("metric/flicker", 1.23456) == "1.23"
    assert bench.format_cell("occlusion_reappearance", None) == "–"


def test_bad_arguments_exit_2(bench: ModuleType, tmp_path: Path, capsys) -> None:
    assert bench.main(["--checkpoint", str(tmp_path / "missing"), "--n", "2"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert bench.main(["--checkpoint", str(tmp_path), "--only", "model,video"]) == 2
    assert "unknown column video" in capsys.readouterr().err
