"""Latent-space training: the frozen autoencoder of a run, found, loaded and checked.

Latent video diffusion (Rombach et al. 2022, "High-Resolution Image Synthesis with Latent
Diffusion Models", Sec. 3; Blattmann et al. 2023, "Align your Latents", Sec. 3.1) trains the
denoiser on ``z = E(x)`` instead of the pixels ``x``: the autoencoder is trained first, then
frozen. In a spacetime run (``autoencoder.path`` in :class:`~spacetime.training.config.
TrainConfig`) it

- encodes every micro-batch ``(B, 3, T, H, W)`` -> ``(B, c, T, H / f, W / f)`` before the
  objective (given frames of the frame condition are therefore latents too),
- fixes the denoiser's ``in_channels`` to its ``latent_channels`` (``c``),
- is excluded from the optimizer, the EMA and the training state (no gradients, eval mode),
  but saved with the published pipeline (``checkpoint/pipeline/autoencoder/``), which decodes
  the periodic samples and every later ``spacetime generate`` back to pixels.

Sizes in the config stay in pixels (``data.size``); the latent size is ``data.size / f``.
A fingerprint of the autoencoder's weights is stored in the training state, so a run is never
resumed on a different autoencoder.

Encoding costs as much as the denoiser's forward and backward passes on a CPU (64x64 frames
through shapes-f4 vs a small U-Net on 16x16 latents), so :class:`LatentCache` keeps the latents
of clips it has seen, keyed by the clip's pixels. Clips are always encoded one at a time, so
a latent does not depend on the batch it came in or on whether it was cached: resume and
multi-process runs stay bit-exact.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from pathlib import Path

import torch

from spacetime.errors import SpacetimeError
from spacetime.models.autoencoder import FrameAutoencoder, load_autoencoder
from spacetime.pipelines.default import require_default_model
from spacetime.training.config import AutoencoderConfig

DEFAULT_AUTOENCODER = "default"
"""``autoencoder.path`` value naming the default model's autoencoder."""

__all__ = [
    "DEFAULT_AUTOENCODER",
    "LatentCache",
    "autoencoder_fingerprint",
    "encode_latents",
    "latent_size",
    "load_frozen_autoencoder",
    "resolve_autoencoder_dir",
]


def resolve_autoencoder_dir(path: str | Path) -> Path:
    """The ``AutoencoderKL`` folder that ``path`` names (relative paths: from the cwd).

    Accepted: ``"default"``, the default model's autoencoder (the bundled shapes-f4 latent
    space unless ``$SPACETIME_DEFAULT_MODEL`` names another pipeline); the folder itself
    (``config.json`` + safetensors), a ``spacetime train-autoencoder`` run folder or a
    spacetime pipeline folder (their ``autoencoder/``), or a diffusers pipeline folder (its
    ``vae/``, found by :func:`~spacetime.models.autoencoder.load_autoencoder`). Raises
    :class:`SpacetimeError` naming ``autoencoder.path`` when nothing is there.
    """
    if str(path) == DEFAULT_AUTOENCODER:
        return require_default_model() / "autoencoder"
    folder = Path(path).expanduser().resolve()
    if not folder.is_dir():
        raise SpacetimeError(
            f"autoencoder.path {str(path)!r} does not exist (resolved against the working "
            f"directory to {folder}); expected an autoencoder folder or a "
            "`spacetime train-autoencoder` run folder"
        )
    nested = folder / "autoencoder"
    if not (folder / "config.json").is_file() and (nested / "config.json").is_file():
        return nested
    return folder


def load_frozen_autoencoder(config: AutoencoderConfig) -> FrameAutoencoder | None:
    """The run's autoencoder in eval mode with gradients off, or None for pixel space."""
    if not config.path:
        return None
    folder = resolve_autoencoder_dir(config.path)
    try:
        autoencoder = load_autoencoder(folder, chunk_size=config.chunk_size)
    except SpacetimeError as err:
        raise SpacetimeError(f"autoencoder.path {config.path!r}: {err}") from None
    autoencoder.requires_grad_(False)
    return autoencoder.eval()


