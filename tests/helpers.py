"""Helpers shared by test modules, imported as ``from helpers import ...``.

The tests run with ``--import-mode=importlib``, which puts no test folder on ``sys.path``;
``tests/conftest.py`` adds this folder so the import works from every test package.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import torch

from spacetime.cli.main import main
from spacetime.pipelines import default
from spacetime.pipelines.factory import build_pipeline
from spacetime.pipelines.video_pipeline import VideoPipeline
from spacetime.training.checkpoint import MEASURED_META, TrainingState, save_checkpoint

# A tiny diffusers UNet2DConditionModel (an image model a user brings), for inflation tests.
UNET2D = {
    "sample_size": 8, "in_channels": 4, "out_channels": 4, "block_out_channels": (8, 16),
    "layers_per_block": 1, "cross_attention_dim": 16, "norm_num_groups": 4,
    "attention_head_dim": 4, "down_block_types": ("CrossAttnDownBlock2D", "DownBlock2D"),
    "up_block_types": ("UpBlock2D", "CrossAttnUpBlock2D"),
}  # fmt: skip


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``spacetime ARGV`` in-process: (exit code, stdout, stderr)."""
    try:
        main(argv)
        code = 0
    except SystemExit as done:
        code = int(done.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def tiny_pipeline(
    captions: Iterable[str], *, frames: int, size: int, text_dim: int = 16, **options: Any
) -> VideoPipeline:
    """A random ``unet3d-tiny`` pipeline (word encoder of ``text_dim``, 1 layer, 2 heads) for
    ``frames`` frames of ``size`` pixels; ``options`` go to ``build_pipeline``.

    Zero-initialised output layers would make the text irrelevant: every denoiser weight is
    perturbed by ``0.1 * N(0, 1)`` noise drawn from seed 0.
    """
    pipe = build_pipeline(
        "unet3d-tiny", captions=captions, frames=frames, size=size, text_dim=text_dim,
        text_layers=1, text_heads=2, **options,
    )  # fmt: skip
    with torch.no_grad():
        gen = torch.Generator().manual_seed(0)
        for p in pipe.denoiser.parameters():
            p.add_(0.1 * torch.randn(p.shape, generator=gen))
    return pipe


def same_threads_env() -> dict[str, str]:
    """The environment for a child ``spacetime`` process whose results are compared bit for
    bit with this process's: the same thread count, since CPU kernels split their sums by
    thread and so round differently with another count."""
    threads = str(torch.get_num_threads())
    return {**os.environ, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}


def assert_same_state(a: TrainingState, b: TrainingState) -> None:
    """Every tensor bit-identical; the JSON parts equal (but the CPU time spent, a
    measurement of the run, not part of its result)."""
    for part in ("model", "ema"):
        x, y = getattr(a, part), getattr(b, part)
        assert x.keys() == y.keys()
        for k in x:
            assert torch.equal(x[k], y[k]), f"{part}.{k} differs"
    assert a.optimizer["param_groups"] == b.optimizer["param_groups"]
    for i, slots in a.optimizer["state"].items():
        for k, v in slots.items():
            assert torch.equal(v, b.optimizer["state"][i][k]), f"optimizer {i}.{k} differs"
    assert {k: v for k, v in a.meta.items() if k not in MEASURED_META} == {
        k: v for k, v in b.meta.items() if k not in MEASURED_META
    }


def save_tiny_run(run: Path, prompt: str) -> Path:
    """``run`` as `spacetime train` writes it, holding a tiny pipeline (4 frames, 16 px)."""
    pipe = tiny_pipeline([prompt], frames=4, size=16)
    state = TrainingState(
        model={}, ema={}, optimizer={"state": {}, "param_groups": []}, meta={"step": 1}
    )
    save_checkpoint(run, state, pipe.save_pretrained)
    return run


def hide_default_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever is bundled, the default model is absent unless a test points at one."""
    monkeypatch.delenv(default.DEFAULT_MODEL_ENV, raising=False)
    monkeypatch.setattr(default, "BUNDLED_MODEL_DIR", tmp_path / "no_bundled_model")
