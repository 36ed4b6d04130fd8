"""Sinusoidal, sin-cos, rotary and bucketed position embeddings: the formulas they cite."""

from __future__ import annotations

import math

import torch

from spacetime.models.embeddings import (
    RelativePositionBias,
    TimestepEmbedder,
    apply_rotary,
    rotary_cos_sin,
    sincos_2d,
    timestep_embedding,
)


def test_timestep_embedding_formula_and_float_times() -> None:
    t = torch.tensor([0.0, 1.0, 999.5])
    emb = timestep_embedding(t, 8, max_period=10_000.0)
    assert emb.shape == (3, 8)
    freqs = 10_000.0 ** (-torch.arange(4) / 4)
    torch.testing.assert_close(emb[:, :4], torch.cos(t[:, None] * freqs))
    torch.testing.assert_close(emb[:, 4:], torch.sin(t[:, None] * freqs))
    torch.testing.assert_close(emb[0], torch.tensor([1.0] * 4 + [0.0] * 4))
    # continuous: nearby float times give nearby, distinct features
    a, b = timestep_embedding(torch.tensor([500.0, 500.01]), 64)
    assert 0 < (a - b).abs().max() < 0.02
    assert timestep_embedding(torch.zeros(2, 3), 7).shape == (2, 3, 7)  # odd width, (B, T)


def test_timestep_embedder_is_per_frame() -> None:
    torch.manual_seed(0)
    emb = TimestepEmbedder(16, frequency_dim=32)
    t = torch.tensor([[0.0, 250.0, 999.0]])
    out = emb(t)
    assert out.shape == (1, 3, 16)
    torch.testing.assert_close(out[0, 1], emb(torch.tensor([250.0]))[0])
    assert (out[0, 0] - out[0, 2]).abs().max() > 1e-2  # t = 0 and 999 embed far apart


def test_sincos_2d_rows_then_columns() -> None:
    pos = sincos_2d(3, 4, 16)
    assert pos.shape == (12, 16)
    # the first half depends on the row only, the second half on the column only
    torch.testing.assert_close(pos[0, :8], pos[3, :8])  # (0, 0) and (0, 3)
    torch.testing.assert_close(pos[0, 8:], pos[4, 8:])  # (0, 0) and (1, 0)
    assert torch.unique(pos, dim=0).shape[0] == 12  # every position distinct
    # row 1: sin(1 * w_0) with w_0 = 1
    assert math.isclose(pos[4, 0].item(), math.sin(1.0), rel_tol=1e-6)


def test_rotary_preserves_norm_and_depends_on_relative_position() -> None:
    torch.manual_seed(1)
    q, k = torch.randn(2, 16, dtype=torch.float64).float().unbind(0)
    pos = torch.tensor([0.0, 3.0, 10.0, 13.0, 57.0, 60.0])
    cos, sin = rotary_cos_sin(pos, 16)
    rq = apply_rotary(q.expand(6, 16), cos, sin)  # (6, 16)
    rk = apply_rotary(k.expand(6, 16), cos, sin)
    torch.testing.assert_close(rq.norm(dim=-1), q.norm().expand(6))
    # <R(m) q, R(n) k> depends on m - n only: pairs (3, 0), (13, 10), (60, 57)
    dots = [(rq[i] @ rk[j]).item() for i, j in ((1, 0), (3, 2), (5, 4))]
    assert max(dots) - min(dots) < 1e-4
    assert abs((rq[0] @ rk[0]).item() - dots[0]) > 1e-3  # distance 0 differs from 3
    torch.testing.assert_close(rq[0], q)  # position 0 is the identity


def test_relative_position_buckets_follow_t5() -> None:
    rel = RelativePositionBias(heads=3, num_buckets=32, max_distance=64)
    d = torch.tensor([0, -1, -7, 1, 7, 8, -8, 16, 63, 64, 1000, -1000])
    got = rel.bucket(d).tolist()
    # 8 exact buckets each way; log buckets 8..15 up to 64; positive distances offset by 16
    assert got[:5] == [0, 1, 7, 17, 23]
    assert got[5] == 24 and got[6] == 8
    assert got[7] == 16 + 8 + 2  # 8 + int(log(16/8) / log(64/8) * 8) = 8 + 2
    assert got[8] == 31 and got[9] == 31 and got[10] == 31 and got[11] == 15
    far = rel.bucket(torch.arange(0, 200))
    assert torch.all(far[1:] >= far[:-1])  # monotone in distance
    bias = rel(torch.arange(4), torch.arange(4))
    assert bias.shape == (3, 4, 4)
    torch.testing.assert_close(bias[:, 0, 1], bias[:, 2, 3])  # same distance, same bias
    torch.testing.assert_close(bias[:, 0, 1], rel.table.weight[17])
