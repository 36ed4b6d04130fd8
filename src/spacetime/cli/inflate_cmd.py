"""``spacetime inflate``: turn a saved image model into a video model (2D -> 3D inflation).

Thin over :func:`spacetime.pipelines.inflate_checkpoint.inflate_checkpoint`, which says which
sources it takes and what it writes.
"""

from __future__ import annotations

from pathlib import Path

import typer


def inflate_cmd(
    source: Path = typer.Argument(
        ...,
        help="A spacetime pipeline or run folder with a per-frame denoiser (temporal=false), "
        "a spacetime denoiser folder, or a diffusers UNet2DConditionModel (or pipeline) folder.",
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write (replaced if present)."),
    frame_conditioning: bool = typer.Option(
        False,
        "--frame-conditioning",
        help="Diffusers U-Net: add the frame-mask input channel (zero weights) for image->video.",
    ),
) -> None:
    """Inflate a 2D model: its weights copied, temporal layers added at zero, so the video
    model equals it frame by frame until the temporal layers are trained."""
    from spacetime.models.presets import format_count
    from spacetime.pipelines.inflate_checkpoint import inflate_checkpoint

    report = inflate_checkpoint(source, out, frame_conditioning=frame_conditioning)
    typer.echo(
        f"{report.source_class} -> {report.denoiser_class}: {format_count(report.parameters)} "
        f"parameters, {format_count(report.temporal_parameters)} in temporal layers "
        f"(zero-initialised outputs)\n{report.kind}: {report.out}"
    )


def register(app: typer.Typer) -> None:
    """Add ``inflate`` to ``app``."""
    app.command("inflate")(inflate_cmd)
