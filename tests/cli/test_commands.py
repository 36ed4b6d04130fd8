"""The command registry: every sub-command module registers its commands once, by name."""

from __future__ import annotations

import typer

from spacetime.cli.commands import REGISTRY


def test_registry_adds_each_command_once() -> None:
    app = typer.Typer()
    for register in REGISTRY:
        register(app)
    names = [command.name for command in app.registered_commands]
    assert len(names) == len(set(names))
    assert {"shapes", "eval", "compare"} <= set(names)
