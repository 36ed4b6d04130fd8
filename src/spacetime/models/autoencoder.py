"""A frame-wise latent space: diffusers' ``AutoencoderKL`` applied to every frame of a video.

Latent video diffusion (Blattmann et al. 2023, "Align your Latents"; Stable Video Diffusion)
trains the denoiser on ``z = (E(x) - shift) * scale`` instead of pixels: a KL-regularised
autoencoder (Rombach et al. 2022, "High-Resolution Image Synthesis with Latent Diffusion
Models", Sec. 3 and App. G) compresses each ``H x W x 3`` frame to ``h x w x c`` with
``h = H / f``, and the per-frame latents are stacked back along time. Frames are encoded
independently, so the autoencoder knows nothing about motion; the denoiser models time.

Choices (written down because they change the numbers):

- **posterior mean**: :meth:`FrameAutoencoder.encode` returns the mean of the diagonal Gaussian
  posterior (deterministic latents: the same video always gives the same training target, and
  with a small KL weight the posterior std is far below the latent scale anyway). Pass a
  ``generator`` to draw a sample instead, as Stable Diffusion's training scripts do.
- **scaling**: ``z = (mean - shift_factor) * scaling_factor`` and its inverse in :meth:`decode`,
  diffusers' convention (SD 1.x uses ``scaling_factor = 0.18215`` and no shift; SD3 / Flux add a
  shift). :func:`estimate_scaling` fits both from data so that the latents have zero mean and
  unit variance (Rombach et al. 2022, Sec. 4.3.2: "we rescale the latents by the component-wise
  variance"; here one global scalar, as every SD VAE ships). Both live in ``config.json``.
- **chunks**: frames go through the network ``chunk_size`` at a time, so peak activation memory
  is that of ``chunk_size`` frames whatever the clip length; GroupNorm statistics are per frame,
  so chunking does not change the result.

A checkpoint is an ordinary ``AutoencoderKL`` folder (``config.json`` +
``diffusion_pytorch_model.safetensors``): a Stable Diffusion VAE on disk (its ``vae/`` folder,
or the pipeline folder that holds it) loads through the same :func:`load_autoencoder`.

>>> ae = build_autoencoder("shapes-f4")
>>> z = ae.encode(torch.zeros(1, 3, 16, 64, 64))        # (1, 4, 16, 16, 16)
>>> ae.decode(z).shape
torch.Size([1, 3, 16, 64, 64])
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import torch
from diffusers import AutoencoderKL
from torch import nn

from spacetime.errors import SpacetimeError

__all__ = [
    "AUTOENCODER_PRESETS",
    "FrameAutoencoder",
    "build_autoencoder",
    "estimate_scaling",
    "load_autoencoder",
    "psnr",
]

_ENC, _DEC = "DownEncoderBlock2D", "UpDecoderBlock2D"

#: Named ``AutoencoderKL`` configurations. The ShapesWorld ones are small enough to train on a
#: CPU in minutes: few channels, one ResNet per level, no attention in the middle block (which
#: also makes the network fully convolutional, so it can be trained on crops). 4 GroupNorm
#: groups keep >= 8 channels per group: with 1-2 per group the norm acts as instance norm,
#: erases each channel's absolute level, and flat colours train slower (-1.3 dB at 250 steps).
AUTOENCODER_PRESETS: dict[str, dict[str, Any]] = {
    # 64x64x3 -> 16x16x4 (f = 4): 12x fewer values; ~0.92M parameters.
    "shapes-f4": {
        "block_out_channels": (32, 64, 64),
        "down_block_types": (_ENC,) * 3,
        "up_block_types": (_DEC,) * 3,
        "layers_per_block": 1,
        "latent_channels": 4,
        "norm_num_groups": 4,
        "mid_block_add_attention": False,
        "sample_size": 64,
    },
    # 64x64x3 -> 8x8x8 (f = 8): 24x fewer values, for a cheaper denoiser; ~1.2M parameters.
    "shapes-f8": {
        "block_out_channels": (32, 64, 64, 64),
        "down_block_types": (_ENC,) * 4,
        "up_block_types": (_DEC,) * 4,
        "layers_per_block": 1,
        "latent_channels": 8,
        "norm_num_groups": 4,
        "mid_block_add_attention": False,
        "sample_size": 64,
    },
}


def _frames_of(video: torch.Tensor) -> torch.Tensor:
    """(B, C, T, H, W) -> (B*T, C, H, W), frames of one clip contiguous."""
    b, c, t, h, w = video.shape
    return video.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)


def _video_of(frames: torch.Tensor, batch: int) -> torch.Tensor:
    """(B*T, C, H, W) -> (B, C, T, H, W); inverse of :func:`_frames_of`."""
    bt, c, h, w = frames.shape
    return frames.reshape(batch, bt // batch, c, h, w).permute(0, 2, 1, 3, 4)


class FrameAutoencoder(nn.Module):
    """An ``AutoencoderKL`` used frame by frame on ``(B, C, T, H, W)`` videos.

    Args:
        vae: the 2D autoencoder; its ``config.scaling_factor`` / ``shift_factor`` scale the
            latents (see the module docstring).
        chunk_size: frames per forward pass in :meth:`encode` / :meth:`decode` (>= 1).
    """

    def __init__(self, vae: AutoencoderKL, *, chunk_size: int = 16) -> None:
        super().__init__()
        if not isinstance(vae, AutoencoderKL):
            raise SpacetimeError(f"FrameAutoencoder wraps an AutoencoderKL, got {type(vae)}")
        self.vae = vae
        self.chunk_size = chunk_size

    # ------------------------------------------------------------------------ properties

    @property
    def chunk_size(self) -> int:
        """Frames per forward pass of the 2D network."""
        return self._chunk_size

    @chunk_size.setter
    def chunk_size(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SpacetimeError(f"chunk_size must be an int >= 1 (frames), got {value!r}")
        self._chunk_size = value

    @property
    def spatial_factor(self) -> int:
        """Downsampling factor ``f``: ``h = H / f``, ``w = W / f``."""
        return 2 ** (len(self.vae.config.block_out_channels) - 1)

    @property
    def latent_channels(self) -> int:
        """Channels ``c`` of the latent video."""
        return int(self.vae.config.latent_channels)

    @property
    def in_channels(self) -> int:
        """Channels ``C`` of the pixel video (3 for RGB)."""
        return int(self.vae.config.in_channels)

    @property
    def scaling_factor(self) -> float:
        """Multiplier applied to the (shifted) posterior mean; 1 / std of the raw latents."""
        return float(self.vae.config.scaling_factor)

    @property
    def shift_factor(self) -> float:
        """Subtracted from the posterior mean before scaling; 0 when the config has none."""
        return float(self.vae.config.shift_factor or 0.0)

    def set_scaling(self, scaling_factor: float, shift_factor: float | None = None) -> None:
        """Store new latent statistics in the config (and so in the next ``save_pretrained``)."""
        if not scaling_factor > 0 or not torch.isfinite(torch.tensor(scaling_factor)):
            raise SpacetimeError(f"scaling_factor must be finite and > 0, got {scaling_factor}")
        self.vae.register_to_config(scaling_factor=float(scaling_factor), shift_factor=shift_factor)

    def latent_shape(self, frames: int, height: int, width: int) -> tuple[int, int, int, int]:
        """``(c, T, h, w)`` of the latents of a ``(C, T, H, W)`` video."""
        self._check_size(height, width)
        f = self.spatial_factor
        return (self.latent_channels, frames, height // f, width // f)

    # ------------------------------------------------------------------ encode / decode

    def _check_size(self, height: int, width: int) -> None:
        f = self.spatial_factor
        if height % f or width % f:
            raise SpacetimeError(
                f"frame size {height}x{width} must be a multiple of the autoencoder's "
                f"spatial factor {f}; resize or crop the video"
            )

    def _check_video(self, video: torch.Tensor, channels: int, what: str) -> None:
        if video.ndim != 5 or video.shape[1] != channels:
            raise SpacetimeError(
                f"{what} must be (B, {channels}, T, H, W); got shape {tuple(video.shape)}"
            )

    def _framewise(
        self, fn: Callable[[torch.Tensor], torch.Tensor], video: torch.Tensor
    ) -> torch.Tensor:
        """``fn`` over the frames of ``video``, ``chunk_size`` frames at a time.

        Each chunk is moved to the network's device and dtype; results come back to the
        input's device and dtype, so a long clip kept on the CPU is processed on a GPU
        chunk by chunk.
        """
        param = next(self.vae.parameters())
        frames = _frames_of(video)  # (B*T, C, H, W)
        outs = [
            fn(chunk.to(device=param.device, dtype=param.dtype)).to(video.device, video.dtype)
            for chunk in frames.split(self.chunk_size)
        ]
        return _video_of(torch.cat(outs), video.shape[0])

    def posterior(self, frames: torch.Tensor) -> Any:
        """The diagonal Gaussian posterior of a batch of frames ``(N, C, H, W)`` in [-1, 1]
        (unscaled latents ``(N, c, H/f, W/f)``; one pass, no chunking: for training)."""
        return self.vae.encode(frames).latent_dist

    def encode(
        self, video: torch.Tensor, *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Latents ``(B, c, T, H/f, W/f)`` of ``video (B, C, T, H, W)`` in [-1, 1].

        Returns ``(mean - shift_factor) * scaling_factor`` of each frame's posterior, or of a
        posterior sample drawn from ``generator`` when one is given.
        """
        self._check_video(video, self.in_channels, "video")
        self._check_size(video.shape[-2], video.shape[-1])

        def one(frames: torch.Tensor) -> torch.Tensor:
            dist = self.vae.encode(frames).latent_dist
            z = dist.mode() if generator is None else dist.sample(generator=generator)
            return (z - self.shift_factor) * self.scaling_factor  # (n, c, h, w)

        return self._framewise(one, video)

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Video ``(B, C, T, h*f, w*f)`` (about [-1, 1], not clamped) of scaled ``latents``
        ``(B, c, T, h, w)``; the inverse of :meth:`encode` up to reconstruction error."""
        self._check_video(latents, self.latent_channels, "latents")

        def one(z: torch.Tensor) -> torch.Tensor:
            return self.vae.decode(z / self.scaling_factor + self.shift_factor).sample

        return self._framewise(one, latents)

    def reconstruct(self, video: torch.Tensor) -> torch.Tensor:
        """``decode(encode(video))``: (B, C, T, H, W) -> (B, C, T, H, W)."""
        return self.decode(self.encode(video))

    # ----------------------------------------------------------------------- checkpoints

    def save_pretrained(self, path: str | Path) -> Path:
        """Write ``path/config.json`` + ``path/diffusion_pytorch_model.safetensors``."""
        self.vae.save_pretrained(str(path), safe_serialization=True)
        return Path(path)

    @classmethod
    def from_pretrained(cls, path: str | Path, *, chunk_size: int = 16) -> FrameAutoencoder:
        """Same as :func:`load_autoencoder`."""
        return load_autoencoder(path, chunk_size=chunk_size)


def build_autoencoder(
    preset: str = "shapes-f4", *, chunk_size: int = 16, **overrides: Any
) -> FrameAutoencoder:
    """A freshly initialised autoencoder from :data:`AUTOENCODER_PRESETS` (``overrides`` replace
    ``AutoencoderKL`` arguments, e.g. ``latent_channels=8``)."""
    if preset not in AUTOENCODER_PRESETS:
        raise SpacetimeError(
            f"unknown autoencoder preset {preset!r}; expected one of: "
            f"{', '.join(AUTOENCODER_PRESETS)}"
        )
    config = {**AUTOENCODER_PRESETS[preset], **overrides}
    # scaling 1 until estimate_scaling(): the SD default 0.18215 is meaningless for a new model.
    config.setdefault("scaling_factor", 1.0)
    try:
        vae = AutoencoderKL(**config)
    except TypeError as err:
        raise SpacetimeError(f"autoencoder preset {preset!r}: bad override ({err})") from None
    return FrameAutoencoder(vae, chunk_size=chunk_size)


def load_autoencoder(path: str | Path, *, chunk_size: int = 16) -> FrameAutoencoder:
    """Load an ``AutoencoderKL`` folder (``save_pretrained`` output, or a Stable Diffusion
    pipeline folder with a ``vae/`` subfolder) from local disk; nothing is downloaded.

    Raises :class:`SpacetimeError` when the folder is missing or does not hold an
    ``AutoencoderKL`` with safetensors weights.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise SpacetimeError(f"autoencoder folder {folder} does not exist (or is not a folder)")
    if not (folder / "config.json").is_file() and (folder / "vae" / "config.json").is_file():
        folder = folder / "vae"  # a diffusers pipeline folder
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise SpacetimeError(
            f"autoencoder folder {folder} has no config.json; expected the output of "
            "save_pretrained (config.json + *.safetensors)"
        )
    try:
        config = json.loads(config_file.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise SpacetimeError(f"{config_file} is not readable JSON: {err}") from None
    kind = config.get("_class_name") if isinstance(config, dict) else None
    if kind != "AutoencoderKL":
        raise SpacetimeError(
            f"{folder} holds a {kind or 'model without _class_name'}, expected an AutoencoderKL"
        )
    if not list(folder.glob("*.safetensors")):
        raise SpacetimeError(
            f"autoencoder folder {folder} has no *.safetensors weights (pickle is never loaded)"
        )
    try:
        vae = AutoencoderKL.from_pretrained(
            str(folder), use_safetensors=True, local_files_only=True
        )
    except (OSError, ValueError, RuntimeError) as err:
        raise SpacetimeError(f"cannot load the AutoencoderKL in {folder}: {err}") from None
    return FrameAutoencoder(vae.eval(), chunk_size=chunk_size)


@torch.no_grad()
def estimate_scaling(
    autoencoder: FrameAutoencoder, videos: Iterable[torch.Tensor]
) -> tuple[float, float]:
    """``(scaling_factor, shift_factor) = (1 / std, mean)`` of the raw posterior means of
    ``videos`` (each ``(B, C, T, H, W)`` in [-1, 1]), over every latent value.

    With these, ``(z - shift) * scale`` has zero mean and unit variance on that data, the
    scale diffusion noise schedules assume. Statistics are accumulated in float64.
    """
    total, total_sq, count = 0.0, 0.0, 0
    for video in videos:
        z = autoencoder._framewise(lambda x: autoencoder.vae.encode(x).latent_dist.mode(), video)
        z = z.double()
        total += float(z.sum())
        total_sq += float((z * z).sum())
        count += z.numel()
    if count == 0:
        raise SpacetimeError("estimate_scaling needs at least one video")
    mean = total / count
    var = max(total_sq / count - mean * mean, 1e-12)
    return 1.0 / var**0.5, mean


def psnr(reference: torch.Tensor, estimate: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB of each clip, ``(B,)``, for ``(B, C, T, H, W)`` videos
    in [-1, 1], measured on the 8-bit pixels a file would hold: both are clamped and rounded to
    0..255, then ``10 log10(255^2 / MSE)`` over all values of the clip. The MSE is floored at
    1e-10, so identical clips give a finite ~148 dB."""
    if reference.shape != estimate.shape or reference.ndim != 5:
        raise SpacetimeError(
            f"psnr needs two (B, C, T, H, W) videos of one shape; got "
            f"{tuple(reference.shape)} and {tuple(estimate.shape)}"
        )

    def pixels(video: torch.Tensor) -> torch.Tensor:
        return ((video.detach().double().clamp(-1, 1) + 1) * 127.5).round()

    mse = (pixels(reference) - pixels(estimate)).pow(2).flatten(1).mean(1)  # (B,)
    return 10 * torch.log10(255.0**2 / mse.clamp_min(1e-10))
