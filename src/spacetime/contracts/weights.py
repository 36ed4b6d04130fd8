"""Weights are safetensors; a pickle is never loaded (DESIGN.md, "Models").

Every reader of a model folder (a pipeline part, a diffusers U-Net to inflate) calls
:func:`check_weights` first, so the refusal of ``.bin``/``.pt``/``.pkl`` files is said once.
"""

from __future__ import annotations

from pathlib import Path

from spacetime.errors import SpacetimeError

__all__ = ["PICKLE_SUFFIXES", "check_weights"]

PICKLE_SUFFIXES: tuple[str, ...] = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")
"""Weight files that are pickles: never loaded (unpickling can run any code)."""


def check_weights(folder: Path) -> None:
    """Refuse a part folder without safetensors weights, naming any pickle found instead."""
    if any(folder.rglob("*.safetensors")):
        return
    pickles = sorted(p.name for p in folder.rglob("*") if p.suffix.lower() in PICKLE_SUFFIXES)
    if pickles:
        raise SpacetimeError(
            f"{folder}: {', '.join(pickles)} is a pickle, which spacetime never loads (unpickling "
            "can run any code); expected *.safetensors weights"
        )
    raise SpacetimeError(f"{folder}: no *.safetensors weights")
