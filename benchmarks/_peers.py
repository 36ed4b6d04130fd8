"""The models a user would pick instead of spacetime's, built at a matched parameter count.

- diffusers' ``UNet3DConditionModel`` (ModelScope text-to-video's U-Net): spatial and temporal
  transformers with text cross-attention, temporal convolutions;
- lucidrains' ``video-diffusion-pytorch`` ``Unet3D`` (Video Diffusion Models, Ho et al. 2022):
  space-time factorised U-Net with temporal attention at every level, a pooled text vector.

Each comes with one uniform call, ``denoise(x, t, tokens, mask) -> (B, C, T, H, W)``, written
the way its library is used: diffusers takes the text tokens as ``encoder_hidden_states``
(padding tokens zeroed, as a padded encoder output), lucidrains a pooled vector ``cond``; the
guided call batches the two branches (diffusers pipelines) or runs them one after the other
(lucidrains' ``forward_with_cond_scale``).

``video-diffusion-pytorch`` imports ``torchvision`` at the top of its module for its data
helpers, which the benchmark does not use, and no torchvision wheel loads with the CPU build of
torch used here: :func:`import_lucidrains` puts an empty stand-in module in ``sys.modules``
for the duration of that import only. Install it without its dependencies:
``pip install --no-deps video-diffusion-pytorch einops-exts rotary-embedding-torch``
(or ``pip install -e ".[bench]"`` plus that first package).
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

Denoise = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]
TORCHVISION_NOTE = (
    "video-diffusion-pytorch imported with an empty stand-in for torchvision (its data helpers "
    "only; no torchvision wheel loads with this CPU torch)"
)


@dataclass
class Peer:
    """A built model: its name, parameter count, plain call and guided call."""

    name: str
    model: nn.Module
    params: int
    denoise: Denoise
    guided: Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, float], Any]


class _Stub(types.ModuleType):
    """A module whose every attribute is a do-nothing callable (``T.ToTensor()`` at import)."""

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def unavailable(*args: Any, **kwargs: Any) -> Any:
            return unavailable

        return unavailable


def import_lucidrains() -> types.ModuleType | None:
    """``video_diffusion_pytorch``, imported with torchvision stubbed; None if not installed."""
    saved = {k: sys.modules.get(k) for k in ("torchvision", "torchvision.transforms")}
    if saved["torchvision"] is None:
        stub = _Stub("torchvision")
        stub.transforms = stub.utils = _Stub("torchvision.transforms")  # type: ignore[attr-defined]
        sys.modules["torchvision"] = stub
        sys.modules["torchvision.transforms"] = stub.transforms  # type: ignore[attr-defined]
    try:
        import video_diffusion_pytorch
    except ImportError:
        return None
    finally:
        for key, module in saved.items():
            if module is None:
                sys.modules.pop(key, None)
    return video_diffusion_pytorch


def count(model: nn.Module) -> int:
    """Number of parameters."""
    return sum(p.numel() for p in model.parameters())


def _groups(width: int) -> int:
    """GroupNorm groups for a level width (8 where it divides, else 4)."""
    return 8 if width % 8 == 0 else 4


def diffusers_unet3d(width: int, text_dim: int, channels: int) -> Peer:
    """``UNet3DConditionModel`` with levels ``(w, 2w, 2w)``, one block per level, 4 heads, and
    cross-attention at the two lower levels (as spacetime's default U-Net's spatial attention)."""
    from diffusers import UNet3DConditionModel

    model = UNet3DConditionModel(
        in_channels=channels,
        out_channels=channels,
        down_block_types=("DownBlock3D", "CrossAttnDownBlock3D", "CrossAttnDownBlock3D"),
        up_block_types=("CrossAttnUpBlock3D", "CrossAttnUpBlock3D", "UpBlock3D"),
        block_out_channels=(width, 2 * width, 2 * width),
        layers_per_block=1,
        norm_num_groups=_groups(width),
        cross_attention_dim=text_dim,
        attention_head_dim=4,  # the number of heads in this class (diffusers' legacy naming)
    )

    def denoise(x: torch.Tensor, t: torch.Tensor, tokens: torch.Tensor, mask: torch.Tensor):
        states = tokens * mask[..., None].to(tokens.dtype)  # (B, L, D) padded encoder output
        return model(x, t, encoder_hidden_states=states).sample

    def guided(x, t, tokens, mask, scale: float) -> torch.Tensor:  # type: ignore[no-untyped-def]
        both = torch.cat([tokens * mask[..., None].to(tokens.dtype), torch.zeros_like(tokens)])
        cond, uncond = model(torch.cat([x, x]), torch.cat([t, t]), both).sample.chunk(2)
        return uncond + scale * (cond - uncond)

    return Peer("diffusers UNet3DConditionModel", model, count(model), denoise, guided)


def lucidrains_unet3d(width: int, text_dim: int, channels: int) -> Peer:
    """video-diffusion-pytorch's ``Unet3D`` with ``dim_mults=(1, 2, 2)``, 4 heads of 16, and the
    mean of the caption's tokens as its text vector ``cond``."""
    vdp = import_lucidrains()
    assert vdp is not None, "video-diffusion-pytorch is not installed"
    model = vdp.Unet3D(
        dim=width, cond_dim=text_dim, dim_mults=(1, 2, 2), channels=channels,
        attn_heads=4, attn_dim_head=16,
    )  # fmt: skip

    def pooled(tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        w = mask[..., None].to(tokens.dtype)
        return (tokens * w).sum(1) / w.sum(1).clamp_min(1)  # (B, D)

    def denoise(x: torch.Tensor, t: torch.Tensor, tokens: torch.Tensor, mask: torch.Tensor):
        return model(x, t, cond=pooled(tokens, mask))

    def guided(x, t, tokens, mask, scale: float) -> torch.Tensor:  # type: ignore[no-untyped-def]
        return model.forward_with_cond_scale(x, t, cond=pooled(tokens, mask), cond_scale=scale)

    return Peer("video-diffusion-pytorch Unet3D", model, count(model), denoise, guided)


PEERS: dict[str, Callable[[int, int, int], Peer]] = {
    "diffusers": diffusers_unet3d,
    "lucidrains": lucidrains_unet3d,
}
#: Width step of each peer: diffusers' 4 heads divide its widths; lucidrains' fixed-width
#: attention and RMSNorm take any even width.
WIDTH_STEP = {"diffusers": 4, "lucidrains": 2}


def matched(name: str, target: int, text_dim: int, channels: int) -> Peer:
    """The peer ``name`` whose base width (a multiple of :data:`WIDTH_STEP`) gives the parameter
    count nearest to ``target``, found by bisection (the count grows with the width)."""
    build, step = PEERS[name], WIDTH_STEP[name]
    lo, hi = 4 // step, 512 // step
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if count_only(build, step * mid, text_dim, channels) < target:
            lo = mid
        else:
            hi = mid
    below, above = (count_only(build, step * w, text_dim, channels) for w in (lo, hi))
    width = step * (lo if abs(below - target) <= abs(above - target) else hi)
    return build(width, text_dim, channels)


def count_only(build: Callable[[int, int, int], Peer], width: int, text_dim: int, ch: int) -> int:
    """Parameter count of the peer at ``width``, built on the meta device (no memory, no init)."""
    with torch.device("meta"):
        return build(width, text_dim, ch).params
