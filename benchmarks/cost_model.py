"""What factorised space-time attention saves over full 3D attention, measured and predicted.

For a clip of ``T`` frames of ``S = side^2`` tokens of width ``D``, the score matrices cost

- factorised (space then time, VDM / Latte): ``T * S^2 + S * T^2 = T S (S + T)`` per head-width,
- full 3D (one sequence of ``T S`` tokens, CogVideoX): ``(T S)^2``,

so full attention costs ``T S / (S + T)`` times more in the attention products, plus the same
projections (``O(T S D^2)``) in both. The script times spacetime's :class:`Attention` modules —
a ``space`` and a ``time`` module against one ``spacetime`` module, rotary frame position, width
``--dim`` — on one clip (forward under ``torch.inference_mode``; ``--backward`` adds the
backward pass) and prints seconds, peak memory and the measured against the predicted ratio::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/cost_model.py
    .venv/bin/python benchmarks/cost_model.py --quick
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import torch

from _common import run_main
from _timing import alternate, clock_for, format_mib, machine
from spacetime.errors import SpacetimeError
from spacetime.models.attention import Attention


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, nargs="+", default=[8, 16, 32, 64])
    parser.add_argument("--sides", type=int, nargs="+", default=[8, 16],
                        help="tokens per side of a frame (S = side^2)")  # fmt: skip
    parser.add_argument("--dim", type=int, default=64, help="token width D")
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--backward", action="store_true", help="time forward + backward")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--clock", choices=["auto", "cpu", "wall"], default="auto")
    parser.add_argument("--quick", action="store_true", help="frames 8 16, side 8, 1 run")
    parser.add_argument("--json", type=Path, help="write the rows here")
    args = parser.parse_args(argv)
    if args.quick:
        args.frames, args.sides, args.repeats = [8, 16], [8], 1
    return args


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Time both attention forms on every (frames, side) and print the table."""
    if args.dim % args.heads or (args.dim // args.heads) % 2:
        raise SpacetimeError(f"--dim {args.dim} must split into --heads {args.heads} even widths")
    torch.set_num_threads(args.threads)
    device = torch.device("cpu")
    clock_name, clock = clock_for(device, args.clock)
    torch.manual_seed(0)
    space = Attention(args.dim, args.heads, axis="space")
    time_ = Attention(args.dim, args.heads, axis="time", time_position="rope")
    full = Attention(args.dim, args.heads, axis="spacetime", time_position="rope")
    what = "forward + backward" if args.backward else "forward"
    print(f"machine: {machine(device)}; clock: {clock_name} time; D = {args.dim}, "
          f"{args.heads} heads, batch 1, {what}")  # fmt: skip
    print(f"{'T':>4}{'S':>6}{'tokens':>8}{'fact. s':>10}{'MiB':>7}{'full s':>10}{'MiB':>7}"
          f"{'full/fact.':>11}{'T S/(S+T)':>11}")  # fmt: skip
    rows = []
    for side in args.sides:
        for frames in args.frames:
            x = torch.randn(1, frames, side * side, args.dim, requires_grad=args.backward)

            def call(fn, x=x):  # type: ignore[no-untyped-def]
                def go() -> None:
                    if args.backward:
                        fn(x).sum().backward()
                    else:
                        with torch.inference_mode():
                            fn(x)

                return go

            result = alternate(
                {"factorized": call(lambda v: time_(v + space(v))), "full": call(full)},
                args.repeats, device, clock,
            )  # fmt: skip
            fact, joint = result["factorized"], result["full"]
            s = side * side
            row = {
                "frames": frames, "tokens_per_frame": s, "factorized_s": fact.seconds,
                "factorized_peak_mib": fact.peak_mib, "full_s": joint.seconds,
                "full_peak_mib": joint.peak_mib, "measured_ratio": joint.seconds / fact.seconds,
                "predicted_ratio": frames * s / (s + frames),
            }  # fmt: skip
            rows.append(row)
            print(f"{frames:>4}{s:>6}{frames * s:>8}{fact.seconds:10.4f}{format_mib(fact.peak_mib)}"
                  f"{joint.seconds:10.4f}{format_mib(joint.peak_mib)}{row['measured_ratio']:11.1f}"
                  f"{row['predicted_ratio']:11.1f}")  # fmt: skip
    print(
        "predicted: score FLOPs of full / factorised attention, T S / (S + T); the measured "
        "ratio is lower while the projections, O(T S D^2) in both, still dominate"
    )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return rows


if __name__ == "__main__":
    sys.exit(run_main("cost_model", lambda: run(parse_args())))
