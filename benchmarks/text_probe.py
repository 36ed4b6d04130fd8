"""Does a trained pipeline read its caption? The text-use probe of training, on any checkpoint.

The same measurement the trainer logs every ``probe_every`` steps (see
:mod:`spacetime.training.probe`): the x0 error at high noise (t = 900 and 950) on ``--n``
held-out ShapesWorld clips with the right caption, a wrong one (another clip's) and the empty
one. A model that draws what it is asked for has a large ``gap_wrong``::

    .venv/bin/python benchmarks/text_probe.py --checkpoint src/spacetime/assets/default_model
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from _common import run_main
from spacetime.data.shapes_dataset import ShapesDataset
from spacetime.pipelines import VideoPipeline
from spacetime.pipelines.run_folder import pipeline_folder
from spacetime.training.probe import TextUseProbe


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, required=True, help="pipeline or run folder")
    parser.add_argument("--n", type=int, default=16, help="held-out clips (default 16)")
    parser.add_argument("--seed", type=int, default=1, help="ShapesDataset seed of the clips")
    return parser.parse_args(argv)


@torch.no_grad()
def run(args: argparse.Namespace) -> dict:
    pipe = VideoPipeline.from_pretrained(pipeline_folder(args.checkpoint))
    size, frames = pipe.sample_size[0], pipe.sample_frames
    data = ShapesDataset(size=size, frames=frames, length=args.n, seed=args.seed)
    items = [data[i] for i in range(args.n)]
    clips = torch.stack([it["video"] for it in items])  # (n, 3, T, H, W)
    if pipe.autoencoder is not None:
        clips = pipe.autoencoder.encode(clips)  # (n, c, T, h, w)
    probe = TextUseProbe(clips, [it["caption"] for it in items], pipe.objective, seed=args.seed)
    result = probe(pipe.denoiser.eval(), pipe.text_encoder.eval())
    print(json.dumps(result, indent=1))
    return result


def main(argv: list[str] | None = None) -> int:
    return run_main("text_probe", lambda: run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
