"""Range-checked numbers for the command-line options, and the one-line messages.

Every numeric option of every command is parsed by a :class:`Number` (``typer.Option(...,
parser=Number(...))``), so ``--guidance nan``, ``--fps inf`` or ``--steps 0`` stop the
command before any work, with one line ``spacetime: error: Invalid value for '--guidance':
nan is not a finite number`` and exit code 2 (:func:`spacetime.cli.main.main` prints usage
errors that way). Typer's own ``min=``/``max=`` accept infinities, and a range check alone
lets NaN through (every comparison with NaN is false), hence :class:`Number`.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import typer

SEED_LIMIT = 2**63 - 1
"""Largest seed: the samplers' ``torch.Generator`` and the data seeds take 63-bit integers."""


class Number:
    """Parser of a finite number within ``[low, high]`` (an integer when ``integer``).

    ``low_open`` excludes ``low`` itself (``--fps 0`` is not a frame rate). Raises
    ``typer.BadParameter`` naming the value and the accepted range.
    """

    def __init__(
        self,
        low: float | None = None,
        high: float | None = None,
        *,
        integer: bool = False,
        low_open: bool = False,
    ) -> None:
        self.low, self.high, self.integer, self.low_open = low, high, integer, low_open

    @property
    def metavar(self) -> str:
        """How ``--help`` shows the value, e.g. ``INTEGER>=1`` or ``FLOAT 0..100``."""
        kind = "INTEGER" if self.integer else "FLOAT"
        low, high = self._text(self.low), self._text(self.high)
        if self.low is not None and self.high is not None:
            return f"{kind} {low}..{high}"
        if self.low is not None:
            return f"{kind}{'>' if self.low_open else '>='}{low}"
        return kind

    def _text(self, bound: float | None) -> str:
        if bound is None:
            return ""
        return str(int(bound)) if self.integer else f"{bound:g}"

    def describe(self) -> str:
        """The accepted range in words, e.g. ``> 0`` or ``in [1, 1000]``."""
        low, high = self._text(self.low), self._text(self.high)
        if self.low is not None and self.high is not None:
            return f"in {'(' if self.low_open else '['}{low}, {high}]"
        if self.low is not None:
            return f"{'>' if self.low_open else '>='} {low}"
        if self.high is not None:
            return f"<= {high}"
        return "finite"

    def __call__(self, value: Any) -> int | float:
        if isinstance(value, bool):
            raise typer.BadParameter(f"{value} is not a number")
        text = str(value).strip()
        try:
            number: int | float = int(text, 10) if self.integer else float(text)
        except ValueError:
            kind = "an integer" if self.integer else "a number"
            raise typer.BadParameter(f"{value} is not {kind}") from None
        if not math.isfinite(number):
            raise typer.BadParameter(f"{value} is not a finite number")
        below = self.low is not None and (
            number <= self.low if self.low_open else number < self.low
        )
        if below or (self.high is not None and number > self.high):
            raise typer.BadParameter(f"{value} is not {self.describe()}")
        return number


def number_option(default: Any, *flags: str, kind: Number, help: str) -> Any:
    """A ``typer.Option`` whose value ``kind`` parses and checks (its range in ``--help``)."""
    return typer.Option(default, *flags, parser=kind, metavar=kind.metavar, help=help)


def integer(low: int | None = 1, high: int | None = None) -> Number:
    """An integer option in ``[low, high]`` (default: a count, >= 1)."""
    return Number(low, high, integer=True)


def real(low: float | None = None, high: float | None = None, *, low_open: bool = False) -> Number:
    """A finite float option in ``[low, high]`` (``(low, high]`` when ``low_open``)."""
    return Number(low, high, low_open=low_open)


SEED = integer(0, SEED_LIMIT)
"""A seed: an integer in [0, 2**63 - 1]."""
FPS = real(0, 1000, low_open=True)
"""A frame rate in frames per second, in (0, 1000]."""
GUIDANCE = real(0, 100)
"""A classifier-free guidance scale in [0, 100] (1 = none, 0 = unconditional)."""
SAMPLER_STEPS = integer(1, 1000)
"""Sampler steps in [1, 1000] (a schedule has 1000 training timesteps)."""


def one_line(text: str) -> str:
    """``text`` with every run of whitespace (newlines too) folded to one space."""
    return " ".join(str(text).split())


def print_error(message: str) -> None:
    """``spacetime: error: MESSAGE`` on stderr, on one line."""
    print(f"spacetime: error: {one_line(message)}", file=sys.stderr)


def print_warning(message: str) -> None:
    """``spacetime: warning: MESSAGE`` on stderr, on one line."""
    print(f"spacetime: warning: {one_line(message)}", file=sys.stderr)
