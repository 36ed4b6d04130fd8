"""The objective interface: loss, frame masking, conversions, configs (float64)."""

from __future__ import annotations

import pytest
import torch

from spacetime.contracts.conditioning import FrameCondition
from spacetime.diffusion.flow_matching import FlowMatchingObjective
from spacetime.diffusion.gaussian import GaussianObjective
from spacetime.diffusion.objectives import Objective
from spacetime.errors import SpacetimeError

OBJECTIVES = [
    GaussianObjective(prediction="eps"),
    GaussianObjective(prediction="v", schedule="cosine"),
    GaussianObjective(prediction="x0", schedule="scaled-linear"),
    GaussianObjective(prediction="v", zero_terminal_snr=True),
    FlowMatchingObjective(),
]
IDS = ["eps", "v-cosine", "x0-scaled", "v-ztsnr", "flow"]


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _gaussian_scales(objective: GaussianObjective, t: torch.Tensor) -> tuple[torch.Tensor, ...]:
    ab = objective.noise_schedule.alpha_bar(t)
    return ab.sqrt(), (1 - ab).sqrt()  # DDPM eq. 4


def _flow_scales(objective: FlowMatchingObjective, t: torch.Tensor) -> tuple[torch.Tensor, ...]:
    sigma = t / objective.num_train_timesteps
    return 1 - sigma, sigma  # rectified flow: x_t = (1 - σ) x0 + σ ε


@pytest.mark.parametrize(
    ("objective", "scales"),
    [(GaussianObjective(), _gaussian_scales), (FlowMatchingObjective(), _flow_scales)],
    ids=["gaussian", "flow"],
)
def test_noising_matches_the_marginals(objective: Objective, scales) -> None:
    # x_t = α_t x0 + σ_t ε must have mean α_t x0 and variance σ_t² (per frame t).
    n = 40000
    x0 = torch.tensor([0.7, -0.4, 0.1], dtype=torch.float64)[None, None, :, None, None]
    x0 = x0.expand(n, 1, 3, 1, 1)
    t = torch.tensor([50.0, 400.0, 900.0], dtype=torch.float64).expand(n, 3)  # per frame
    noise = torch.randn(x0.shape, generator=_gen(4), dtype=torch.float64)
    x_t = objective.add_noise(x0, noise, t)[:, 0, :, 0, 0]  # (N, T)
    alpha, sigma = scales(objective, t[0])
    mean, var = alpha * x0[0, 0, :, 0, 0], sigma**2
    # 5 standard errors of the sample mean / variance
    torch.testing.assert_close(x_t.mean(0), mean, atol=float(5 * (var.max() / n) ** 0.5), rtol=0)
    torch.testing.assert_close(x_t.var(0), var, rtol=5 * (2 / n) ** 0.5, atol=0)


@pytest.mark.parametrize("objective", OBJECTIVES, ids=IDS)
@pytest.mark.parametrize("per_frame", [False, True])
def test_conversions_round_trip_exactly(objective: Objective, per_frame: bool) -> None:
    g = _gen(1)
    x0 = torch.randn(3, 2, 4, 3, 3, generator=g, dtype=torch.float64)
    eps = torch.randn(x0.shape, generator=g, dtype=torch.float64)
    t = objective.sample_t(3, 4, generator=g, per_frame=per_frame).double()
    t = t.clamp(1.0, objective.num_train_timesteps - 2.0)  # finite SNR both ways
    x_t = objective.add_noise(x0, eps, t)
    out = objective.target(x0, eps, t)
    torch.testing.assert_close(objective.to_x0(x_t, t, out), x0, rtol=0, atol=1e-9)
    torch.testing.assert_close(objective.to_eps(x_t, t, out), eps, rtol=0, atol=1e-9)
    if isinstance(objective, GaussianObjective):
        ab = objective.noise_schedule.alpha_bar(t)
        ab = ab[:, None, None, None, None] if t.ndim == 1 else ab[:, None, :, None, None]
        v = ab.sqrt() * eps - (1 - ab).sqrt() * x0  # Salimans & Ho 2022
        torch.testing.assert_close(objective.to_v(x_t, t, out), v, rtol=0, atol=1e-9)


