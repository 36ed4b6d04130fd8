"""How the caption reaches the denoisers: the pooled caption in the timestep embedding (every
residual and temporal block), cross-attention at chosen levels, and an unconditional branch that
carries no caption either way."""

from __future__ import annotations

import pytest
import torch

from spacetime.contracts.conditioning import TextEmbedding
from spacetime.errors import SpacetimeError
from spacetime.models.base import TextContext, VideoDenoiser
from spacetime.models.dit import SpaceTimeDiT
from spacetime.models.unet3d import UNet3D

D = 6


def build(arch: str, **kw: object) -> VideoDenoiser:
    torch.manual_seed(0)
    if arch == "unet3d":
        model: VideoDenoiser = UNet3D(base_channels=8, channel_mult=(1, 2), num_res_blocks=1,
                                      attention_levels=(1,), heads=2, norm_groups=4, text_dim=D,
                                      **kw)  # fmt: skip
    else:
        model = SpaceTimeDiT(hidden_size=16, depth=1, heads=2, patch_size=2, text_dim=D, **kw)
    with torch.no_grad():  # away from the zero init, so every path is live
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.2)
    return model.eval()


def mute_cross_attention(model: VideoDenoiser) -> None:
    """Zero every cross-attention output: the caption can then only act through pooling."""
    for name, module in model.named_modules():
        if name.endswith("cross_attn"):
            torch.nn.init.zeros_(module.to_out.weight)
            torch.nn.init.zeros_(module.to_out.bias)


def captions(seed: int) -> TextEmbedding:
    g = torch.Generator().manual_seed(seed)
    return TextEmbedding(torch.randn(2, 3, D, generator=g), torch.ones(2, 3, dtype=torch.bool))


@pytest.mark.parametrize("arch", ["unet3d", "dit"])
def test_the_pooled_caption_conditions_every_block(arch: str) -> None:
    x, t = torch.randn(2, 3, 4, 8, 8), torch.tensor([500.0, 900.0])
    for pooled, effect in ((True, True), (False, False)):
        model = build(arch, pooled_text=pooled)
        mute_cross_attention(model)
        with torch.no_grad():
            change = (model(x, t, text=captions(1)) - model(x, t, text=captions(2))).abs().max()
        assert (change > 1e-3) == effect, (pooled, float(change))


def test_pooling_ignores_padding_and_other_rows() -> None:
    torch.manual_seed(0)
    context = TextContext(D, pooled_dim=8).double()  # float64: rows round apart by ~1e-15
    tokens = torch.randn(3, 4, D, dtype=torch.float64)
    mask = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]], dtype=torch.bool)
    padded = tokens.clone()
    padded[0, 2:] = 50.0  # garbage where the mask is False
    pooled = context.pooled(*context(TextEmbedding(tokens, mask), 3))
    garbage = context.pooled(*context(TextEmbedding(padded, mask), 3))
    torch.testing.assert_close(pooled, garbage, rtol=0, atol=1e-9)
    alone = context.pooled(*context(TextEmbedding(tokens[2:], mask[2:]), 1))
    torch.testing.assert_close(pooled[2:], alone, rtol=0, atol=1e-9)  # no leak across rows
    # no text at all: the null token alone, the same fixed vector for every row
    null = context.pooled(*context(None, 2))
    torch.testing.assert_close(null[0], null[1], rtol=0, atol=1e-9)
    assert TextContext(D).pooled(*context(None, 2)) is None


def test_cross_attention_levels_are_separate_from_self_attention() -> None:
    model = build("unet3d", cross_attention_levels=(0, 1), pooled_text=True)
    blocks = [m for m in model.modules() if type(m).__name__ == "SpaceTimeBlock"]
    crossed = [b for b in blocks if b.cross_attn is not None]
    selfed = [b for b in blocks if b.spatial_attn is not None]
    assert len(crossed) > len(selfed)  # level 0 has cross- but no self-attention
    # every temporal attention is modulated by the embedding, starting as a plain pre-norm
    fresh = UNet3D(base_channels=8, channel_mult=(1, 2), num_res_blocks=1, heads=2,
                   attention_levels=(1,), norm_groups=4, text_dim=D, pooled_text=True)  # fmt: skip
    modulations = [
        b.temporal_modulation
        for b in fresh.modules()
        if type(b).__name__ == "SpaceTimeBlock" and b.temporal_attn is not None
    ]
    assert modulations and all(m is not None and not m.weight.any() for m in modulations)
    with pytest.raises(SpacetimeError, match="needs text_dim"):
        UNet3D(
            base_channels=8,
            channel_mult=(1, 2),
            attention_levels=(1,),
            norm_groups=4,
            heads=2,
            pooled_text=True,
        )
