"""Flow matching: the straight path, its velocity, marginals, time sampling, scheduler."""

from __future__ import annotations

import pytest
import torch

from spacetime.diffusion.flow_matching import FlowMatchingObjective
from spacetime.errors import SpacetimeError


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_flow_matching_path_and_velocity() -> None:
    objective = FlowMatchingObjective()
    g = _gen(3)
    x0 = torch.randn(2, 1, 2, 2, 2, generator=g, dtype=torch.float64)
    eps = torch.randn(x0.shape, generator=g, dtype=torch.float64)
    t = torch.tensor([0.0, 1000.0], dtype=torch.float64)
    x_t = objective.add_noise(x0, eps, t)
    torch.testing.assert_close(x_t[0], x0[0])  # σ = 0: data
    torch.testing.assert_close(x_t[1], eps[1])  # σ = 1: noise
    # the target is the derivative of the path in σ: finite difference in t
    t_mid, h = torch.tensor([300.0, 700.0], dtype=torch.float64), 1e-3
    deriv = (objective.add_noise(x0, eps, t_mid + h) - objective.add_noise(x0, eps, t_mid - h)) / (
        2 * h / 1000
    )
    torch.testing.assert_close(objective.target(x0, eps, t_mid), deriv, atol=1e-6, rtol=0)


def test_logit_normal_time_sampling_concentrates_mid_path() -> None:
    uniform = FlowMatchingObjective().sample_t(4000, 1, generator=_gen(13))
    logit = FlowMatchingObjective(time_sampling="logit-normal").sample_t(
        4000, 1, generator=_gen(13)
    )
    assert abs(logit.median().item() - 500) < 30  # sigmoid(N(0, 1)) has median 1/2
    assert logit.std() < 0.8 * uniform.std()  # std ≈ 0.21 vs 1/√12 ≈ 0.29 (× 1000)


def test_flow_scheduler_uses_sigma_times_1000() -> None:
    sched = FlowMatchingObjective(shift=3.0).scheduler("flow-euler", 8)
    assert len(sched.timesteps) == 8
    torch.testing.assert_close(sched.timesteps, sched.sigmas[:-1] * 1000)
    plain = FlowMatchingObjective().scheduler("flow-euler", 8).sigmas
    assert plain[0].item() == pytest.approx(1.0) and plain[-1].item() == 0.0
    # shift > 1 (SD3 eq. 23) moves every intermediate step towards high noise
    assert sched.sigmas[0].item() == pytest.approx(1.0) and sched.sigmas[-1].item() == 0.0
    assert bool((sched.sigmas[1:-1] > plain[1:-1]).all())


def test_bad_options_raise_clear_errors() -> None:
    with pytest.raises(SpacetimeError, match="time_sampling"):
        FlowMatchingObjective(time_sampling="beta")
    with pytest.raises(SpacetimeError, match="shift must be > 0"):
        FlowMatchingObjective(shift=0.0)
