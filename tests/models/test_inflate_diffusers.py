"""Inflating a diffusers UNet2DConditionModel: per-frame equality, temporal parameters, loading."""

from __future__ import annotations

import copy
import pickle
import shutil
from pathlib import Path

import pytest
import torch
from diffusers import UNet2DConditionModel

from spacetime.contracts.conditioning import FrameCondition, TextEmbedding
from spacetime.diffusion import build_objective
from spacetime.errors import SpacetimeError
from spacetime.models.inflate import inflate, is_temporal_parameter, temporal_parameter_names
from spacetime.models.inflate_diffusers import InflatedUNet2D, inflate_diffusers_unet
from spacetime.models.text import WordTextEncoder
from spacetime.pipelines.video_pipeline import VideoPipeline

# One cross-attention block and one plain block each way: both temporal layouts are built.
TINY = {
    "sample_size": 8,
    "in_channels": 3,
    "out_channels": 3,
    "block_out_channels": (8, 16),
    "layers_per_block": 1,
    "cross_attention_dim": 16,
    "norm_num_groups": 4,
    "attention_head_dim": 4,
    "down_block_types": ("CrossAttnDownBlock2D", "DownBlock2D"),
    "up_block_types": ("UpBlock2D", "CrossAttnUpBlock2D"),
}


def randomise(module: torch.nn.Module, seed: int, *, only_temporal: bool = False) -> None:
    """Every weight (or every temporal one) to N(0, 0.3^2): no zero-init can hide a bug."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if is_temporal_parameter(name) or not only_temporal:
                p.copy_(0.3 * torch.randn(p.shape, generator=gen, dtype=torch.float64))


@pytest.fixture(scope="module")
def unet_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random tiny UNet2DConditionModel saved as safetensors."""
    unet = UNet2DConditionModel(**TINY)
    randomise(unet, seed=0)
    folder = tmp_path_factory.mktemp("unet2d")
    unet.save_pretrained(folder, safe_serialization=True)
    return folder


def video_inputs() -> tuple[torch.Tensor, torch.Tensor, TextEmbedding]:
    """B=2, T=4 float64 video, per-frame t, text with padding in the first row's mask."""
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(2, 3, 4, 8, 8, generator=gen, dtype=torch.float64)
    t = torch.tensor([[999.0, 640.5, 200.0, 0.0], [10.0, 350.0, 351.0, 900.0]])
    tokens = torch.randn(2, 5, 16, generator=gen, dtype=torch.float64)
    mask = torch.tensor([[True, True, True, False, False], [True] * 5])
    return x, t, TextEmbedding(tokens, mask)


def per_frame(unet: UNet2DConditionModel, x: torch.Tensor, t: torch.Tensor, text: TextEmbedding):
    """The 2D U-Net applied to every frame of ``x`` (B, C, T, H, W) with that frame's ``t``."""
    frames = [
        unet(x[:, :, i], t[:, i], encoder_hidden_states=text.tokens,
             encoder_attention_mask=text.mask).sample
        for i in range(x.shape[2])
    ]  # fmt: skip
    return torch.stack(frames, dim=2)  # (B, C, T, H, W)


def load_both(unet_dir: Path, **options) -> tuple[UNet2DConditionModel, InflatedUNet2D]:
    """The saved 2D U-Net and its inflation (read back through the folder), in float64."""
    unet = UNet2DConditionModel.from_pretrained(unet_dir).double().eval()
    model = inflate_diffusers_unet(unet_dir, **options).double().eval()
    return unet, model


@pytest.mark.parametrize("frame_conditioning", [False, True])
def test_inflated_unet_equals_the_2d_unet_frame_by_frame(
    unet_dir: Path, frame_conditioning: bool
) -> None:
    unet, model = load_both(unet_dir, frame_conditioning=frame_conditioning)
    x, t, text = video_inputs()
    with torch.no_grad():
        expected = per_frame(unet, x, t, text)
        out = model(x, t, text=text)
    assert out.shape == (2, 3, 4, 8, 8)
    assert expected.abs().amax() > 0.1  # a live network, not zeros
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-10)
    if frame_conditioning:
        # given frames are pasted into x_t; the mask channel's weights start at zero
        given = FrameCondition(torch.tensor([[True, False, False, True]] * 2), torch.randn_like(x))
        with torch.no_grad():
            out = model(x, t, text=text, frames=given)
            expected = per_frame(unet, given.apply(x), t, text)
        torch.testing.assert_close(out, expected, rtol=0, atol=1e-10)


