"""``spacetime train-autoencoder`` and ``spacetime autoencode``: the latent space from the shell.

Both are thin over :mod:`spacetime.training.autoencoder` and :mod:`spacetime.models.autoencoder`.
Resume = rerun the same ``train-autoencoder`` command.
"""

from __future__ import annotations

from pathlib import Path

import typer

from spacetime.cli.options import SEED, integer, number_option
from spacetime.errors import SpacetimeError


def train_autoencoder_cmd(
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Run folder (created; resumed if present). Required."
    ),
    preset: str | None = typer.Option(
        None, "--preset", "-p", help="Architecture: shapes-f4 (64x64x3 -> 16x16x4) or shapes-f8."
    ),
    data: str | None = typer.Option(
        None, "--data", help="'shapes' (ShapesWorld, default) or a folder/file of videos."
    ),
    steps: int | None = number_option(
        None, "--steps", kind=integer(1), help="Total optimizer steps."
    ),
    batch_size: int | None = number_option(
        None, "--batch-size", kind=integer(1), help="Frames per step."
    ),
    seed: int | None = number_option(None, "--seed", kind=SEED, help="Run seed (all randomness)."),
    config: Path | None = typer.Option(
        None,
        "--config",
        "-c",
        help="YAML recipe file, or a bundled one: autoencoder-shapes.",
    ),
    overrides: list[str] | None = typer.Option(
        None, "--set", "-s", help="Override a key: --set optim.lr=1e-3 (repeatable)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the resolved config and exit."),
) -> None:
    """Train the frame-wise latent autoencoder; prints the held-out reconstruction PSNR."""
    import yaml

    from spacetime.training.autoencoder import load_autoencoder_config, train_autoencoder
    from spacetime.training.config import config_to_dict

    items = list(overrides or [])
    for key, value in (
        ("preset", preset), ("data", data), ("steps", steps),
        ("batch_size", batch_size), ("seed", seed),
    ):  # fmt: skip
        if value is not None:
            # Quoted, so that --data 123 stays a path string and --preset a name.
            items.append(f"{key}={value}" if isinstance(value, int) else f"{key}={value!r}")
    resolved = load_autoencoder_config(config, items)
    if dry_run:
        typer.echo(yaml.safe_dump(config_to_dict(resolved), sort_keys=False), nl=False)
        return
    if out is None:
        raise SpacetimeError("--out DIR is required: the run folder (created if absent)")
    if out.exists() and not out.is_dir():
        raise SpacetimeError(f"--out {out} is a file; expected a run folder")
    metrics = train_autoencoder(resolved, out)
    typer.echo(
        f"held-out PSNR {metrics['psnr']:.2f} dB (worst clip {metrics['psnr_min']:.2f} dB, "
        f"{metrics['heldout_clips']} clips) after {metrics['step']} steps; "
        f"scaling_factor {metrics['scaling_factor']:.4f}, shift_factor "
        f"{metrics['shift_factor']:.4f}\nautoencoder: {out / 'autoencoder'}\n"
        f"metrics: {out / 'metrics.json'}"
    )


def autoencode_cmd(
    video: Path = typer.Argument(..., help="Input video file or folder of frames."),
    checkpoint: Path = typer.Option(
        ...,
        "--checkpoint",
        help="AutoencoderKL folder: RUN/autoencoder, or a local Stable Diffusion (vae/) folder.",
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Write the reconstruction here (.mp4, .gif or .png strip)."
    ),
    size: str | None = typer.Option(
        None, "--size", help="Resize frames first: S (square) or HxW; must be a multiple of f."
    ),
    max_frames: int | None = number_option(
        None, "--max-frames", kind=integer(1), help="Read at most N frames."
    ),
    chunk_size: int = number_option(
        16, "--chunk-size", kind=integer(1), help="Frames per network pass."
    ),
    device: str = typer.Option("cpu", "--device", help="torch device, e.g. cpu or cuda."),
) -> None:
    """Encode and decode a video with an autoencoder; print the latent shape and the PSNR."""
    import torch

    from spacetime.contracts.pixels import to_model_range, to_uint8
    from spacetime.models.autoencoder import load_autoencoder, psnr
    from spacetime.video import read_video, write_video

    hw = _parse_hw(size)
    clip = read_video(video, max_frames=max_frames, size=hw)
    autoencoder = load_autoencoder(checkpoint, chunk_size=chunk_size)
    try:
        autoencoder.to(torch.device(device))
    except (RuntimeError, AssertionError) as err:
        raise SpacetimeError(f"--device {device}: not usable here ({err})") from None
    pixels = to_model_range(clip.frames).unsqueeze(0)  # (1, 3, T, H, W)
    with torch.no_grad():
        latents = autoencoder.encode(pixels)  # (1, c, T, h, w)
        recon = autoencoder.decode(latents)  # (1, 3, T, H, W)
    value = float(psnr(pixels, recon)[0])
    shape = "x".join(str(s) for s in latents.shape[1:])
    typer.echo(f"{video}: {clip.frames.shape[0]} frames -> latents {shape} (c x T x h x w)")
    if out is not None:
        write_video(out, to_uint8(recon[0]), fps=clip.fps)
        typer.echo(f"reconstruction: {out}")
    typer.echo(f"PSNR {value:.2f} dB")


def _parse_hw(size: str | None) -> tuple[int, int] | None:
    """``"S"`` -> ``(S, S)``, ``"HxW"`` -> ``(H, W)``, None -> None."""
    if size is None:
        return None
    parts = size.lower().split("x")
    try:
        values = [int(p) for p in parts]
    except ValueError:
        values = []
    if len(values) not in (1, 2) or min(values) < 1:
        raise SpacetimeError(f"--size expects S or HxW with positive ints, got {size!r}")
    return (values[0], values[-1])


def register(app: typer.Typer) -> None:
    """Add ``train-autoencoder`` and ``autoencode`` to ``app``."""
    app.command("train-autoencoder")(train_autoencoder_cmd)
    app.command("autoencode")(autoencode_cmd)
