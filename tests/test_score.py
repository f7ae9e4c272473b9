import numpy as np
import pytest

from aecourse import score


def test_ring_log_density_integrates_to_one():
    ticks = np.linspace(-2.5, 2.5, 401)
    grid = np.stack(np.meshgrid(ticks, ticks), axis=-1).reshape(-1, 2)
    cell = (ticks[1] - ticks[0]) ** 2
    total = np.exp(score.ring_log_density(grid, 0.2, radius=1.0, thickness=0.05)).sum() * cell
    assert total == pytest.approx(1.0, abs=1e-4)


def test_ring_score_matches_finite_differences():
    rng = np.random.default_rng(0)
    points = rng.normal(0, 1, (50, 2))
    step = 1e-5
    numeric = np.stack([
        (score.ring_log_density(points + step * e, 0.3, thickness=0.03)
         - score.ring_log_density(points - step * e, 0.3, thickness=0.03)) / (2 * step)
        for e in np.eye(2)], axis=1)
    np.testing.assert_allclose(score.ring_score(points, 0.3, thickness=0.03), numeric, rtol=1e-5, atol=1e-6)


def test_tweedie_formula_on_the_ring_by_monte_carlo():
    # E[x | x~] estimated from samples equals x~ + sigma^2 * score of the smoothed density.
    rng = np.random.default_rng(1)
    sigma, thickness = 0.3, 0.03
    angle = rng.uniform(0, 2 * np.pi, 40000)
    samples = np.stack([np.cos(angle), np.sin(angle)], axis=1) + rng.normal(0, thickness, (40000, 2))
    noisy = np.array([[0.0, 0.3], [1.3, 0.0], [-0.6, -0.6], [0.1, 0.9]])
    tweedie = noisy + sigma ** 2 * score.ring_score(noisy, sigma, thickness=thickness)
    np.testing.assert_allclose(score.posterior_mean(noisy, samples, sigma), tweedie, atol=0.01)


def test_posterior_mean_of_one_sample_is_that_sample():
    np.testing.assert_allclose(score.posterior_mean(np.ones((3, 2)), np.zeros((1, 2)), 0.5), 0.0)


def test_score_of_the_data_density_is_the_sigma_zero_limit():
    points = np.array([[0.5, 0.5], [1.2, -0.3]])
    np.testing.assert_allclose(score.ring_score(points, 1e-6, thickness=0.1),
                               score.ring_score(points, 0.0, thickness=0.1), rtol=1e-6)


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="shape"):
        score.ring_score(np.zeros((3, 3)), 0.1)
    with pytest.raises(ValueError, match="not both zero"):
        score.ring_log_density(np.zeros((3, 2)), 0.0, thickness=0.0)
    with pytest.raises(ValueError, match="sigma must be positive"):
        score.posterior_mean(np.zeros((3, 2)), np.zeros((3, 2)), 0.0)
