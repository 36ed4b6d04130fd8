"""The one exception type for mistakes a user can fix (bad file, bad option, bad config).

The CLI turns a :class:`SpacetimeError` into a one-line message and exit code 2, with no
traceback. Anything else that escapes is a bug in spacetime and keeps its traceback.
"""

from __future__ import annotations


class SpacetimeError(ValueError):
    """A user-facing error: the message names the input and what was expected."""
