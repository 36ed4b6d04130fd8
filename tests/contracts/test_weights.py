"""check_weights: safetensors only; a pickle is named and refused, never opened."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from spacetime.contracts.weights import PICKLE_SUFFIXES, check_weights
from spacetime.errors import SpacetimeError


def test_safetensors_anywhere_in_the_folder_pass(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    save_file({"w": torch.zeros(2)}, str(tmp_path / "sub" / "model.safetensors"))
    check_weights(tmp_path)


@pytest.mark.parametrize("suffix", PICKLE_SUFFIXES)
def test_pickles_are_named_and_refused(tmp_path: Path, suffix: str) -> None:
    # Not a valid pickle at all: the check must not open it.
    (tmp_path / f"weights{suffix.upper()}").write_bytes(b"\x80\x04 not read")
    with pytest.raises(SpacetimeError, match=rf"weights{suffix.upper()} is a pickle"):
        check_weights(tmp_path)


def test_a_folder_without_weights_says_so(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(SpacetimeError, match=r"no \*.safetensors weights"):
        check_weights(tmp_path)
