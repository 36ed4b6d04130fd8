"""Named model sizes: one dict of factories that also feeds the CLI's choices.

``tiny`` (tens of thousands of parameters) is for tests; ``small`` (a few million) trains on a
CPU at 64x64 pixels or 8x8 / 16x16 latents; ``base`` and ``large`` are GPU scale (DiT-B / DiT-L
widths; a U-Net in the range of Video Diffusion Models'). Every preset is pixel-space RGB
(``in_channels=3``) with no text and no frame conditioning unless overridden::

    model = build_model("dit-small", text_dim=encoder.dim, frame_conditioning=True)

``python -m spacetime.models.presets`` prints every preset's parameter count.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import torch
from diffusers.models.modeling_utils import ModelMixin
from torch import nn

from spacetime.errors import SpacetimeError
from spacetime.models.dit import SpaceTimeDiT
from spacetime.models.unet3d import UNet3D

PresetModel = UNet3D | SpaceTimeDiT
"""What a preset builds: a space-time U-Net or a space-time transformer."""


class Preset:
    """A named factory: ``preset(**overrides)`` builds ``model_class(**defaults, **overrides)``.

    Args:
        name: the preset's name (as in :data:`MODEL_PRESETS`).
        model_class: :class:`UNet3D` or :class:`SpaceTimeDiT`.
        defaults: constructor arguments of this size.
    """

    def __init__(
        self, name: str, model_class: type[UNet3D] | type[SpaceTimeDiT], **defaults: Any
    ) -> None:
        self.name, self.model_class, self.defaults = name, model_class, defaults

    @property
    def options(self) -> list[str]:
        """Every constructor argument an override may set."""
        params = inspect.signature(self.model_class.__init__).parameters
        return [p for p in params if p != "self"]

    def __call__(self, **overrides: Any) -> PresetModel:
        unknown = sorted(set(overrides) - set(self.options))
        if unknown:
            raise SpacetimeError(
                f"unknown option(s) {unknown} for model preset {self.name!r}; valid options: "
                f"{', '.join(self.options)}"
            )
        return self.model_class(**{**self.defaults, **overrides})

    def __repr__(self) -> str:
        return f"Preset({self.name!r}, {self.model_class.__name__}, {self.defaults})"


_PRESETS = [
    Preset("unet3d-tiny", UNet3D, base_channels=8, channel_mult=(1, 2), num_res_blocks=1,
           attention_levels=(1,), heads=2, norm_groups=4),
    Preset("unet3d-small", UNet3D, base_channels=32, channel_mult=(1, 2, 2), num_res_blocks=1,
           attention_levels=(2,), temporal_attention_levels=(1, 2), heads=4, norm_groups=8),
    Preset("unet3d-base", UNet3D, base_channels=128, channel_mult=(1, 2, 2, 4),
           num_res_blocks=2, attention_levels=(2, 3), heads=8, norm_groups=32),
    Preset("unet3d-large", UNet3D, base_channels=192, channel_mult=(1, 2, 3, 4),
           num_res_blocks=3, attention_levels=(1, 2, 3), heads=8, norm_groups=32),
    Preset("dit-tiny", SpaceTimeDiT, patch_size=2, hidden_size=32, depth=2, heads=2),
    Preset("dit-small", SpaceTimeDiT, patch_size=4, hidden_size=160, depth=6, heads=5),
    Preset("dit-base", SpaceTimeDiT, patch_size=2, hidden_size=768, depth=12, heads=12),
    Preset("dit-large", SpaceTimeDiT, patch_size=2, hidden_size=1024, depth=24, heads=16),
]  # fmt: skip

#: Every named model size; the keys are the CLI's ``--model`` choices.
MODEL_PRESETS: dict[str, Preset] = {p.name: p for p in _PRESETS}


def build_model(name: str, **overrides: Any) -> PresetModel:
    """Build the preset ``name`` with constructor ``overrides`` (e.g. ``text_dim=64``).

    Raises:
        SpacetimeError: unknown ``name`` or override key (the message lists the valid ones),
            or an override value the model cannot be built with.
    """
    if name not in MODEL_PRESETS:
        raise SpacetimeError(
            f"unknown model preset {name!r}; choose one of: {', '.join(MODEL_PRESETS)}"
        )
    return MODEL_PRESETS[name](**overrides)


#: The denoiser classes a checkpoint folder may hold, by ``config.json``'s ``_class_name``.
MODEL_CLASSES: dict[str, type[UNet3D] | type[SpaceTimeDiT]] = {
    "UNet3D": UNet3D,
    "SpaceTimeDiT": SpaceTimeDiT,
}


def load_model(path: str | Path, **kwargs: Any) -> ModelMixin:
    """Load a denoiser saved with ``save_pretrained(path)``, whichever its class.

    Only safetensors weights are read (never pickle). ``kwargs`` go to ``from_pretrained``
    (e.g. ``torch_dtype=torch.bfloat16``).

    Raises:
        SpacetimeError: ``path`` is not such a folder or names another class.
    """
    folder = Path(path)
    config = folder / "config.json"
    if not config.is_file():
        raise SpacetimeError(
            f"{folder} is not a model folder: expected config.json and *.safetensors as "
            f"written by save_pretrained"
        )
    try:
        class_name = json.loads(config.read_text()).get("_class_name")
    except (json.JSONDecodeError, AttributeError) as err:
        raise SpacetimeError(f"{config} is not a JSON object: {err}") from err
    if class_name not in MODEL_CLASSES:
        raise SpacetimeError(
            f"{config} describes a {class_name!r}; expected one of {', '.join(MODEL_CLASSES)}"
        )
    if not list(folder.glob("*.safetensors")):
        raise SpacetimeError(f"{folder} has no *.safetensors weights")
    return MODEL_CLASSES[class_name].from_pretrained(folder, use_safetensors=True, **kwargs)


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters of ``model`` (only those with ``requires_grad`` if asked)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def preset_parameter_counts(**overrides: Any) -> dict[str, int]:
    """Parameter count of every preset, built on the meta device (no memory is allocated)."""
    counts = {}
    with torch.device("meta"):
        for name in MODEL_PRESETS:
            counts[name] = count_parameters(build_model(name, **overrides))
    return counts


def format_count(n: int) -> str:
    """``1234567`` -> ``"1.23M"``; ``12345`` -> ``"12.3k"``."""
    for unit, scale in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g}{unit}"
    return str(n)


def main() -> None:
    """Print a table of the presets and their parameter counts."""
    for name, n in preset_parameter_counts().items():
        preset = MODEL_PRESETS[name]
        print(f"{name:14s} {format_count(n):>8s}  {preset.model_class.__name__}")  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
