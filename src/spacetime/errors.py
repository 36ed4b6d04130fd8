"""The exception type for mistakes a user can fix (bad file, bad option, bad config):
:class:`SpacetimeError`, and its :class:`VideoError` for an unusable video file or frame array.

The CLI turns a :class:`SpacetimeError` into a one-line message and exit code 2, with no
traceback. Anything else that escapes is a bug in spacetime and keeps its traceback.
"""

from __future__ import annotations

from pathlib import Path


class SpacetimeError(ValueError):
    """A user-facing error: the message names the input and what was expected."""


class SpacetimeWarning(UserWarning):
    """A warning meant for the user (a skipped file, an unknown prompt word, ...).

    The CLI prints it as one line ``spacetime: warning: ...``; library users see it through
    Python's :mod:`warnings` and can filter it by this category.
    """


class VideoError(SpacetimeError):
    """A video file, frame folder or frame array that cannot be used.

    The message names the file (when there is one) and the problem, e.g.
    ``clip.mp4: not a readable video (Invalid data found when processing input)``.
    """

    def __init__(self, problem: str, path: str | Path | None = None) -> None:
        self.problem = problem
        self.path = None if path is None else Path(path)
        super().__init__(problem if path is None else f"{path}: {problem}")
