"""Inflate a saved image model into a video model on disk (what ``spacetime inflate`` runs).

Three kinds of source, told apart by their files:

- a spacetime pipeline folder (``model_index.json``) or training run (its newest complete
  ``checkpoint/pipeline``) whose denoiser is per-frame (``temporal=False``): its denoiser is
  inflated with :func:`spacetime.models.inflate.inflate` and a pipeline folder is written with
  the text encoder, autoencoder, objective and sample shape of the source;
- a spacetime denoiser folder (``config.json`` of a ``UNet3D`` / ``SpaceTimeDiT``): the
  inflated denoiser folder is written;
- a diffusers ``UNet2DConditionModel`` folder, or a diffusers pipeline folder with ``unet/``:
  :func:`spacetime.models.inflate_diffusers.inflate_diffusers_unet`, written as an
  :class:`~spacetime.models.inflate_diffusers.InflatedUNet2D` denoiser folder.

Every write is atomic (:func:`~spacetime.pipelines.pretrained.write_atomically`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from spacetime.errors import SpacetimeError
from spacetime.models.base import VideoDenoiser
from spacetime.pipelines.pretrained import MODEL_INDEX, write_atomically

__all__ = ["InflationReport", "inflate_checkpoint"]


@dataclass(frozen=True)
class InflationReport:
    """What :func:`inflate_checkpoint` wrote.

    Attributes:
        out: the folder written.
        kind: ``"pipeline"`` (a spacetime pipeline folder) or ``"denoiser"`` (a model folder).
        source_class: class name of the inflated 2D model.
        denoiser_class: class name of the inflated model.
        parameters: parameters of the inflated model.
        temporal_parameters: of which in temporal layers (zero-initialised outputs).
    """

    out: Path
    kind: str
    source_class: str
    denoiser_class: str
    parameters: int
    temporal_parameters: int


def _config_class(folder: Path) -> str | None:
    """``_class_name`` of ``folder/config.json`` (None when there is no such file)."""
    config = folder / "config.json"
    if not config.is_file():
        return None
    try:
        name = json.loads(config.read_text(encoding="utf-8")).get("_class_name")
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError) as err:
        raise SpacetimeError(f"{config} is not a JSON object: {err}") from None
    if not isinstance(name, str):
        raise SpacetimeError(
            f'{config} names no model class (its "_class_name" is {name!r}); expected the '
            "config of a UNet2DConditionModel or a spacetime denoiser"
        )
    return name


def _source_kind(source: Path) -> str:
    """``"denoiser"`` (a spacetime model folder), ``"diffusers"`` (a U-Net or diffusers
    pipeline folder) or ``"pipeline"`` (a spacetime pipeline or run folder)."""
    from spacetime.models.presets import MODEL_CLASSES

    name = _config_class(source)
    if name in MODEL_CLASSES:
        return "denoiser"
    if name == "UNet2DConditionModel":
        return "diffusers"
    if name == "InflatedUNet2D":
        raise SpacetimeError(f"SOURCE {source} holds an InflatedUNet2D, already a space-time model")
    if name is not None:
        expected = ", ".join(["UNet2DConditionModel", *MODEL_CLASSES])
        raise SpacetimeError(
            f"SOURCE {source}/config.json describes a {name!r}; expected {expected}"
        )
    index = source / MODEL_INDEX
    if (source / "unet" / "config.json").is_file():
        try:
            spacetime_index = "_spacetime_version" in json.loads(index.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            spacetime_index = False
        if not spacetime_index:
            return "diffusers"
    return "pipeline"


def _inflate_spacetime(
    model: VideoDenoiser, frame_conditioning: bool, source: Path
) -> VideoDenoiser:
    """:func:`~spacetime.models.inflate.inflate` with the errors naming ``source``."""
    from spacetime.models.inflate import inflate

    if frame_conditioning and not model.config.frame_conditioning:
        raise SpacetimeError(
            f"SOURCE {source}: --frame-conditioning adds the frame-mask input to a diffusers "
            f"U-Net; this {type(model).__name__} was trained without it, and inflation keeps its "
            "inputs (train the image stage with model frame_conditioning)"
        )
    try:
        return inflate(model).eval()
    except SpacetimeError as err:
        raise SpacetimeError(f"SOURCE {source}: {err}") from None


def _report(out: Path, kind: str, source_class: str, model: VideoDenoiser) -> InflationReport:
    from spacetime.models.inflate import is_temporal_parameter

    params = dict(model.named_parameters())
    return InflationReport(
        out=out, kind=kind, source_class=source_class, denoiser_class=type(model).__name__,
        parameters=sum(p.numel() for p in params.values()),
        temporal_parameters=sum(p.numel() for n, p in params.items() if is_temporal_parameter(n)),
    )  # fmt: skip


def inflate_checkpoint(
    source: str | Path, out: str | Path, *, frame_conditioning: bool = False
) -> InflationReport:
    """Inflate the per-frame model saved at ``source`` and write the video model to ``out``.

    Args:
        source: a spacetime pipeline / run / denoiser folder, or a diffusers U-Net or pipeline
            folder (see the module docstring). Only safetensors weights are read.
        out: the folder to write (replaced atomically if it exists; must not be ``source``).
        frame_conditioning: give a diffusers U-Net the frame-mask input channel (zero
            weights). A spacetime model keeps the inputs it was trained with.

    Raises:
        SpacetimeError: ``source`` is missing, of another kind, already temporal, or cannot be
        inflated exactly; ``out`` is ``source``.
    """
    from spacetime.models.inflate_diffusers import inflate_diffusers_unet
    from spacetime.models.presets import load_model
    from spacetime.pipelines.run_folder import pipeline_folder
    from spacetime.pipelines.video_pipeline import VideoPipeline

    source, out = Path(source), Path(out)
    if not source.is_dir():
        raise SpacetimeError(f"SOURCE {source} does not exist or is not a folder")
    if out.resolve() == source.resolve():
        raise SpacetimeError(
            f"--out {out} is the SOURCE folder; write the inflated model elsewhere"
        )
    kind = _source_kind(source)
    if kind == "diffusers":
        model = inflate_diffusers_unet(source, frame_conditioning=frame_conditioning).eval()
        write_atomically(out, model.save_pretrained)
        return _report(out, "denoiser", "UNet2DConditionModel", model)
    if kind == "denoiser":
        flat = load_model(source)
        model = _inflate_spacetime(flat, frame_conditioning, source)
        write_atomically(out, model.save_pretrained)
        return _report(out, "denoiser", type(flat).__name__, model)
    try:
        folder = pipeline_folder(source, what="SOURCE")
    except SpacetimeError as err:
        raise SpacetimeError(
            f"{err}; nor a model folder (config.json of a UNet2DConditionModel, UNet3D or "
            "SpaceTimeDiT)"
        ) from None
    pipe = VideoPipeline.from_pretrained(folder)
    source_class = type(pipe.denoiser).__name__
    pipe.denoiser = _inflate_spacetime(pipe.denoiser, frame_conditioning, source)
    pipe.save_pretrained(out)
    return _report(out, "pipeline", source_class, pipe.denoiser)
