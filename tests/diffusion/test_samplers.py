"""The sampler registry: names, families and the errors that list them."""

from __future__ import annotations

import pytest
from diffusers import SchedulerMixin

from spacetime.diffusion.flow_matching import FlowMatchingObjective
from spacetime.diffusion.gaussian import GaussianObjective
from spacetime.diffusion.samplers import SAMPLERS, resolve_sampler
from spacetime.errors import SpacetimeError


def test_registry_names_and_families() -> None:
    assert list(SAMPLERS) == ["ddpm", "ddim", "dpm++", "euler", "flow-euler"]
    for name, spec in SAMPLERS.items():
        assert issubclass(spec.scheduler, SchedulerMixin) and spec.description
        assert spec.family == ("flow" if name.startswith("flow") else "gaussian")
        assert resolve_sampler(name, spec.family, 10, 1000) is spec


def test_scheduler_errors_name_the_options() -> None:
    with pytest.raises(SpacetimeError, match="ddpm, ddim, dpm\\+\\+, euler, flow-euler"):
        GaussianObjective().scheduler("heun", 10)
    with pytest.raises(SpacetimeError, match="this objective is gaussian; use one of ddpm"):
        GaussianObjective().scheduler("flow-euler", 10)
    with pytest.raises(SpacetimeError, match="use one of flow-euler"):
        FlowMatchingObjective().scheduler("ddim", 10)
    with pytest.raises(SpacetimeError, match="steps must be in"):
        GaussianObjective().scheduler("ddim", 0)
    assert set(SAMPLERS) == {"ddpm", "ddim", "dpm++", "euler", "flow-euler"}