@pytest.mark.parametrize("objective", OBJECTIVES, ids=IDS)
def test_exact_target_has_zero_loss(objective: Objective, oracle_denoiser) -> None:
    x_star = torch.randn(2, 4, 3, 3, generator=_gen(5), dtype=torch.float64)
    oracle = oracle_denoiser(objective, x_star)
    x0 = x_star.expand(3, -1, -1, -1, -1)
    loss = objective.loss(oracle, x0, generator=_gen(6))
    assert loss.item() == pytest.approx(0.0, abs=1e-12)
    # any other network has a positive loss
    wrong = objective.loss(lambda x, t, **kw: oracle(x, t) + 0.1, x0, generator=_gen(6))
    assert wrong.item() == pytest.approx(0.01, rel=1e-6)  # uniform weights: mean of 0.1²


@pytest.mark.parametrize("objective", OBJECTIVES, ids=IDS)
def test_given_frames_are_clean_and_excluded_from_the_loss(
    objective: Objective, tiny_denoiser
) -> None:
    torch.manual_seed(0)
    net = tiny_denoiser(channels=2).double()
    x0 = torch.randn(2, 2, 5, 4, 4, generator=_gen(7), dtype=torch.float64)
    mask = torch.tensor([[True, False, False, False, True], [True, True, False, False, False]])
    frames = FrameCondition(mask, x0)
    seen: dict[str, torch.Tensor] = {}

    def model(x_t, t, *, text=None, frames=None, garbage: float = 0.0):
        out = net(x_t, t, text=text, frames=frames)
        if out.requires_grad:
            out.retain_grad()
        seen.update(x_t=x_t, t=t, out=out)
        return out + garbage * mask[:, None, :, None, None]

    loss = objective.loss(model, x0, frames=frames, generator=_gen(8))
    loss.backward()
    given = mask[:, None, :, None, None].expand_as(x0)
    assert seen["t"].shape == (2, 5) and bool((seen["t"][mask] == 0).all())
    assert bool((seen["t"][~mask] > 0).any())
    assert torch.equal(seen["x_t"][given], x0[given])  # exactly clean
    grad = seen["out"].grad
    assert bool((grad[given] == 0).all()) and bool((grad[~given] != 0).any())
    # arbitrary outputs on the given frames leave the loss unchanged
    with torch.no_grad():
        garbage = objective.loss(
            lambda *a, **k: model(*a, **k, garbage=1e3), x0, frames=frames, generator=_gen(8)
        )
    assert garbage.item() == pytest.approx(loss.item(), rel=1e-12)


def test_loss_is_reproducible_and_per_frame_t_varies_along_time(tiny_denoiser) -> None:
    torch.manual_seed(0)
    net = tiny_denoiser(channels=2)
    x0 = torch.randn(2, 2, 6, 4, 4, generator=_gen(9))
    seen = []
    objective = GaussianObjective(per_frame_t=True)

    def model(x_t, t, **kw):
        seen.append(t)
        return net(x_t, t, **kw)

    a = objective.loss(model, x0, generator=_gen(10))
    b = objective.loss(model, x0, generator=_gen(10))
    assert a.item() == b.item() and a.ndim == 0 and a.item() > 0
    assert seen[0].shape == (2, 6) and seen[0].unique().numel() > 2


@pytest.mark.parametrize("objective", OBJECTIVES, ids=IDS)
def test_sample_t_range_and_shape(objective: Objective) -> None:
    t = objective.sample_t(512, 3, generator=_gen(12), per_frame=True)
    assert t.shape == (512, 3) and t.dtype == torch.float32
    assert t.min() >= 0 and t.max() <= objective.num_train_timesteps
    assert objective.sample_t(4, 3, generator=_gen(12)).shape == (4,)
    if isinstance(objective, GaussianObjective):
        assert torch.equal(t, t.round()) and t.max() <= 999 and t.max() > 900


def test_bad_timestep_shapes_raise_clear_errors() -> None:
    with pytest.raises(SpacetimeError, match=r"\(B,\) or \(B, T\)"):
        GaussianObjective().add_noise(
            torch.zeros(2, 1, 3, 1, 1), torch.zeros(2, 1, 3, 1, 1), torch.zeros(3)
        )
