"""The on-disk format of a spacetime pipeline: ``model_index.json`` plus one folder per part.

::

    pipeline/
      model_index.json      spacetime version, part classes, objective config, sample shape
      denoiser/             config.json + diffusion_pytorch_model.safetensors
      text_encoder/         config.json + safetensors (+ the word encoder's vocabulary)
      autoencoder/          only for latent-space pipelines

``model_index.json`` follows diffusers' layout (``_class_name``, each part as
``[module, class]``) with ``_spacetime_version`` in place of ``_diffusers_version``. Parts are
loaded with their class's ``from_pretrained`` (safetensors, never pickle), and only classes that
live in the ``spacetime`` package are accepted, so a folder can never name code to import.

Writes are atomic: the folder is built beside the target and renamed into place, so a crash
mid-write leaves the previous checkpoint untouched.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

import spacetime
from spacetime.contracts.weights import check_weights
from spacetime.errors import SpacetimeError

MODEL_INDEX = "model_index.json"
PIPELINE_CLASS = "VideoPipeline"
PARTS: tuple[str, ...] = ("denoiser", "text_encoder", "autoencoder")


def class_ref(obj: object) -> list[str]:
    """``[module, class name]`` of ``obj``'s class, as stored in ``model_index.json``."""
    cls = type(obj)
    return [cls.__module__, cls.__qualname__]


def resolve_class(ref: Any, *, part: str, where: Path) -> type:
    """The class named by ``ref = [module, name]``; only ``spacetime`` classes are allowed."""
    well_formed = isinstance(ref, list | tuple) and len(ref) == 2
    if not (well_formed and all(isinstance(r, str) for r in ref)):
        raise SpacetimeError(f"{where}: '{part}' must be [module, class]; got {ref!r}")
    module_name, class_name = ref
    if module_name != "spacetime" and not module_name.startswith("spacetime."):
        raise SpacetimeError(
            f"{where}: '{part}' is {module_name}.{class_name}, not a spacetime class; "
            "refusing to import code named by a checkpoint"
        )
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError):
        raise SpacetimeError(
            f"{where}: '{part}' class {module_name}.{class_name} does not exist in this "
            f"spacetime {spacetime.__version__}"
        ) from None
    if not isinstance(cls, type) or not hasattr(cls, "from_pretrained"):
        raise SpacetimeError(f"{where}: {module_name}.{class_name} cannot be loaded from a folder")
    return cls


