"""What a stage of a staged recipe changes in a run: its starting weights and what trains.

The default recipe (DESIGN.md, "Training in stages") is text->image, inflate, text->video. The
video stage is an ordinary run of :class:`~spacetime.training.trainer.Trainer` whose config
says

- ``init.path``: start the denoiser and the text encoder from a trained pipeline (a run folder
  or a pipeline folder; the EMA weights), with ``init.inflate`` turning a per-frame denoiser into
  this run's space-time one (:func:`spacetime.models.inflate.inflate`);
- ``finetune.spatial``: train every weight (``train``), only the temporal layers
  (``frozen``: the other weights are out of the optimizer and never get a gradient) or the
  spatial weights at a reduced rate (``scaled``); ``finetune.trainable`` names weights that
  train at the full rate anyway.

The starting weights are loaded again on every resume (frozen weights are not part of the
training state), and their fingerprint is stored in the state, so a run is never resumed on
other starting weights.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

import torch
from torch import nn

from spacetime.errors import SpacetimeError
from spacetime.models.inflate import inflate, is_temporal_parameter
from spacetime.pipelines.run_folder import pipeline_folder
from spacetime.training.config import FinetuneConfig, InitConfig

__all__ = ["apply_finetune", "load_init", "lr_scales", "weights_fingerprint"]


def weights_fingerprint(tensors: Iterable[tuple[str, torch.Tensor]]) -> str:
    """SHA-256 (hex) of named tensors (names, shapes, float32 values)."""
    digest = hashlib.sha256()
    for name, tensor in sorted(tensors, key=lambda item: item[0]):
        values = tensor.detach().to("cpu", torch.float32).contiguous()
        digest.update(f"{name}{tuple(values.shape)}".encode())
        digest.update(values.numpy().tobytes())
    return digest.hexdigest()


def _config_diff(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Config keys whose values differ (tuples and lists alike, as after a JSON round trip)."""
    keys = {k for k in a.keys() | b.keys() if not k.startswith("_")}
    same = json.loads(json.dumps({k: a.get(k) for k in keys}, default=str))
    other = json.loads(json.dumps({k: b.get(k) for k in keys}, default=str))
    return sorted(k for k in keys if same[k] != other[k])


def load_init(denoiser: nn.Module, text_encoder: nn.Module | None, init: InitConfig) -> str | None:
    """Copy the starting weights of ``init`` into ``denoiser`` and ``text_encoder`` (in place).

    Returns the fingerprint of the copied weights, or None when ``init.path`` is empty.
    Raises :class:`SpacetimeError` naming ``init.path`` when the saved model does not fit the
    run's (its config differs; with ``init.inflate``, when it is not per-frame).
    """
    if not init.path:
        return None
    from spacetime.pipelines.video_pipeline import VideoPipeline

    folder = pipeline_folder(init.path, what="init.path")
    source = VideoPipeline.from_pretrained(folder)
    start = source.denoiser
    if init.inflate:
        try:
            start = inflate(start)
        except SpacetimeError as err:
            raise SpacetimeError(f"init.path {init.path}: {err}") from None
    changed = _config_diff(dict(start.config), dict(denoiser.config))
    if changed:
        raise SpacetimeError(
            f"init.path {init.path}: its denoiser differs from this run's in "
            f"{', '.join(changed)} ({', '.join(f'{k}={start.config.get(k)!r}' for k in changed)} "
            "there); make model.* match it"
            + ("" if init.inflate else ", or set init.inflate=true for a per-frame model")
        )
    denoiser.load_state_dict(start.state_dict())
    parts = [("denoiser." + k, v) for k, v in start.state_dict().items()]
    if text_encoder is not None:
        encoder_state = source.text_encoder.state_dict()
        try:
            text_encoder.load_state_dict(encoder_state)
        except RuntimeError as err:
            raise SpacetimeError(
                f"init.path {init.path}: its text encoder does not fit this run's (vocabulary "
                f"or width differ): {str(err).splitlines()[0]}"
            ) from None
        if list(getattr(text_encoder.config, "vocab", [])) != list(
            getattr(source.text_encoder.config, "vocab", [])
        ):
            raise SpacetimeError(f"init.path {init.path}: its text encoder has another vocabulary")
        parts += [("text_encoder." + k, v) for k, v in encoder_state.items()]
    return weights_fingerprint(parts)


def _trains_at_full_rate(name: str, finetune: FinetuneConfig) -> bool:
    """Temporal weights, and those ``finetune.trainable`` names, always train at full rate."""
    return is_temporal_parameter(name) or any(s in name for s in finetune.trainable)


def apply_finetune(module: nn.Module, finetune: FinetuneConfig) -> list[str]:
    """Freeze the spatial weights of ``module`` when ``finetune.spatial == "frozen"`` (gradients
    off, so the optimizer never sees them). Returns the names of the frozen parameters."""
    frozen = []
    if finetune.spatial == "frozen":
        for name, param in module.named_parameters():
            if not _trains_at_full_rate(name, finetune):
                param.requires_grad_(False)
                frozen.append(name)
    return frozen


def lr_scales(module: nn.Module, finetune: FinetuneConfig) -> dict[str, float]:
    """Learning-rate factor of every trainable parameter of ``module``: 1, or
    ``finetune.spatial_lr_scale`` for spatial weights when ``finetune.spatial == "scaled"``."""
    scaled = finetune.spatial == "scaled"
    return {
        name: 1.0
        if not scaled or _trains_at_full_rate(name, finetune)
        else finetune.spatial_lr_scale
        for name, param in module.named_parameters()
        if param.requires_grad
    }