def latent_size(autoencoder: FrameAutoencoder, size: int) -> int:
    """Latent height = width of ``size`` x ``size`` pixel frames; raises when ``f`` does not
    divide ``size`` (naming ``data.size``)."""
    f = autoencoder.spatial_factor
    if size % f:
        raise SpacetimeError(
            f"data.size={size} must be a multiple of the autoencoder's spatial factor {f} "
            f"(it maps {f}x{f} pixels to one latent)"
        )
    return size // f


@torch.no_grad()
def encode_latents(autoencoder: FrameAutoencoder, video: torch.Tensor) -> torch.Tensor:
    """Scaled posterior means ``(B, c, T, H/f, W/f)`` (about unit variance) of ``video``
    ``(B, 3, T, H, W)`` in [-1, 1], in float32 without gradients, one clip at a time (so each
    clip's latents are the same bits whatever else is in the batch)."""
    return torch.cat([autoencoder.encode(clip[None].float()) for clip in video])


class LatentCache:
    """:func:`encode_latents` that remembers the latents of up to ``max_clips`` clips.

    A clip is looked up by a BLAKE2 digest of its float32 pixels (so a flipped or differently
    cropped clip is a different entry); the oldest entries are dropped first. Latents are kept
    on the CPU in float32: ``c * T * h * w * 4`` bytes per clip (64 KB for 16x16x4 x 16 frames).

    Args:
        autoencoder: the frozen autoencoder.
        max_clips: most clips kept (0: no cache, every clip is encoded).
    """

    def __init__(self, autoencoder: FrameAutoencoder, max_clips: int = 0) -> None:
        if max_clips < 0:
            raise SpacetimeError(f"autoencoder.cache_clips must be >= 0, got {max_clips}")
        self.autoencoder, self.max_clips = autoencoder, max_clips
        self._entries: OrderedDict[bytes, torch.Tensor] = OrderedDict()
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def hit_rate(self) -> float:
        """Fraction of clips served from the cache so far (0 before the first clip)."""
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    def __call__(self, video: torch.Tensor) -> torch.Tensor:
        """Latents ``(B, c, T, H/f, W/f)`` of ``video`` ``(B, 3, T, H, W)`` in [-1, 1], on
        ``video``'s device."""
        if self.max_clips == 0:
            return encode_latents(self.autoencoder, video)
        out = []
        for clip in video:  # (3, T, H, W)
            pixels = clip.detach().to("cpu", torch.float32).contiguous()
            key = hashlib.blake2b(pixels.numpy().tobytes(), digest_size=16)
            key.update(str(tuple(pixels.shape)).encode())
            latents = self._entries.get(key.digest())
            if latents is None:
                self.misses += 1
                latents = encode_latents(self.autoencoder, clip[None])[0].cpu()  # (c, T, h, w)
                self._entries[key.digest()] = latents
                if len(self._entries) > self.max_clips:
                    self._entries.popitem(last=False)
            else:
                self.hits += 1
            out.append(latents)
        return torch.stack(out).to(video.device)


def autoencoder_fingerprint(autoencoder: FrameAutoencoder) -> str:
    """SHA-256 (hex) of the autoencoder's weights (names, shapes, float32 values) and its
    latent scaling: equal fingerprints mean equal latents."""
    digest = hashlib.sha256()
    digest.update(f"{autoencoder.scaling_factor!r} {autoencoder.shift_factor!r}".encode())
    for name, tensor in sorted(autoencoder.vae.state_dict().items()):
        values = tensor.detach().to("cpu", torch.float32).contiguous()
        digest.update(f"{name}{tuple(values.shape)}".encode())
        digest.update(values.numpy().tobytes())
    return digest.hexdigest()
