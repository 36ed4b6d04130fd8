"""The ``spacetime`` command: a thin layer over the library.

Each sub-command lives in its own module with a ``register(app)`` function. What a user sees
when something is wrong is one line on stderr, never a traceback:

- user mistakes raise :class:`spacetime.errors.SpacetimeError`, and a bad option (an unknown
  one, a missing value, ``--guidance nan``) raises click's ``UsageError``; both print as
  ``spacetime: error: ...`` and exit 2, as does any :class:`OSError` (``file: reason``);
- :class:`spacetime.errors.SpacetimeWarning` (a dataset skipping a file, a prompt word the
  model never saw, more frames than the model was trained on) prints as
  ``spacetime: warning: ...``; the command goes on.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

import typer

try:  # typer >= 0.20 vendors click
    from typer._click.exceptions import NoArgsIsHelpError, UsageError
except ImportError:  # pragma: no cover - older typer on click
    from click.exceptions import NoArgsIsHelpError, UsageError

from spacetime.cli.options import print_error, print_warning
from spacetime.errors import SpacetimeError, SpacetimeWarning

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

    if app.registered_commands:  # once per app: main() may run many times in one process
        return
    for register in commands.REGISTRY:
        register(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script; ``argv`` defaults to ``sys.argv[1:]``."""
    _register_all()
    with warnings.catch_warnings():
        others = warnings.showwarning

        def show(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
            if issubclass(category, SpacetimeWarning):
                print_warning(str(message))
            else:  # a library's own warning keeps Python's format
                others(message, category, *args, **kwargs)

        warnings.showwarning = show
        warnings.simplefilter("always", SpacetimeWarning)  # each says something new
        code = _run(argv)
    sys.exit(code)  # 0 too, as click's standalone mode does


def _run(argv: list[str] | None) -> int:
    """Run the app; returns the exit code (0 done, 2 user error, 130 interrupted)."""
    try:
        return int(app(args=argv, prog_name="spacetime", standalone_mode=False) or 0)
    except NoArgsIsHelpError as err:
        err.show()  # `spacetime` alone: the help, as before
        return err.exit_code
    except UsageError as err:
        where = f" (see {err.ctx.command_path} --help)" if err.ctx is not None else ""
        # (typer's parser wraps a parser's message in pydantic's "Value error, ...")
        print_error(err.format_message().replace("Value error, ", "") + where)
        return 2
    except SpacetimeError as err:
        print_error(str(err))
        return 2
    except OSError as err:
        # A file the library did not wrap (permissions, full disk, ...): one line, no traceback.
        print_error(f"{err.filename}: {err.strerror or err}")
        return 2
    except (KeyboardInterrupt, typer.Abort):
        print("spacetime: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    main()
