"""vae_analysis: closed forms against quadrature, Monte Carlo and autodiff-free finite differences."""

import numpy as np
import pytest

from aecourse import vae, vae_analysis


def _gaussian_log_joint(values, mean, cov, constant):
    z1, z2 = np.meshgrid(values, values)
    centred = np.stack([z1.ravel(), z2.ravel()], axis=1) - mean
    log_density = (-0.5 * np.sum(centred @ np.linalg.inv(cov) * centred, axis=1)
                   - 0.5 * np.log(np.linalg.det(2 * np.pi * cov)))
    return (log_density + constant).reshape(len(values), len(values))


MEAN, COV = np.array([0.3, -0.5]), np.array([[0.2, 0.05], [0.05, 0.1]])
VALUES = np.linspace(-4, 4, 161)


def test_grid_quadrature_recovers_gaussian():
    log_joint = _gaussian_log_joint(VALUES, MEAN, COV, constant=-250.0)
    assert vae_analysis.log_marginal_from_grid(log_joint, VALUES) == pytest.approx(-250.0, abs=1e-6)
    mean, cov = vae_analysis.grid_moments(log_joint, VALUES)
    np.testing.assert_allclose(mean, MEAN, atol=1e-6)
    np.testing.assert_allclose(cov, COV, atol=1e-6)
    # the ELBO of the exact posterior is log p(x); any other Gaussian is lower, by its KL to the posterior
    assert vae_analysis.gaussian_elbo_on_grid(log_joint, VALUES, MEAN, COV) == pytest.approx(-250.0, abs=1e-5)
    q_mean, q_cov = np.array([0.1, -0.4]), np.diag([0.1, 0.05])
    kl = 0.5 * (np.trace(np.linalg.inv(COV) @ q_cov) + (MEAN - q_mean) @ np.linalg.inv(COV) @ (MEAN - q_mean)
                - 2 + np.log(np.linalg.det(COV) / np.linalg.det(q_cov)))
    assert vae_analysis.gaussian_elbo_on_grid(log_joint, VALUES, q_mean, q_cov) == pytest.approx(-250.0 - kl,
                                                                                                abs=1e-5)


def test_log_joint_on_grid_matches_pointwise():
    rng = np.random.default_rng(0)
    weights, bias = rng.normal(size=(2, 30)), rng.normal(size=30)
    x = (rng.random(30) < 0.5).astype("float64")
    values = np.linspace(-1, 1, 5)
    grid = vae_analysis.log_joint_on_grid(lambda z: np.asarray(z, "float64") @ weights + bias, x, values)
    z = np.array([values[3], values[1]])  # column 3 is z1, row 1 is z2
    logits = z @ weights + bias
    expected = np.sum(x * logits - np.logaddexp(0, logits)) - 0.5 * z @ z - np.log(2 * np.pi)
    assert grid[1, 3] == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match="evenly spaced"):
        vae_analysis.log_marginal_from_grid(grid, values ** 3)


def test_gradient_estimators_unbiased_and_fd():
    a = np.array([1.0, -2.0])
    f = lambda z: np.sum(a * z ** 2, axis=1)
    grad = lambda z: 2 * a * z
    np.testing.assert_allclose(vae_analysis.finite_difference_gradient(f, np.array([[0.5, 1.0]])),
                               grad(np.array([[0.5, 1.0]])), atol=1e-6)
    mean, std = np.array([0.5, 1.0]), np.array([0.3, 0.7])
    estimates = vae_analysis.gradient_estimates(f, grad, mean, std, num_samples=20000, seed=1)
    for name, draws in estimates.items():
        err = draws.std(axis=0, ddof=1) / np.sqrt(len(draws))
        assert np.all(np.abs(draws.mean(axis=0) - 2 * a * mean) < 5 * err), name
    assert np.all(estimates["reparameterization"].var(axis=0) < estimates["score function"].var(axis=0))


def test_aggregate_posterior_and_scores():
    z = np.array([[0.1, 0.2], [1.0, -1.0]])
    got = vae_analysis.aggregate_posterior_log_density(z, np.array([[0.0, 0.0]]), np.array([[0.0, np.log(4.0)]]))
    expected = np.asarray(vae.gaussian_log_density(z, np.array([0.0, 0.0]), np.array([0.0, np.log(4.0)])))
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    two = vae_analysis.aggregate_posterior_log_density(z, np.zeros((2, 2)), np.zeros((2, 2)))
    np.testing.assert_allclose(two, vae_analysis.aggregate_posterior_log_density(z, np.zeros((1, 2)), np.zeros((1, 2))))
    assert vae_analysis.class_balance(np.eye(10)) == pytest.approx(1.0)
    assert vae_analysis.class_balance(np.tile(np.eye(10)[3], (7, 1))) == pytest.approx(0.0)
    rng = np.random.default_rng(0)
    a = rng.normal(size=(20000, 3))
    assert vae_analysis.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    b = 1.0 + 2.0 * rng.normal(size=(20000, 3))  # mean 1, std 2: 3 * (1 + (2 - 1)^2) = 6
    assert vae_analysis.frechet_distance(a, b) == pytest.approx(6.0, rel=0.05)


def test_elbo_terms_reproducible_and_consistent():
    model = vae.VAE(12, 2, hidden_units=(8,), seed=0)
    x = (np.random.default_rng(0).random((50, 12)) < 0.5).astype("float32")
    elbo, reconstruction, kl = vae_analysis.elbo_terms(model, x, seed=3, batch_size=20)
    assert elbo.shape == (50,)
    np.testing.assert_allclose(elbo, -(reconstruction + kl))
    np.testing.assert_allclose(elbo, vae_analysis.elbo_terms(model, x, seed=3)[0], rtol=1e-5)
    z_mean, z_log_var = model.encode(x)
    np.testing.assert_allclose(kl, np.asarray(vae.gaussian_kl(z_mean, z_log_var)), rtol=1e-4, atol=1e-5)


def test_gaussian_elbo_monte_carlo_matches_quadrature():
    log_joint_grid = _gaussian_log_joint(VALUES, MEAN, COV, constant=-250.0)
    inv, log_det = np.linalg.inv(COV), np.log(np.linalg.det(2 * np.pi * COV))
    log_joint = lambda z: -0.5 * np.sum((z - MEAN) @ inv * (z - MEAN), axis=1) - 0.5 * log_det - 250.0
    q_mean, q_cov = np.array([0.1, -0.4]), np.diag([0.1, 0.05])
    elbo, error = vae_analysis.gaussian_elbo_monte_carlo(log_joint, q_mean, q_cov, num_samples=20000, seed=0)
    assert abs(elbo - vae_analysis.gaussian_elbo_on_grid(log_joint_grid, VALUES, q_mean, q_cov)) < 5 * error
    exact, _ = vae_analysis.gaussian_elbo_monte_carlo(log_joint, MEAN, COV, num_samples=100, seed=0)
    assert exact == pytest.approx(-250.0, abs=0.3)  # q = posterior: log p(x, z) - log q(z) = -250 for every draw... up to MC
