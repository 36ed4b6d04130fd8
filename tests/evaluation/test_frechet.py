"""Tests for spacetime.evaluation.frechet against closed forms of the Gaussian W2 distance."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.linalg

from spacetime.errors import SpacetimeError
from spacetime.evaluation.frechet import (
    feature_statistics,
    frechet_distance,
    frechet_from_features,
    load_statistics,
    save_statistics,
)


def _random_spd(rng: np.random.Generator, dim: int, floor: float = 0.1) -> np.ndarray:
    a = rng.normal(size=(dim, dim))
    return a @ a.T / dim + floor * np.eye(dim)


def test_identical_gaussians_are_at_zero() -> None:
    rng = np.random.default_rng(0)
    mu, sigma = rng.normal(size=16), _random_spd(rng, 16)
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-9)


def test_diagonal_covariances_closed_form() -> None:
    rng = np.random.default_rng(1)
    m1, m2 = rng.normal(size=8), rng.normal(size=8)
    s1, s2 = rng.uniform(0.1, 3, size=8), rng.uniform(0.1, 3, size=8)
    expected = np.sum((m1 - m2) ** 2) + np.sum((np.sqrt(s1) - np.sqrt(s2)) ** 2)
    got = frechet_distance(m1, np.diag(s1), m2, np.diag(s2))
    assert got == pytest.approx(expected, rel=1e-10)


def test_one_dimensional_case() -> None:
    # N(1, 4) vs N(3, 9): (1 - 3)^2 + (2 - 3)^2 = 5
    assert frechet_distance(np.array([1.0]), np.array([[4.0]]), 3.0, 9.0) == pytest.approx(5.0)


def test_commuting_covariances() -> None:
    # Same eigenvectors: tr((S1 S2)^(1/2)) = sum sqrt(l1 l2),
    # so d^2 = |dmu|^2 + sum (sqrt l1 - sqrt l2)^2.
    rng = np.random.default_rng(2)
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    l1, l2 = rng.uniform(0.2, 4, size=6), rng.uniform(0.2, 4, size=6)
    s1, s2 = (q * l1) @ q.T, (q * l2) @ q.T
    mu1, mu2 = np.zeros(6), np.full(6, 0.5)
    expected = 6 * 0.25 + np.sum((np.sqrt(l1) - np.sqrt(l2)) ** 2)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-9)


def test_symmetric_in_its_arguments() -> None:
    rng = np.random.default_rng(3)
    m1, m2 = rng.normal(size=10), rng.normal(size=10)
    s1, s2 = _random_spd(rng, 10), _random_spd(rng, 10)
    assert frechet_distance(m1, s1, m2, s2) == pytest.approx(
        frechet_distance(m2, s2, m1, s1), rel=1e-9
    )


def test_agrees_with_scipy_sqrtm_when_well_conditioned() -> None:
    rng = np.random.default_rng(4)
    m1, m2 = rng.normal(size=12), rng.normal(size=12)
    s1, s2 = _random_spd(rng, 12, 0.5), _random_spd(rng, 12, 0.5)
    root = scipy.linalg.sqrtm(s1 @ s2)
    reference = float(np.sum((m1 - m2) ** 2) + np.trace(s1 + s2 - 2 * np.real(root)))
    assert frechet_distance(m1, s1, m2, s2) == pytest.approx(reference, rel=1e-8)


def test_rank_deficient_covariances_stay_finite_and_non_negative() -> None:
    rng = np.random.default_rng(5)
    dim = 64
    # 10 samples in 64 dimensions: covariances of rank 9, as with few clips and 400-d I3D.
    a, b = rng.normal(size=(10, dim)), rng.normal(size=(10, dim)) * 1e-3
    d = frechet_from_features(a, b)
    assert np.isfinite(d) and d > 0
    mu, sigma = feature_statistics(a)
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-8)
    zero = np.zeros((dim, dim))
    # Point mass vs N(0, S): d^2 = tr(S).
    assert frechet_distance(mu, zero, mu, sigma) == pytest.approx(np.trace(sigma), rel=1e-9)


def test_feature_statistics_match_numpy() -> None:
    x = np.random.default_rng(6).normal(size=(50, 5)).astype(np.float32)
    mu, sigma = feature_statistics(x)
    assert mu.dtype == np.float64 and sigma.shape == (5, 5)
    np.testing.assert_allclose(mu, x.astype(np.float64).mean(axis=0))
    np.testing.assert_allclose(sigma, np.cov(x.astype(np.float64), rowvar=False), rtol=1e-10)


def test_sample_estimate_converges_to_the_closed_form() -> None:
    rng = np.random.default_rng(7)
    a = rng.normal(0.0, 1.0, size=(20000, 3))
    b = rng.normal(1.0, 2.0, size=(20000, 3))
    # 3 * (1 - 0)^2 + 3 * (2 - 1)^2 = 6
    assert frechet_from_features(a, b) == pytest.approx(6.0, rel=0.03)


def test_bad_inputs_are_user_errors() -> None:
    with pytest.raises(SpacetimeError, match="feature dimensions differ"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))
    with pytest.raises(SpacetimeError, match=r"\(D, D\)"):
        frechet_distance(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2))
    with pytest.raises(SpacetimeError, match="NaN"):
        frechet_distance(np.array([np.nan]), np.eye(1), np.zeros(1), np.eye(1))
    with pytest.raises(SpacetimeError, match="at least 2"):
        feature_statistics(np.zeros((1, 4)))
    with pytest.raises(SpacetimeError, match=r"\(N, D\)"):
        feature_statistics(np.zeros(4))


def test_statistics_round_trip_through_safetensors(tmp_path: Path) -> None:
    features = np.random.default_rng(8).normal(size=(30, 4))
    mu, sigma = feature_statistics(features)
    path = save_statistics(tmp_path / "real_stats.safetensors", mu, sigma)
    loaded_mu, loaded_sigma = load_statistics(path)
    np.testing.assert_array_equal(loaded_mu, mu)
    np.testing.assert_array_equal(loaded_sigma, sigma)
    assert frechet_distance(loaded_mu, loaded_sigma, mu, sigma) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(SpacetimeError, match="no such statistics file"):
        load_statistics(tmp_path / "missing.safetensors")
    (tmp_path / "bad.safetensors").write_bytes(b"garbage")
    with pytest.raises(SpacetimeError, match="not a safetensors"):
        load_statistics(tmp_path / "bad.safetensors")
