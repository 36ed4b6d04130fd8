"""The objective registry: every kind by name, configs rebuilt exactly, bad configs refused."""

from __future__ import annotations

import pytest

from diffusion.test_objectives import IDS
from diffusion.test_objectives import OBJECTIVES as CONFIGURED
from spacetime.diffusion.flow_matching import FlowMatchingObjective
from spacetime.diffusion.gaussian import GaussianObjective
from spacetime.diffusion.objectives import Objective
from spacetime.diffusion.registry import OBJECTIVES, build_objective
from spacetime.errors import SpacetimeError


@pytest.mark.parametrize("objective", CONFIGURED, ids=IDS)
def test_config_round_trip(objective: Objective) -> None:
    config = objective.to_config()
    rebuilt = build_objective(config)
    assert rebuilt == objective and rebuilt.to_config() == config
    assert config["kind"] == objective.family


def test_bad_configs_raise_clear_errors() -> None:
    with pytest.raises(SpacetimeError, match=r"unknown gaussian objective option\(s\) betas"):
        build_objective({"kind": "gaussian", "betas": 3})
    with pytest.raises(SpacetimeError, match="'kind' in gaussian, flow"):
        build_objective({"prediction": "v"})


def test_the_interface_imports_none_of_its_implementations() -> None:
    """The registry knows every kind; objectives.py (the interface) imports no subclass, not even
    inside a function, so the two never import each other."""
    import ast
    import inspect

    from spacetime.diffusion import OBJECTIVES, objectives

    tree = ast.parse(inspect.getsource(objectives))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not imported & {"spacetime.diffusion.gaussian", "spacetime.diffusion.flow_matching"}
    assert list(OBJECTIVES) == ["gaussian", "flow"]
    assert all(issubclass(cls, Objective) for cls in OBJECTIVES.values())


def test_each_kind_alone_builds_its_default_objective() -> None:
    assert {"gaussian": GaussianObjective, "flow": FlowMatchingObjective} == OBJECTIVES
    for kind, cls in OBJECTIVES.items():
        built = build_objective({"kind": kind})
        assert type(built) is cls and built == cls()
    flow = build_objective({"kind": "flow", "shift": 3.0, "per_frame_t": True})
    assert flow == FlowMatchingObjective(shift=3.0, per_frame_t=True)


def test_the_callers_config_is_left_as_it_was() -> None:
    config = {"kind": "gaussian", "prediction": "v"}
    assert build_objective(config) == GaussianObjective(prediction="v")
    assert config == {"kind": "gaussian", "prediction": "v"}  # "kind" not popped from it


def test_unknown_options_are_listed_sorted_with_the_allowed_ones() -> None:
    # noise_schedule is a Gaussian field, but derived (init=False): not an option of the config.
    gaussian = (
        r"unknown gaussian objective option\(s\) noise_schedule; expected a subset of "
        r"beta_end, beta_start, loss_weighting, num_train_timesteps, per_frame_t, prediction, "
        r"schedule, shift, snr_gamma, zero_terminal_snr$"
    )
    with pytest.raises(SpacetimeError, match=gaussian):
        build_objective({"kind": "gaussian", "noise_schedule": None})
    flow = (
        r"unknown flow objective option\(s\) beta_end, prediction; expected a subset of "
        r"logit_mean, logit_std, num_train_timesteps, per_frame_t, shift, time_sampling$"
    )
    with pytest.raises(SpacetimeError, match=flow):
        build_objective({"kind": "flow", "prediction": "v", "beta_end": 0.02})
    with pytest.raises(SpacetimeError, match=r"'kind' in gaussian, flow, got 'ddpm'"):
        build_objective({"kind": "ddpm"})
    with pytest.raises(SpacetimeError, match=r"got None"):
        build_objective({})
