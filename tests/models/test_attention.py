"""The axis attention equals a naive softmax attention written independently, for every axis."""

from __future__ import annotations

import math

import pytest
import torch

from spacetime.models.attention import Attention, fold, frame_positions, unfold

B, T, S, D, HEADS = 2, 4, 5, 16, 2


def naive_attention(
    m: Attention, x: torch.Tensor, key_mask: torch.Tensor | None = None
) -> torch.Tensor:
    """Softmax attention over all T*S tokens with an explicit "may attend" matrix (float64)."""
    b, t, s, d = x.shape
    n, hd = t * s, d // m.heads
    frame = torch.arange(t).repeat_interleave(s)  # (N,) frame of each token
    loc = torch.arange(s).repeat(t)  # (N,) spatial location of each token
    if m.axis == "space":
        allowed = frame[:, None] == frame[None, :]
    elif m.axis == "time":
        allowed = loc[:, None] == loc[None, :]
    else:
        allowed = torch.ones(n, n, dtype=torch.bool)
    allowed = allowed[None].expand(b, n, n)  # (B, N, N)
    if key_mask is not None:
        allowed = allowed & key_mask.reshape(b, 1, n)
    w = {k: getattr(m, k).weight.double() for k in ("to_q", "to_k", "to_v", "to_out")}
    bias = {k: getattr(m, k).bias.double() for k in ("to_q", "to_k", "to_v", "to_out")}
    tok = x.reshape(b, n, d).double()

    def heads(name: str) -> torch.Tensor:
        return (tok @ w[name].T + bias[name]).reshape(b, n, m.heads, hd).transpose(1, 2)

    q, k, v = heads("to_q"), heads("to_k"), heads("to_v")  # (B, h, N, hd)
    if m.time_position == "rope":  # rotation of complex pairs (x_i, x_{i + hd/2}), RoFormer
        theta = 10_000.0 ** (-2 * torch.arange(hd // 2, dtype=torch.float64) / hd)
        rot = torch.polar(torch.ones(n, hd // 2, dtype=torch.float64), frame[:, None] * theta)

        def rotate(z: torch.Tensor) -> torch.Tensor:
            c = torch.complex(z[..., : hd // 2], z[..., hd // 2 :]) * rot
            return torch.cat([c.real, c.imag], dim=-1)

        q, k = rotate(q), rotate(k)
    scores = q @ k.transpose(-1, -2) / math.sqrt(hd)  # (B, h, N, N)
    if m.time_position == "bias":
        table = m.rel_bias.table.weight.double()  # (buckets, h)
        scores = scores + table[m.rel_bias.bucket(frame[None, :] - frame[:, None])].permute(2, 0, 1)
    scores = scores.masked_fill(~allowed[:, None], float("-inf"))
    out = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, n, d)  # (B, N, D)
    return (out @ w["to_out"].T + bias["to_out"]).reshape(b, t, s, d)


@pytest.mark.parametrize("time_position", ["none", "rope", "bias"])
@pytest.mark.parametrize("axis", ["space", "time", "spacetime"])
@pytest.mark.parametrize("masked", [False, True])
def test_self_attention_matches_naive_softmax(axis: str, time_position: str, masked: bool) -> None:
    torch.manual_seed(0)
    m = Attention(D, HEADS, axis=axis, time_position=time_position)  # type: ignore[arg-type]
    if m.rel_bias is not None:
        torch.nn.init.normal_(m.rel_bias.table.weight, std=1.0)  # a bias that matters
    x = torch.randn(B, T, S, D)
    key_mask = None
    if masked:  # hide scattered tokens; every frame and every location keeps a visible key
        key_mask = torch.ones(B, T, S, dtype=torch.bool)
        key_mask[0, -1, :2] = False
        key_mask[1, (0, 2), 3] = False
    got = m(x, key_mask=key_mask)
    want = naive_attention(m, x, key_mask)
    assert got.shape == (B, T, S, D)
    torch.testing.assert_close(got.double(), want, atol=1e-5, rtol=1e-5)


def test_cross_attention_matches_naive_softmax_and_honours_the_mask() -> None:
    torch.manual_seed(1)
    m = Attention(D, HEADS, context_dim=6)
    x, ctx = torch.randn(B, T, S, D), torch.randn(B, 7, 6)
    mask = torch.tensor([[1, 1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1, 1]], dtype=torch.bool)
    got = m(x, context=ctx, context_mask=mask)

    q = m.to_q(x.reshape(B, T * S, D)).reshape(B, T * S, HEADS, -1).transpose(1, 2)
    k = m.to_k(ctx).reshape(B, 7, HEADS, -1).transpose(1, 2)
    v = m.to_v(ctx).reshape(B, 7, HEADS, -1).transpose(1, 2)
    scores = (q @ k.transpose(-1, -2) / math.sqrt(D // HEADS)).masked_fill(
        ~mask[:, None, None], float("-inf")
    )
    want = m.to_out((scores.softmax(-1) @ v).transpose(1, 2).reshape(B, T, S, D))
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)

    ctx2 = ctx.clone()
    ctx2[0, 3:] = 100.0  # masked tokens of sample 0: no effect
    torch.testing.assert_close(m(x, context=ctx2, context_mask=mask), got)
    ctx2[0, 0] = 100.0  # a real token: changes sample 0 only
    out2 = m(x, context=ctx2, context_mask=mask)
    assert (out2[0] - got[0]).abs().max() > 1e-2  # a real effect, far above rounding
    torch.testing.assert_close(out2[1], got[1])


def test_space_attention_is_per_frame_and_time_attention_per_location() -> None:
    torch.manual_seed(2)
    x = torch.randn(B, T, S, D)
    space = Attention(D, HEADS, axis="space")
    perm = torch.randperm(T)
    torch.testing.assert_close(space(x[:, perm]), space(x)[:, perm])  # frames do not interact
    time = Attention(D, HEADS, axis="time", time_position="rope")
    x2 = x.clone()
    x2[:, :, 0] += 1.0  # change location 0 in every frame
    changed = (time(x2) - time(x)).abs().amax(dim=(0, 1, 3))  # (S,)
    assert changed[0] > 1e-3 and torch.all(changed[1:] == 0)


def test_rope_makes_time_attention_depend_on_relative_position_only() -> None:
    # Rotary position is relative: the same clip content gives the same output wherever
    # it sits, while "none" position cannot tell frame order apart and rope can.
    torch.manual_seed(3)
    rope = Attention(D, HEADS, axis="time", time_position="rope")
    none = Attention(D, HEADS, axis="time", time_position="none")
    none.load_state_dict(rope.state_dict())
    x = torch.randn(1, T, S, D)
    rev = x.flip(1)
    torch.testing.assert_close(none(rev), none(x).flip(1))  # permutation-equivariant
    assert not torch.allclose(rope(rev), rope(x).flip(1), atol=1e-4)  # knows the order


def test_fold_unfold_round_trip_and_positions() -> None:
    x = torch.randn(B, T, S, D)
    for axis, n in (("space", S), ("time", T), ("spacetime", T * S)):
        seq = fold(x, axis)
        assert seq.shape[1] == n
        torch.testing.assert_close(unfold(seq, axis, B, T, S), x)
    assert frame_positions("time", T, S, x.device).tolist() == list(range(T))
    assert frame_positions("spacetime", 2, 3, x.device).tolist() == [0, 0, 0, 1, 1, 1]
