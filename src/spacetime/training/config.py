"""Typed training configuration: dataclasses, named YAML presets and ``--set`` overrides.

One :class:`TrainConfig` describes a run completely (nanoGPT / edm2 style). It is resolved in
three layers, each overriding the previous one:

1. the dataclass defaults below (a comment on each says why),
2. a named preset (``spacetime/configs/<name>.yaml``, shipped in the package; ``spacetime train
   --preset NAME --dry-run > my.yaml`` writes a copy to edit) or a YAML file (``--config FILE``),
3. ``--set key.sub=value`` overrides, parsed as YAML values and checked against the field type.

Nested sections merge key by key; dict-valued fields (``model.overrides``, ``masks.probs``,
``objective.options``) are replaced as a whole by a mapping, or one entry at a time with
``--set model.overrides.depth=4``.

Unknown presets, unknown keys and badly typed values raise :class:`SpacetimeError` naming the
key and listing the valid choices. The resolved config is written beside every run
(``RUN/config.yaml``) and is enough to rebuild the run. Relative paths in a config
(``data.path``, ``text.path``, ``autoencoder.path``) resolve against the working directory of
the command, not against the YAML file's folder; sizes (``data.size``) are always in pixels,
also for latent-space runs.

The merging, type checks and ``--set`` parsing are generic over dataclasses and live in
:mod:`spacetime.contracts.dataclass_yaml`; ``apply_overrides``, ``config_to_dict`` and
``parse_set`` are re-exported here, as are ``preset_dir``, ``config_file`` and ``PRESETS_ENV`` of
:mod:`spacetime.contracts.presets` (where the YAML files live).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from spacetime.contracts.dataclass_yaml import apply_overrides, merge, parse_set, read_yaml
from spacetime.contracts.dataclass_yaml import dataclass_to_dict as config_to_dict
from spacetime.contracts.presets import PRESETS_ENV, config_file, preset_dir, yaml_files
from spacetime.diffusion.masks import FrameMaskConfig
from spacetime.errors import SpacetimeError
from spacetime.training.config_checks import validate_config

__all__ = [
    "PRESETS_ENV",
    "AutoencoderConfig",
    "DataConfig",
    "FinetuneConfig",
    "InitConfig",
    "ModelConfig",
    "ObjectiveConfig",
    "OptimConfig",
    "SuperResolutionConfig",
    "TextConfig",
    "TrainConfig",
    "apply_overrides",
    "config_file",
    "config_from_dict",
    "config_to_dict",
    "diff_configs",
    "dump_config",
    "list_presets",
    "load_config",
    "load_preset",
    "parse_set",
    "preset_dir",
    "validate_config",
]


@dataclass
class ModelConfig:
    """The denoiser: a preset of :func:`spacetime.models.build_model` plus overrides."""

    name: str = "unet3d-tiny"  # preset name in spacetime.models (unet3d-*, dit-*)
    temporal: bool = True  # False = per-frame baseline (temporal layers disabled)
    overrides: dict[str, Any] = field(default_factory=dict)  # extra build_model(**kwargs)


@dataclass
class TextConfig:
    """The text encoder and caption dropout (for classifier-free guidance)."""

    kind: str = "word"  # word (trainable, vocabulary from the captions) | hf (local dir)
    dim: int = 64  # token width D of the word-level encoder
    layers: int = 2  # transformer layers of the word-level encoder
    heads: int = 4  # attention heads of the word-level encoder (divide dim)
    path: str = ""  # kind=hf: local directory of a Hugging Face text encoder (no downloads)
    caption_dropout: float = 0.1  # P(caption -> ""): trains the unconditional branch of CFG


@dataclass
class ObjectiveConfig:
    """The diffusion objective (noising, target, weighting); see ``build_objective``."""

    kind: str = "gaussian"  # gaussian (DDPM-style, discrete t) | flow (rectified flow matching)
    prediction: str = "v"  # kind=gaussian: eps | v | x0; v is stable at every noise level
    schedule: str = "cosine"  # kind=gaussian: linear | cosine | scaled-linear noise schedule
    options: dict[str, Any] = field(default_factory=dict)  # other objective options, e.g.
    # loss_weighting: min-snr, per_frame_t: true, zero_terminal_snr: true (gaussian);
    # time_sampling: logit-normal, shift: 3.0 (flow)


@dataclass
class DataConfig:
    """Training clips: where they come from and how they are cut and augmented."""

    kind: str = "shapes"  # shapes (synthetic ShapesWorld) | video_folder | image_folder
    path: str = ""  # video_folder / image_folder: the directory of files
    frames: int = 8  # T, frames per clip
    size: int = 32  # H = W, pixels
    augment: bool = True  # random flips / temporal crops and strides (explicit seeds)
    shapes_count: int = 4096  # kind=shapes: clips in the synthetic dataset
    image_ratio: float = 0.0  # P(a step trains on images as T=1 clips, temporal layers bypassed)
    image_path: str = ""  # image_ratio>0: image folder; "" = single frames of the clips
    num_workers: int = 0  # DataLoader worker processes (0 = load in the training process)
    latents: str = ""  # a folder of these clips encoded once (`spacetime cache-latents`; a
    # run creates it when missing): with autoencoder.path, steps read latents instead of
    # rendering and encoding clips


@dataclass
class AutoencoderConfig:
    """Latent-space training (Rombach et al. 2022; Blattmann et al. 2023): a frozen autoencoder.

    With ``path`` set, every clip is encoded to latents before the objective, the denoiser
    works on ``(latent_channels, T, size / f, size / f)`` and samples are decoded back to
    pixels; ``data.size`` stays the size in pixels. A relative ``path`` is resolved against
    the working directory of the run.
    """

    path: str | None = None  # null = pixel space; an AutoencoderKL folder, a train-autoencoder
    # run folder (its autoencoder/), a pipeline folder (its autoencoder/ or vae/), or "default"
    # (the default model's autoencoder: the bundled shapes-f4 latent space)
    chunk_size: int = 16  # frames per autoencoder forward pass (memory only, not results)
    cache_clips: int = 0  # keep the latents of this many clips in memory (0 = encode every
    # clip every time); worth it when clips repeat (epochs > 1), see training/latent.py


@dataclass
class OptimConfig:
    """AdamW with linear warm-up (Loshchilov & Hutter 2019) and gradient clipping."""

    lr: float = 2e-4  # peak learning rate
    betas: tuple[float, float] = (0.9, 0.999)  # Adam moment decay rates
    eps: float = 1e-8  # Adam denominator epsilon
    weight_decay: float = 0.01  # decoupled decay, on weight matrices only (not biases / norms)
    warmup_steps: int = 100  # linear warm-up from 0 to lr over this many optimizer steps
    schedule: str = "constant"  # after warm-up: constant | cosine (to min_lr_ratio * lr at steps)
    min_lr_ratio: float = 0.1  # schedule=cosine: final lr / peak lr
    grad_clip: float = 1.0  # max global gradient norm (0 = no clipping)


@dataclass
class InitConfig:
    """Weights a run starts from instead of random ones (a stage of a staged recipe)."""

    path: str = ""  # a pipeline folder or a run folder (its checkpoint/pipeline): its denoiser
    # and text encoder start this run (EMA weights); "" = random initialisation
    inflate: bool = False  # the saved denoiser is per-frame (temporal=false): inflate it into
    # this run's space-time model, temporal layers zero-initialised (spacetime.models.inflate)


@dataclass
class FinetuneConfig:
    """Which weights train: all, or the temporal layers with the rest frozen or slowed."""

    spatial: str = "train"  # train | frozen (out of the optimizer, no gradients) | scaled
    # (trained at optim.lr * spatial_lr_scale); "spatial" = every non-temporal weight,
    # text encoder included
    spatial_lr_scale: float = 0.1  # spatial=scaled: learning-rate factor of spatial weights
    trainable: list[str] = field(default_factory=list)  # spatial=frozen|scaled: parameter-name
    # substrings that train at the full rate anyway, e.g. ["text_context.pool"]


@dataclass
class SuperResolutionConfig:
    """A spatial super-resolution stage (training/super_resolution.py); factor 1 = off."""

    factor: int = 1  # >1: train an SR model from data.size / factor to data.size pixels
    augment_max: float = 300.0  # conditioning augmentation: its level ~ U[0, this] in training
    noise_level: float = 100.0  # the published pipeline's default augmentation at sampling
    crop: int = 0  # train on random crops of this many pixels (0 = whole frames); the
    # network is convolutional, so it samples whole frames anyway (SR3 / ESRGAN-style patches)


@dataclass
class TrainConfig:
    """A whole training run. ``batch_size`` is global: it does not change with the number
    of processes, and gradient accumulation = batch_size / (micro_batch_size * processes)."""

    model: ModelConfig = field(default_factory=ModelConfig)
    text: TextConfig = field(default_factory=TextConfig)
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    data: DataConfig = field(default_factory=DataConfig)
    masks: FrameMaskConfig = field(default_factory=FrameMaskConfig)  # frame-mask mixture
    autoencoder: AutoencoderConfig = field(default_factory=AutoencoderConfig)  # latent space
    optim: OptimConfig = field(default_factory=OptimConfig)
    init: InitConfig = field(default_factory=InitConfig)  # start from trained weights
    finetune: FinetuneConfig = field(default_factory=FinetuneConfig)  # what trains
    super_resolution: SuperResolutionConfig = field(default_factory=SuperResolutionConfig)
    batch_size: int = 16  # clips per optimizer step, over all processes and accumulation rounds
    micro_batch_size: int = 0  # clips per forward pass per process (0 = batch_size / processes)
    steps: int = 2000  # optimizer steps in total
    seed: int = 0  # every random stream is seeded from (seed, step, shard)
    ema_decay: float = 0.999  # EMA of the weights; the EMA weights are the published model
    ema_warmup: bool = True  # decay ramps up as (1 + n) / (10 + n) early in training
    mixed_precision: str = "no"  # no | bf16 (CPU or GPU) | fp16 (GPU only)
    log_every: int = 10  # steps between lines of RUN/log.jsonl
    checkpoint_every: int = 500  # steps between checkpoints (always one at the end)
    sample_every: int = 500  # steps between periodic samples (0 = never)
    sample_count: int = 2  # clips generated at each sampling
    sample_steps: int = 20  # sampler steps for the periodic samples
    sample_guidance: float = 3.0  # classifier-free guidance scale of the periodic samples
    probe_every: int = 0  # steps between text-use probes in the log (0 = never): x0 error at
    # high noise with the right, a wrong and the empty caption (training/probe.py)
    snapshot_every: int = 0  # steps between kept copies of the pipeline (RUN/snapshots/), for
    # learning curves; 0 = keep only the latest checkpoint
    progress: bool = True  # show a progress bar with the loss


# Keys a resumed run may change without changing the result (they only affect bookkeeping).
RESUMABLE_KEYS = frozenset(
    {
        "steps",
        "log_every",
        "checkpoint_every",
        "sample_every",
        "sample_count",
        "sample_steps",
        "sample_guidance",
        "probe_every",
        "snapshot_every",
        "progress",
        "data.num_workers",
        "autoencoder.chunk_size",
        "autoencoder.cache_clips",
        "autoencoder.path",  # may move: the weights' fingerprint in the state must match
        "data.latents",  # may move: its source and fingerprint are checked against the run
    }
)


def list_presets() -> list[str]:
    """Names of the training presets (``configs/*.yaml`` without the suffix), sorted.

    ``configs/`` also holds recipes of other commands (e.g. the autoencoder's); only files
    that resolve to a :class:`TrainConfig` are training presets.
    """
    names = []
    for name, path in yaml_files().items():
        try:
            config_from_dict(read_yaml(path), source=str(path))
        except SpacetimeError:
            continue
        names.append(name)
    return names


def load_preset(name: str) -> TrainConfig:
    """The preset ``name`` (``configs/<name>.yaml``) over the defaults."""
    path = yaml_files().get(name)
    names = list_presets()
    if name not in names and path is not None:  # a recipe of another command
        raise SpacetimeError(
            f"{path} is not a training preset; training presets: {', '.join(names)}"
        )
    if path is None:
        raise SpacetimeError(
            f"unknown preset {name!r}; expected one of: {', '.join(names) or '(none found)'}"
        )
    return config_from_dict(read_yaml(path), source=f"preset {name}")


def load_config(
    preset: str | None = None,
    file: str | Path | None = None,
    overrides: list[str] | None = None,
) -> TrainConfig:
    """Resolve defaults <- preset <- YAML ``file`` (a path or a bundled recipe's name, see
    :func:`config_file`) <- ``overrides`` (``key.sub=value``)."""
    config = load_preset(preset) if preset is not None else TrainConfig()
    if file is not None:
        path = config_file(file)
        config = merge(config, read_yaml(path), source=str(path))
    return apply_overrides(config, overrides or [])


def config_from_dict(data: dict[str, Any], *, source: str = "config") -> TrainConfig:
    """A :class:`TrainConfig` from a (partial) nested mapping over the defaults."""
    return merge(TrainConfig(), data, source=source)


def dump_config(config: Any, path: str | Path | None = None) -> str:
    """A config dataclass (:class:`TrainConfig` or another trainer's) as YAML text; also
    written to ``path`` when given (atomically: a kill while a resumed run rewrites it leaves
    the previous file, never an empty one)."""
    text = yaml.safe_dump(config_to_dict(config), sort_keys=False)
    if path is not None:
        target = Path(path)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(text)
        os.replace(tmp, target)
    return text


def diff_configs(a: Any, b: Any) -> list[str]:
    """Dotted keys whose values differ between the config dataclasses ``a`` and ``b`` (dict
    fields as one key)."""

    def flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in d.items():
            if isinstance(v, dict) and k not in ("overrides", "probs", "options"):
                out.update(flat(v, f"{prefix}{k}."))
            else:
                out[prefix + k] = v
        return out

    fa, fb = flat(config_to_dict(a)), flat(config_to_dict(b))
    return sorted(k for k in fa.keys() | fb.keys() if fa.get(k) != fb.get(k))
