"""Tests for spacetime.pipelines.pretrained: model_index checks, class resolution, atomic writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import spacetime
from spacetime.errors import SpacetimeError
from spacetime.models.unet3d import UNet3D
from spacetime.pipelines.pretrained import (
    MODEL_INDEX,
    class_ref,
    load_part,
    read_model_index,
    resolve_class,
    write_atomically,
)


def _index(**overrides: object) -> dict[str, object]:
    index: dict[str, object] = {
        "_class_name": "VideoPipeline",
        "_spacetime_version": spacetime.__version__,
        "denoiser": ["spacetime.models.unet3d", "UNet3D"],
        "text_encoder": ["spacetime.models.text", "WordTextEncoder"],
        "autoencoder": None,
        "objective": {"kind": "gaussian"},
    }
    index.update(overrides)
    return index


def _write(folder: Path, index: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MODEL_INDEX).write_text(json.dumps(index))
    return folder


def test_a_valid_index_is_returned(tmp_path: Path) -> None:
    assert read_model_index(_write(tmp_path, _index()))["objective"] == {"kind": "gaussian"}


@pytest.mark.parametrize(
    ("index", "message"),
    [
        (_index(_spacetime_version="999.0"), r"written by spacetime 999\.0, newer than"),
        ({"_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.30.0"}, "diffusers"),
        (["not", "an", "object"], "not written by spacetime"),
        (_index(_class_name="CascadePipeline"), "expected 'VideoPipeline'"),
        (_index(_spacetime_version="banana"), "bad _spacetime_version"),
        (_index(objective=None), "no 'objective' entry"),
    ],
)
def test_foreign_newer_or_broken_indexes_are_refused(
    tmp_path: Path, index: object, message: str
) -> None:
    with pytest.raises(SpacetimeError, match=message):
        read_model_index(_write(tmp_path, index))


def test_missing_folder_plain_model_folder_and_bad_json(tmp_path: Path) -> None:
    with pytest.raises(SpacetimeError, match="does not exist"):
        read_model_index(tmp_path / "nope")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(SpacetimeError, match=r"no model_index\.json .*single model folder"):
        read_model_index(tmp_path)
    (tmp_path / MODEL_INDEX).write_text("{oops")
    with pytest.raises(SpacetimeError, match="not valid JSON"):
        read_model_index(tmp_path)


def test_only_spacetime_classes_are_resolved(tmp_path: Path) -> None:
    ref = class_ref(object.__new__(UNet3D))
    assert ref == ["spacetime.models.unet3d", "UNet3D"]
    assert resolve_class(ref, part="denoiser", where=tmp_path) is UNet3D
    with pytest.raises(SpacetimeError, match="not a spacetime class"):
        resolve_class(["os", "system"], part="denoiser", where=tmp_path)
    with pytest.raises(SpacetimeError, match="does not exist in this spacetime"):
        resolve_class(["spacetime.models.unet3d", "UNet9D"], part="denoiser", where=tmp_path)
    with pytest.raises(SpacetimeError, match="cannot be loaded from a folder"):
        resolve_class(["spacetime.errors", "SpacetimeError"], part="denoiser", where=tmp_path)
    with pytest.raises(SpacetimeError, match=r"must be \[module, class\]"):
        resolve_class("UNet3D", part="denoiser", where=tmp_path)


def test_atomic_write_replaces_and_a_failed_write_keeps_the_old_folder(tmp_path: Path) -> None:
    target = tmp_path / "pipe"
    write_atomically(target, lambda d: (d / "a.txt").write_text("one"))
    assert (target / "a.txt").read_text() == "one"
    write_atomically(target, lambda d: (d / "b.txt").write_text("two"))
    assert sorted(p.name for p in target.iterdir()) == ["b.txt"]

    def broken(d: Path) -> None:
        (d / "half.txt").write_text("partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_atomically(target, broken)
    assert sorted(p.name for p in target.iterdir()) == ["b.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]  # no temp folder left
    (tmp_path / "file").write_text("x")
    with pytest.raises(SpacetimeError, match="it is a file"):
        write_atomically(tmp_path / "file", lambda d: None)


def test_weights_that_do_not_fit_the_class_are_a_user_error(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    folder = _write(tmp_path / "pipe", _index())
    (folder / "denoiser").mkdir()
    config = {
        "_class_name": "UNet3D",
        "base_channels": 8,
        "channel_mult": [1, 2],
        "num_res_blocks": 1,
        "attention_levels": [1],
        "heads": 2,
        "norm_groups": 4,
    }
    (folder / "denoiser" / "config.json").write_text(json.dumps(config))
    weights = folder / "denoiser" / "diffusion_pytorch_model.safetensors"
    save_file({"conv_in.weight": torch.zeros(1)}, weights)
    with pytest.raises(SpacetimeError, match=r"cannot load the denoiser of .* with UNet3D"):
        load_part(folder, read_model_index(folder), "denoiser")
