"""ppca: the closed-form probabilistic PCA against a direct Gaussian density; the linear VAE's exact ELBO."""

import keras
import numpy as np
import pytest
from scipy.stats import multivariate_normal

from aecourse import ppca


def _data(n=400, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 5)) @ rng.normal(size=(5, 5)) + rng.normal(size=5)


def test_log_likelihood_is_the_gaussian_density():
    x = _data()
    mean, w, sigma2 = ppca.ppca_fit(x, 2)
    direct = multivariate_normal(mean, w @ w.T + sigma2 * np.eye(5)).logpdf(x)
    np.testing.assert_allclose(ppca.ppca_log_likelihood(x, mean, w, sigma2), direct, rtol=1e-10)


def test_closed_form_is_the_maximum():
    x = _data()
    mean, w, sigma2 = ppca.ppca_fit(x, 2)
    eigenvalues = np.sort(np.linalg.eigvalsh(np.cov(x, rowvar=False, bias=True)))[::-1]
    assert sigma2 == pytest.approx(eigenvalues[2:].mean())
    best = ppca.ppca_log_likelihood(x, mean, w, sigma2).mean()
    for factor in (0.9, 1.1):
        assert ppca.ppca_log_likelihood(x, mean, w, sigma2 * factor).mean() < best
        assert ppca.ppca_log_likelihood(x, mean, w * factor, sigma2).mean() < best
    assert ppca.ppca_log_likelihood(x, mean, w + 0.05, sigma2).mean() < best
    # the columns span the top principal directions
    _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
    np.testing.assert_allclose(np.linalg.svd(vt[:2] @ w, compute_uv=False),
                               np.linalg.norm(w, axis=0)[np.argsort(-np.linalg.norm(w, axis=0))], rtol=1e-8)


def test_linear_vae_elbo_equals_log_likelihood_at_the_exact_posterior():
    x = _data().astype("float32")
    mean, w, sigma2 = ppca.ppca_fit(x, 2)
    m = w.T @ w + sigma2 * np.eye(2)  # diagonal: the columns of W_ML are orthogonal
    posterior_map = np.linalg.solve(m, w.T)  # posterior mean = M^-1 W^T (x - mean)
    model = ppca.LinearVAE(5, 2)
    model.encoder.set_weights([posterior_map.T, -posterior_map @ mean])
    model.decoder.set_weights([w.T, mean])
    model.z_log_var.assign(np.log(sigma2 * np.diag(np.linalg.inv(m))).astype("float32"))
    model.log_sigma2.assign(np.float32(np.log(sigma2)))
    elbo = keras.ops.convert_to_numpy(model.elbo(x))
    np.testing.assert_allclose(elbo, ppca.ppca_log_likelihood(x, mean, w, sigma2), atol=1e-3)
    assert model.noise_variance() == pytest.approx(sigma2, rel=1e-5)
    # any other encoder gives a lower bound
    model.z_log_var.assign(model.z_log_var + 0.5)
    assert np.all(keras.ops.convert_to_numpy(model.elbo(x)) < elbo)


def test_linear_vae_training_raises_the_elbo():
    x = _data().astype("float32")
    keras.utils.set_random_seed(0)
    model = ppca.LinearVAE(5, 2)
    model.compile(keras.optimizers.Adam(0.01))
    history = model.fit(x, epochs=30, batch_size=100, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.decoder_columns().shape == (5, 2)


@pytest.mark.parametrize("call, match", [
    (lambda: ppca.ppca_fit(np.zeros(5), 1), "2-D"),
    (lambda: ppca.ppca_fit(_data(), 5), "k must be"),
    (lambda: ppca.ppca_log_likelihood(_data(), np.zeros(5), np.zeros((4, 2)), 1.0), "w must have"),
    (lambda: ppca.ppca_log_likelihood(_data(), np.zeros(5), np.zeros((5, 2)), 0.0), "sigma2 must be positive"),
    (lambda: ppca.LinearVAE(0, 2), "input_dim"),
])
def test_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
