"""Closed-form terms of the small-noise expansion vs autodiff, finite differences and Monte Carlo."""

import numpy as np
import pytest

from aecourse import jacobian, models
from aecourse.noise_expansion import sigmoid_autoencoder_terms


def _random_autoencoder(rng, d=6, k=9):
    return rng.normal(0, 0.8, (d, k)), rng.normal(0, 0.5, k), rng.normal(0, 0.8, (k, d)), rng.normal(0, 0.5, d)


def _reconstruct(x, W, b, V, c):
    h = 1 / (1 + np.exp(-(x @ W + b)))
    return 1 / (1 + np.exp(-(h @ V + c)))


def test_jacobian_matches_autodiff():
    rng = np.random.default_rng(0)
    ae = models.DenseAutoencoder(6, 9, code_activation="sigmoid")
    x = rng.random((4, 6)).astype("float32")
    params = [p.numpy() if hasattr(p, "numpy") else np.asarray(p) for p in
              (ae.encoder.layers[-1].kernel, ae.encoder.layers[-1].bias,
               ae.decoder.layers[-1].kernel, ae.decoder.layers[-1].bias)]
    r, jac_sq, _ = sigmoid_autoencoder_terms(x, *params)
    np.testing.assert_allclose(r, ae.predict(x, verbose=0), atol=1e-5)
    np.testing.assert_allclose(jac_sq, jacobian.frobenius_norm_sq(ae, x), rtol=1e-4)


def test_curvature_matches_finite_differences():
    rng = np.random.default_rng(1)
    params = _random_autoencoder(rng)
    x = rng.random((3, 6))
    r, _, curvature = sigmoid_autoencoder_terms(x, *params)
    step = 1e-4
    laplacian = np.zeros_like(x)
    for i in range(6):
        e = np.zeros(6)
        e[i] = step
        laplacian += (_reconstruct(x + e, *params) - 2 * r + _reconstruct(x - e, *params)) / step**2
    np.testing.assert_allclose(curvature, np.sum((x - r) * laplacian, axis=1), rtol=1e-4, atol=1e-7)


def test_expansion_predicts_monte_carlo_excess_loss():
    rng = np.random.default_rng(2)
    params = _random_autoencoder(rng)
    x, sigma = rng.random((2, 6)), 0.02
    r, jac_sq, curvature = sigmoid_autoencoder_terms(x, *params)
    eps = rng.normal(0, sigma, (100000, 1, 6))
    eps = np.concatenate([eps, -eps])      # antithetic pairs: the odd orders of the expansion cancel exactly
    noisy = _reconstruct(x[None] + eps, *params)
    excess = np.mean(np.sum((x - noisy) ** 2, axis=2), axis=0) - np.sum((x - r) ** 2, axis=1)
    np.testing.assert_allclose(excess, sigma**2 * (jac_sq - curvature), rtol=3e-2)


def test_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="Expected x"):
        sigmoid_autoencoder_terms(np.zeros((2, 5)), np.zeros((4, 3)), np.zeros(3), np.zeros((3, 4)), np.zeros(4))
