"""The ``spacetime`` entry point: user errors and OS errors are one line on stderr, exit 2."""

from __future__ import annotations

import pytest
import typer

from spacetime.cli import commands, main
from spacetime.errors import SpacetimeError


def _failing(exc: BaseException):
    def register(app: typer.Typer) -> None:
        @app.command("explode")
        def explode() -> None:
            raise exc

    return register


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (
            NotADirectoryError(20, "Not a directory", "/etc/passwd/x"),
            "/etc/passwd/x: Not a directory",
        ),
        (SpacetimeError("--n must be >= 1"), "--n must be >= 1"),
    ],
)
def test_errors_are_one_line_and_exit_2(monkeypatch, capsys, exc, expected) -> None:
    # A throwaway command on a throwaway app: only main()'s error handling is under test.
    app = typer.Typer(pretty_exceptions_enable=False)
    monkeypatch.setattr(main, "app", app)
    monkeypatch.setattr(commands, "REGISTRY", [_failing(exc), *commands.REGISTRY])
    with pytest.raises(SystemExit) as info:
        main.main(["explode"])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert err == f"spacetime: error: {expected}\n"


def test_help_lists_every_command(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main.main(["--help"])
    out = capsys.readouterr().out
    assert info.value.code == 0
    assert all(name in out for name in ("shapes", "eval", "compare"))
