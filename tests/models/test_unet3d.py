"""UNet3D specifics: zero-initialised temporal layers, layout of the levels, size errors."""

from __future__ import annotations

import pytest
import torch

from spacetime.errors import SpacetimeError
from spacetime.models.attention import Attention
from spacetime.models.layers import TemporalConv
from spacetime.models.unet3d import SpaceTimeBlock, UNet3D

TINY = {
    "base_channels": 8,
    "channel_mult": (1, 2),
    "num_res_blocks": 1,
    "attention_levels": (1,),
    "heads": 2,
    "norm_groups": 4,
}


def perturb(model: UNet3D, keep_temporal: bool) -> None:
    """Add noise to the weights, leaving those of temporal layers as initialised if asked."""
    torch.manual_seed(4)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if not (keep_temporal and "temporal" in name):
                p.add_(torch.randn_like(p) * 0.2)


def test_initial_network_predicts_zero() -> None:
    model = UNet3D(**TINY, text_dim=4)
    out = model(torch.randn(1, 3, 2, 8, 8), torch.tensor([300.0]))
    assert torch.equal(out, torch.zeros_like(out))


def test_zero_initialised_temporal_layers_make_a_per_frame_model() -> None:
    # Only the temporal layers keep their init: the network must then be a per-frame image
    # model (its frames independent), which fails if any temporal output path is not zero.
    torch.manual_seed(0)  # the weights, not the order of the tests, decide the margins
    model = UNet3D(**TINY).eval().double()  # float64: rounding ~1e-15, far below 1e-9
    perturb(model, keep_temporal=True)
    x, t = torch.randn(2, 3, 4, 8, 8, dtype=torch.float64), torch.tensor([100.0, 900.0])
    x2 = x.clone()
    x2[:, :, 1] += 1.0
    with torch.no_grad():
        change = (model(x2, t) - model(x, t)).abs().amax(dim=(0, 1, 3, 4))  # (T,)
    assert change[1] > 1e-3
    torch.testing.assert_close(change[[0, 2, 3]], torch.zeros(3).double(), rtol=0, atol=1e-9)
    perturb(model, keep_temporal=False)  # now the temporal layers are live
    with torch.no_grad():
        change = (model(x2, t) - model(x, t)).abs().amax(dim=(0, 1, 3, 4))
    assert torch.all(change > 1e-4)


def test_temporal_attention_at_every_level_spatial_only_where_asked() -> None:
    model = UNet3D(**TINY, text_dim=4)
    blocks = [m for m in model.modules() if isinstance(m, SpaceTimeBlock)]
    # down: 2 stages, mid: 2, up: 4 -> every stage has temporal attention and conv
    assert len(blocks) == 8
    assert all(b.temporal_attn is not None and b.temporal_conv is not None for b in blocks)
    spatial = [b for b in blocks if b.spatial_attn is not None]
    assert {b.spatial_attn.to_q.in_features for b in spatial} == {16}  # level 1 and mid only
    assert all(b.cross_attn is not None for b in spatial)
    no_conv = UNet3D(**TINY, temporal_conv=False)
    assert not [m for m in no_conv.modules() if isinstance(m, TemporalConv)]
    assert [m for m in no_conv.modules() if isinstance(m, Attention) and m.axis == "time"]
    low = UNet3D(**TINY, temporal_attention_levels=(1,))  # not at full resolution
    time_widths = [m.to_q.in_features for m in low.modules() if getattr(m, "axis", "") == "time"]
    assert time_widths == [16] * 5  # level 1 only: down 1 + middle 2 + up 2


def test_gradient_checkpointing_gives_the_same_gradients() -> None:
    model = UNet3D(**TINY, text_dim=4).train()
    perturb(model, keep_temporal=False)
    x, t = torch.randn(1, 3, 2, 8, 8), torch.tensor([500.0])

    def grads() -> list[torch.Tensor]:
        model.zero_grad()
        model(x, t).square().mean().backward()
        return [p.grad.clone() for p in model.parameters()]

    plain = grads()
    model.enable_gradient_checkpointing()
    assert model.is_gradient_checkpointing
    for a, b in zip(grads(), plain, strict=True):
        torch.testing.assert_close(a, b)


def test_sizes_the_unet_cannot_take() -> None:
    model = UNet3D(**{**TINY, "channel_mult": (1, 1, 2)})  # downsamples by 4
    assert model(torch.zeros(1, 3, 2, 12, 4), torch.zeros(1)).shape == (1, 3, 2, 12, 4)
    with pytest.raises(SpacetimeError, match=r"frame size 10x12 .* multiples of 4"):
        model(torch.zeros(1, 3, 2, 10, 12), torch.zeros(1))


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ({"norm_groups": 3}, "norm_groups=3"),
        ({"heads": 3}, "heads=3"),
        ({"attention_levels": (2,)}, r"attention_levels \[2\]"),
        ({"temporal_attention_levels": (-1,)}, r"temporal_attention_levels \[-1\]"),
        ({"time_position": "absolute"}, "time_position"),
    ],
)
def test_bad_config_raises(override: dict[str, object], match: str) -> None:
    with pytest.raises(SpacetimeError, match=match):
        UNet3D(**{**TINY, **override})
