"""The frozen latent space of a run: where its folder is, how it loads, its fingerprint."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from spacetime.errors import SpacetimeError
from spacetime.models.autoencoder import load_autoencoder
from spacetime.training.config import AutoencoderConfig
from spacetime.training.latent import (
    LatentCache,
    autoencoder_fingerprint,
    encode_latents,
    latent_size,
    load_frozen_autoencoder,
    resolve_autoencoder_dir,
)


def test_folder_run_folder_and_relative_paths_resolve(
    tiny_autoencoder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert resolve_autoencoder_dir(tiny_autoencoder) == tiny_autoencoder.resolve()
    # A `spacetime train-autoencoder` run folder (or a pipeline folder): its autoencoder/.
    run = tmp_path / "ae-run"
    shutil.copytree(tiny_autoencoder, run / "autoencoder")
    (run / "log.jsonl").write_text("")
    assert resolve_autoencoder_dir(run) == (run / "autoencoder").resolve()
    # Relative paths are taken from the working directory.
    monkeypatch.chdir(tmp_path)
    assert resolve_autoencoder_dir("ae-run") == (run / "autoencoder").resolve()
    assert load_frozen_autoencoder(AutoencoderConfig(path="ae-run")) is not None


def test_missing_or_wrong_folder_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(SpacetimeError, match=r"autoencoder.path 'nowhere/ae' does not exist"):
        load_frozen_autoencoder(AutoencoderConfig(path="nowhere/ae"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(SpacetimeError, match=r"autoencoder.path .*empty.*no config.json"):
        load_frozen_autoencoder(AutoencoderConfig(path=str(tmp_path / "empty")))


def test_pixel_space_has_no_autoencoder() -> None:
    assert load_frozen_autoencoder(AutoencoderConfig()) is None
    assert load_frozen_autoencoder(AutoencoderConfig(path="")) is None


def test_loaded_autoencoder_is_frozen_and_encodes_like_the_model(tiny_autoencoder: Path) -> None:
    frozen = load_frozen_autoencoder(AutoencoderConfig(path=str(tiny_autoencoder), chunk_size=3))
    assert frozen is not None and not frozen.training and frozen.chunk_size == 3
    assert not any(p.requires_grad for p in frozen.parameters())
    video = torch.rand(2, 3, 5, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1
    latents = encode_latents(frozen, video)
    assert latents.shape == (2, 4, 5, 8, 8) and not latents.requires_grad
    reference = load_autoencoder(tiny_autoencoder).encode(video)  # one chunk of 16 frames
    torch.testing.assert_close(latents, reference, rtol=1e-5, atol=1e-5)
    # Scaled to about unit variance on ShapesWorld (estimate_scaling in the fixture); random
    # uniform noise is far from ShapesWorld, so only the order of magnitude is checked.
    assert 0.1 < float(latents.std()) < 10.0


def test_latent_size_needs_a_multiple_of_the_factor(tiny_autoencoder: Path) -> None:
    autoencoder = load_autoencoder(tiny_autoencoder)
    assert latent_size(autoencoder, 64) == 16
    with pytest.raises(SpacetimeError, match=r"data.size=34 must be a multiple of .* factor 4"):
        latent_size(autoencoder, 34)


def test_fingerprint_tracks_weights_and_scaling(tiny_autoencoder: Path) -> None:
    a, b = load_autoencoder(tiny_autoencoder), load_autoencoder(tiny_autoencoder, chunk_size=1)
    assert autoencoder_fingerprint(a) == autoencoder_fingerprint(b)  # chunking changes nothing
    assert len(autoencoder_fingerprint(a)) == 64
    b.set_scaling(a.scaling_factor * 2, a.shift_factor)
    assert autoencoder_fingerprint(a) != autoencoder_fingerprint(b)
    c = load_autoencoder(tiny_autoencoder)
    with torch.no_grad():
        next(c.vae.parameters()).view(-1)[0] += 1e-3
    assert autoencoder_fingerprint(a) != autoencoder_fingerprint(c)


def test_cache_returns_the_same_bits_and_stays_bounded(tiny_autoencoder: Path) -> None:
    autoencoder = load_autoencoder(tiny_autoencoder)
    clips = torch.rand(3, 3, 4, 32, 32, generator=torch.Generator().manual_seed(1)) * 2 - 1
    direct = encode_latents(autoencoder, clips)
    # Clip by clip: a clip's latents do not depend on the rest of its batch.
    assert torch.equal(direct[1:2], encode_latents(autoencoder, clips[1:2]))
    cache = LatentCache(autoencoder, max_clips=2)
    assert torch.equal(cache(clips[:2]), direct[:2])
    assert (cache.hits, cache.misses, len(cache)) == (0, 2, 2)
    assert torch.equal(cache(clips[[1, 0]]), direct[[1, 0]])  # served from memory
    assert (cache.hits, cache.misses) == (2, 2) and cache.hit_rate == 0.5
    assert torch.equal(cache(clips[2:]), direct[2:])
    assert len(cache) == 2  # the oldest entry made room
    flipped = clips[:1].flip(-1)  # other pixels, another entry
    assert torch.equal(cache(flipped), encode_latents(autoencoder, flipped))
    assert cache.misses == 4
    off = LatentCache(autoencoder, max_clips=0)
    assert torch.equal(off(clips), direct) and len(off) == 0
    with pytest.raises(SpacetimeError, match="cache_clips must be >= 0"):
        LatentCache(autoencoder, max_clips=-1)
