"""The sampling loop: optimal-denoiser recovery, guidance, frame conditioning, seeds, errors."""

from __future__ import annotations

import pytest
import torch

from spacetime.contracts.conditioning import FrameCondition, TextEmbedding
from spacetime.diffusion.flow_matching import FlowMatchingObjective
from spacetime.diffusion.gaussian import GaussianObjective
from spacetime.diffusion.objectives import Objective
from spacetime.diffusion.sampling import SAMPLERS, sample
from spacetime.errors import SpacetimeError

SHAPE = (2, 4, 4, 4)  # (C, T, H, W)
GAUSSIAN = ["ddpm", "ddim", "dpm++", "euler"]
CASES = [
    (GaussianObjective(prediction="eps"), GAUSSIAN),
    (GaussianObjective(prediction="v", schedule="cosine"), GAUSSIAN),
    (GaussianObjective(prediction="x0"), GAUSSIAN),
    (GaussianObjective(prediction="v", zero_terminal_snr=True), GAUSSIAN),
    (FlowMatchingObjective(), ["flow-euler"]),
    (FlowMatchingObjective(shift=3.0), ["flow-euler"]),
]
PAIRS = [(o, s) for o, names in CASES for s in names]
PAIR_IDS = [f"{o.to_config().get('prediction', 'flow')}-{s}-{i}" for i, (o, s) in enumerate(PAIRS)]


def _x_star() -> torch.Tensor:
    return torch.rand(SHAPE, generator=torch.Generator().manual_seed(0)) * 2 - 1


def _text(batch: int, length: int, seed: int) -> TextEmbedding:
    g = torch.Generator().manual_seed(seed)
    mask = torch.ones(batch, length, dtype=torch.bool)
    return TextEmbedding(torch.randn(batch, length, 8, generator=g), mask)


@pytest.mark.parametrize(("objective", "sampler"), PAIRS, ids=PAIR_IDS)
def test_optimal_denoiser_recovers_the_data_point(
    objective: Objective, sampler: str, oracle_denoiser
) -> None:
    # all data equal x*: the exact optimal denoiser must lead every sampler to x*
    x_star = _x_star()
    oracle = oracle_denoiser(objective, x_star)
    out = sample(
        oracle, objective, shape=SHAPE, seeds=[3, 4], sampler=sampler, steps=8, progress=False
    )
    assert out.shape == (2, *SHAPE) and out.dtype == torch.float32
    torch.testing.assert_close(out, x_star.expand_as(out), atol=1e-4, rtol=0)
    assert oracle.calls == 8 * 2  # each step, each sample alone (batch invariance on CPU)


@pytest.mark.parametrize("sampler", ["ddim", "euler"])
def test_frames_stay_exactly_given_and_are_seen_at_t0(
    sampler: str, oracle_denoiser, tiny_denoiser
) -> None:
    objective = GaussianObjective(prediction="v")
    values = torch.rand(1, *SHAPE, generator=torch.Generator().manual_seed(5)) * 2 - 1
    mask = torch.tensor([[True, False, False, True]])
    frames = FrameCondition(mask, values)
    torch.manual_seed(0)
    net = tiny_denoiser(channels=2)
    seen: list[tuple[torch.Tensor, torch.Tensor]] = []

    def model(x_t, t, **kw):
        seen.append((x_t.clone(), t.clone()))
        return net(x_t, t, **kw)

    out = sample(
        model,
        objective,
        shape=SHAPE,
        seeds=[0, 1],
        frames=frames,
        sampler=sampler,
        steps=5,
        progress=False,
    )
    assert torch.equal(out[:, :, [0, 3]], values.expand(2, -1, -1, -1, -1)[:, :, [0, 3]])
    assert not torch.allclose(out[:, :, 1], values[:, :, 1].expand(2, -1, -1, -1))
    for x_in, t in seen:
        # (1, 4): on the CPU the network sees one sample at a time (batch invariance)
        assert t.shape == (1, 4) and bool((t[:, [0, 3]] == 0).all()) and bool((t[:, 1] > 0).all())
        assert torch.equal(x_in[:, :, [0, 3]], values[:, :, [0, 3]])


