"""The denoiser contract (DESIGN.md), checked on every architecture and attention mode."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from spacetime.contracts.conditioning import FrameCondition, TextEmbedding
from spacetime.errors import SpacetimeError
from spacetime.models.base import VideoDenoiser
from spacetime.models.dit import SpaceTimeDiT
from spacetime.models.unet3d import UNet3D

ARCHS = ["unet3d", "unet3d-bias", "dit", "dit-full"]
B, C, T, H, W, TEXT_DIM = 2, 3, 3, 8, 8, 6


def build(arch: str, seed: int = 0, **kw: object) -> VideoDenoiser:
    """A tiny model of ``arch``, as initialised."""
    torch.manual_seed(seed)
    if arch.startswith("unet3d"):
        if arch == "unet3d-bias":
            kw["time_position"] = "bias"
        model: VideoDenoiser = UNet3D(
            base_channels=8, channel_mult=(1, 2), num_res_blocks=1, attention_levels=(1,),
            heads=2, norm_groups=4, **kw,
        )  # fmt: skip
    else:
        if arch == "dit-full":
            kw["attention"] = "full"
        model = SpaceTimeDiT(hidden_size=16, depth=1, heads=2, patch_size=2, **kw)
    return model


def make(arch: str, seed: int = 0, **kw: object) -> VideoDenoiser:
    """A tiny model of ``arch`` with every weight perturbed away from its (zero) init."""
    model = build(arch, seed, **kw)
    with torch.no_grad():  # zero-init output paths would make most checks vacuous
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.2)
    return model.eval()


def inputs(seed: int = 1, t_frames: int = T) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(B, C, t_frames, H, W, generator=g), torch.rand(B, generator=g) * 1000


def text_embedding(seed: int = 2) -> TextEmbedding:
    g = torch.Generator().manual_seed(seed)
    mask = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1]], dtype=torch.bool)
    return TextEmbedding(torch.randn(B, 4, TEXT_DIM, generator=g), mask)


def public_config(model: VideoDenoiser) -> dict[str, object]:
    """The constructor arguments in ``model.config`` (sequences as lists, as in config.json)."""
    return {
        k: list(v) if isinstance(v, tuple) else v
        for k, v in model.config.items()
        if not k.startswith("_")
    }


def frame_change(model: VideoDenoiser, frame: int, **kw: object) -> torch.Tensor:
    """Max output change per frame (T,) when input frame ``frame`` is perturbed."""
    x, t = inputs()
    x2 = x.clone()
    x2[:, :, frame] += 1.0
    with torch.no_grad():
        return (model(x2, t, **kw) - model(x, t, **kw)).abs().amax(dim=(0, 1, 3, 4))


@pytest.mark.parametrize("arch", ARCHS)
def test_output_shape_for_videos_and_images(arch: str) -> None:
    model = make(arch, out_channels=5)
    for frames in (1, 4):
        x, t = inputs(t_frames=frames)
        assert model(x, t).shape == (B, 5, frames, H, W)


@pytest.mark.parametrize("arch", ARCHS)
def test_constant_per_frame_time_equals_batch_time(arch: str) -> None:
    model = make(arch)
    x, t = inputs()
    with torch.no_grad():
        out = model(x, t)
        torch.testing.assert_close(model(x, t[:, None].expand(B, T)), out, rtol=0, atol=0)
        torch.testing.assert_close(model(x, 500.0), model(x, torch.full((B,), 500.0)))
        t_frames = t[:, None].repeat(1, T)
        t_frames[:, 0] = 0.0  # a given frame: clean
        assert (model(x, t_frames) - out).abs().max() > 1e-2  # measured ~2: not rounding


@pytest.mark.parametrize("arch", ARCHS)
def test_save_pretrained_round_trip(arch: str, tmp_path: Path) -> None:
    model = make(arch, text_dim=TEXT_DIM, frame_conditioning=True)
    model.save_pretrained(tmp_path)
    assert (tmp_path / "config.json").is_file()
    assert list(tmp_path.glob("*.safetensors"))
    loaded = type(model).from_pretrained(tmp_path).eval()
    assert public_config(loaded) == public_config(model)
    x, t = inputs()
    mask = torch.tensor([[True, False, False], [False, False, True]])
    kw = {"text": text_embedding(), "frames": FrameCondition(mask, torch.randn_like(x))}
    with torch.no_grad():
        torch.testing.assert_close(loaded(x, t, **kw), model(x, t, **kw), rtol=0, atol=0)


@pytest.mark.parametrize("arch", ARCHS)
def test_deterministic(arch: str) -> None:
    a, b = make(arch), make(arch)
    x, t = inputs()
    with torch.no_grad():
        out = a(x, t)
        torch.testing.assert_close(a(x, t), out, rtol=0, atol=0)
        torch.testing.assert_close(b(x, t), out, rtol=0, atol=0)
        assert (make(arch, seed=5)(x, t) - out).abs().max() > 1e-2  # measured ~5


@pytest.mark.parametrize("arch", ARCHS)
def test_gradient_reaches_every_parameter(arch: str) -> None:
    model = make(arch, text_dim=TEXT_DIM, frame_conditioning=True).train()
    x, t = inputs()
    frames = FrameCondition(torch.tensor([[True, False, False]] * B), torch.randn_like(x))
    model(x, t, text=text_embedding(), frames=frames).square().mean().backward()
    dead = [n for n, p in model.named_parameters() if p.grad is None or p.grad.abs().sum() == 0]
    assert not dead, f"no gradient reaches {dead}"


@pytest.mark.parametrize("arch", ARCHS)
def test_per_frame_baseline_is_frame_independent(arch: str) -> None:
    model = make(arch, temporal=False)
    assert not [n for n, _ in model.named_parameters() if "temporal" in n or "rel_bias" in n]
    x, _ = inputs()
    t = torch.tensor([[10.0, 500.0, 990.0], [0.0, 250.0, 750.0]])
    perm = torch.tensor([2, 0, 1])
    # Permuted frames sit at other rows of the kernels' (B*T) batch, which CPU kernels may
    # block differently: in float32 that rounds differently by up to ~5e-6 with two threads.
    # In float64 such rounding is ~1e-15, so 1e-9 separates it from any real frame mixing.
    model64, x64 = model.double(), x.double()
    with torch.no_grad():
        torch.testing.assert_close(
            model64(x64[:, :, perm], t[:, perm]), model64(x64, t)[:, :, perm], rtol=0, atol=1e-9
        )
    model.float()
    change = frame_change(model, 0)
    assert change[0] > 1e-3 and torch.all(change[1:] == 0)


@pytest.mark.parametrize("arch", ARCHS)
def test_temporal_model_mixes_frames(arch: str) -> None:
    change = frame_change(make(arch), 0)
    assert torch.all(change[1:] > 1e-4), change


@pytest.mark.parametrize("arch", ARCHS)
def test_images_bypass_temporal_layers(arch: str) -> None:
    # With T == 1 the temporal model equals the per-frame model holding the same weights.
    video_model, image_model = make(arch), make(arch, seed=9, temporal=False)
    result = image_model.load_state_dict(video_model.state_dict(), strict=False)
    assert not result.missing_keys  # temporal=False shares every non-temporal weight
    assert all("temporal" in k for k in result.unexpected_keys), result.unexpected_keys
    x, t = inputs(t_frames=1)
    # float64: the two take different code paths, whose float32 rounding may differ
    image_model, video_model, x = image_model.double(), video_model.double(), x.double()
    with torch.no_grad():
        torch.testing.assert_close(image_model(x, t), video_model(x, t), rtol=0, atol=1e-9)


@pytest.mark.parametrize("arch", ARCHS)
def test_text_mask_is_honoured(arch: str) -> None:
    # Margins, not float noise: a real token with new content moves sample 0's output by
    # 0.24-2.2 (measured over the four architectures); padding and the other sample move by
    # rounding only, ~1e-15 in float64 (float32 rounding, ~1e-6, could approach a tolerance
    # with another BLAS), 1e-5 tolerated. 1e-2 sits 1000x above that tolerance.
    model = make(arch, text_dim=TEXT_DIM).double()
    x, t = inputs()
    x, emb = x.double(), text_embedding()
    text = TextEmbedding(emb.tokens.double(), emb.mask)

    def change(tokens: torch.Tensor, mask: torch.Tensor = text.mask) -> torch.Tensor:
        """Max |output change| per sample (B,) when the text becomes ``tokens``/``mask``."""
        out = model(x, t, text=TextEmbedding(tokens, mask))
        return (out - model(x, t, text=text)).abs().amax(dim=(1, 2, 3, 4))

    with torch.no_grad():
        padded = text.tokens.clone()
        padded[0, 2:] = 1e3  # the padding tokens of sample 0
        assert change(padded).max() <= 1e-5
        # A real token of sample 0 gets another direction. (A constant shift of every
        # dimension would test nothing: the context's LayerNorm removes it.)
        g = torch.Generator().manual_seed(3)
        changed = text.tokens.clone()
        changed[0, 0] = (
            torch.randn(TEXT_DIM, generator=g, dtype=torch.float64)
            * text.tokens[0, 0].norm()
            / TEXT_DIM**0.5
        )
        moved = change(changed)
        assert moved[0] > 1e-2 and moved[1] <= 1e-5, moved
        # No real token at all is exactly the unconditional call, which the text changes.
        uncond = model(x, t)
        assert torch.isfinite(uncond).all()
        empty = TextEmbedding(text.tokens, torch.zeros_like(text.mask))
        assert (model(x, t, text=empty) - uncond).abs().max() <= 1e-5
        assert (model(x, t, text=text) - uncond).abs().amax(dim=(1, 2, 3, 4)).min() > 1e-2


@pytest.mark.parametrize("arch", ARCHS)
def test_frame_conditioning_channel(arch: str) -> None:
    model = make(arch, frame_conditioning=True)
    x, t = inputs()
    given = torch.randn_like(x)
    mask = torch.tensor([[True, False, False], [True, False, True]])
    with torch.no_grad():
        out = model(x, t, frames=FrameCondition(mask, given))
        x2 = x.clone()
        x2[:, :, 0] += 5.0  # noisy input at given frames is replaced by the given values
        torch.testing.assert_close(model(x2, t, frames=FrameCondition(mask, given)), out)
        # values of frames that are not given are not read
        given2 = given.clone()
        given2[:, :, 1] += 5.0
        torch.testing.assert_close(model(x, t, frames=FrameCondition(mask, given2)), out)
        # no frames == nothing given; the mask channel itself carries information
        none = FrameCondition(torch.zeros_like(mask), given)
        torch.testing.assert_close(model(x, t, frames=none), model(x, t))
        same_values = FrameCondition(mask, x)  # given frames equal x_t: only the mask differs
        assert (model(x, t, frames=same_values) - model(x, t)).abs().max() > 1e-2  # ~1


@pytest.mark.parametrize(
    ("shape", "t_shape", "match"),
    [
        ((B, C, T, 7, 8), (B,), "frame size 7x8"),
        ((B, 4, T, H, W), (B,), "4 channels"),
        ((B, C, H, W), (B,), "video batch"),
        ((B, C, T, H, W), (B, 2), r"t has shape \(2, 2\)"),
    ],
)
@pytest.mark.parametrize("arch", ["unet3d", "dit"])
def test_bad_inputs_raise_spacetime_error(
    arch: str, shape: tuple[int, ...], t_shape: tuple[int, ...], match: str
) -> None:
    model = make(arch)
    with pytest.raises(SpacetimeError, match=match):
        model(torch.zeros(shape), torch.zeros(t_shape))


def test_unused_conditioning_is_an_error() -> None:
    model = make("dit")
    x, t = inputs()
    with pytest.raises(SpacetimeError, match="text_dim=None"):
        model(x, t, text=text_embedding())
    with pytest.raises(SpacetimeError, match="frame_conditioning=False"):
        model(x, t, frames=FrameCondition(torch.ones(B, T, dtype=torch.bool), x))
    texty = make("dit", text_dim=TEXT_DIM + 1)
    with pytest.raises(SpacetimeError, match="text_dim"):
        texty(x, t, text=text_embedding())


@pytest.mark.parametrize("arch", ARCHS)
def test_training_from_init_switches_temporal_mixing_on(arch: str) -> None:
    # From the zero-initialised start (frames independent), a few optimiser steps on a target
    # that needs the other frames (predict each frame's temporal neighbour) make frames mix.
    model = build(arch)
    assert torch.all(frame_change(model, 0)[1:] == 0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    x, t = inputs()
    for _ in range(4):
        opt.zero_grad()
        (model(x, t) - x.roll(1, dims=2)).square().mean().backward()
        opt.step()
    assert torch.all(frame_change(model.eval(), 0)[1:] > 1e-5)


@pytest.mark.parametrize("arch", ["unet3d", "dit-full"])
def test_bfloat16_matches_float32(arch: str) -> None:
    model = make(arch, text_dim=TEXT_DIM)
    x, t = inputs()
    text = text_embedding()
    with torch.no_grad():
        want = model(x, t, text=text)
        got = model.to(torch.bfloat16)(x.bfloat16(), t, text=text)
    assert got.dtype == torch.bfloat16
    err = (got.float() - want).norm() / want.norm()
    assert err < 0.05, err
