"""`spacetime shapes`: write a folder of ShapesWorld clips with captions and ground truth.

Thin over :func:`spacetime.data.shapes.export.write_dataset` (imported inside the command so
that ``spacetime --help`` stays fast).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from spacetime.cli.options import FPS, SEED, integer, number_option
from spacetime.errors import SpacetimeError

_OCCLUDER = {"auto": None, "yes": True, "no": False}

# Enums so that typer validates the value and `--help` lists the choices.
Occluder = Enum("Occluder", {name: name for name in _OCCLUDER}, type=str)
# spacetime.data.shapes.palette.BACKGROUNDS, spelled out (a test keeps them equal): importing
# ShapesWorld here would slow down every `spacetime --help`.
_BACKGROUNDS = ("plain", "stripes", "checkered")
Background = Enum("Background", {name: name for name in _BACKGROUNDS}, type=str)


def shapes_command(
    n: int = number_option(
        100, "--n", kind=integer(1), help="Number of clips; clip i uses seed SEED + i."
    ),
    out: Path = typer.Option(..., "--out", help="Output folder (created if missing)."),
    size: int = number_option(
        64, "--size", kind=integer(32, 256), help="Frame side in pixels, even (H.264 yuv420p)."
    ),
    frames: int = number_option(
        16, "--frames", kind=integer(2, 4096), help="Frames per clip (eval needs a transition)."
    ),
    seed: int = number_option(0, "--seed", kind=SEED, help="Seed of the first clip."),
    fps: float = number_option(
        8.0, "--fps", kind=FPS, help="Frame rate; speeds are quoted at 8 fps."
    ),
    objects: int | None = number_option(
        None, "--objects", kind=integer(1, 3), help="Objects per clip; random when omitted."
    ),
    occluder: Occluder = typer.Option(
        "auto", "--occluder", help="Pillar: auto (some clips), yes (every clip) or no."
    ),
    background: Background | None = typer.Option(
        None, "--background", help="Background kind; random when omitted."
    ),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Write ShapesWorld clips (mp4), captions.jsonl and ground_truth.jsonl to --out."""
    from spacetime.data.shapes.export import write_dataset

    if objects is not None and not 1 <= objects <= 3:
        raise SpacetimeError(f"--objects must be 1, 2 or 3 (objects per clip), got {objects}")
    paths = write_dataset(
        out,
        n,
        seed=seed,
        size=size,
        frames=frames,
        fps=fps,
        n_objects=objects,
        occluder=_OCCLUDER[occluder.value],
        background=None if background is None else background.value,
        progress=not quiet,
    )
    typer.echo(f"wrote {len(paths)} clips, captions.jsonl and ground_truth.jsonl to {out}")


def register(app: typer.Typer) -> None:
    """Add ``spacetime shapes`` to ``app``."""
    app.command("shapes")(shapes_command)
