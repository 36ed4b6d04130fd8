"""The text-use probe: wrong captions, x0 errors with the right, a wrong and the empty caption."""

from __future__ import annotations

import pytest
import torch

from spacetime.contracts.conditioning import TextEmbedding
from spacetime.diffusion.gaussian import GaussianObjective
from spacetime.diffusion.objectives import randn
from spacetime.errors import SpacetimeError
from spacetime.training.probe import TextUseProbe, wrong_captions

CAPTIONS = ["a red circle", "a blue square", "a red circle", "a green star"]


def _clips(seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(4, 2, 3, 4, 4, generator=gen, dtype=torch.float64)  # (B, C, T, H, W)


def _encode(captions: list[str]) -> TextEmbedding:
    """Each caption as one token holding its index in CAPTIONS (-1: the empty caption)."""
    ids = [float(CAPTIONS.index(c)) if c else -1.0 for c in captions]
    tokens = torch.tensor(ids, dtype=torch.float64)[:, None, None]  # (B, 1, 1)
    return TextEmbedding(tokens, torch.ones(len(captions), 1, dtype=torch.bool))


class OffsetDenoiser:
    """A stand-in x0 model that knows the clean clips: its output is off by 0.5 with the right
    caption, 1.0 with the empty one and 1.5 with any other; records what it is given."""

    def __init__(self, clips: torch.Tensor) -> None:
        self.clips = clips
        self.seen: list[tuple[torch.Tensor, torch.Tensor]] = []

    def offset(self, text: TextEmbedding) -> torch.Tensor:
        ids = text.tokens[:, 0, 0]
        right = torch.tensor([float(CAPTIONS.index(c)) for c in CAPTIONS], dtype=torch.float64)
        off = torch.where(ids == right, 0.5, torch.where(ids < 0, 1.0, 1.5))
        return off[:, None, None, None, None]

    def __call__(self, x_t: torch.Tensor, t: torch.Tensor, *, text: TextEmbedding) -> torch.Tensor:
        self.seen.append((x_t.clone(), t.clone()))
        return self.clips + self.offset(text)


def test_wrong_captions_are_the_next_different_ones() -> None:
    assert wrong_captions(CAPTIONS) == [
        "a blue square", "a red circle", "a green star", "a red circle",
    ]  # fmt: skip
    assert wrong_captions(["a", "a", "b"]) == ["b", "b", "a"]
    assert wrong_captions(["x", "y"]) == ["y", "x"]
    for same in (["a", "a", "a"], ["a"]):
        with pytest.raises(SpacetimeError, match="at least two different captions"):
            wrong_captions(same)


def test_errors_and_gaps_for_an_x0_model() -> None:
    clips = _clips()
    probe = TextUseProbe(clips, CAPTIONS, GaussianObjective(prediction="x0"))
    entry = probe(OffsetDenoiser(clips), _encode)  # errors are float32 means: to 1e-6
    assert entry["t"] == [900.0, 950.0]
    assert entry["right"] == pytest.approx(0.25, rel=1e-6)  # 0.5 ** 2
    assert entry["wrong"] == pytest.approx(2.25, rel=1e-6)  # 1.5 ** 2
    assert entry["empty"] == pytest.approx(1.0, rel=1e-6)
    assert entry["gap_wrong"] == pytest.approx((2.25 - 0.25) / 0.25, rel=1e-5)
    assert entry["gap_empty"] == pytest.approx((1.0 - 0.25) / 0.25, rel=1e-5)


def test_an_eps_model_is_scored_in_x0_averaged_over_the_timesteps() -> None:
    clips, objective, t_values = _clips(1), GaussianObjective(prediction="eps"), (300.0, 800.0)
    probe = TextUseProbe(clips, CAPTIONS, objective, t_values=t_values, seed=3)
    gen = torch.Generator().manual_seed(3)  # the probe's fixed noise, one draw per t
    noises = [randn(clips.shape, gen, clips.device, clips.dtype) for _ in t_values]

    def denoiser(x_t: torch.Tensor, t: torch.Tensor, *, text: TextEmbedding) -> torch.Tensor:
        noise = noises[t_values.index(float(t[0]))]
        torch.testing.assert_close(x_t, objective.add_noise(clips, noise, t), rtol=0, atol=0)
        return noise + OffsetDenoiser(clips).offset(text)  # the true eps, off by the offset

    entry = probe(denoiser, _encode)
    # x0 = (x_t - s eps) / a: an eps error c is an x0 error s c / a, squared (1 - ab) / ab c^2
    # (the schedule's scales are float32: agreement to 1e-5).
    ab = objective.noise_schedule.alpha_bar(torch.tensor(t_values, dtype=torch.float64))
    factor = float(((1 - ab) / ab).mean())
    for name, c in (("right", 0.5), ("wrong", 1.5), ("empty", 1.0)):
        assert entry[name] == pytest.approx(factor * c**2, rel=1e-5), name
    assert entry["gap_wrong"] == pytest.approx(8.0, rel=1e-5)


def test_the_noise_is_fixed_by_the_seed() -> None:
    clips = _clips()
    objective = GaussianObjective(prediction="x0")
    spies = [OffsetDenoiser(clips) for _ in range(3)]
    first = TextUseProbe(clips, CAPTIONS, objective, seed=5)
    first(spies[0], _encode)
    first(spies[1], _encode)  # successive log lines see the same x_t
    TextUseProbe(clips, CAPTIONS, objective, seed=6)(spies[2], _encode)
    assert len(spies[0].seen) == 3 * 2  # right, wrong, empty at each of the two timesteps
    for (x_a, t_a), (x_b, t_b) in zip(spies[0].seen, spies[1].seen, strict=True):
        assert torch.equal(x_a, x_b) and torch.equal(t_a, t_b)
    assert [float(t[0]) for _, t in spies[0].seen] == [900.0, 950.0] * 3
    assert all(t.shape == (4,) and bool((t == t[0]).all()) for _, t in spies[0].seen)
    assert not torch.equal(spies[0].seen[0][0], spies[2].seen[0][0])


def test_clips_and_captions_must_match() -> None:
    objective = GaussianObjective()
    with pytest.raises(SpacetimeError, match=r"\(B, C, T, H, W\) with one caption each; got "
                       r"\(4, 2, 3, 4\) and 4 captions"):  # fmt: skip
        TextUseProbe(torch.zeros(4, 2, 3, 4), CAPTIONS, objective)
    with pytest.raises(SpacetimeError, match=r"got \(4, 2, 3, 4, 4\) and 3 captions"):
        TextUseProbe(_clips(), CAPTIONS[:3], objective)
    with pytest.raises(SpacetimeError, match="at least two different captions"):
        TextUseProbe(_clips(), ["same"] * 4, objective)
