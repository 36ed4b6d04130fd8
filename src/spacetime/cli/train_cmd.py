"""``spacetime train``: resolve a config, then run :class:`spacetime.training.Trainer`.

Resume = rerun the same command (the run folder's checkpoint is picked up). Data-parallel:
``torchrun --nproc_per_node N -m spacetime train ...`` or ``accelerate launch -m spacetime
train ...``.
"""

from __future__ import annotations

from pathlib import Path

import typer

from spacetime.cli.options import SEED, integer, number_option
from spacetime.errors import SpacetimeError


def train(
    preset: str | None = typer.Option(
        None,
        "--preset",
        "-p",
        help="Named preset (spacetime/configs/NAME.yaml), e.g. shapes-tiny.",
    ),
    config: Path | None = typer.Option(
        None, "--config", "-c", help="YAML config file (applied over --preset if both)."
    ),
    overrides: list[str] | None = typer.Option(
        None, "--set", "-s", help="Override a key: --set optim.lr=1e-4 (repeatable)."
    ),
    steps: int | None = number_option(
        None, "--steps", kind=integer(1), help="Total optimizer steps."
    ),
    seed: int | None = number_option(None, "--seed", kind=SEED, help="Run seed (all randomness)."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Run folder (config, log, samples, checkpoint)."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Print the resolved config and exit without training."
    ),
) -> None:
    """Train a video diffusion model; rerun the same command to resume."""
    from spacetime.training.config import (
        dump_config,
        list_presets,
        load_config,
        validate_config,
    )

    if preset is None and config is None:
        raise SpacetimeError(
            f"give --preset NAME or --config FILE; presets: {', '.join(list_presets())}"
        )
    items = list(overrides or [])
    if steps is not None:
        items.append(f"steps={steps}")
    if seed is not None:
        items.append(f"seed={seed}")
    resolved = load_config(preset, config, items)
    validate_config(resolved)
    if dry_run:
        typer.echo(dump_config(resolved), nl=False)
        return
    if out is None:
        raise SpacetimeError("--out RUN is required: the folder of the run (created if absent)")

    from spacetime.training.trainer import Trainer

    trainer = Trainer(resolved, out)
    done = trainer.train()
    if trainer.is_main:
        typer.echo(f"trained {done} steps; pipeline (EMA weights): {out / 'checkpoint/pipeline'}")


def cache_latents(
    preset: str | None = typer.Option(
        None, "--preset", "-p", help="Named preset whose training clips to encode."
    ),
    config: Path | None = typer.Option(
        None, "--config", "-c", help="YAML config file (applied over --preset if both)."
    ),
    overrides: list[str] | None = typer.Option(
        None, "--set", "-s", help="Override a key: --set data.shapes_count=1024 (repeatable)."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Run seed (decides the clips)."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder of the latent dataset."),
    batch_clips: int = typer.Option(32, "--batch-clips", min=1, help="Clips per encoder call."),
) -> None:
    """Encode a run's training clips once; train on them with --set data.latents=OUT."""
    from spacetime.training.config import load_config
    from spacetime.training.latent_data import cache_latents as encode

    if preset is None and config is None:
        raise SpacetimeError("give --preset NAME or --config FILE: the run whose clips to encode")
    items = list(overrides or []) + ([f"seed={seed}"] if seed is not None else [])
    folder = encode(load_config(preset, config, items), out, batch_clips=batch_clips)
    typer.echo(f"latent dataset: {folder} (train with --set data.latents={folder})")


def register(app: typer.Typer) -> None:
    """Add ``train`` and ``cache-latents`` to ``app``."""
    app.command("train")(train)
    app.command("cache-latents")(cache_latents)