def read_model_index(path: str | Path) -> dict[str, Any]:
    """The checked ``model_index.json`` of the pipeline folder ``path``.

    Raises :class:`SpacetimeError` when the folder is missing, holds something else (a plain
    diffusers model, another library's pipeline), or was written by a newer spacetime.
    """
    path = Path(path)
    index_file = path / MODEL_INDEX
    if not path.is_dir():
        raise SpacetimeError(f"pipeline folder {path} does not exist")
    if not index_file.is_file():
        hint = (
            " (it looks like a single model folder: a pipeline has model_index.json and "
            "denoiser/ and text_encoder/ subfolders)"
            if (path / "config.json").is_file()
            else ""
        )
        raise SpacetimeError(f"{path} is not a spacetime pipeline: no {MODEL_INDEX}{hint}")
    try:
        index = json.loads(index_file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise SpacetimeError(f"{index_file} is not valid JSON: {err}") from None
    if not isinstance(index, dict) or "_spacetime_version" not in index:
        other = "diffusers" if isinstance(index, dict) and "_diffusers_version" in index else None
        raise SpacetimeError(
            f"{index_file} was not written by spacetime"
            + (f" (it is a {other} pipeline: load it with diffusers)" if other else "")
        )
    if index.get("_class_name") != PIPELINE_CLASS:
        raise SpacetimeError(
            f"{index_file} holds a {index.get('_class_name')!r}, expected {PIPELINE_CLASS!r}"
        )
    try:
        written, running = Version(str(index["_spacetime_version"])), Version(spacetime.__version__)
    except InvalidVersion:
        raise SpacetimeError(
            f"{index_file}: bad _spacetime_version {index['_spacetime_version']!r}"
        ) from None
    if written > running:
        raise SpacetimeError(
            f"{path} was written by spacetime {written}, newer than this spacetime {running}; "
            "upgrade spacetime to load it"
        )
    for key in ("denoiser", "text_encoder", "objective"):
        if index.get(key) is None:
            raise SpacetimeError(f"{index_file} has no '{key}' entry")
    frames, size = index.get("sample_frames", 16), index.get("sample_size", [64, 64])
    if not _positive_int(frames):
        raise SpacetimeError(f"{index_file}: sample_frames must be an integer >= 1, got {frames!r}")
    if not (isinstance(size, list) and len(size) == 2 and all(map(_positive_int, size))):
        raise SpacetimeError(
            f"{index_file}: sample_size must be [height, width] in pixels, got {size!r}"
        )
    if not isinstance(index["objective"], dict):
        raise SpacetimeError(
            f"{index_file}: objective must be a mapping, got {index['objective']!r}"
        )
    return index


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def check_config(cls: type, folder: Path) -> None:
    """Refuse a ``config.json`` that does not fit ``cls``'s constructor: unknown keys, or values
    of another kind than the defaults (a string for a number, a number for a list, ...).

    Checked for the classes whose constructor is their config (diffusers' ``ConfigMixin`` with
    ``register_to_config``); other part classes read their own folders.
    """
    from diffusers.configuration_utils import ConfigMixin

    path = folder / "config.json"
    if not (issubclass(cls, ConfigMixin) and path.is_file()):
        return
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise SpacetimeError(f"{path} is not valid JSON: {err}") from None
    if not isinstance(config, dict):
        raise SpacetimeError(f"{path} must hold a JSON object, got {type(config).__name__}")
    params = inspect.signature(cls.__init__).parameters
    derived = getattr(cls, "derived_config_keys", ())  # written for readers, not init arguments
    unknown = sorted(
        k for k in config if not k.startswith("_") and k not in params and k not in derived
    )
    if unknown:
        raise SpacetimeError(
            f"{path}: unknown key(s) {', '.join(unknown)} for {cls.__name__} (written by another "
            f"version or edited?); expected keys among {', '.join(sorted(set(params) - {'self'}))}"
        )
    for key, value in config.items():
        default = params[key].default if key in params else inspect.Parameter.empty
        if not _same_kind(value, default):
            raise SpacetimeError(
                f"{path}: {key} is {value!r}; expected {_KINDS.get(type(default), 'a value')} "
                f"like the default {default!r}"
            )


_KINDS = {bool: "true or false", int: "an integer", float: "a number", str: "a string",
          list: "a list", tuple: "a list"}  # fmt: skip


def _same_kind(value: Any, default: Any) -> bool:
    """Whether a JSON ``value`` can stand where the constructor's ``default`` does."""
    if default is inspect.Parameter.empty or default is None or value is None:
        return True
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(default, str):
        return isinstance(value, str)
    if isinstance(default, list | tuple):
        return isinstance(value, list)
    return True


def load_part(path: Path, index: dict[str, Any], part: str) -> Any:
    """Load part ``part`` of the pipeline folder ``path`` (``None`` if the index has none)."""
    ref = index.get(part)
    if ref is None:
        return None
    cls = resolve_class(ref, part=part, where=path / MODEL_INDEX)
    folder = path / part
    if not folder.is_dir():
        raise SpacetimeError(f"pipeline folder {path} lacks its {part}/ subfolder")
    check_weights(folder)
    check_config(cls, folder)
    from diffusers import ModelMixin

    # use_safetensors: without it diffusers falls back to a pickled .bin ("unsafe serialization")
    options = {"use_safetensors": True} if issubclass(cls, ModelMixin) else {}
    try:
        model = cls.from_pretrained(folder, **options)
    except SpacetimeError:
        raise
    except (OSError, ValueError, RuntimeError, KeyError, TypeError) as err:
        # Missing or mismatched weights, a config this code does not accept: the folder does
        # not fit this spacetime's classes. The first line of diffusers' message says which.
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise SpacetimeError(
            f"cannot load the {part} of {path} with {cls.__name__} of spacetime "
            f"{spacetime.__version__}: {reason}"
        ) from err
    if hasattr(model, "eval"):
        model.eval()
    return model


def write_atomically(target: str | Path, write: Callable[[Path], None]) -> Path:
    """Run ``write(tmp)`` into a fresh folder beside ``target``, then swap it into place.

    If ``write`` raises, ``target`` is untouched and the partial folder removed. The swap is
    two renames (old out, new in), each atomic on one filesystem.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and not target.is_dir():
        raise SpacetimeError(f"cannot save a pipeline to {target}: it is a file")
    tag = uuid.uuid4().hex[:8]
    tmp = target.with_name(f".{target.name}.tmp-{tag}")
    old = target.with_name(f".{target.name}.old-{tag}")
    try:
        tmp.mkdir()
        write(tmp)
        if target.exists():
            os.replace(target, old)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not target.exists():
            os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return target
