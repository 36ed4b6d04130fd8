"""Noise schedules: agreement with diffusers, zero terminal SNR, interpolation."""

from __future__ import annotations

import math

import pytest
import torch
from diffusers import DDPMScheduler

from spacetime.diffusion.schedules import (
    BETA_SCHEDULES,
    NoiseSchedule,
    make_betas,
    rescale_zero_terminal_snr,
)
from spacetime.errors import SpacetimeError


@pytest.mark.parametrize("name", list(BETA_SCHEDULES))
@pytest.mark.parametrize("ztsnr", [False, True])
def test_alphas_cumprod_match_diffusers_ddpm(name: str, ztsnr: bool) -> None:
    ours = NoiseSchedule.create(name, 1000, zero_terminal_snr=ztsnr).alphas_cumprod
    start, end = (0.00085, 0.012) if name == "scaled-linear" else (1e-4, 0.02)
    theirs = DDPMScheduler(
        num_train_timesteps=1000,
        beta_schedule=BETA_SCHEDULES[name],
        beta_start=start,
        beta_end=end,
        rescale_betas_zero_snr=ztsnr,
    ).alphas_cumprod.double()
    assert ours.dtype == torch.float64 and ours.shape == (1000,)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=2e-6)
    assert bool((ours[1:] < ours[:-1]).all()), "ᾱ must decrease strictly"


def test_zero_terminal_snr_keeps_first_and_zeroes_last() -> None:
    betas = make_betas("linear", 1000, 1e-4, 0.02)
    before = torch.cumprod(1 - betas, 0)
    after = torch.cumprod(1 - rescale_zero_terminal_snr(betas), 0)
    assert after[-1].item() == pytest.approx(0.0, abs=1e-15)
    assert after[0].item() == pytest.approx(before[0].item(), rel=1e-12)
    schedule = NoiseSchedule.create("linear", zero_terminal_snr=True)
    assert schedule.snr(torch.tensor([999.0])).item() == pytest.approx(0.0, abs=1e-12)


def test_cosine_schedule_follows_its_closed_form() -> None:
    # Nichol & Dhariwal eq. 17: ᾱ_t = f(t) / f(0), f(τ) = cos²((τ + s)/(1 + s) π/2), τ = (t+1)/N
    n = 1000
    ab = NoiseSchedule.create("cosine", n).alphas_cumprod

    def f(tau: float) -> float:
        return math.cos((tau + 0.008) / 1.008 * math.pi / 2) ** 2

    for t in (0, 100, 500, 900):
        assert ab[t].item() == pytest.approx(f((t + 1) / n) / f(0), rel=1e-9)


def test_alpha_bar_interpolates_between_integer_timesteps() -> None:
    schedule = NoiseSchedule.create("linear", 1000)
    table = schedule.alphas_cumprod
    t = torch.tensor([[0.0, 10.0], [10.5, 999.0]])
    got = schedule.alpha_bar(t)
    assert got.shape == (2, 2)
    assert got[0, 0] == table[0] and got[0, 1] == table[10] and got[1, 1] == table[999]
    assert got[1, 0].item() == pytest.approx(0.5 * (table[10] + table[11]).item(), rel=1e-12)
    snr = schedule.snr(torch.tensor([0.0, 500.0]))
    assert snr[0] > snr[1] > 0


def test_bad_schedule_names_the_options() -> None:
    with pytest.raises(SpacetimeError, match="linear, scaled-linear, cosine"):
        NoiseSchedule.create("sigmoid")
    with pytest.raises(SpacetimeError, match="num_train_timesteps"):
        make_betas("linear", 1, 1e-4, 0.02)


@pytest.mark.parametrize("name", list(BETA_SCHEDULES))
def test_shift_divides_the_snr_by_its_square_everywhere(name: str) -> None:
    plain = NoiseSchedule.create(name, 1000)
    shifted = NoiseSchedule.create(name, 1000, shift=2.0)
    t = torch.arange(0, 1000, 37, dtype=torch.float64)
    torch.testing.assert_close(shifted.snr(t), plain.snr(t) / 4.0, rtol=1e-12, atol=0)
    # the betas a sampler is given rebuild exactly this ᾱ
    rebuilt = torch.cumprod(1.0 - shifted.betas, dim=0)
    torch.testing.assert_close(rebuilt, shifted.alphas_cumprod, rtol=1e-12, atol=0)
    assert torch.equal(NoiseSchedule.create(name, 1000, shift=1.0).alphas_cumprod,
                       plain.alphas_cumprod)  # fmt: skip
    with pytest.raises(SpacetimeError, match="shift must be a positive number"):
        NoiseSchedule.create(name, 1000, shift=0.0)