def test_oracle_with_consistent_frames_recovers_everything(oracle_denoiser) -> None:
    objective = FlowMatchingObjective()
    x_star = _x_star()
    frames = FrameCondition(torch.tensor([[True, False, False, False]]), x_star[None])
    out = sample(
        oracle_denoiser(objective, x_star),
        objective,
        shape=SHAPE,
        seeds=[0],
        frames=frames,
        sampler="flow-euler",
        steps=6,
        progress=False,
    )
    torch.testing.assert_close(out[0], x_star, atol=1e-4, rtol=0)


@pytest.mark.parametrize("sampler", ["ddpm", "ddim", "dpm++"])
def test_seed_gives_the_same_video_whatever_the_batch(sampler: str, tiny_denoiser) -> None:
    # Bit for bit on the CPU, with guidance, per-sample frames and texts of other lengths
    # (padded in the batch): the network runs once per sample (see sampling's docstring).
    torch.manual_seed(0)
    net = tiny_denoiser(channels=2)
    objective = GaussianObjective(prediction="eps")
    long, short = _text(2, 5, 1), _text(1, 3, 2)
    text = TextEmbedding.cat([long, short])  # rows 0, 1: 5 tokens; row 2: 3 tokens + padding
    values = torch.rand(3, *SHAPE, generator=torch.Generator().manual_seed(5)) * 2 - 1
    frames = FrameCondition(torch.tensor([[True, False, False, False]] * 3), values)
    kw = {"shape": SHAPE, "sampler": sampler, "steps": 4, "progress": False, "guidance": 3.0,
          "null_text": _text(1, 1, 3)}  # fmt: skip
    batch = sample(net, objective, seeds=[11, 12, 13], text=text, frames=frames, **kw)
    for i, seed in enumerate([11, 12, 13]):
        own = short if i == 2 else long.index(slice(i, i + 1))
        alone = sample(net, objective, seeds=[seed], text=own, frames=frames.index([i]), **kw)
        assert torch.equal(batch[i : i + 1], alone), i
    assert (batch[0] - batch[1]).abs().max() > 1e-2


def test_guidance_one_equals_no_guidance_and_zero_equals_unconditional(tiny_denoiser) -> None:
    torch.manual_seed(0)
    net = tiny_denoiser(channels=2)
    objective = GaussianObjective(prediction="v")
    text, null = _text(2, 5, 2), _text(1, 2, 3)  # different lengths exercise padding
    calls = []

    def model(x_t, t, **kw):
        calls.append(x_t.shape[0])
        return net(x_t, t, **kw)

    kw = {"shape": SHAPE, "seeds": [0, 1], "sampler": "dpm++", "steps": 4, "progress": False}
    plain = sample(model, objective, text=text, **kw)
    assert calls == [1] * 8  # 4 steps x 2 samples, one at a time (batch invariance)
    calls.clear()
    one = sample(model, objective, text=text, null_text=null, guidance=1.0, **kw)
    assert torch.equal(one, plain) and calls == [1] * 8
    ones = torch.ones(4)
    one_per_frame = sample(model, objective, text=text, null_text=null, guidance=ones, **kw)
    assert torch.equal(one_per_frame, plain)
    calls.clear()
    zero = sample(model, objective, text=text, null_text=null, guidance=0.0, **kw)
    assert calls == [2] * 8  # per sample, one pass: conditional + unconditional
    uncond = sample(model, objective, text=null, **kw)
    torch.testing.assert_close(zero, uncond, atol=1e-5, rtol=1e-5)
    strong = sample(model, objective, text=text, null_text=null, guidance=5.0, **kw)
    assert (strong - plain).abs().mean() > 1e-3


def test_callback_is_called_every_step(tiny_denoiser) -> None:
    net = tiny_denoiser(channels=2)
    steps: list[tuple[int, float, tuple[int, ...]]] = []
    out = sample(
        net,
        FlowMatchingObjective(),
        shape=SHAPE,
        seeds=[0],
        sampler="flow-euler",
        steps=7,
        progress=False,
        callback=lambda i, t, x: steps.append((i, t, x.shape)),
    )
    assert [s[0] for s in steps] == list(range(7))
    ts = [s[1] for s in steps]
    assert ts == sorted(ts, reverse=True) and ts[0] == pytest.approx(1000.0)
    assert all(s[2] == out.shape for s in steps)


