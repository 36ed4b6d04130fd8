"""``spacetime cache-latents``: encode a run's training clips once (see
:mod:`spacetime.data.latent_dataset`), so that its steps are network time only.

The folder is tied to the config it came from: a run with ``data.latents=FOLDER`` checks that
the folder was encoded from the same data settings and seed (:func:`~spacetime.training.
components.latent_source`) and with the same autoencoder (its weights' fingerprint)::

    spacetime cache-latents --preset default-shapes --out runs/latents
    spacetime train --preset default-shapes --set data.latents=runs/latents --out runs/main
"""

from __future__ import annotations

from pathlib import Path

from spacetime.data.latent_dataset import write_latent_dataset
from spacetime.errors import SpacetimeError
from spacetime.training.components import build_datasets, latent_source
from spacetime.training.config import TrainConfig, validate_config
from spacetime.training.latent import (
    autoencoder_fingerprint,
    encode_latents,
    load_frozen_autoencoder,
)

__all__ = ["cache_latents"]


def cache_latents(
    config: TrainConfig, out: str | Path, *, batch_clips: int = 32, progress: bool = True
) -> Path:
    """Encode every training clip of ``config`` with its autoencoder into the folder ``out``.

    Clip ``i`` is the dataset's item ``i`` with augmentation seed ``i`` (so flips, crops and
    strides are fixed once). Rerunning continues an interrupted encoding. Returns ``out``.
    """
    validate_config(config)
    autoencoder = load_frozen_autoencoder(config.autoencoder)
    if autoencoder is None:
        raise SpacetimeError(
            "cache-latents needs autoencoder.path: the latent space to encode the clips into"
        )
    videos, _, _ = build_datasets(config)
    return write_latent_dataset(
        videos,
        lambda video: encode_latents(autoencoder, video),  # one clip at a time: same bits
        out,
        fingerprint=autoencoder_fingerprint(autoencoder),
        source=latent_source(config),
        batch_clips=batch_clips,
        progress=progress,
    )