def test_temporal_layers_follow_every_resnet_and_transformer(unet_dir: Path) -> None:
    _, model = load_both(unet_dir)
    layout = {
        key: (block.temporal_conv is not None, block.temporal_attn is not None)
        for key, block in model.temporal_layers.items()
    }
    conv, both, attention = (True, False), (True, True), (False, True)
    assert layout == {
        "down_blocks_0_resnets_0": conv, "down_blocks_0_attentions_0": attention,
        "down_blocks_1_resnets_0": both,  # no transformer in DownBlock2D
        "mid_block_resnets_0": conv, "mid_block_attentions_0": attention,
        "mid_block_resnets_1": conv,
        "up_blocks_0_resnets_0": both, "up_blocks_0_resnets_1": both,
        "up_blocks_1_resnets_0": conv, "up_blocks_1_resnets_1": conv,
        "up_blocks_1_attentions_0": attention, "up_blocks_1_attentions_1": attention,
    }  # fmt: skip
    names = temporal_parameter_names(model)
    assert names and all(n.startswith("temporal_layers.") for n in names)
    # every other parameter is the 2D U-Net's, under its own name
    spatial = {n for n, _ in model.named_parameters() if not is_temporal_parameter(n)}
    assert spatial == {f"unet.{n}" for n, _ in UNet2DConditionModel(**TINY).named_parameters()}


def test_training_the_temporal_layers_mixes_frames(unet_dir: Path) -> None:
    unet, model = load_both(unet_dir)
    model.train()
    for name, p in model.named_parameters():
        p.requires_grad_(is_temporal_parameter(name))  # finetune.spatial=frozen
    spatial_before = copy.deepcopy(model.unet.state_dict())
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    x, t, text = video_inputs()
    target = torch.roll(x, 1, dims=2)  # a motion target: frame i from frame i - 1
    (model(x, t, text=text) - target).square().mean().backward()
    assert all(p.grad is None for p in model.unet.parameters())  # frozen: no gradient
    optimizer.step()
    model.eval()
    with torch.no_grad():
        out = model(x, t, text=text)
        expected = per_frame(unet, x, t, text)
        x2 = x.clone()
        x2[:, :, 3] += 1.0  # change the last frame only
        first_frame_change = (model(x2, t, text=text) - out)[:, :, 0].abs().amax()
    assert (out - expected).abs().amax() > 1e-4  # no longer the per-frame model
    assert first_frame_change > 1e-6  # frame 0 now sees frame 3
    for name, value in model.unet.state_dict().items():
        assert torch.equal(value, spatial_before[name]), name


def test_gradient_checkpointing_gives_the_same_gradients(unet_dir: Path) -> None:
    # The backward pass recomputes checkpointed ResNets after forward has ended: their temporal
    # layers must still see the clip length.
    _, model = load_both(unet_dir)
    randomise(model, seed=2, only_temporal=True)
    model.train()
    x, t, text = video_inputs()

    def gradients() -> dict[str, torch.Tensor]:
        model.zero_grad()
        model(x, t, text=text).square().sum().backward()
        return {n: p.grad.clone() for n, p in model.named_parameters()}

    plain = gradients()
    model.enable_gradient_checkpointing()
    checkpointed = gradients()
    model.disable_gradient_checkpointing()
    for name, grad in plain.items():
        torch.testing.assert_close(checkpointed[name], grad, rtol=0, atol=1e-12, msg=name)


