"""The run-folder layout as readers see it: the newest complete checkpoint and its pipeline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from spacetime.errors import SpacetimeError
from spacetime.pipelines.pretrained import MODEL_INDEX
from spacetime.pipelines.run_folder import COMPLETE, find_checkpoint, pipeline_folder


def _checkpoint(run: Path, name: str, *, complete: bool, pipeline: bool = True) -> Path:
    folder = run / name
    (folder / "pipeline").mkdir(parents=True)
    if pipeline:
        (folder / "pipeline" / MODEL_INDEX).write_text("{}")
    if complete:
        (folder / COMPLETE).write_text("")
    return folder


def test_only_complete_checkpoints_are_found(tmp_path: Path) -> None:
    assert find_checkpoint(tmp_path) is None
    _checkpoint(tmp_path, ".checkpoint.tmp", complete=False)  # a write in progress
    assert find_checkpoint(tmp_path) is None
    old = _checkpoint(tmp_path, ".checkpoint.old", complete=True)  # killed between renames
    assert find_checkpoint(tmp_path) == old
    new = _checkpoint(tmp_path, "checkpoint", complete=True)
    assert find_checkpoint(tmp_path) == new  # the renamed-in one wins
    assert pipeline_folder(tmp_path) == new / "pipeline"


def test_a_pipeline_folder_names_itself(tmp_path: Path) -> None:
    (tmp_path / MODEL_INDEX).write_text("{}")
    assert pipeline_folder(tmp_path) == tmp_path


@pytest.mark.parametrize("state", ["missing", "file", "empty", "incomplete", "no-pipeline"])
def test_anything_else_is_refused_naming_the_input(tmp_path: Path, state: str) -> None:
    run = tmp_path / "run"
    if state == "file":
        run.write_text("x")
    elif state == "empty":
        run.mkdir()
    elif state == "incomplete":
        _checkpoint(run, "checkpoint", complete=False)
    elif state == "no-pipeline":
        _checkpoint(run, "checkpoint", complete=True, pipeline=False)
    message = "does not exist" if state == "missing" else "is neither a pipeline folder"
    with pytest.raises(SpacetimeError, match=f"^init.path {re.escape(str(run))} {message}"):
        pipeline_folder(run, what="init.path")
