"""spacetime against the video U-Nets users would pick instead, on the same work, in one process.

For each spacetime denoiser (``unet``: the default model's factorised U-Net; ``dit``: the
``dit-small`` transformer with 2x2 patches), diffusers' ``UNet3DConditionModel`` and
video-diffusion-pytorch's ``Unet3D`` are built at the parameter count nearest to it (see
``_peers.py``) and all three are timed on the same input — ``batch`` clips of ``frames`` frames
of ``size x size`` latents with 4 channels and 8 caption tokens of width 64 — for:

- ``forward``: one forward pass under ``torch.inference_mode``;
- ``train``: forward, MSE loss, backward and an AdamW step;
- ``sample``: ``--steps`` DDIM steps with classifier-free guidance 5 (v-prediction, cosine
  schedule; the same diffusers scheduler for all): spacetime through
  :func:`spacetime.diffusion.sample`, the peers in the loop their libraries' pipelines use.

Runs alternate between the models (A B C, B C A, ...) after a warm-up round, so that all see the
same load; each row gives the median seconds, the peak memory, and the ratio
``peer_s / spacetime_s`` (above 1: spacetime is faster). On a CPU with one thread the clock is
CPU time (see ``_timing.py``). On CUDA the models run in bf16 autocast and the training rows
also print model FLOPs utilisation (counted FLOPs / seconds / the GPU's dense bf16 peak)::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/speed.py --json speed.json
    .venv/bin/python benchmarks/speed.py --quick          # < 2 min on 2 CPU cores
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from _common import run_main
from _peers import PEERS, TORCHVISION_NOTE, Peer, count, import_lucidrains, matched
from _timing import alternate, clock_for, format_mib, machine
from spacetime.contracts.conditioning import TextEmbedding
from spacetime.diffusion import GaussianObjective, sample
from spacetime.errors import SpacetimeError
from spacetime.models.presets import build_model

TEXT_DIM, CHANNELS, TOKENS, GUIDANCE = 64, 4, 8, 5.0
#: The spacetime denoisers benchmarked: the default model's U-Net (configs/default-shapes.yaml)
#: and the small DiT with 2x2 patches, both with pooled text and cross-attention.
SPACETIME: dict[str, Callable[[], torch.nn.Module]] = {
    "unet": lambda: build_model(
        "unet3d-small", in_channels=CHANNELS, text_dim=TEXT_DIM, pooled_text=True,
        attention_levels=(1, 2), cross_attention_levels=(0, 1, 2),
        temporal_attention_levels=(0, 1, 2),
    ),
    "dit": lambda: build_model(
        "dit-small", in_channels=CHANNELS, text_dim=TEXT_DIM, pooled_text=True, patch_size=2
    ),
}  # fmt: skip
#: Dense bf16 peak FLOP/s by GPU name fragment, for MFU (vendor datasheets, no sparsity).
PEAK_BF16 = {"H200": 989e12, "H100": 989e12, "A100": 312e12, "L40S": 362e12, "L4": 121e12}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=list(SPACETIME), choices=list(SPACETIME))
    parser.add_argument("--peers", nargs="+", default=list(PEERS), choices=list(PEERS))
    parser.add_argument("--cases", nargs="+", default=["forward", "train", "sample"],
                        choices=["forward", "train", "sample"])  # fmt: skip
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--size", type=int, default=32, help="latent side")
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--steps", type=int, default=25, help="sampler steps")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs (forward, train)")
    parser.add_argument("--sample-repeats", type=int, default=3, help="timed sampling runs")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--clock", choices=["auto", "cpu", "wall"], default="auto")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--quick", action="store_true",
                        help="8 frames of 16x16, 5 steps, 2 runs: a smoke run")  # fmt: skip
    parser.add_argument("--json", type=Path, help="write the rows here")
    args = parser.parse_args(argv)
    if args.quick:
        args.frames, args.size, args.steps, args.repeats, args.sample_repeats = 8, 16, 5, 2, 1
    return args


class Runner:
    """One model's three timed cases on a fixed input."""

    def __init__(self, name: str, model: torch.nn.Module, denoise, guided_sample, args) -> None:  # type: ignore[no-untyped-def]
        self.name, self.model, self.params = name, model, count(model)
        self.denoise, self.guided_sample = denoise, guided_sample
        self.device = torch.device(args.device)
        g = torch.Generator().manual_seed(0)
        shape = (args.batch, CHANNELS, args.frames, args.size, args.size)
        self.x = torch.randn(shape, generator=g).to(self.device)
        self.target = torch.randn(shape, generator=g).to(self.device)
        self.t = torch.full((args.batch,), 500.0, device=self.device)
        self.tokens = torch.randn(args.batch, TOKENS, TEXT_DIM, generator=g).to(self.device)
        self.mask = torch.ones(args.batch, TOKENS, dtype=torch.bool, device=self.device)
        self.mask[:, TOKENS // 2 :] = False  # captions of different lengths, padded
        self.opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
        self.autocast = (
            torch.autocast("cuda", dtype=torch.bfloat16)
            if self.device.type == "cuda"
            else contextlib.nullcontext()
        )

    def forward(self) -> None:
        self.model.eval()
        with torch.inference_mode(), self.autocast:
            self.denoise(self.x, self.t, self.tokens, self.mask)

    def train(self) -> None:
        self.model.train()
        with self.autocast:
            out = self.denoise(self.x, self.t, self.tokens, self.mask)
            loss = F.mse_loss(out.float(), self.target)
        loss.backward()
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)

    def sample(self) -> None:
        self.model.eval()
        with self.autocast:
            self.guided_sample(self)


