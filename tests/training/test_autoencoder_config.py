"""The autoencoder recipe: checked values and the shipped recipe file."""

from __future__ import annotations

from pathlib import Path

import pytest

from spacetime.errors import SpacetimeError
from spacetime.training.autoencoder_config import AutoencoderTrainConfig, load_autoencoder_config
from spacetime.training.config import preset_dir


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["bogus=1"], "unknown key 'bogus'"),
        (["preset=shapes-f5"], "unknown autoencoder preset 'shapes-f5'"),
        (["crop=18"], "crop=18 must be a multiple of the spatial factor 4"),
        (["size=32", "crop=64"], "crop=64 must be <= size=32"),
        (["batch_size=0"], "batch_size must be >= 1"),
        (["steps=ten"], "steps expects int"),
    ],
)
def test_bad_config_values_name_the_key(items, message) -> None:
    with pytest.raises(SpacetimeError, match=message):
        load_autoencoder_config(None, items)


def test_shipped_recipe_file_matches_the_defaults() -> None:
    recipe = preset_dir() / "autoencoder-shapes.yaml"  # inside the installed package
    assert load_autoencoder_config(Path(str(recipe))) == AutoencoderTrainConfig()
    assert load_autoencoder_config("autoencoder-shapes") == AutoencoderTrainConfig()  # by name
    with pytest.raises(SpacetimeError, match="nor is it a bundled recipe: autoencoder-shapes"):
        load_autoencoder_config("autoencoder-nope")
