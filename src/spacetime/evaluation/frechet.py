"""Fréchet distance between Gaussians fitted to feature sets (FID, FVD, and friends).

For ``N(mu1, S1)`` and ``N(mu2, S2)`` the squared 2-Wasserstein (Fréchet) distance is
(Dowson & Landau 1982; Heusel et al. 2017, FID, eq. 6; Unterthiner et al. 2018, FVD)::

    d^2 = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2))

``S1 S2`` is not symmetric, and the usual ``scipy.linalg.sqrtm(S1 @ S2)`` returns complex
round-off and fails on singular covariances (fewer samples than dimensions). Here the trace
term is computed from a symmetric matrix with the same eigenvalues: with ``A = S1^(1/2)``,
``S1 S2 = A (A S2 A) A^-1`` is similar to ``A S2 A`` (symmetric PSD), so
``tr((S1 S2)^(1/2)) = sum(sqrt(eig(A S2 A)))``, and by continuity this holds for singular
``S1`` too. Both square roots use ``numpy.linalg.eigh`` in float64 with negative round-off
eigenvalues clamped to 0, so the result is real, finite and >= 0.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file

from spacetime.errors import SpacetimeError


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric PSD matrix (eigenvalues < 0 clamped to 0)."""
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    root = np.sqrt(np.clip(eigenvalues, 0.0, None))
    return (eigenvectors * root) @ eigenvectors.T


def _as_gaussian(mu: np.ndarray, sigma: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    mu = np.asarray(mu, dtype=np.float64)
    sigma = np.asarray(sigma, dtype=np.float64)
    if mu.ndim == 0:
        mu = mu.reshape(1)
    if sigma.ndim == 0:
        sigma = sigma.reshape(1, 1)
    if mu.ndim != 1 or sigma.shape != (mu.shape[0], mu.shape[0]):
        raise SpacetimeError(
            f"{name}: expected a mean (D,) and a covariance (D, D), got {mu.shape} and "
            f"{sigma.shape}"
        )
    if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
        raise SpacetimeError(f"{name}: mean or covariance holds NaN or infinity")
    return mu, 0.5 * (sigma + sigma.T)  # exact symmetry for eigh


def frechet_distance(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray
) -> float:
    """Squared Fréchet distance ``d^2`` between ``N(mu1, sigma1)`` and ``N(mu2, sigma2)``.

    Args:
        mu1, mu2: means, shape ``(D,)`` (a scalar is taken as ``D = 1``).
        sigma1, sigma2: covariances, shape ``(D, D)``, symmetric positive semi-definite
            (symmetrised here; may be singular).

    Returns:
        ``d^2 >= 0`` in squared feature units, as a Python float (float64 arithmetic). This is
        the number reported as FID / FVD (no square root is taken, by convention).
    """
    mu1, sigma1 = _as_gaussian(mu1, sigma1, "first distribution")
    mu2, sigma2 = _as_gaussian(mu2, sigma2, "second distribution")
    if mu1.shape != mu2.shape:
        raise SpacetimeError(
            f"feature dimensions differ: {mu1.shape[0]} vs {mu2.shape[0]}; both sets must come "
            "from the same feature extractor"
        )
    root1 = _psd_sqrt(sigma1)
    middle = root1 @ sigma2 @ root1  # (D, D), similar to sigma1 @ sigma2
    eigenvalues = np.linalg.eigvalsh(0.5 * (middle + middle.T))
    trace_sqrt = float(np.sqrt(np.clip(eigenvalues, 0.0, None)).sum())
    diff = mu1 - mu2
    distance = float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt)
    return max(distance, 0.0)  # round-off can dip a hair below 0 for identical Gaussians


def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(D,)`` and unbiased covariance ``(D, D)`` (divisor ``N - 1``) of ``(N, D)``
    features, in float64. Needs ``N >= 2``; with ``N <= D`` the covariance is singular, which
    :func:`frechet_distance` handles, but the estimate is then biased upwards."""
    array = np.asarray(features, dtype=np.float64)
    if array.ndim != 2:
        raise SpacetimeError(f"features must be a 2-D array (N, D), got shape {array.shape}")
    if array.shape[0] < 2:
        raise SpacetimeError(
            f"need at least 2 feature vectors to estimate a covariance, got {array.shape[0]}"
        )
    if not np.isfinite(array).all():
        raise SpacetimeError("features hold NaN or infinity")
    mu = array.mean(axis=0)
    centred = array - mu
    sigma = centred.T @ centred / (array.shape[0] - 1)
    return mu, sigma


def frechet_from_features(features1: np.ndarray, features2: np.ndarray) -> float:
    """:func:`frechet_distance` between Gaussians fitted to ``(N1, D)`` and ``(N2, D)``."""
    mu1, sigma1 = feature_statistics(features1)
    mu2, sigma2 = feature_statistics(features2)
    return frechet_distance(mu1, sigma1, mu2, sigma2)


def save_statistics(path: str | Path, mu: np.ndarray, sigma: np.ndarray) -> Path:
    """Save Gaussian statistics (e.g. of the real clips, computed once) as safetensors with
    float64 tensors ``mu`` (D,) and ``sigma`` (D, D). Returns ``path``."""
    mu, sigma = _as_gaussian(mu, sigma, str(path))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({"mu": np.ascontiguousarray(mu), "sigma": np.ascontiguousarray(sigma)}, str(path))
    return path


def load_statistics(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Load ``(mu (D,), sigma (D, D))`` written by :func:`save_statistics`."""
    path = Path(path)
    if not path.is_file():
        raise SpacetimeError(f"{path}: no such statistics file (write one with save_statistics)")
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise SpacetimeError(f"{path}: not a safetensors statistics file ({err})") from err
    if set(tensors) != {"mu", "sigma"}:
        raise SpacetimeError(f"{path}: expected tensors 'mu' and 'sigma', got {sorted(tensors)}")
    return _as_gaussian(tensors["mu"], tensors["sigma"], str(path))
