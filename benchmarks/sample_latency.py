"""Seconds per clip of the default model, on the library's fast paths and on eager ones.

Samples ``--clips`` 16-frame clips with the bundled default model at the default sampler
settings (25 DDIM steps, guidance 5; :meth:`VideoPipeline.__call__`), through the same
:func:`spacetime.diffusion.sample`, in three ways:

- ``eager``: the code a diffusers-style model runs: explicit softmax attention with separate
  q, k, v projections (``set_fused_attention(model, False)``) and autograd's ``no_grad``
  instead of inference mode (the benchmark swaps ``torch.inference_mode`` for
  ``torch.no_grad`` during the call);
- ``fused``: what ``spacetime generate`` and ``make demo`` run: fused q/k/v, scaled-dot-product
  and few-keys attention, channels-last convolutions, inference mode;
- ``compiled`` (``--compile``): ``fused`` with the denoiser under ``torch.compile``; its first
  call's compile time is printed apart.

The latents are decoded by the autoencoder in every variant; the largest difference from the
fused clip is printed, in 8-bit levels, so the speed-up is seen to keep the numerics::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/sample_latency.py
    .venv/bin/python benchmarks/sample_latency.py --threads 2 --clock wall --compile
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import torch

from _common import run_main
from _timing import alternate, clock_for, machine
from spacetime.models.attention import set_fused_attention
from spacetime.pipelines.default import load_default_pipeline, require_default_model

PROMPT = "a red circle moves right on a striped background"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=1, help="clips per call (the batch)")
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--guidance", type=float, default=5.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--clock", choices=["auto", "cpu", "wall"], default="auto")
    parser.add_argument("--compile", action="store_true", help="add the torch.compile variant")
    parser.add_argument("--quick", action="store_true", help="5 steps, 1 run")
    parser.add_argument("--json", type=Path, help="write the rows here")
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.repeats = 5, 1
    return args


@contextlib.contextmanager
def eager(denoiser: torch.nn.Module) -> Iterator[None]:
    """The eager attention path and ``no_grad`` in place of inference mode, for the block."""
    set_fused_attention(denoiser, False)
    try:
        with mock.patch.object(torch, "inference_mode", torch.no_grad):
            yield
    finally:
        set_fused_attention(denoiser, True)


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Time the variants in turn and print seconds per clip."""
    torch.set_num_threads(args.threads)
    require_default_model()
    pipe = load_default_pipeline("cpu")
    device = torch.device("cpu")
    clock_name, clock = clock_for(device, args.clock)
    prompts, seeds = [PROMPT] * args.clips, list(range(args.clips))
    settings = {"steps": args.steps, "guidance": args.guidance, "progress": False}
    fused_denoiser = pipe.denoiser
    outputs: dict[str, np.ndarray] = {}

    def variant(name: str, denoiser: torch.nn.Module, context: Any) -> Any:
        def go() -> None:
            pipe.denoiser = denoiser
            try:
                with context():
                    outputs[name] = pipe(prompts, seeds=seeds, **settings)
            finally:
                pipe.denoiser = fused_denoiser

        return go

    fns = {
        "eager": variant("eager", fused_denoiser, lambda: eager(fused_denoiser)),
        "fused": variant("fused", fused_denoiser, contextlib.nullcontext),
    }
    compile_s = None
    if args.compile:
        compiled = torch.compile(fused_denoiser)
        start = time.perf_counter()
        variant("compiled", compiled, contextlib.nullcontext)()  # compiles on first call
        compile_s = time.perf_counter() - start
        fns["compiled"] = variant("compiled", compiled, contextlib.nullcontext)
    print(f"machine: {machine(device)}; clock: {clock_name} time")
    print(f"default model, {args.clips} clip(s) of {pipe.sample_frames} frames per call, "
          f"{args.steps} DDIM steps, guidance {args.guidance:g}")  # fmt: skip
    result = alternate(fns, args.repeats, device, clock)
    rows = []
    base = result["eager"].seconds
    for name, m in result.items():
        diff = np.abs(outputs[name].astype(int) - outputs["fused"].astype(int)).max()
        row = {"variant": name, "seconds_per_clip": m.seconds / args.clips,
               "speedup_vs_eager": base / m.seconds, "peak_mib": m.peak_mib,
               "max_pixel_difference_vs_fused": int(diff), "clock": clock_name}  # fmt: skip
        rows.append(row)
        print(f"{name:<9} {row['seconds_per_clip']:8.2f} s/clip  x{row['speedup_vs_eager']:.2f} "
              f"vs eager  max |clip - fused clip| = {diff} levels")  # fmt: skip
    if compile_s is not None:
        print(f"torch.compile: first call (compile + sample) took {compile_s:.0f} s wall")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return rows


if __name__ == "__main__":
    sys.exit(run_main("sample_latency", lambda: run(parse_args())))
