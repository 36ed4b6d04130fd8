"""Damaged or foreign pipeline folders: each a one-line error naming the file; a pickle is
never loaded, not even by the restricted ``torch.load``."""

from __future__ import annotations

import json
import os
import pickle
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from helpers import run_cli, tiny_pipeline

PROMPT = "a red circle moves left"
WEIGHTS = "denoiser/diffusion_pytorch_model.safetensors"


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("good") / "pipeline"
    return tiny_pipeline([PROMPT], frames=4, size=16).save_pretrained(folder)


class Payload:
    """Unpickling this creates the file ``marker``: proof that something unpickled it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Callable[..., object], tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


def edit_json(path: Path, **changes: object) -> None:
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


def truncate(folder: Path) -> str:
    data = (folder / WEIGHTS).read_bytes()
    (folder / WEIGHTS).write_bytes(data[: len(data) // 2])
    return f"{folder / WEIGHTS}"


def wrong_shape(folder: Path) -> str:
    tensors = load_file(folder / WEIGHTS)
    tensors[next(iter(tensors))] = torch.zeros(3, 3)
    save_file(tensors, folder / WEIGHTS)
    return "expected shape"


def not_json(folder: Path) -> str:
    (folder / "text_encoder/config.json").write_text("{oops")
    return "text_encoder/config.json is not valid JSON"


CASES: dict[str, Callable[[Path], str]] = {
    "truncated safetensors": truncate,
    "wrong tensor shape": wrong_shape,
    "unknown config key": lambda f: edit_json(f / "denoiser/config.json", bogus=3)
    or "config.json: unknown key(s) bogus for UNet3D",
    "config value of the wrong type": lambda f: edit_json(f / "denoiser/config.json",
                                                          base_channels="many")
    or "config.json: base_channels is 'many'; expected an integer",
    "config list of the wrong type": lambda f: edit_json(f / "denoiser/config.json",
                                                         channel_mult=7)
    or "config.json: channel_mult is 7; expected a list",
    "config not JSON": not_json,
    "newer spacetime": lambda f: edit_json(f / "model_index.json", _spacetime_version="99.0")
    or "written by spacetime 99.0, newer than this spacetime",
    "bad objective": lambda f: edit_json(
        f / "model_index.json", objective={"kind": "gaussian", "prediction": "z"}
    )
    or "model_index.json: objective: unknown prediction 'z'",
    "bad sample shape": lambda f: edit_json(f / "model_index.json", sample_frames="16")
    or "model_index.json: sample_frames must be an integer >= 1, got '16'",
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_damaged_pipeline_is_a_one_line_error(
    case: str, pipeline: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    folder = Path(shutil.copytree(pipeline, tmp_path / "pipeline"))
    expected = CASES[case](folder)
    out = tmp_path / "clip.mp4"
    code, _, err = run_cli(["generate", PROMPT, "-c", str(folder), "--steps", "1",
                            "--out", str(out)], capsys)  # fmt: skip
    assert code == 2 and err.startswith("spacetime: error: ") and err.count("\n") == 1, err
    assert str(folder) in err and expected in err
    assert not out.exists()


@pytest.mark.parametrize("name", ["diffusion_pytorch_model.bin", "model.pt", "weights.pkl"])
@pytest.mark.parametrize("part", ["denoiser", "text_encoder"])
def test_a_pickle_in_place_of_safetensors_is_never_loaded(
    name: str,
    part: str,
    pipeline: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = Path(shutil.copytree(pipeline, tmp_path / "pipeline"))
    for weights in (folder / part).glob("*.safetensors"):
        weights.unlink()
    marker = tmp_path / "unpickled"
    (folder / part / name).write_bytes(pickle.dumps(Payload(marker)))
    loads: list[object] = []  # every torch.load / pickle.load call, whoever makes it
    for module, attr in ((torch, "load"), (pickle, "load"), (pickle, "loads")):
        real = getattr(module, attr)
        monkeypatch.setattr(module, attr, lambda *a, _r=real, **k: loads.append(a) or _r(*a, **k))
    code, _, err = run_cli(["generate", PROMPT, "-c", str(folder), "--steps", "1",
                            "--out", str(tmp_path / "o.mp4")], capsys)  # fmt: skip
    assert code == 2 and f"{folder / part}: {name} is a pickle, which spacetime never loads" in err
    assert not loads and not marker.exists()
    # The payload is live: unpickling it does create the file.
    pickle.loads((folder / part / name).read_bytes())
    assert marker.exists()


def test_a_pickle_beside_misnamed_safetensors_is_not_the_fallback(
    pipeline: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    # diffusers looks for diffusion_pytorch_model.safetensors and, without use_safetensors,
    # falls back to diffusion_pytorch_model.bin: spacetime never lets it.
    folder = Path(shutil.copytree(pipeline, tmp_path / "pipeline"))
    (folder / WEIGHTS).rename(folder / "denoiser/renamed.safetensors")
    marker = tmp_path / "unpickled"
    (folder / "denoiser/diffusion_pytorch_model.bin").write_bytes(pickle.dumps(Payload(marker)))
    code, _, err = run_cli(["generate", PROMPT, "-c", str(folder), "--steps", "1",
                            "--out", str(tmp_path / "o.mp4")], capsys)  # fmt: skip
    assert code == 2 and "cannot load the denoiser" in err and not marker.exists()
