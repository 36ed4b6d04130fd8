"""The one exception type for mistakes a user can fix (bad file, bad option, bad config).

The CLI turns a :class:`SpacetimeError` into a one-line message and exit code 2, with no
traceback. Anything else that escapes is a bug in spacetime and keeps its traceback.
"""

from __future__ import annotations


class SpacetimeError(ValueError):
    """A user-facing error: the message names the input and what was expected."""


class SpacetimeWarning(UserWarning):
    """A warning meant for the user (a skipped file, an unknown prompt word, ...).

    The CLI prints it as one line ``spacetime: warning: ...``; library users see it through
    Python's :mod:`warnings` and can filter it by this category.
    """
