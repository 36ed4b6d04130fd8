"""Helpers shared by test modules, imported as ``from helpers import ...``.

The tests run with ``--import-mode=importlib``, which puts no test folder on ``sys.path``;
``tests/conftest.py`` adds this folder so the import works from every test package.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
import torch

from spacetime.cli.main import main
from spacetime.pipelines.factory import build_pipeline
from spacetime.pipelines.video_pipeline import VideoPipeline


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
