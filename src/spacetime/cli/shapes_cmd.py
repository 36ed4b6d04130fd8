"""`spacetime shapes`: write a folder of ShapesWorld clips with captions and ground truth.

Thin over :func:`spacetime.data.shapes.export.write_dataset` (imported inside the command so
that ``spacetime --help`` stays fast).
"""

from __future__ import annotations

from pathlib import Path

import typer

from spacetime.errors import SpacetimeError

_OCCLUDER = {"auto": None, "yes": True, "no": False}


def shapes_command(
    n: int = typer.Option(100, "--n", help="Number of clips; clip i uses seed SEED + i."),
    out: Path = typer.Option(..., "--out", help="Output folder (created if missing)."),
    size: int = typer.Option(64, "--size", help="Frame side in pixels (32..256)."),
    frames: int = typer.Option(16, "--frames", help="Frames per clip (>= 1)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the first clip."),
    fps: float = typer.Option(8.0, "--fps", help="Frame rate; speeds are quoted at 8 fps."),
    objects: int | None = typer.Option(
        None, "--objects", help="Objects per clip (1..3); random when omitted."
    ),
    occluder: str = typer.Option(
        "auto", "--occluder", help="Pillar: auto (some clips), yes (every clip) or no."
    ),
    background: str | None = typer.Option(
        None, "--background", help="plain, stripes or checkered; random when omitted."
    ),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Write ShapesWorld clips (mp4), captions.jsonl and ground_truth.jsonl to --out."""
    from spacetime.data.shapes.export import write_dataset

    if objects is not None and not 1 <= objects <= 3:
        raise SpacetimeError(f"--objects must be 1, 2 or 3 (objects per clip), got {objects}")
    if occluder not in _OCCLUDER:
        raise SpacetimeError(f"--occluder must be one of {list(_OCCLUDER)}, got {occluder!r}")
    paths = write_dataset(
        out,
        n,
        seed=seed,
        size=size,
        frames=frames,
        fps=fps,
        n_objects=objects,
        occluder=_OCCLUDER[occluder],
        background=background,
        progress=not quiet,
    )
    typer.echo(f"wrote {len(paths)} clips, captions.jsonl and ground_truth.jsonl to {out}")


def register(app: typer.Typer) -> None:
    """Add ``spacetime shapes`` to ``app``."""
    app.command("shapes")(shapes_command)
