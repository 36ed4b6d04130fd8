"""Space-only and time-only layers: each mixes exactly the axis it says it does."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from spacetime.models.layers import (
    Downsample,
    FeedForward,
    FrameGroupNorm,
    ResBlock,
    TemporalConv,
    Upsample,
    modulate,
    spatial_conv,
)


def per_frame(fn, x: torch.Tensor) -> torch.Tensor:  # type: ignore[no-untyped-def]
    """Apply a 2D ``fn`` to every frame of (B, C, T, H, W) separately."""
    return torch.stack([fn(x[:, :, i]) for i in range(x.shape[2])], dim=2)


def test_frame_group_norm_equals_2d_group_norm_per_frame() -> None:
    torch.manual_seed(0)
    norm = FrameGroupNorm(2, 4)
    nn.init.normal_(norm.weight)
    nn.init.normal_(norm.bias)
    x = torch.randn(2, 4, 3, 5, 5)
    x[:, :, 0] *= 50.0  # a loud frame must not change the others' statistics
    want = per_frame(lambda f: F.group_norm(f, 2, norm.weight, norm.bias, norm.eps), x)
    torch.testing.assert_close(norm(x), want)


def test_spatial_conv_is_a_2d_conv_per_frame() -> None:
    torch.manual_seed(1)
    conv = spatial_conv(3, 5, stride=2)
    x = torch.randn(2, 3, 4, 8, 8)
    want = per_frame(lambda f: F.conv2d(f, conv.weight, conv.bias, 2, 1), x)
    torch.testing.assert_close(conv(x), want)
    assert Downsample(3)(x).shape == (2, 3, 4, 4, 4)
    assert Upsample(3)(x).shape == (2, 3, 4, 16, 16)


def test_resblock_scale_shift_is_per_frame_and_zero_output_is_the_skip() -> None:
    torch.manual_seed(2)
    block = ResBlock(4, 8, emb_dim=6, groups=2)
    x, emb = torch.randn(1, 4, 3, 6, 6), torch.randn(1, 3, 6)
    out = block(x, emb)
    assert out.shape == (1, 8, 3, 6, 6)
    emb2 = emb.clone()
    emb2[:, 1] += 1.0  # another diffusion time for frame 1 only
    diff = (block(x, emb2) - out).abs().amax(dim=(0, 1, 3, 4))  # (T,)
    assert diff[1] > 1e-4 and diff[0] == 0 and diff[2] == 0
    block.zero_output()
    torch.testing.assert_close(block(x, emb), block.skip(x))
    same = ResBlock(4, 4, emb_dim=6, groups=2)
    same.zero_output()
    torch.testing.assert_close(same(x, emb), x)


def test_temporal_conv_is_a_1d_conv_along_time_per_pixel() -> None:
    torch.manual_seed(3)
    layer = TemporalConv(4, groups=2)
    x = torch.randn(2, 4, 5, 3, 3)
    h = F.silu(layer.norm(x))  # (B, C, T, H, W)
    seq = h.permute(0, 3, 4, 1, 2).reshape(-1, 4, 5)  # (B*H*W, C, T)
    conv = F.conv1d(seq, layer.conv.weight[:, :, :, 0], layer.conv.bias, padding=1)
    want = x + conv.reshape(2, 3, 3, 4, 5).permute(0, 3, 4, 1, 2)
    torch.testing.assert_close(layer(x), want, atol=1e-5, rtol=1e-5)
    # the kernel reaches one frame each way: frame 0 does not see frame 3
    x2 = x.clone()
    x2[:, :, 3] += 1.0
    diff = (layer(x2) - layer(x)).abs().amax(dim=(0, 1, 3, 4))
    assert diff[0] == 0 and diff[1] == 0 and diff[2] > 0 and diff[4] > 0
    layer.zero_output()
    torch.testing.assert_close(layer(x), x)


def test_modulate_and_feedforward() -> None:
    x = torch.tensor([1.0, 2.0])
    torch.testing.assert_close(modulate(x, torch.tensor(1.0), torch.tensor(0.5)), x * 1.5 + 1)
    ff = FeedForward(8, mult=2.0)
    assert ff.fc1.out_features == 16 and ff(torch.randn(3, 8)).shape == (3, 8)


def test_spatial_conv_returns_channels_last_memory_that_the_next_conv_reads_in_place() -> None:
    torch.manual_seed(4)
    first, second = spatial_conv(3, 4), spatial_conv(4, 5)
    x = torch.randn(2, 3, 4, 6, 6)
    h = first(x)  # (B, C, T, H, W) over (B, T, H, W, C) memory
    assert h.is_contiguous(memory_format=torch.channels_last_3d)
    # the token grid (B, T, H*W, C) of the attention blocks is a view of it, no copy
    assert h.permute(0, 2, 3, 4, 1).reshape(2, 4, 36, 4).data_ptr() == h.data_ptr()
    want = per_frame(lambda f: F.conv2d(f, second.weight, second.bias, 1, 1), h.contiguous())
    torch.testing.assert_close(second(h), want)


FROZEN_INPUT_BACKWARD = """
import torch
from spacetime.models.layers import FrameGroupNorm, spatial_conv
torch.manual_seed(0)
frozen, norm = spatial_conv(4, 8).double().requires_grad_(False), FrameGroupNorm(4, 8).double()
x = torch.randn(2, 4, 3, 6, 6, dtype=torch.float64)
grads = []
for layout in (torch.channels_last_3d, torch.contiguous_format):
    h = frozen(x).contiguous(memory_format=layout)  # needs no grad; the norm's weights do
    norm.zero_grad()
    norm(h).square().sum().backward()
    grads.append(norm.weight.grad.clone())
assert torch.allclose(grads[0], grads[1], rtol=0, atol=1e-10), (grads[0] - grads[1]).abs().max()
print("ok")
"""


def test_frame_group_norm_backward_after_frozen_channels_last_layers() -> None:
    """Frozen spatial layers (finetune.spatial=frozen) hand the first trainable norm a
    channels-last input that needs no gradient; torch's CPU kernel for that backward crashes,
    so the norm must route around it. Run in a child process: a crash fails this test only."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", FROZEN_INPUT_BACKWARD], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", (done.returncode, done.stderr)
