"""Preset files: shipped inside the package, or a folder named by $SPACETIME_CONFIGS."""

from __future__ import annotations

from pathlib import Path

import pytest

import spacetime
from spacetime.contracts.presets import PRESETS_ENV, config_file, preset_dir, yaml_files
from spacetime.errors import SpacetimeError


def test_bundled_presets_are_package_data(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PRESETS_ENV, raising=False)
    assert Path(str(preset_dir())) == Path(spacetime.__file__).parent / "configs"
    files = yaml_files()
    assert {"shapes-tiny", "default-shapes", "autoencoder-shapes"} <= set(files)
    assert config_file("shapes-tiny").read_text().strip()  # a bundled recipe by name


def test_environment_folder_replaces_the_bundled_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PRESETS_ENV, str(tmp_path))
    (tmp_path / "mine.yaml").write_text("steps: 3\n")
    (tmp_path / "notes.txt").write_text("not a preset\n")
    (tmp_path / "folder.yaml").mkdir()  # a folder is not a preset file
    assert list(yaml_files()) == ["mine"]
    own = tmp_path / "own.yaml"
    own.write_text("steps: 4\n")
    assert Path(str(config_file(own))) == own  # a path wins over names
    with pytest.raises(SpacetimeError, match=r"nope.yaml does not exist .*bundled recipe: mine"):
        config_file("nope.yaml")
    monkeypatch.setenv(PRESETS_ENV, str(tmp_path / "absent"))
    assert yaml_files() == {}
    with pytest.raises(SpacetimeError, match="none found"):
        config_file("shapes-tiny")
