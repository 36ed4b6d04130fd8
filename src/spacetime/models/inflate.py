"""Inflate a per-frame (2D) denoiser into a space-time one (Make-A-Video, AnimateDiff, VDM).

The field trains video models from image models: the spatial layers of a text->image network
are kept, temporal layers are inserted after them with their outputs at zero, and the
result is fine-tuned on video (Singer et al. 2022, "Make-A-Video", sec. 3.2; Guo et al. 2024,
"AnimateDiff"; Ho et al. 2022, "Video Diffusion Models", sec. 3 on joint image-video training).
Because every temporal branch starts as the identity, **the inflated network applied to a
video equals the 2D network applied to every frame** — fine-tuning starts from exactly the
image model's quality and only has to learn motion.

In spacetime the 2D network is the same class built with ``temporal=False``
(:class:`~spacetime.models.unet3d.UNet3D`: no temporal convolutions or attention;
:class:`~spacetime.models.dit.SpaceTimeDiT`: no temporal attention), so inflating is: build
the ``temporal=True`` twin, copy every spatial weight, zero-initialise every temporal output
(the twin's ``initialize_weights`` already does). :func:`is_temporal_parameter` names the
temporal weights, which the video stage may train alone (``finetune.spatial=frozen``).

A diffusers ``UNet2DConditionModel`` (what users bring from the image world) inflates the same
way with :mod:`spacetime.models.inflate_diffusers`.
"""

from __future__ import annotations

from typing import Any

import torch

from spacetime.errors import SpacetimeError
from spacetime.models.base import VideoDenoiser

__all__ = ["inflate", "is_temporal_parameter", "temporal_parameter_names"]


def is_temporal_parameter(name: str) -> bool:
    """Whether the parameter ``name`` (dotted, as in ``named_parameters``) belongs to a layer
    that mixes or conditions time: a module whose name contains ``temporal``
    (``temporal_conv``, ``temporal_attn``, ``norm_temporal``, ``temporal_modulation``, ...)."""
    return any("temporal" in part for part in name.split("."))


def temporal_parameter_names(model: torch.nn.Module) -> list[str]:
    """Names of ``model``'s temporal parameters (see :func:`is_temporal_parameter`)."""
    return [name for name, _ in model.named_parameters() if is_temporal_parameter(name)]


def inflate(model: VideoDenoiser, **overrides: Any) -> VideoDenoiser:
    """The space-time twin of a per-frame denoiser, equal to it frame by frame at the start.

    Args:
        model: a :class:`~spacetime.models.base.VideoDenoiser` built with ``temporal=False``.
        overrides: config values of the temporal layers to change in the twin (e.g.
            ``temporal_attention_levels=[1, 2]``, ``time_position="bias"``); every other
            config value is the 2D model's.

    Returns:
        A new model of the same class with ``temporal=True``, in ``model``'s dtype and device
        and training mode, whose every non-temporal weight is a copy of ``model``'s and whose
        temporal branches output zero.

    Raises:
        SpacetimeError: ``model`` is already temporal, or its temporal twin would not equal it
        per frame (a DiT with ``attention="full"`` attends across frames in every block).
    """
    config = dict(model.config)
    if config.get("temporal", True):
        raise SpacetimeError(
            f"{type(model).__name__} is already a space-time model (temporal=True); inflate "
            "takes a per-frame model built with temporal=False"
        )
    if config.get("attention") == "full":
        raise SpacetimeError(
            "a SpaceTimeDiT with attention='full' cannot be inflated exactly: its joint "
            "space-time attention reuses the spatial weights across frames; train the image "
            "model with attention='factorized'"
        )
    spatial_keys = {"in_channels", "out_channels", "text_dim", "frame_conditioning"}
    changed = sorted(spatial_keys & set(overrides))
    if changed:
        raise SpacetimeError(f"inflate keeps the 2D model's {', '.join(changed)}; do not override")
    config = {k: v for k, v in config.items() if not k.startswith("_")}
    param = next(model.parameters())
    twin = type(model)(**{**config, **overrides, "temporal": True})
    # in the 2D model's dtype before the copy (no rounding); nn.Module.to, not ModelMixin.to,
    # which warns about float32 modules on any dtype change
    twin = torch.nn.Module.to(twin, device=param.device, dtype=param.dtype)
    missing, unexpected = twin.load_state_dict(model.state_dict(), strict=False)
    not_temporal = [k for k in missing if not is_temporal_parameter(k)]
    if unexpected or not_temporal:
        raise SpacetimeError(
            f"cannot inflate {type(model).__name__}: weights missing in the twin "
            f"{sorted(unexpected)[:5]}, non-temporal weights without a 2D source "
            f"{not_temporal[:5]}"
        )
    return twin.train(model.training)
