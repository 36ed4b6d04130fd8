"""The objectives and the sampler with the library's own denoisers and word text encoder."""

from __future__ import annotations

import pytest
import torch

from spacetime.contracts.conditioning import FrameCondition
from spacetime.diffusion import (
    FlowMatchingObjective,
    GaussianObjective,
    Objective,
    sample,
    strategy_mask,
)
from spacetime.models import build_model
from spacetime.models.text import WordTextEncoder

SHAPE = (3, 4, 8, 8)  # (C, T, H, W)


@pytest.mark.parametrize(
    ("preset", "objective"),
    [
        ("unet3d-tiny", GaussianObjective(prediction="v", loss_weighting="min-snr")),
        ("dit-tiny", FlowMatchingObjective(per_frame_t=True)),
    ],
    ids=["unet-v", "dit-flow"],
)
def test_train_steps_lower_the_loss_then_sample(preset: str, objective: Objective) -> None:
    torch.manual_seed(0)
    encoder = WordTextEncoder.from_captions(["a red ball", "a blue square"], dim=16, layers=1)
    model = build_model(preset, text_dim=encoder.dim, frame_conditioning=True)
    params = [*model.parameters(), *encoder.parameters()]
    opt = torch.optim.Adam(params, lr=1e-2)
    x0 = torch.rand(2, *SHAPE, generator=torch.Generator().manual_seed(1)) * 2 - 1
    mask = torch.stack([strategy_mask("first", 4), strategy_mask("none", 4)])
    frames = FrameCondition(mask, x0)

    def loss_at(seed: int) -> torch.Tensor:
        text = encoder(["a red ball", "a blue square"])
        gen = torch.Generator().manual_seed(seed)
        return objective.loss(model, x0, text=text, frames=frames, generator=gen)

    with torch.no_grad():
        before = sum(loss_at(s).item() for s in range(4))
    for step in range(12):  # fit the 4 fixed (t, noise) draws
        opt.zero_grad()
        loss_at(step % 4).backward()
        opt.step()
    with torch.no_grad():
        after = sum(loss_at(s).item() for s in range(4))
    assert after < 0.9 * before, (before, after)

    # sampling with guidance and a given first frame, on the trained model
    sampler = "ddim" if objective.family == "gaussian" else "flow-euler"
    given = FrameCondition(mask[:1], x0[:1])
    kw = {"shape": SHAPE, "sampler": sampler, "steps": 4, "progress": False, "frames": given}
    text, null = encoder(["a red ball"]), encoder([""])
    with torch.no_grad():
        out = sample(model, objective, seeds=[5, 6], text=text, null_text=null, guidance=3.0, **kw)
        alone = sample(model, objective, seeds=[6], text=text, null_text=null, guidance=3.0, **kw)
    assert out.shape == (2, *SHAPE) and torch.isfinite(out).all()
    assert torch.equal(out[:, :, 0], x0[:1, :, 0].expand(2, -1, -1, -1))
    torch.testing.assert_close(out[1:], alone, atol=1e-4, rtol=1e-4)
