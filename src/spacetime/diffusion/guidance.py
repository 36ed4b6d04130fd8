"""Classifier-free guidance (Ho & Salimans 2022) — one small function used by every sampler."""

from __future__ import annotations

import torch

from spacetime.errors import SpacetimeError


def guidance_scale(scale: float | torch.Tensor, frames: int | None) -> torch.Tensor:
    """``scale`` as a float32 tensor: 0-d, or ``(T,)`` for a per-frame scale; validated.

    ``frames`` is ``T``, or ``None`` for outputs without a time axis (only a number fits).
    A per-frame scale lets frames far from the given ones take more guidance than frames
    next to them (as in image-to-video models that ramp guidance along time).
    """
    value = torch.as_tensor(scale, dtype=torch.float32)
    if not torch.isfinite(value).all():  # NaN or inf: an all-NaN (black) video otherwise
        raise SpacetimeError(f"guidance must be finite; got {scale}")
    if value.ndim == 0:
        return value
    if frames is None:
        raise SpacetimeError(
            f"a per-frame guidance scale {tuple(value.shape)} needs outputs (B, C, T, H, W); "
            "these have no time axis, so give a number"
        )
    if value.ndim != 1 or value.shape[0] != frames:
        raise SpacetimeError(
            f"guidance must be a number or one value per frame ({frames},); "
            f"got shape {tuple(value.shape)}"
        )
    return value


def classifier_free_guidance(
    cond: torch.Tensor,
    uncond: torch.Tensor,
    scale: float | torch.Tensor,
    *,
    rescale: float = 0.0,
) -> torch.Tensor:
    """Guided prediction ``cond + (w - 1)(cond - uncond)`` (Ho & Salimans 2022, eq. 6).

    Written around ``cond`` so that ``w = 1`` returns the conditional output exactly and
    ``w = 0`` the unconditional one. It acts on every channel alike and is linear in the
    prediction, so it means the same for eps, v, x0 and flow-velocity outputs.

    Args:
        cond, uncond: network outputs with and without the condition, ``(B, C, T, H, W)``.
        scale: ``w``: a number, or a ``(T,)`` tensor of per-frame scales broadcast over
            ``B, C, H, W``.
        rescale: φ in [0, 1] of guidance rescaling (Lin et al. 2024, §3.4, eqs. 15-16): the
            guided output is scaled to the conditional output's std (per sample and frame,
            over channels and pixels) and mixed with weight φ; 0 disables it. It counters the
            over-exposure that large scales cause, mostly with v-prediction.
    """
    if cond.shape != uncond.shape:
        raise SpacetimeError(
            f"cond and uncond must have the same shape; got {tuple(cond.shape)} and "
            f"{tuple(uncond.shape)}"
        )
    if not 0.0 <= rescale <= 1.0:
        raise SpacetimeError(f"guidance rescale must be in [0, 1], got {rescale}")
    w = guidance_scale(scale, cond.shape[2] if cond.ndim == 5 else None)
    w = w.to(dtype=cond.dtype, device=cond.device)
    if w.ndim == 1:
        w = w[None, None, :, None, None]  # (1, 1, T, 1, 1)
    guided = cond + (w - 1) * (cond - uncond)
    if rescale == 0.0:
        return guided
    dims = (1, 3, 4) if cond.ndim == 5 else tuple(range(1, cond.ndim))
    ratio = cond.std(dim=dims, keepdim=True) / guided.std(dim=dims, keepdim=True).clamp_min(1e-12)
    return rescale * guided * ratio + (1 - rescale) * guided
