"""Gaussian diffusion: marginals, eps/v/x0 conversions, Min-SNR, diffusers schedulers."""

from __future__ import annotations

import pytest
import torch

from spacetime.diffusion.gaussian import GaussianObjective
from spacetime.errors import SpacetimeError

GAUSSIANS = [
    GaussianObjective(prediction="eps"),
    GaussianObjective(prediction="v", schedule="cosine"),
    GaussianObjective(prediction="x0", schedule="scaled-linear"),
    GaussianObjective(prediction="v", zero_terminal_snr=True),
]
IDS = ["eps", "v-cosine", "x0-scaled", "v-ztsnr"]


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_v_and_x0_conversions_agree_across_parameterisations() -> None:
    g = _gen(2)
    x0 = torch.randn(2, 1, 3, 2, 2, generator=g, dtype=torch.float64)
    eps = torch.randn(x0.shape, generator=g, dtype=torch.float64)
    t = torch.tensor([17.0, 640.0], dtype=torch.float64)
    objs = {p: GaussianObjective(prediction=p) for p in ("eps", "v", "x0")}
    x_t = objs["eps"].add_noise(x0, eps, t)
    for o in objs.values():
        for q, other in objs.items():
            # the q-prediction converted from o's output matches q's own target
            out_p = o.target(x0, eps, t)
            converted = {"eps": o.to_eps, "v": o.to_v, "x0": o.to_x0}[q](x_t, t, out_p)
            torch.testing.assert_close(converted, other.target(x0, eps, t), atol=1e-9, rtol=0)


@pytest.mark.parametrize("prediction", ["eps", "v", "x0"])
def test_min_snr_weight_is_min_snr_gamma_on_the_x0_error(prediction: str) -> None:
    # Hang et al. 2023: whatever the parameterisation, the weighted loss is min(SNR, γ)·‖x̂0 - x0‖²
    objective = GaussianObjective(prediction=prediction, loss_weighting="min-snr", snr_gamma=5.0)
    g = _gen(11)
    x0 = torch.randn(4, 1, 1, 2, 2, generator=g, dtype=torch.float64)
    eps = torch.randn(x0.shape, generator=g, dtype=torch.float64)
    t = torch.tensor([5.0, 200.0, 500.0, 990.0], dtype=torch.float64)
    x_t = objective.add_noise(x0, eps, t)
    out = objective.target(x0, eps, t) + 0.3 * torch.randn(x0.shape, generator=g, dtype=x0.dtype)
    param_err = (out - objective.target(x0, eps, t)).pow(2).flatten(1).sum(1)
    x0_err = (objective.to_x0(x_t, t, out) - x0).pow(2).flatten(1).sum(1)
    snr = objective.noise_schedule.snr(t)
    weighted = objective.loss_weight(t).double() * param_err
    torch.testing.assert_close(weighted, snr.clamp(max=5.0) * x0_err, rtol=1e-5, atol=1e-9)
    assert objective.loss_weight(t).shape == t.shape


@pytest.mark.parametrize("name", ["ddpm", "ddim", "dpm++", "euler"])
@pytest.mark.parametrize("objective", GAUSSIANS, ids=IDS)
def test_schedulers_share_the_objective_schedule(name: str, objective: GaussianObjective) -> None:
    sched = objective.scheduler(name, 10)
    assert len(sched.timesteps) == 10 and float(sched.timesteps[0]) == 999.0
    ours = objective.noise_schedule.alphas_cumprod
    theirs = sched.alphas_cumprod.double()
    # diffusers clamps the zero terminal ᾱ of Euler / DPM-Solver to 2**-24
    torch.testing.assert_close(theirs[:-1], ours[:-1], rtol=1e-5, atol=2e-6)
    assert abs(theirs[-1].item() - ours[-1].item()) < 1e-6
    expected = {"eps": "epsilon", "v": "v_prediction", "x0": "sample"}[objective.prediction]
    assert sched.config.prediction_type == expected


def test_bad_options_raise_clear_errors() -> None:
    with pytest.raises(SpacetimeError, match="prediction"):
        GaussianObjective(prediction="score")
    with pytest.raises(SpacetimeError, match="zero_terminal_snr needs prediction"):
        GaussianObjective(prediction="eps", zero_terminal_snr=True)
    with pytest.raises(SpacetimeError, match="loss_weighting"):
        GaussianObjective(loss_weighting="p2")
    with pytest.raises(SpacetimeError, match="unknown schedule 'sigmoid'"):
        GaussianObjective(schedule="sigmoid")


@pytest.mark.parametrize("sampler", ["ddim", "dpm++", "euler", "ddpm"])
def test_shifted_objective_hands_its_schedule_to_every_sampler(sampler: str) -> None:
    objective = GaussianObjective(prediction="v", schedule="cosine", shift=2.0)
    scheduler = objective.scheduler(sampler, 10)
    ours = objective.noise_schedule.alphas_cumprod
    theirs = torch.as_tensor(scheduler.alphas_cumprod, dtype=torch.float64)
    torch.testing.assert_close(theirs, ours, rtol=1e-5, atol=1e-6)  # diffusers keeps float32
    assert objective.to_config()["shift"] == 2.0
    with pytest.raises(SpacetimeError, match="cannot be combined"):
        GaussianObjective(prediction="v", shift=2.0, zero_terminal_snr=True)
