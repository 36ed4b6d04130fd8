"""The ``spacetime`` command: a thin layer over the library.

Each sub-command lives in its own module with a ``register(app)`` function. User mistakes
raise :class:`spacetime.errors.SpacetimeError`; :func:`main` prints them (and any
:class:`OSError`, as ``file: reason``) as one line on stderr and exits 2, without a traceback.
"""

from __future__ import annotations

import sys

import typer

from spacetime.errors import SpacetimeError

app = typer.Typer(
    name="spacetime",
    help="Train, sample and stress-test spatiotemporal video diffusion models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _register_all() -> None:
    # Imported here so that `spacetime --help` stays the only place that pulls in every command.
    from spacetime.cli import commands

    for register in commands.REGISTRY:
        register(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script; ``argv`` defaults to ``sys.argv[1:]``."""
    _register_all()
    try:
        app(args=argv, prog_name="spacetime", standalone_mode=True)
    except SpacetimeError as err:
        print(f"spacetime: error: {err}", file=sys.stderr)
        sys.exit(2)
    except OSError as err:
        # A file the library did not wrap (permissions, full disk, ...): one line, no traceback.
        print(f"spacetime: error: {err.filename}: {err.strerror or err}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("spacetime: interrupted", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
