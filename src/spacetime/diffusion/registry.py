"""The objectives by ``kind``, and building one from the config it writes.

:mod:`.objectives` holds the interface, :mod:`.gaussian` and :mod:`.flow_matching` implement it;
this module, above all three, is the only one that knows every kind, so the interface never
imports its implementations.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from spacetime.diffusion.flow_matching import FlowMatchingObjective
from spacetime.diffusion.gaussian import GaussianObjective
from spacetime.diffusion.objectives import Objective
from spacetime.errors import SpacetimeError

__all__ = ["OBJECTIVES", "build_objective"]

OBJECTIVES: dict[str, type[Objective]] = {
    cls.family: cls for cls in (GaussianObjective, FlowMatchingObjective)
}
"""Every objective class by its ``kind`` (its :attr:`Objective.family`, as ``to_config``
writes it)."""


def build_objective(config: dict[str, Any]) -> Objective:
    """The objective described by ``config`` (``{"kind": "gaussian" | "flow", ...}``), as
    written by :meth:`Objective.to_config`. Unknown kinds or keys raise SpacetimeError."""
    config = dict(config)
    kind = config.pop("kind", None)
    if kind not in OBJECTIVES:
        raise SpacetimeError(
            f"objective config needs 'kind' in {', '.join(OBJECTIVES)}, got {kind!r}"
        )
    cls = OBJECTIVES[kind]
    allowed = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(config) - allowed)
    if unknown:
        raise SpacetimeError(
            f"unknown {kind} objective option(s) {', '.join(unknown)}; expected a subset of "
            f"{', '.join(sorted(allowed))}"
        )
    return cls(**config)
