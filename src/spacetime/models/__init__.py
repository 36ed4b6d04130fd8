"""spacetime.models: the space-time denoisers and their building blocks.

- :class:`UNet3D` (factorised space-time U-Net, VDM) and :class:`SpaceTimeDiT` (space-time
  transformer, DiT/STDiT/CogVideoX), both ``model(x_t, t, *, text=None, frames=None)``;
- :data:`MODEL_PRESETS` / :func:`build_model` (named sizes), :func:`count_parameters`,
  :func:`load_model` (a ``save_pretrained`` folder of either class);
- :class:`Attention` (one attention module along space, time or both);
- conditioning inputs :class:`TextEmbedding`, :class:`FrameCondition` (defined on the ground
  floor, :mod:`spacetime.contracts.conditioning`).

The denoisers are imported on first access (PEP 562), so that ``spacetime.models.conditioning``
stays cheap to import for code that does not need diffusers.
"""

from __future__ import annotations

import importlib
from typing import Any

from spacetime.contracts.conditioning import FrameCondition, TextEmbedding

_LAZY = {
    "Attention": "spacetime.models.attention",
    "VideoDenoiser": "spacetime.models.base",
    "SpaceTimeDiT": "spacetime.models.dit",
    "UNet3D": "spacetime.models.unet3d",
    "MODEL_PRESETS": "spacetime.models.presets",
    "build_model": "spacetime.models.presets",
    "count_parameters": "spacetime.models.presets",
    "load_model": "spacetime.models.presets",
}

__all__ = ["FrameCondition", "TextEmbedding", *_LAZY]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'spacetime.models' has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)
