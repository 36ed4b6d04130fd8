"""`spacetime demo`: the default model generating ShapesWorld clips, scored against ground truth.

``spacetime demo --out DIR`` loads the default model (or ``--checkpoint``) and runs
:func:`spacetime.pipelines.demo.run_model_demo`: generated clips beside the ShapesWorld ground
truth of the same captions, scored. ``spacetime demo --no-model`` runs the evaluation half
alone (:func:`spacetime.pipelines.demo.run_demo`): rendered clips and one corrupted on purpose,
which stands out in the table, in ``report.json`` and in ``report.html``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from spacetime.cli.options import GUIDANCE, SAMPLER_STEPS, SEED, integer, number_option
from spacetime.errors import SpacetimeError

if TYPE_CHECKING:
    from spacetime.pipelines import VideoPipeline


def _load_model(checkpoint: Path | None, device: str) -> tuple[VideoPipeline, Path]:
    """The pipeline for ``--checkpoint`` or the default model, with a pointer to
    ``--no-model`` when there is none."""
    import torch

    from spacetime.pipelines import VideoPipeline
    from spacetime.pipelines.loading import resolve_pipeline

    try:
        folder = resolve_pipeline(checkpoint)
    except SpacetimeError as err:
        if checkpoint is not None:
            raise
        raise SpacetimeError(
            f"{err}. To see the evaluator alone, with no model, run: spacetime demo --no-model"
        ) from None
    try:
        torch_device = torch.device(device)
    except RuntimeError:
        raise SpacetimeError(f"--device {device!r} is not a torch device") from None
    return VideoPipeline.from_pretrained(folder, device=torch_device), folder


def demo_command(
    out: Path = typer.Option(Path("demo_out"), "--out", help="Folder for the clips and reports."),
    no_model: bool = typer.Option(
        False, "--no-model", help="Evaluation only: render, corrupt and score clips, no model."
    ),
    checkpoint: Path | None = typer.Option(
        None, "--checkpoint", "-c", help="Pipeline or run folder (default: the bundled model)."
    ),
    steps: int = number_option(20, "--steps", kind=SAMPLER_STEPS, help="Sampler steps."),
    guidance: float = number_option(
        5.0, "--guidance", kind=GUIDANCE, help="Classifier-free guidance scale."
    ),
    sampler: str = typer.Option("ddim", "--sampler", help="Sampler name, e.g. ddim, dpm++."),
    size: int | None = number_option(
        None, "--size", kind=integer(1, 4096), help="Frame side in px (default: model's)."
    ),
    frames: int | None = number_option(
        None, "--frames", kind=integer(1, 4096), help="Frames (default: the model's)."
    ),
    seed: int = number_option(
        0, "--seed", kind=SEED, help="Seed of the scenes and of the sampler noise."
    ),
    device: str = typer.Option("cpu", "--device", help="torch device, e.g. cpu, cuda."),
) -> None:
    """Generate ShapesWorld clips with the default model and score them beside ground truth
    (--no-model: score rendered and corrupted clips, no model needed)."""
    from spacetime.evaluation.report import eval_tables, print_tables
    from spacetime.pipelines.default import default_model_path, has_default_model
    from spacetime.pipelines.demo import MODEL_PROMPTS, run_demo, run_model_demo

    started = time.perf_counter()
    if no_model and checkpoint is not None:
        raise SpacetimeError("--no-model and --checkpoint exclude each other: give one")
    if not no_model and checkpoint is None and not has_default_model():
        # A checkout without the bundled weights still shows the evaluation half.
        typer.echo(
            f"spacetime demo: no default model is bundled ({default_model_path()} is missing); "
            "showing the evaluator alone (spacetime demo --no-model). Pass --checkpoint RUN or "
            "set SPACETIME_DEFAULT_MODEL to generate.",
            err=True,
        )
        no_model = True
    if no_model:
        result = run_demo(
            out, size=64 if size is None else size, frames=16 if frames is None else frames,
            seed=seed,
        )  # fmt: skip
    else:
        pipe, folder = _load_model(checkpoint, device)
        typer.echo(f"model: {folder}")
        result = run_model_demo(
            out, pipe, steps=steps, guidance=guidance, sampler=sampler, seed=seed, size=size,
            frames=frames,
        )  # fmt: skip
    print_tables(eval_tables(result.reports))
    typer.echo(f"clips (mp4 + gif): {result.out / 'clips'} ({len(result.videos)} each)")
    if result.side_by_side:
        typer.echo(f"side by side:      {result.out / 'side_by_side'} (generated | truth gifs)")
    typer.echo(f"captions:          {result.captions}")
    typer.echo(f"JSON report:       {result.report_json}")
    typer.echo(f"HTML report:       {result.report_html}")
    if no_model:
        typer.echo(
            f"the clip {result.videos[-1].name} was corrupted on purpose (teleport + flicker); "
            "see how it stands out. Score your own videos with: spacetime eval VIDEO_OR_DIR "
            "--html report.html"
        )
    else:
        typer.echo(
            f"generated {len(MODEL_PROMPTS)} clips in {result.seconds['generate']:.1f} s "
            f"({steps} {sampler} steps, guidance {guidance:g}); *_truth clips are ShapesWorld's "
            "ground truth for the same caption"
        )
    typer.echo(
        f"evaluated {len(result.videos)} clips in {result.seconds['evaluate']:.1f} s; "
        f"total {time.perf_counter() - started:.1f} s"
    )


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``app``."""
    app.command("demo")(demo_command)
