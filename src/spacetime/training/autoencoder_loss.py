"""The training loss of a :class:`~spacetime.models.autoencoder.FrameAutoencoder` and its
held-out score.

The loss of a batch of frames ``x`` with posterior ``q(z|x)`` and reconstruction
``y = D(z)``, ``z ~ q(z|x)`` (Kingma & Welling 2014; Rombach et al. 2022, App. G without the
adversarial and LPIPS terms, which need downloaded weights) is

    L = |y - x|_1 + mse_weight * |y - x|_2^2
        + edge_weight * (|dy/du - dx/du|_1 + |dy/dv - dx/dv|_1) + kl_weight * KL

all as means (per pixel; per latent value for the KL). The squared error matters on
ShapesWorld: small saturated shapes cover a few % of the pixels, so under L1 alone a grey blob
in their place costs less than the background's small errors, and the network learns colour
last; the squared term weighs those large errors up (and is what PSNR measures). The edge
term is the gradient difference loss of Mathieu et al. 2016 ("Deep multi-scale video
prediction beyond mean square error", Eq. 5 with alpha = 1): a cheap stand-in for a
perceptual loss that rewards sharp edges.
With ``sample_posterior=False``, ``z`` is the posterior mean (a plain autoencoder; the KL term
then only penalises large latents).

The held-out score is the reconstruction PSNR of whole clips (:func:`evaluate_autoencoder`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from spacetime.models.autoencoder import FrameAutoencoder, psnr

__all__ = ["AutoencoderLoss", "evaluate_autoencoder"]


def _spatial_gradients(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward differences along H and W of ``(N, C, H, W)``."""
    return x[..., 1:, :] - x[..., :-1, :], x[..., :, 1:] - x[..., :, :-1]


class AutoencoderLoss(nn.Module):
    """The training loss of the module docstring, as a module so DDP syncs its gradients.

    ``forward(frames (N, 3, H, W) in [-1, 1], generator) -> {"loss", "l1", "mse", "edge", "kl"}``
    (scalars; ``loss`` is the weighted sum that is minimised).
    """

    def __init__(
        self,
        autoencoder: FrameAutoencoder,
        edge_weight: float,
        kl_weight: float,
        *,
        mse_weight: float = 0.0,
        sample_posterior: bool = True,
    ) -> None:
        super().__init__()
        self.autoencoder = autoencoder
        self.edge_weight, self.kl_weight, self.mse_weight = edge_weight, kl_weight, mse_weight
        self.sample_posterior = sample_posterior

    def forward(self, frames: torch.Tensor, generator: torch.Generator) -> dict[str, torch.Tensor]:
        posterior = self.autoencoder.posterior(frames)  # latents (N, c, h, w)
        z = posterior.sample(generator=generator) if self.sample_posterior else posterior.mode()
        recon = self.autoencoder.vae.decode(z).sample  # (N, 3, H, W)
        l1 = (recon - frames).abs().mean()
        mse = (recon - frames).pow(2).mean()
        (ry, rx), (fy, fx) = _spatial_gradients(recon), _spatial_gradients(frames)
        edge = (ry - fy).abs().mean() + (rx - fx).abs().mean()
        kl = posterior.kl().mean() / z[0].numel()  # per latent value
        loss = l1 + self.mse_weight * mse + self.edge_weight * edge + self.kl_weight * kl
        return {"loss": loss, "l1": l1, "mse": mse, "edge": edge, "kl": kl}


@torch.no_grad()
def evaluate_autoencoder(
    autoencoder: FrameAutoencoder, clips: list[torch.Tensor]
) -> dict[str, Any]:
    """Reconstruction PSNR (dB, 8-bit pixels, :func:`~spacetime.models.autoencoder.psnr`) of
    each ``(C, T, H, W)`` clip in [-1, 1]: ``{"psnr": mean, "psnr_min": worst, "psnr_per_clip"}``.
    """
    was_training = autoencoder.training
    autoencoder.eval()
    values = []
    for clip in clips:
        video = clip.unsqueeze(0)  # (1, C, T, H, W)
        values.append(float(psnr(video, autoencoder.reconstruct(video))[0]))
    autoencoder.train(was_training)
    return {
        "psnr": float(np.mean(values)),
        "psnr_min": float(np.min(values)),
        "psnr_per_clip": values,
    }
