"""The sub-command modules; each exposes ``register(app: typer.Typer)``."""

from __future__ import annotations

from collections.abc import Callable

import typer

from spacetime.cli import (
    autoencoder_cmd,
    demo_cmd,
    eval_cmd,
    generate_cmd,
    inflate_cmd,
    shapes_cmd,
    train_cmd,
)

REGISTRY: list[Callable[[typer.Typer], None]] = [
    shapes_cmd.register,
    eval_cmd.register,
    train_cmd.register,
    autoencoder_cmd.register,
    generate_cmd.register,
    demo_cmd.register,
    inflate_cmd.register,
]