def test_save_load_round_trip_is_bit_exact(unet_dir: Path, tmp_path: Path) -> None:
    model = inflate_diffusers_unet(unet_dir, frame_conditioning=True, time_position="bias")
    randomise(model, seed=3, only_temporal=True)
    model.save_pretrained(tmp_path / "video")
    loaded = InflatedUNet2D.from_pretrained(tmp_path / "video").eval()
    assert loaded.config.unet_config == model.config.unet_config
    assert (loaded.config.in_channels, loaded.config.text_dim) == (3, 16)
    assert loaded.config.time_position == "bias" and loaded.config.frame_conditioning
    state = model.state_dict()
    assert all(torch.equal(v, state[k]) for k, v in loaded.state_dict().items())
    x, t, text = video_inputs()
    x, text = x.float(), TextEmbedding(text.tokens.float(), text.mask)
    with torch.no_grad():
        assert torch.equal(loaded(x, t, text=text), model.eval()(x, t, text=text))
    # a deep copy (an EMA model) runs its own temporal layers
    twin = copy.deepcopy(model)
    randomise(twin, seed=4, only_temporal=True)
    with torch.no_grad():
        assert torch.equal(loaded(x, t, text=text), model(x, t, text=text))
        assert not torch.equal(twin(x, t, text=text), model(x, t, text=text))


def test_video_pipeline_round_trip(unet_dir: Path, tmp_path: Path) -> None:
    model = inflate_diffusers_unet(unet_dir).eval()
    randomise(model, seed=5, only_temporal=True)
    encoder = WordTextEncoder.from_captions(["a red circle"], dim=16, layers=1, heads=2).eval()
    pipe = VideoPipeline(
        model, encoder, build_objective({"kind": "gaussian"}), sample_frames=4, sample_size=8
    )
    pipe.save_pretrained(tmp_path / "pipe")
    loaded = VideoPipeline.from_pretrained(tmp_path / "pipe")
    assert type(loaded.denoiser) is InflatedUNet2D
    video = pipe(["a red circle"], seeds=[0], steps=2)
    assert video.shape == (1, 4, 8, 8, 3)
    assert (loaded(["a red circle"], seeds=[0], steps=2) == video).all()


def test_pipeline_folder_with_unet_subfolder(unet_dir: Path, tmp_path: Path) -> None:
    shutil.copytree(unet_dir, tmp_path / "sd" / "unet")
    model = inflate_diffusers_unet(tmp_path / "sd")
    reference = UNet2DConditionModel.from_pretrained(unet_dir).state_dict()
    assert all(torch.equal(v, reference[k]) for k, v in model.unet.state_dict().items())


class _Trap:
    """Unpickling this creates ``path``: proof that a file was unpickled."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.touch, (self.path,))


def test_pickled_weights_are_refused_without_unpickling(unet_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "pickled"
    folder.mkdir()
    shutil.copy(unet_dir / "config.json", folder / "config.json")
    sentinel = tmp_path / "unpickled"
    (folder / "diffusion_pytorch_model.bin").write_bytes(pickle.dumps(_Trap(sentinel)))
    with pytest.raises(SpacetimeError, match=r"diffusion_pytorch_model\.bin is a pickle"):
        inflate_diffusers_unet(folder)
    assert not sentinel.exists()


def test_bad_inputs(unet_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(SpacetimeError, match="does not exist"):
        inflate_diffusers_unet(tmp_path / "missing")
    with pytest.raises(SpacetimeError, match="not a UNet2DConditionModel folder"):
        inflate_diffusers_unet(tmp_path)
    with pytest.raises(SpacetimeError, match="addition_embed_type='text_time'"):
        InflatedUNet2D(
            {**TINY, "addition_embed_type": "text_time", "addition_time_embed_dim": 4,
             "projection_class_embeddings_input_dim": 40}
        )  # fmt: skip
    with pytest.raises(SpacetimeError, match="heads=3 must divide"):
        inflate_diffusers_unet(unet_dir, heads=3)
    model = inflate_diffusers_unet(unet_dir)
    x, t, text = video_inputs()
    x, text = x.float(), TextEmbedding(text.tokens.float(), text.mask)
    with pytest.raises(SpacetimeError, match="pass text="):
        model(x, t)
    with pytest.raises(SpacetimeError, match=r"expected \(2, L, 16\)"):
        model(x, t, text=TextEmbedding(torch.zeros(2, 3, 8), torch.ones(2, 3, dtype=torch.bool)))
    with pytest.raises(SpacetimeError, match="frame_conditioning=False"):
        model(x, t, text=text, frames=FrameCondition(torch.ones(2, 4, dtype=torch.bool), x))
    with pytest.raises(SpacetimeError, match="already a space-time model"):
        inflate(model)