def test_float64_and_training_mode_is_restored(tiny_denoiser, oracle_denoiser) -> None:
    net = tiny_denoiser(channels=2).double().train()
    out = sample(net, GaussianObjective(), shape=SHAPE, seeds=[0], steps=3, progress=False)
    assert out.dtype == torch.float64 and net.training
    objective = GaussianObjective(prediction="eps")
    x_star = _x_star().double()
    exact = sample(
        oracle_denoiser(objective, x_star),
        objective,
        shape=SHAPE,
        seeds=[0],
        steps=5,
        progress=False,
        dtype=torch.float64,
    )
    # diffusers keeps ᾱ in float32, so float64 sampling agrees to ~1e-7, not to 1e-15
    torch.testing.assert_close(exact[0], x_star, atol=1e-6, rtol=0)


def test_user_errors_are_clear(tiny_denoiser) -> None:
    net = tiny_denoiser(channels=2)
    objective = GaussianObjective()
    kw = {"shape": SHAPE, "seeds": [0], "steps": 2, "progress": False}
    with pytest.raises(SpacetimeError, match="choose one of ddpm, ddim, dpm\\+\\+, euler"):
        sample(net, objective, sampler="plms", **kw)
    with pytest.raises(SpacetimeError, match="use one of ddpm"):
        sample(net, objective, sampler="flow-euler", **kw)
    with pytest.raises(SpacetimeError, match="needs both text and null_text"):
        sample(net, objective, text=_text(1, 2, 0), guidance=4.0, **kw)
    with pytest.raises(SpacetimeError, match=r"\(C, T, H, W\)"):
        sample(net, objective, shape=(2, 4, 4), seeds=[0], progress=False)
    with pytest.raises(SpacetimeError, match="at least one seed"):
        sample(net, objective, shape=SHAPE, seeds=[], progress=False)
    bad = FrameCondition(torch.zeros(1, 3, dtype=torch.bool), torch.zeros(1, 2, 3, 4, 4))
    with pytest.raises(SpacetimeError, match="given frames have shape"):
        sample(net, objective, frames=bad, **kw)
    with pytest.raises(SpacetimeError, match="batch 2; expected 1 or one per seed"):
        sample(net, objective, text=_text(2, 2, 0), seeds=[0, 1, 2], shape=SHAPE, progress=False)
    assert list(SAMPLERS) == ["ddpm", "ddim", "dpm++", "euler", "flow-euler"]


@pytest.mark.parametrize(
    ("objective", "sampler", "tol50"),
    [
        (GaussianObjective(prediction="eps"), "ddpm", 0.07),
        (GaussianObjective(prediction="eps"), "dpm++", 0.01),
        (GaussianObjective(prediction="v", zero_terminal_snr=True), "ddim", 0.04),
        (GaussianObjective(prediction="x0"), "euler", 0.04),
        (FlowMatchingObjective(), "flow-euler", 0.025),
    ],
    ids=["ddpm", "dpm++", "ddim-ztsnr", "euler-x0", "flow-euler"],
)
def test_samplers_converge_to_a_gaussian_data_distribution(
    objective: Objective, sampler: str, tol50: float, oracle_denoiser
) -> None:
    # data x0 ~ N(0.3, 0.5²) elementwise; with its exact denoiser, the samples' mean and std
    # approach 0.3 and 0.5 as the steps grow (first-order samplers under-disperse at few steps)
    mean = torch.full((1, 4, 32, 32), 0.3)
    oracle = oracle_denoiser(objective, mean, std=0.5)
    kw = {"shape": tuple(mean.shape), "seeds": [0, 1, 2, 3], "sampler": sampler}
    coarse = sample(oracle, objective, steps=10, progress=False, **kw)
    fine = sample(oracle, objective, steps=50, progress=False, **kw)
    assert abs(fine.mean().item() - 0.3) < 0.01
    assert abs(fine.std().item() - 0.5) < min(tol50, abs(coarse.std().item() - 0.5))
