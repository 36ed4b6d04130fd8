"""Inflating spacetime's own per-frame denoisers: the twin equals them frame by frame."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from spacetime.contracts.conditioning import FrameCondition, TextEmbedding
from spacetime.errors import SpacetimeError
from spacetime.models.dit import SpaceTimeDiT
from spacetime.models.inflate import inflate, is_temporal_parameter, temporal_parameter_names
from spacetime.models.unet3d import UNet3D

UNET = {
    "base_channels": 8, "channel_mult": (1, 2), "num_res_blocks": 1, "attention_levels": (1,),
    "heads": 2, "norm_groups": 4, "text_dim": 6, "pooled_text": True, "frame_conditioning": True,
}  # fmt: skip
DIT = {"patch_size": 2, "hidden_size": 16, "depth": 2, "heads": 2, "text_dim": 6,
       "frame_conditioning": True}  # fmt: skip


def randomise(model: torch.nn.Module, seed: int) -> None:
    """Every weight to N(0, 0.3^2), so no zero-initialised branch hides a bug."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.3)


def inputs() -> tuple[torch.Tensor, torch.Tensor, TextEmbedding, FrameCondition]:
    """B=2, T=4, 8x8 float64 video, per-frame t, padded text, the first frame given."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 4, 8, 8, generator=gen, dtype=torch.float64)
    t = torch.tensor([[0.0, 300.0, 650.0, 999.0], [0.0, 10.0, 10.0, 500.0]])
    text = TextEmbedding(
        torch.randn(2, 5, 6, generator=gen, dtype=torch.float64),
        torch.tensor([[True, True, False, False, False], [True] * 5]),
    )
    frames = FrameCondition(torch.tensor([[True, False, False, False]] * 2), torch.randn_like(x))
    return x, t, text, frames


def frame(
    i: int, x: torch.Tensor, t: torch.Tensor, frames: FrameCondition
) -> tuple[torch.Tensor, torch.Tensor, FrameCondition]:
    """Frame ``i`` as a clip of one frame: ``x_t`` (B, C, 1, H, W), ``t`` (B, 1), its condition."""
    one = slice(i, i + 1)
    return x[:, :, one], t[:, one], FrameCondition(frames.mask[:, one], frames.values[:, :, one])


@pytest.mark.parametrize(
    ("cls", "config"), [(UNet3D, UNET), (SpaceTimeDiT, {**DIT, "attention": "factorized"})]
)
def test_inflated_twin_equals_the_2d_model_frame_by_frame(
    cls: type, config: dict[str, Any]
) -> None:
    image = cls(**config, temporal=False).double().eval()
    randomise(image, seed=1)
    video = inflate(image)
    assert video.config.temporal and video.dtype == torch.float64 and not video.training
    x, t, text, frames = inputs()
    with torch.no_grad():
        out = video(x, t, text=text, frames=frames)
        clips = [frame(i, x, t, frames) for i in range(4)]
        expected = torch.cat([image(xi, ti, text=text, frames=fi) for xi, ti, fi in clips], dim=2)
    assert expected.abs().amax() > 0.1  # a live network, not zeros
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-10)
    # the weights the twin adds are exactly the temporal ones, and they are live parameters
    added = set(video.state_dict()) - set(image.state_dict())
    assert added and added == set(temporal_parameter_names(video))
    assert not any(is_temporal_parameter(n) for n in image.state_dict())


def test_errors() -> None:
    with pytest.raises(SpacetimeError, match="already a space-time model"):
        inflate(UNet3D(**UNET))
    with pytest.raises(SpacetimeError, match="attention='full' cannot be inflated exactly"):
        inflate(SpaceTimeDiT(**DIT, attention="full", temporal=False))
    with pytest.raises(SpacetimeError, match="keeps the 2D model's in_channels"):
        inflate(UNet3D(**UNET, temporal=False), in_channels=4)