def spacetime_runner(name: str, args: argparse.Namespace, objective: GaussianObjective) -> Runner:
    """spacetime's model ``name`` and its sampler."""
    model = SPACETIME[name]().to(args.device)

    def denoise(x, t, tokens, mask):  # type: ignore[no-untyped-def]
        return model(x, t, text=TextEmbedding(tokens, mask))

    def guided_sample(r: Runner) -> None:
        null = TextEmbedding(r.tokens[:1, :0], r.mask[:1, :0])  # the empty prompt: no tokens
        sample(model, objective, shape=tuple(r.x.shape[1:]), seeds=range(len(r.x)),
               text=TextEmbedding(r.tokens, r.mask), null_text=null, guidance=GUIDANCE,
               steps=args.steps, progress=False)  # fmt: skip

    return Runner(f"spacetime {type(model).__name__}", model, denoise, guided_sample, args)


def peer_runner(peer: Peer, args: argparse.Namespace, objective: GaussianObjective) -> Runner:
    """A peer and the DDIM loop of a diffusers pipeline (``torch.no_grad``, scheduler.step)."""
    peer.model.to(args.device)

    def guided_sample(r: Runner) -> None:
        scheduler = objective.scheduler("ddim", args.steps, device=r.device)
        g = torch.Generator().manual_seed(0)
        x = torch.randn(r.x.shape, generator=g).to(r.device)
        with torch.no_grad():
            for ts in scheduler.timesteps:
                t = ts.to(r.device, torch.float32).expand(len(x))
                out = peer.guided(x, t, r.tokens, r.mask, GUIDANCE)
                x = scheduler.step(out.float(), ts, x).prev_sample

    return Runner(peer.name, peer.model, peer.denoise, guided_sample, args)


def train_mfu(runner: Runner, seconds: float) -> float | None:
    """Model FLOPs utilisation of a training step on CUDA (None on a CPU or an unknown GPU)."""
    if runner.device.type != "cuda":
        return None
    peak = next((v for k, v in PEAK_BF16.items() if k in torch.cuda.get_device_name()), None)
    if peak is None:
        return None
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        runner.train()
    return counter.get_total_flops() / seconds / peak


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Build, time and print every case; return the JSON rows."""
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SpacetimeError("--device cuda but torch sees no CUDA device")
    if args.size % 4 or args.frames < 1 or args.batch < 1 or args.steps < 1:
        raise SpacetimeError("--size must be a multiple of 4; frames, batch, steps positive")
    peers = list(args.peers)
    if "lucidrains" in peers and import_lucidrains() is None:
        print("video-diffusion-pytorch is not installed: skipping it (see _peers.py)")
        peers.remove("lucidrains")
    clock_name, clock = clock_for(device, args.clock)
    print(f"machine: {machine(device)}; clock: {clock_name} time")
    print(f"input: batch {args.batch}, {args.frames} frames of {args.size}x{args.size}x"
          f"{CHANNELS} latents, {TOKENS} tokens of width {TEXT_DIM}; sampling: {args.steps} "
          f"DDIM steps, guidance {GUIDANCE}")  # fmt: skip
    if "lucidrains" in peers:
        print(f"note: {TORCHVISION_NOTE}")
    objective = GaussianObjective(prediction="v", schedule="cosine")
    rows: list[dict[str, Any]] = []
    header = (f"{'case':<14}{'spacetime':>24}{'s':>9}{'MiB':>7}  {'peer':<34}{'s':>9}"
              f"{'MiB':>7}{'ratio':>7}")  # fmt: skip
    for name in args.models:
        ours = spacetime_runner(name, args, objective)
        others = [peer_runner(matched(p, ours.params, TEXT_DIM, CHANNELS), args, objective)
                  for p in peers]  # fmt: skip
        runners = [ours, *others]
        print("\n" + "; ".join(f"{r.name}: {r.params / 1e6:.2f} M parameters" for r in runners))
        print(header)
        for case in args.cases:
            repeats = args.sample_repeats if case == "sample" else args.repeats
            fns = {r.name: getattr(r, case) for r in runners}
            result = alternate(fns, repeats, device, clock)
            mine = result[ours.name]
            for other in others:
                theirs = result[other.name]
                row = {
                    "case": f"{name}/{case}", "spacetime": ours.name,
                    "spacetime_params": ours.params, "spacetime_s": mine.seconds,
                    "spacetime_peak_mib": mine.peak_mib, "peer": other.name,
                    "peer_params": other.params, "peer_s": theirs.seconds,
                    "peer_peak_mib": theirs.peak_mib, "ratio": theirs.seconds / mine.seconds,
                    "clock": clock_name,
                }  # fmt: skip
                if case == "train":
                    row["spacetime_mfu"] = train_mfu(ours, mine.seconds)
                    row["peer_mfu"] = train_mfu(other, theirs.seconds)
                rows.append(row)
                print(f"{row['case']:<14}{ours.name:>24}{mine.seconds:9.3f}{format_mib(mine.peak_mib)}"
                      f"  {other.name:<34}{theirs.seconds:9.3f}{format_mib(theirs.peak_mib)}"
                      f"{row['ratio']:7.2f}")  # fmt: skip
                if row.get("spacetime_mfu") is not None:
                    print(f"    MFU (untested path): spacetime {row['spacetime_mfu']:.1%}, "
                          f"peer {row['peer_mfu'] or 0:.1%}")  # fmt: skip
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}")
    return rows


if __name__ == "__main__":
    sys.exit(run_main("speed", lambda: run(parse_args())))
