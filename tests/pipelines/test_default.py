"""Tests for spacetime.pipelines.default: where the default model is and how it loads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import spacetime
from helpers import tiny_pipeline
from spacetime.errors import SpacetimeError
from spacetime.pipelines import default
from spacetime.pipelines.video_pipeline import VideoPipeline

PROMPT = "a red circle moves left"


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[VideoPipeline, Path]:
    pipe = tiny_pipeline([PROMPT], frames=4, size=8)
    return pipe, pipe.save_pretrained(tmp_path_factory.mktemp("default") / "model")


def test_the_bundled_folder_is_package_data(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(default.DEFAULT_MODEL_ENV, raising=False)
    path = default.default_model_path()
    assert path == Path(spacetime.__file__).resolve().parent / "assets" / "default_model"
    assert default.has_default_model() == (path / "model_index.json").is_file()
    monkeypatch.setenv(default.DEFAULT_MODEL_ENV, "  ")  # blank: as if unset
    assert default.default_model_path() == path


def test_the_environment_variable_overrides_it(
    saved: tuple[VideoPipeline, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    pipe, folder = saved
    monkeypatch.setenv(default.DEFAULT_MODEL_ENV, str(folder))
    assert default.default_model_path() == folder and default.has_default_model()
    loaded = default.load_default_pipeline(device="cpu")
    assert loaded.sample_frames == 4 and loaded.sample_size == (8, 8)
    kwargs = {"seeds": [3], "steps": 2, "progress": False}
    assert np.array_equal(loaded([PROMPT], **kwargs), pipe([PROMPT], **kwargs))


def test_a_missing_model_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(default.DEFAULT_MODEL_ENV, str(tmp_path / "nowhere"))
    assert not default.has_default_model()
    with pytest.raises(SpacetimeError, match=r"SPACETIME_DEFAULT_MODEL=.*nowhere is not a"):
        default.load_default_pipeline()
    monkeypatch.delenv(default.DEFAULT_MODEL_ENV)
    monkeypatch.setattr(default, "BUNDLED_MODEL_DIR", tmp_path / "assets" / "default_model")
    with pytest.raises(SpacetimeError, match=r"no default model is bundled.*--checkpoint"):
        default.require_default_model()
    (tmp_path / "assets" / "default_model").mkdir(parents=True)  # an empty folder is no model
    with pytest.raises(SpacetimeError, match="development checkouts"):
        default.load_default_pipeline()
