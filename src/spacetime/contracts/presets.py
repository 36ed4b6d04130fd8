"""Where the named presets and recipes live: YAML files shipped inside the package.

``spacetime/configs/*.yaml`` is package data, read through :mod:`importlib.resources`, so an
installed wheel finds the presets as a source checkout does; ``$SPACETIME_CONFIGS`` names another
folder instead. Which of the files are training presets (they resolve to a
:class:`~spacetime.training.config.TrainConfig`) is :mod:`spacetime.training.config`'s business;
recipes of other commands (``autoencoder-shapes``) live beside them.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from spacetime.errors import SpacetimeError

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

__all__ = ["PRESETS_ENV", "config_file", "preset_dir", "yaml_files"]

PRESETS_ENV = "SPACETIME_CONFIGS"
"""Environment variable naming a folder of presets to use instead of the bundled ones."""


def preset_dir() -> Traversable:
    """Folder of the named presets: ``$SPACETIME_CONFIGS`` when set, else the presets shipped
    inside the package (``spacetime/configs/``, read through :mod:`importlib.resources`, so an
    installed wheel finds them as a source checkout does)."""
    env = os.environ.get(PRESETS_ENV)
    if env:
        return Path(env)
    return resources.files("spacetime") / "configs"


def yaml_files() -> dict[str, Traversable]:
    """The ``*.yaml`` files of :func:`preset_dir` by name (without the suffix)."""
    directory = preset_dir()
    if not directory.is_dir():
        return {}
    files = (f for f in directory.iterdir() if f.name.endswith(".yaml") and f.is_file())
    return {f.name.removesuffix(".yaml"): f for f in sorted(files, key=lambda f: f.name)}


def config_file(file: str | Path) -> Traversable:
    """The YAML file ``file`` names: a path, or the name of a bundled recipe
    (``autoencoder-shapes`` = ``spacetime/configs/autoencoder-shapes.yaml``, see
    :func:`preset_dir`). Raises :class:`SpacetimeError` when it is neither."""
    path = Path(file)
    if path.is_file():
        return path
    bundled = yaml_files().get(str(file))
    if bundled is not None:
        return bundled
    raise SpacetimeError(
        f"config file {path} does not exist (nor is it a bundled recipe: "
        f"{', '.join(yaml_files()) or 'none found'})"
    )
