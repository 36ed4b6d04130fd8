"""benchmarks/speed.py and cost_model.py on tiny inputs: rows, ratios, the torchvision stand-in."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def load(name: str):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(f"{name}_benchmark", BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_speed_rows_compare_matched_models(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    speed = load("speed")
    out = tmp_path / "rows.json"
    args = speed.parse_args(["--models", "unet", "--peers", "diffusers", "--frames", "2",
                             "--size", "8", "--steps", "1", "--repeats", "1",
                             "--sample-repeats", "1", "--json", str(out)])  # fmt: skip
    rows = speed.run(args)
    assert [r["case"] for r in rows] == ["unet/forward", "unet/train", "unet/sample"]
    assert json.loads(out.read_text()) == rows
    for row in rows:
        assert row["peer"] == "diffusers UNet3DConditionModel" and row["clock"] == "cpu"
        assert row["ratio"] == pytest.approx(row["peer_s"] / row["spacetime_s"])
        assert abs(row["peer_params"] / row["spacetime_params"] - 1) < 0.1  # matched size
    assert "clock: cpu time" in capsys.readouterr().out


def test_speed_rejects_a_bad_size() -> None:
    speed = load("speed")
    assert speed.run_main("speed", lambda: speed.run(speed.parse_args(["--size", "6"]))) == 2


def test_lucidrains_import_leaves_no_torchvision_behind() -> None:
    peers = load("_peers")
    had = "torchvision" in sys.modules
    module = peers.import_lucidrains()
    assert ("torchvision" in sys.modules) == had  # the stand-in lived for the import only
    if module is None:
        pytest.skip("video-diffusion-pytorch is not installed (optional benchmark peer)")
    peer = peers.lucidrains_unet3d(16, 8, 4)
    assert peer.params == sum(p.numel() for p in peer.model.parameters())


def test_cost_model_prints_measured_and_predicted_ratios(tmp_path: Path) -> None:
    cost = load("cost_model")
    rows = cost.run(cost.parse_args(["--frames", "4", "--sides", "2", "--dim", "8",
                                     "--heads", "2", "--repeats", "1"]))  # fmt: skip
    (row,) = rows
    assert row["predicted_ratio"] == pytest.approx(4 * 4 / (4 + 4))
    assert row["measured_ratio"] == pytest.approx(row["full_s"] / row["factorized_s"])
