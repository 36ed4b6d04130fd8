"""Inflate a diffusers ``UNet2DConditionModel`` (an image model users bring) into a video denoiser.

The wrapped 2D U-Net runs unchanged on every frame (frames folded into the batch), and
spacetime's own temporal layers run after its 2D modules, on the unfolded video
``(B, C, T, H, W)``:

- a pseudo-3D temporal convolution (:class:`~spacetime.models.layers.TemporalConv`) after every
  ResNet block (Make-A-Video, Singer et al. 2022, sec. 3.2; ModelScope's ``TemporalConvLayer``);
- temporal self-attention (one :class:`~spacetime.models.attention.Attention` with
  ``axis="time"``, relative frame position) after every spatial transformer, and after every
  ResNet block of the blocks that have no transformer (AnimateDiff's motion modules, Guo et al.
  2024, sec. 4.2, which sit in every down, mid and up block).

Each temporal site is a :class:`~spacetime.models.unet3d.SpaceTimeBlock` without spatial layers
— the very block of :class:`~spacetime.models.unet3d.UNet3D` — with its outputs zero-initialised,
so **the inflated network on a video equals the 2D U-Net applied frame by frame** until the
temporal layers are trained. They live in :attr:`InflatedUNet2D.temporal_layers`, so every
temporal parameter's name contains ``temporal``
(:func:`spacetime.models.inflate.is_temporal_parameter`) and the video stage can train them
alone; ``InflatedUNet2D.unet`` is the diffusers U-Net itself, with the parameter names of the
image checkpoint.

The temporal layers run as forward hooks on the U-Net's ResNet and transformer modules, so the
diffusers blocks run their own code (adapters, FreeU, attention processors keep working). The
hooks act only inside :meth:`InflatedUNet2D.forward`, which tells them the clip length: calling
``model.unet`` directly is the 2D model.

Frame conditioning widens the U-Net's ``conv_in`` by the frame-mask channel with zero weights,
as Stable Diffusion's inpainting model widens it for its mask and masked image, so with no
given frames the output is unchanged.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from diffusers import UNet2DConditionModel
from diffusers.configuration_utils import register_to_config
from torch import nn

from spacetime.contracts.conditioning import FrameCondition, TextEmbedding
from spacetime.contracts.weights import check_weights
from spacetime.errors import SpacetimeError
from spacetime.models.attention import TimePosition
from spacetime.models.base import VideoDenoiser
from spacetime.models.unet3d import SpaceTimeBlock

__all__ = ["InflatedUNet2D", "inflate_diffusers_unet", "load_unet2d"]

#: Block types whose ResNet / transformer layout the inflation knows (Stable Diffusion 1.x/2.x,
#: AnimateDiff's set). Others are refused by name rather than inflated into a wrong network.
DOWN_BLOCKS = ("CrossAttnDownBlock2D", "DownBlock2D")
UP_BLOCKS = ("CrossAttnUpBlock2D", "UpBlock2D")
MID_BLOCKS = ("UNetMidBlock2DCrossAttn", "UNetMidBlock2D", None)


def _check_unet_config(config: dict[str, Any]) -> None:
    """Raise :class:`SpacetimeError` for a U-Net config the denoiser contract cannot drive."""
    blocks = [*config["down_block_types"], config.get("mid_block_type"), *config["up_block_types"]]
    bad = [b for b in blocks if b not in (*DOWN_BLOCKS, *UP_BLOCKS, *MID_BLOCKS)]
    if bad:
        supported = ", ".join(b for b in (*DOWN_BLOCKS, *MID_BLOCKS, *UP_BLOCKS) if b)
        raise SpacetimeError(f"cannot inflate U-Net blocks {bad}; supported: {supported}")
    needs = {
        "class_embed_type": "class labels",
        "addition_embed_type": "added conditioning (SDXL's pooled text and size ids)",
        "dual_cross_attention": "two text encoders",
    }
    for key, what in needs.items():
        if config.get(key) not in (None, False, "text"):
            raise SpacetimeError(
                f"cannot inflate a U-Net with {key}={config[key]!r}: it needs {what}, which the "
                "spacetime denoiser call (x_t, t, text, frames) does not carry"
            )
    if config.get("encoder_hid_dim_type") not in (None, "text_proj"):
        raise SpacetimeError(
            f"cannot inflate a U-Net with encoder_hid_dim_type="
            f"{config['encoder_hid_dim_type']!r} (it needs image embeddings)"
        )
    if config.get("attention_type", "default") != "default":
        raise SpacetimeError(
            f"cannot inflate a U-Net with attention_type={config['attention_type']!r}"
        )


def _text_dim(config: dict[str, Any]) -> int | None:
    """Width of the text tokens the U-Net cross-attends to (None: no cross-attention)."""
    blocks = [*config["down_block_types"], config.get("mid_block_type"), *config["up_block_types"]]
    if not any(b is not None and "CrossAttn" in b for b in blocks):
        return None
    if config.get("encoder_hid_dim") is not None:
        return int(config["encoder_hid_dim"])  # projected to cross_attention_dim by the U-Net
    dims = config["cross_attention_dim"]
    dims = list(dims) if isinstance(dims, list | tuple) else [dims]
    if len(set(dims)) != 1:
        raise SpacetimeError(f"cannot inflate a U-Net with per-block cross_attention_dim {dims}")
    return int(dims[0])


def _heads(channels: int, heads: int | None, time_position: str) -> int:
    """Temporal attention heads at width ``channels``: ``heads``, or by default the most (up to
    8, AnimateDiff's count) that divide it (with an even head width for rotary position)."""
    even = time_position == "rope"
    for h in [heads] if heads is not None else [8, 4, 2, 1]:
        if h > 0 and channels % h == 0 and not (even and (channels // h) % 2):
            return h
    raise SpacetimeError(
        f"temporal attention at width {channels}: heads={heads} must divide it"
        + (" with an even head width (rotary position)" if even else "")
    )


class InflatedUNet2D(VideoDenoiser):
    """A diffusers ``UNet2DConditionModel`` with spacetime temporal layers after its 2D blocks.

    ``model(x_t, t, *, text=None, frames=None) -> (B, C_out, T, H, W)``
    (:class:`~spacetime.models.base.VideoDenoiser`'s call). ``t`` is in the U-Net's own units
    (diffusers' training steps, [0, 1000)); per-frame ``t`` (B, T) gives every frame its own
    timestep (the U-Net sees one per folded batch row). ``text`` is passed as
    ``encoder_hidden_states`` (its mask as ``encoder_attention_mask``); it is required when the
    U-Net has cross-attention (the unconditional branch is the encoded empty prompt, as in
    Stable Diffusion) and must be None when it has none. Its width must be ``config.text_dim``
    (the U-Net's ``cross_attention_dim``, or ``encoder_hid_dim`` when it projects its input).

    Build it from a trained U-Net with :meth:`from_unet` or :func:`inflate_diffusers_unet`;
    the constructor (the registered config) builds a randomly initialised one.

    Args:
        unet_config: the wrapped ``UNet2DConditionModel``'s config (``dict(unet.config)``),
            without the frame mask channel.
        frame_conditioning: take given frames (``frames=``): one extra ``conv_in`` input channel
            (the frame mask), zero-initialised.
        temporal_conv: a temporal convolution after every ResNet block.
        temporal_attention: temporal self-attention after every transformer (and every ResNet
            block of the blocks without one).
        time_position: relative frame position of the temporal attention: ``"rope"`` or
            ``"bias"`` (VDM's bucketed bias).
        heads: temporal attention heads at every width (None: up to 8, see :func:`_heads`).
    """

    #: Config keys computed from ``unet_config`` (``config.in_channels``, ``config.text_dim``,
    #: which the pipelines and the denoiser contract read); written, but not init arguments.
    derived_config_keys: tuple[str, ...] = ("in_channels", "text_dim")

    @register_to_config
    def __init__(
        self,
        unet_config: dict[str, Any],
        frame_conditioning: bool = False,
        temporal_conv: bool = True,
        temporal_attention: bool = True,
        time_position: TimePosition = "rope",
        heads: int | None = None,
    ) -> None:
        super().__init__()
        unet = {k: v for k, v in unet_config.items() if not k.startswith("_")}
        _check_unet_config(unet)
        if not (temporal_conv or temporal_attention):
            raise SpacetimeError("inflating needs temporal_conv or temporal_attention (or both)")
        if time_position not in ("rope", "bias"):
            raise SpacetimeError(f"time_position must be 'rope' or 'bias'; got {time_position!r}")
        self.register_to_config(in_channels=int(unet["in_channels"]), text_dim=_text_dim(unet))
        self.unet = UNet2DConditionModel(**unet)
        if frame_conditioning:
            _widen_conv_in(self.unet, extra=1)
        self.text_context = None  # text goes to the U-Net's own cross-attention
        self.spatial_multiple = 2 ** (len(unet["down_block_types"]) - 1)
        self._frames: int | None = None  # the clip length T while forward runs; else 2D

        self.temporal_layers = nn.ModuleDict()
        groups = unet.get("norm_num_groups") or 32
        for name, module, channels, conv, attend in self._sites(temporal_conv, temporal_attention):
            block = SpaceTimeBlock(
                channels, _heads(channels, heads, time_position), None, spatial=False,
                text_dim=None, temporal_attention=attend, temporal_conv=conv,
                time_position=time_position, groups=math.gcd(groups, channels),
            )  # fmt: skip
            key = name.replace(".", "_")  # a module name may not contain "."
            self.temporal_layers[key] = block
            module.register_forward_hook(functools.partial(self._temporal_hook, key))
        self.zero_temporal_outputs()

    def _sites(
        self, conv: bool, attention: bool
    ) -> Iterator[tuple[str, nn.Module, int, bool, bool]]:
        """``(name, module, channels, temporal conv?, temporal attention?)`` of every 2D module
        that temporal layers follow, in the U-Net's order: a temporal convolution after every
        ResNet block, temporal attention after every transformer, or after the ResNet blocks
        of a block without transformers."""
        blocks = [(f"down_blocks.{i}", b) for i, b in enumerate(self.unet.down_blocks)]
        if self.unet.mid_block is not None:
            blocks.append(("mid_block", self.unet.mid_block))
        blocks += [(f"up_blocks.{i}", b) for i, b in enumerate(self.unet.up_blocks)]
        for prefix, block in blocks:
            attentions = list(getattr(block, "attentions", None) or [])  # None: no attention
            plain = all(a is None for a in attentions)
            for i, resnet in enumerate(block.resnets):
                if conv or (attention and plain):
                    name = f"{prefix}.resnets.{i}"
                    yield name, resnet, resnet.out_channels, conv, attention and plain
            # a transformer keeps the width of its block's ResNets
            channels = block.resnets[-1].out_channels
            for i, attn in enumerate(attentions):
                if attention and attn is not None:
                    yield f"{prefix}.attentions.{i}", attn, channels, False, True

    def zero_temporal_outputs(self) -> None:
        """Zero the output of every temporal layer (temporal convolution, attention output
        projection): each starts as the identity, so the network is the 2D U-Net per frame
        (Make-A-Video's identity initialisation; AnimateDiff's zero-initialised motion modules)."""
        for block in self.temporal_layers.values():
            if block.temporal_conv is not None:
                block.temporal_conv.zero_output()
            if block.temporal_attn is not None:
                nn.init.zeros_(block.temporal_attn.to_out.weight)
                nn.init.zeros_(block.temporal_attn.to_out.bias)

    @classmethod
    def from_unet(cls, unet: UNet2DConditionModel, **options: Any) -> InflatedUNet2D:
        """The inflated twin of the trained ``unet``: its weights copied (in its dtype, device
        and training mode), temporal layers added at zero. ``options``: the constructor's
        temporal options and ``frame_conditioning``."""
        if not isinstance(unet, UNet2DConditionModel):
            raise SpacetimeError(
                f"expected a diffusers UNet2DConditionModel; got {type(unet).__name__}"
            )
        param = next(unet.parameters())
        config = {k: v for k, v in unet.config.items() if not k.startswith("_")}
        model = cls(unet_config=config, **options)
        # nn.Module.to, not ModelMixin.to, which warns about float32 modules on a dtype change
        model = torch.nn.Module.to(model, device=param.device, dtype=param.dtype)
        state = dict(unet.state_dict())
        if model.config.frame_conditioning:
            weight = state["conv_in.weight"]  # (C0, C_in, k, k)
            mask = weight.new_zeros(weight.shape[0], 1, *weight.shape[2:])  # (C0, 1, k, k)
            state["conv_in.weight"] = torch.cat([weight, mask], dim=1)
        model.unet.load_state_dict(state)
        return model.train(unet.training)

    @classmethod
    def extract_init_dict(cls, config_dict: dict[str, Any], **kwargs: Any) -> Any:
        """diffusers' config reading, minus :attr:`derived_config_keys`."""
        config_dict = {k: v for k, v in config_dict.items() if k not in cls.derived_config_keys}
        return super().extract_init_dict(config_dict, **kwargs)

    def _set_gradient_checkpointing(
        self, enable: bool = True, gradient_checkpointing_func: Callable[..., Any] | None = None
    ) -> None:
        """diffusers' switch, with a checkpoint function that recomputes a module with the clip
        length of its forward pass (the backward pass runs after :meth:`forward` has ended)."""
        func = gradient_checkpointing_func or torch.utils.checkpoint.checkpoint

        def checkpoint(module: nn.Module, *args: Any) -> Any:
            frames = self._frames

            def run(*inputs: Any) -> Any:
                with self._clip_length(frames):
                    return module(*inputs)

            return func(run, *args)

        super()._set_gradient_checkpointing(enable, checkpoint)

    @contextmanager
    def _clip_length(self, frames: int | None) -> Iterator[None]:
        """Let the temporal hooks see clips of ``frames`` frames (None: act as the 2D model)."""
        previous, self._frames = self._frames, frames
        try:
            yield
        finally:
            self._frames = previous

    def _temporal_hook(self, key: str, module: nn.Module, args: Any, output: Any) -> Any:
        """Forward hook on a 2D module: its output ``(B*T, C, H, W)`` through the temporal
        layers ``key`` as a video ``(B, C, T, H, W)``."""
        if self._frames is None:  # the U-Net called on its own
            return output
        sample = output if isinstance(output, torch.Tensor) else output[0]  # (B*T, C, H, W)
        bt, c, h, w = sample.shape
        n = self._frames
        video = sample.reshape(bt // n, n, c, h, w).transpose(1, 2)  # (B, C, T, H, W)
        video = self.temporal_layers[key](video, None, None, None)  # (B, C, T, H, W)
        sample = video.transpose(1, 2).reshape(bt, c, h, w)  # (B*T, C, H, W)
        return sample if isinstance(output, torch.Tensor) else (sample, *output[1:])

    def forward(
        self,
        x_t: torch.Tensor,
        t: torch.Tensor | float,
        *,
        text: TextEmbedding | None = None,
        frames: FrameCondition | None = None,
    ) -> torch.Tensor:
        """:class:`~spacetime.models.base.VideoDenoiser`'s call (shapes there): the U-Net on
        every frame, with the temporal layers mixing frames after its 2D modules."""
        x, t_frames, _, _ = self.prepare(x_t, t, None, frames)  # (B, C[+1], T, H, W), (B, T)
        b, c, n, h, w = x.shape
        states, states_mask = self._text_states(text, b, n, x.dtype)  # (B*T, L, D), (B*T, L)
        sample = x.transpose(1, 2).reshape(b * n, c, h, w)  # (B*T, C, H, W), frame-minor
        with self._clip_length(n):
            out = self.unet(
                sample, t_frames.reshape(b * n), encoder_hidden_states=states,
                encoder_attention_mask=states_mask, return_dict=False,
            )[0]  # (B*T, C_out, H, W)  # fmt: skip
        return out.reshape(b, n, -1, h, w).transpose(1, 2)  # (B, C_out, T, H, W)

    def _text_states(
        self, text: TextEmbedding | None, b: int, n: int, dtype: torch.dtype
    ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """``encoder_hidden_states`` (B*T, L, D) and its mask (B*T, L): ``text`` on every frame."""
        dim = self.config.text_dim
        if dim is None:
            if text is not None:
                raise SpacetimeError("text was given but the wrapped U-Net has no cross-attention")
            return None, None
        if text is None:
            raise SpacetimeError(
                "the wrapped U-Net cross-attends to text: pass text= (the encoded empty prompt "
                "for the unconditional branch)"
            )
        if text.tokens.shape[0] != b or text.tokens.shape[-1] != dim:
            raise SpacetimeError(
                f"text tokens have shape {tuple(text.tokens.shape)}; expected ({b}, L, {dim}) "
                "(batch of x_t, the U-Net's text width)"
            )
        tokens = text.tokens.to(self.device, dtype).repeat_interleave(n, dim=0)  # (B*T, L, D)
        mask = text.mask.to(self.device).repeat_interleave(n, dim=0)  # (B*T, L)
        return tokens, mask


def _widen_conv_in(unet: UNet2DConditionModel, extra: int) -> None:
    """Give ``unet.conv_in`` ``extra`` more input channels with zero weights (SD inpainting)."""
    old = unet.conv_in
    new = nn.Conv2d(
        old.in_channels + extra, old.out_channels, old.kernel_size, old.stride, old.padding,
        bias=old.bias is not None, device=old.weight.device, dtype=old.weight.dtype,
    )  # fmt: skip
    with torch.no_grad():
        new.weight.zero_()
        new.weight[:, : old.in_channels] = old.weight
        if old.bias is not None:
            new.bias.copy_(old.bias)
    unet.conv_in = new
    unet.register_to_config(in_channels=old.in_channels + extra)


def load_unet2d(path: str | Path) -> UNet2DConditionModel:
    """A ``UNet2DConditionModel`` from a local folder: the model folder itself (``config.json``
    and safetensors weights) or a diffusers pipeline folder (its ``unet/``). Nothing is
    downloaded and nothing is unpickled.

    Raises:
        SpacetimeError: the folder is missing, holds another model, or has only pickled
        weights (``.bin``, ``.pt``, ...: named in the message).
    """

    folder = Path(path)
    if not folder.is_dir():
        raise SpacetimeError(f"U-Net folder {folder} does not exist")
    if not (folder / "config.json").is_file() and (folder / "unet" / "config.json").is_file():
        folder = folder / "unet"
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise SpacetimeError(
            f"{folder} is not a UNet2DConditionModel folder (no config.json, nor unet/config.json)"
        )
    config = UNet2DConditionModel.load_config(folder, local_files_only=True)
    if config.get("_class_name") != UNet2DConditionModel.__name__:
        raise SpacetimeError(
            f"{config_file} describes a {config.get('_class_name')!r}, not a UNet2DConditionModel"
        )
    check_weights(folder)
    try:
        return UNet2DConditionModel.from_pretrained(
            folder, use_safetensors=True, local_files_only=True
        )
    except (OSError, ValueError, RuntimeError) as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise SpacetimeError(f"cannot load the U-Net in {folder}: {reason}") from None


def inflate_diffusers_unet(
    path_or_model: str | Path | UNet2DConditionModel,
    *,
    temporal_conv: bool = True,
    temporal_attention: bool = True,
    time_position: TimePosition = "rope",
    frame_conditioning: bool = False,
    heads: int | None = None,
) -> InflatedUNet2D:
    """Inflate a trained ``UNet2DConditionModel`` into a video denoiser equal to it per frame.

    Args:
        path_or_model: the U-Net, or a local folder holding it (see :func:`load_unet2d`).
        temporal_conv, temporal_attention, time_position, heads: the temporal layers (see
            :class:`InflatedUNet2D`).
        frame_conditioning: add the frame-mask input channel (zero-initialised).

    Returns:
        An :class:`InflatedUNet2D` in the U-Net's dtype, device and training mode.
    """
    unet = path_or_model
    if not isinstance(unet, UNet2DConditionModel):
        if not isinstance(unet, str | Path):
            raise SpacetimeError(
                f"expected a UNet2DConditionModel or a folder; got {type(unet).__name__}"
            )
        unet = load_unet2d(unet)
    return InflatedUNet2D.from_unet(
        unet, temporal_conv=temporal_conv, temporal_attention=temporal_attention,
        time_position=time_position, frame_conditioning=frame_conditioning, heads=heads,
    )  # fmt: skip
