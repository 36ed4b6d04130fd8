"""The autoencoder's training loss, term by term, and its held-out PSNR score."""

from __future__ import annotations

import math

import pytest
import torch

from spacetime.models.autoencoder import FrameAutoencoder, build_autoencoder
from spacetime.training.autoencoder_loss import AutoencoderLoss, evaluate_autoencoder

_ENC, _DEC = "DownEncoderBlock2D", "UpDecoderBlock2D"


@pytest.fixture(scope="module")
def autoencoder() -> FrameAutoencoder:
    """A random f = 4, 4-channel autoencoder, 8 wide, in float64 (exact sums to compare)."""
    torch.manual_seed(0)
    return build_autoencoder(
        "shapes-f4", block_out_channels=(8, 8, 8), down_block_types=(_ENC,) * 3,
        up_block_types=(_DEC,) * 3, norm_num_groups=4, latent_channels=4,
    ).double()  # fmt: skip


def _frames(seed: int, n: int = 2, size: int = 16) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, size, size, generator=gen, dtype=torch.float64) * 2 - 1


def test_terms_are_the_formulas_of_the_docstring(autoencoder: FrameAutoencoder) -> None:
    loss = AutoencoderLoss(autoencoder, 0.5, 0.01, mse_weight=10.0, sample_posterior=False)
    frames = _frames(0)
    with torch.no_grad():
        terms = loss(frames, torch.Generator().manual_seed(0))
        posterior = autoencoder.vae.encode(frames).latent_dist
        mu, logvar = posterior.mean, posterior.logvar  # (2, 4, 4, 4)
        recon = autoencoder.vae.decode(mu).sample  # the posterior mean, decoded
    err = recon - frames
    l1, mse = err.abs().mean(), (err**2).mean()
    edge = sum(
        (torch.diff(recon, dim=d) - torch.diff(frames, dim=d)).abs().mean() for d in (-2, -1)
    )
    # KL(N(mu, var) || N(0, 1)) per latent value, averaged.
    kl = (0.5 * (mu**2 + logvar.exp() - 1 - logvar)).mean()
    expected = {"l1": l1, "mse": mse, "edge": edge, "kl": kl}
    expected["loss"] = l1 + 10.0 * mse + 0.5 * edge + 0.01 * kl
    assert set(terms) == set(expected)
    for name, value in expected.items():
        assert terms[name].ndim == 0
        torch.testing.assert_close(terms[name], value, rtol=1e-10, atol=0, msg=name)
    assert float(kl) > 0 and float(edge) > 0


def test_weights_of_zero_leave_the_l1_alone(autoencoder: FrameAutoencoder) -> None:
    loss = AutoencoderLoss(autoencoder, 0.0, 0.0, sample_posterior=False)
    with torch.no_grad():
        terms = loss(_frames(1), torch.Generator())
    assert float(terms["loss"]) == float(terms["l1"])
    assert float(terms["mse"]) > 0 and float(terms["edge"]) > 0  # measured, not counted


def test_posterior_samples_come_from_the_generator_only(autoencoder: FrameAutoencoder) -> None:
    loss = AutoencoderLoss(autoencoder, 0.5, 1e-3)
    frames = _frames(2)

    def run(seed: int) -> dict[str, torch.Tensor]:
        with torch.no_grad():
            return loss(frames, torch.Generator().manual_seed(seed))

    torch.manual_seed(123)  # the global generator plays no part
    a = run(7)
    torch.manual_seed(456)
    b, c = run(7), run(8)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["l1"], c["l1"])
    assert torch.equal(a["kl"], c["kl"])  # the KL is of the posterior, not of its sample
    mean = AutoencoderLoss(autoencoder, 0.5, 1e-3, sample_posterior=False)
    with torch.no_grad():
        mode = mean(frames, torch.Generator().manual_seed(7))
    assert torch.equal(mode["kl"], a["kl"]) and not torch.equal(mode["l1"], a["l1"])


def test_the_loss_trains_encoder_and_decoder(autoencoder: FrameAutoencoder) -> None:
    autoencoder.zero_grad(set_to_none=True)
    AutoencoderLoss(autoencoder, 0.5, 1e-3)(_frames(3), torch.Generator().manual_seed(0))[
        "loss"
    ].backward()
    encoder = autoencoder.vae.encoder.conv_in.weight.grad
    decoder = autoencoder.vae.decoder.conv_out.weight.grad
    assert encoder is not None and decoder is not None
    assert encoder.abs().sum() > 0 and decoder.abs().sum() > 0
    autoencoder.zero_grad(set_to_none=True)


def test_evaluation_is_the_psnr_of_8_bit_reconstructions(autoencoder: FrameAutoencoder) -> None:
    gen = torch.Generator().manual_seed(4)
    clips = [torch.rand(3, t, 16, 16, generator=gen, dtype=torch.float64) * 2 - 1 for t in (2, 3)]
    autoencoder.train()
    scores = evaluate_autoencoder(autoencoder, clips)
    assert autoencoder.training  # the mode it was in is restored
    expected = []
    with torch.no_grad():
        autoencoder.eval()
        for clip in clips:
            recon = autoencoder.reconstruct(clip[None])[0]
            pixels = [((v.clamp(-1, 1) + 1) * 127.5).round() for v in (clip, recon)]
            mse = float((pixels[0] - pixels[1]).pow(2).mean())
            expected.append(10 * math.log10(255.0**2 / mse))
    assert scores["psnr_per_clip"] == pytest.approx(expected, rel=1e-9)
    assert scores["psnr"] == pytest.approx(sum(expected) / 2, rel=1e-9)
    assert scores["psnr_min"] == pytest.approx(min(expected), rel=1e-9)
    assert not autoencoder.training  # left in eval mode when called in eval mode
    evaluate_autoencoder(autoencoder, clips[:1])
    assert not autoencoder.training
