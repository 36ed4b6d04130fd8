"""SpaceTimeDiT specifics: adaLN-zero, space-time patches, attention modes, config errors."""

from __future__ import annotations

import pytest
import torch

from spacetime.errors import SpacetimeError
from spacetime.models.dit import SpaceTimeDiT

TINY = {"hidden_size": 16, "depth": 2, "heads": 2, "patch_size": 2}


def perturbed(**kw: object) -> SpaceTimeDiT:
    torch.manual_seed(0)
    model = SpaceTimeDiT(**{**TINY, **kw}).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.2)
    return model


def test_adaln_zero_makes_every_block_the_identity_at_init() -> None:
    torch.manual_seed(1)
    model = SpaceTimeDiT(**TINY, text_dim=4)
    tokens, c = torch.randn(2, 3, 5, 16), torch.randn(2, 3, 16)
    context, mask = torch.randn(2, 2, 4), torch.ones(2, 2, dtype=torch.bool)
    for block in model.blocks:
        torch.testing.assert_close(block(tokens, c, context, mask), tokens, rtol=0, atol=0)
    out = model(torch.randn(2, 3, 3, 8, 8), torch.tensor([1.0, 999.0]))
    assert torch.equal(out, torch.zeros_like(out))
    # the patch embedding and the time MLP are live from the start (Xavier / N(0, 0.02))
    assert model.patch_embed.weight.std() > 0.05 and model.time_embed.mlp[0].weight.std() > 0.01


def test_space_time_patches() -> None:
    model = perturbed(temporal_patch_size=2, patch_size=4, out_channels=2)
    x = torch.randn(1, 3, 4, 8, 12)
    assert model(x, torch.tensor([10.0])).shape == (1, 2, 4, 8, 12)
    with pytest.raises(SpacetimeError, match=r"T=3 .* multiple of 2"):
        model(torch.randn(1, 3, 3, 8, 12), torch.tensor([10.0]))
    with pytest.raises(SpacetimeError, match=r"frame size 6x12 .* multiples of 4"):
        model(torch.randn(1, 3, 4, 6, 12), torch.tensor([10.0]))
    # per-frame times are averaged over each temporal patch
    with torch.no_grad():
        a = model(x, torch.tensor([[0.0, 1000.0, 200.0, 400.0]]))
        b = model(x, torch.tensor([[500.0, 500.0, 300.0, 300.0]]))
    torch.testing.assert_close(a, b)


def test_patches_are_put_back_where_they_came_from() -> None:
    # With temporal=False and the one block's attention output weight zeroed, tokens do not
    # interact: every output patch must depend only on its own input patch.
    model = perturbed(temporal=False, depth=1, patch_size=2)
    with torch.no_grad():
        model.blocks[0].attn.to_out.weight.zero_()
        x = torch.randn(1, 3, 1, 8, 8)
        x2 = x.clone()
        x2[..., 2:4, 6:8] += 1.0  # patch (row 1, column 3)
        change = (model(x2, torch.tensor([5.0])) - model(x, torch.tensor([5.0]))).abs()
    changed = change[0].amax(dim=(0, 1)) > 0  # (H, W)
    want = torch.zeros(8, 8, dtype=torch.bool)
    want[2:4, 6:8] = True
    assert torch.equal(changed, want)


def test_attention_modes() -> None:
    factorized, full = perturbed(), perturbed(attention="full")
    assert factorized.blocks[0].temporal_attn is not None
    assert factorized.blocks[0].attn.axis == "space"
    assert full.blocks[0].temporal_attn is None and full.blocks[0].attn.axis == "spacetime"
    spatial_only = perturbed(attention="full", temporal=False)
    assert spatial_only.blocks[0].attn.axis == "space"
    # the full model's frames see each other through the joint attention alone
    x, t = torch.randn(1, 3, 3, 4, 4), torch.tensor([50.0])
    x2 = x.clone()
    x2[:, :, 0] += 1.0
    with torch.no_grad():
        change = (full(x2, t) - full(x, t)).abs().amax(dim=(0, 1, 3, 4))
    assert torch.all(change > 1e-4)
    bias = perturbed(time_position="bias")
    assert bias.blocks[0].temporal_attn.rel_bias is not None


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ({"hidden_size": 18}, "hidden_size=18"),
        ({"heads": 3}, "heads=3"),
        ({"attention": "axial"}, "attention must be"),
        ({"temporal": False, "temporal_patch_size": 2}, "temporal_patch_size=1"),
        ({"time_position": "learned"}, "time_position"),
    ],
)
def test_bad_config_raises(override: dict[str, object], match: str) -> None:
    with pytest.raises(SpacetimeError, match=match):
        SpaceTimeDiT(**{**TINY, **override})
