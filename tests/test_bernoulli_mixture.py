"""Mixture of Bernoullis: a normalised density, EM that climbs, clear errors."""

import itertools

import numpy as np
import pytest

from aecourse.bernoulli_mixture import BernoulliMixture, logsumexp


def _clustered(n=600, seed=0):
    rng = np.random.default_rng(seed)
    templates = np.array([[0.9] * 4 + [0.1] * 4, [0.1] * 4 + [0.9] * 4, [0.5, 0.9, 0.1, 0.5] * 2])
    labels = rng.integers(0, 3, size=n)
    return (rng.random((n, 8)) < templates[labels]).astype("float32"), templates


def test_probabilities_sum_to_one_over_all_binary_vectors():
    x, _ = _clustered()
    mixture = BernoulliMixture(n_components=3, seed=0).fit(x)
    every = np.array(list(itertools.product([0, 1], repeat=8)), dtype="float32")
    assert np.exp(mixture.log_likelihood(every)).sum() == pytest.approx(1.0, abs=1e-5)


def test_em_climbs_and_recovers_templates():
    x, templates = _clustered()
    mixture = BernoulliMixture(n_components=3, max_iter=200, tol=1e-8, smoothing=1e-6, seed=1).fit(x)
    assert np.all(np.diff(mixture.history_) > -1e-6)
    assert mixture.history_[-1] > mixture.history_[0]
    # each true template has a learned one within 0.1 in every pixel
    for template in templates:
        assert np.abs(mixture.means_ - template).max(axis=1).min() < 0.1
    np.testing.assert_allclose(mixture.weights_.sum(), 1.0)
    assert mixture.log_likelihood(x).mean() == pytest.approx(mixture.history_[-1], abs=1e-3)


def test_one_component_is_independent_pixels():
    x, _ = _clustered()
    mixture = BernoulliMixture(n_components=1, smoothing=1e-9).fit(x)
    p = x.mean(axis=0)
    expected = np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=1)
    np.testing.assert_allclose(mixture.log_likelihood(x), expected, atol=1e-6)


def test_samples_and_logsumexp():
    x, _ = _clustered()
    mixture = BernoulliMixture(n_components=3, seed=0).fit(x)
    samples = mixture.sample(5000, seed=0)
    assert set(np.unique(samples)) <= {0.0, 1.0}
    np.testing.assert_allclose(samples.mean(axis=0), x.mean(axis=0), atol=0.05)
    a = np.array([[-1000.0, -1000.0], [1.0, 2.0]])
    np.testing.assert_allclose(logsumexp(a, axis=1), [-1000 + np.log(2), np.log(np.e + np.e ** 2)])


def test_bad_input_raises():
    with pytest.raises(ValueError, match="Received: n_components=0"):
        BernoulliMixture(n_components=0)
    with pytest.raises(ValueError, match="only 0s and 1s"):
        BernoulliMixture(2).fit(np.full((10, 4), 0.5))
    with pytest.raises(ValueError, match="Call fit"):
        BernoulliMixture(2).log_likelihood(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="features"):
        BernoulliMixture(2, seed=0).fit(np.eye(4)).log_likelihood(np.zeros((2, 5)))
