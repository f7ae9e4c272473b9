"""The VAE's parts: closed-form KL, sampling, training metrics, bounds, saving."""

import math

import keras
import numpy as np
import pytest

from aecourse import vae as V


def _binary(n=256, d=12, seed=0):
    """Binary data from a 2-factor latent model, so a VAE has something to learn."""
    rng = np.random.default_rng(seed)
    logits = 3 * rng.normal(size=(n, 2)) @ rng.normal(size=(2, d))
    return (rng.random((n, d)) < 1 / (1 + np.exp(-logits))).astype("float32")


def test_gaussian_kl_matches_monte_carlo():
    rng = np.random.default_rng(0)
    mean, log_var = rng.normal(size=(3, 4)), rng.normal(0, 0.7, size=(3, 4))
    closed = keras.ops.convert_to_numpy(V.gaussian_kl(mean, log_var))
    z = mean + np.exp(0.5 * log_var) * rng.normal(size=(200000, 3, 4))
    log_q = -0.5 * np.sum(np.log(2 * np.pi) + log_var + (z - mean) ** 2 / np.exp(log_var), axis=-1)
    log_p = -0.5 * np.sum(np.log(2 * np.pi) + z ** 2, axis=-1)
    np.testing.assert_allclose(closed, (log_q - log_p).mean(axis=0), rtol=0.02, atol=0.02)
    assert closed.shape == (3,)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(V.gaussian_kl(np.zeros((2, 5)), np.zeros((2, 5)))), 0)


def test_log_densities_match_direct_formulas():
    rng = np.random.default_rng(1)
    x = (rng.random((5, 7)) < 0.5).astype("float32")
    logits = rng.normal(0, 3, size=(5, 7)).astype("float32")
    r = 1 / (1 + np.exp(-logits))
    expected = np.sum(x * np.log(r) + (1 - x) * np.log(1 - r), axis=1)
    got = keras.ops.convert_to_numpy(V.bernoulli_log_likelihood(x, logits))
    np.testing.assert_allclose(got, expected, rtol=1e-4)
    z, mean, log_var = rng.normal(size=(3, 4, 2)).astype("float32")
    direct = np.sum(-0.5 * np.log(2 * np.pi * np.exp(log_var)) - (z - mean) ** 2 / (2 * np.exp(log_var)), axis=1)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(V.gaussian_log_density(z, mean, log_var)), direct, rtol=1e-4)


def test_sampling_moments_seed_and_errors():
    mean = np.full((20000, 2), [1.0, -2.0], "float32")
    log_var = np.full((20000, 2), [0.0, np.log(4.0)], "float32")
    z = keras.ops.convert_to_numpy(V.Sampling(seed=3)([mean, log_var]))
    np.testing.assert_allclose(z.mean(axis=0), [1.0, -2.0], atol=0.05)
    np.testing.assert_allclose(z.std(axis=0), [1.0, 2.0], rtol=0.03)
    layer = V.Sampling(seed=3)
    first, second = (keras.ops.convert_to_numpy(layer([mean[:4], log_var[:4]])) for _ in range(2))
    # same seed, same first draw (compared at the same shape: torch draws a larger batch differently)
    np.testing.assert_allclose(first, keras.ops.convert_to_numpy(V.Sampling(seed=3)([mean[:4], log_var[:4]])))
    assert not np.allclose(first, second)        # the generator advances
    assert V.Sampling.from_config(layer.get_config()).seed == 3
    with pytest.raises(ValueError, match="Received: seed="):
        V.Sampling(seed=1.5)
    with pytest.raises(ValueError, match=r"\[z_mean, z_log_var\]"):
        layer(mean)


def test_fit_reports_loss_reconstruction_and_kl():
    x = _binary()
    model = V.VAE(12, latent_dim=2, hidden_units=(32,), beta=2.0, seed=0)
    model.compile(keras.optimizers.Adam(1e-2))
    history = model.fit(x, epochs=15, batch_size=64, verbose=0).history
    assert {"loss", "reconstruction", "kl"} <= set(history)
    assert history["loss"][-1] < history["loss"][0]
    # loss = reconstruction + beta * kl (epoch means of per-batch means, equal batches)
    np.testing.assert_allclose(history["loss"][-1], history["reconstruction"][-1] + 2.0 * history["kl"][-1],
                               rtol=1e-3)
    result = model.evaluate(x, verbose=0, return_dict=True)
    assert result["kl"] > 0 and result["reconstruction"] > 0
    assert model.predict(x[:5], verbose=0).shape == (5, 12)
    assert model.generate(4).shape == (4, 12) and model.generate(4).max() <= 1


def test_bad_arguments_raise():
    for kwargs, name in [({"latent_dim": 0}, "latent_dim"), ({"beta": -1.0}, "beta"),
                         ({"hidden_units": (8, 0)}, r"hidden_units\[i\]")]:
        with pytest.raises(ValueError, match=f"Received: {name}="):
            V.VAE(**{"input_dim": 12, "latent_dim": 2, **kwargs})
    with pytest.raises(ValueError, match="num_samples"):
        V.importance_sampled_log_likelihood(V.VAE(12, 2), _binary()[:4], num_samples=0)


def test_save_and_reload_reproduce_encoder_mean(tmp_path):
    x = _binary()
    model = V.VAE(12, latent_dim=3, hidden_units=(16,), beta=4.0, seed=7, name="vae")
    model.compile(keras.optimizers.Adam(1e-2))
    model.fit(x, epochs=2, batch_size=64, verbose=0)
    model.save(tmp_path / "vae.keras")
    reloaded = keras.saving.load_model(tmp_path / "vae.keras")
    assert isinstance(reloaded, V.VAE) and reloaded.beta == 4.0 and reloaded.latent_dim == 3
    np.testing.assert_allclose(reloaded.encode(x)[0], model.encode(x)[0], atol=1e-6)
    np.testing.assert_allclose(reloaded.decode(np.ones((2, 3))), model.decode(np.ones((2, 3))), atol=1e-6)


@pytest.fixture(scope="module")
def trained_vae():
    keras.utils.set_random_seed(0)
    model = V.VAE(12, latent_dim=2, hidden_units=(32,), seed=0)
    model.compile(keras.optimizers.Adam(1e-2))
    model.fit(_binary(), epochs=10, batch_size=64, verbose=0)
    return model


def test_importance_bound_is_above_elbo_and_tightens(trained_vae):
    x = _binary(n=400, seed=1)
    repeated = np.tile(x, (20, 1))  # many one-sample draws per example: a precise average
    reconstruction, kl = (keras.ops.convert_to_numpy(t) for t in trained_vae.loss_terms(repeated))
    elbo = -(reconstruction + kl).mean()
    bounds = {k: V.importance_sampled_log_likelihood(trained_vae, x, num_samples=k, seed=k).mean()
              for k in (10, 100)}
    bounds[1] = V.importance_sampled_log_likelihood(trained_vae, repeated, num_samples=1).mean()
    assert bounds[1] == pytest.approx(elbo, abs=0.15)     # K = 1 is the ELBO
    assert elbo < bounds[10] < bounds[100]                # tightens with more samples
    assert reconstruction.shape == kl.shape == (8000,)


def test_importance_estimate_converges_to_exact_log_likelihood(trained_vae):
    # With a 2-D latent, log p(x) = log of the integral of p(x|z) p(z) dz on a fine grid.
    x = _binary(n=6, seed=2)
    grid = np.linspace(-7, 7, 281)
    z = np.stack(np.meshgrid(grid, grid), axis=-1).reshape(-1, 2).astype("float32")
    logits = trained_vae.decoder.predict(z, verbose=0, batch_size=10000)
    log_px_given_z = x @ logits.T - np.logaddexp(0, logits).sum(axis=1)       # (6, grid)
    log_prior = -0.5 * np.sum(z ** 2, axis=1) - np.log(2 * np.pi)
    cell = (grid[1] - grid[0]) ** 2
    joint = log_px_given_z + log_prior + np.log(cell)
    exact = joint.max(axis=1) + np.log(np.exp(joint - joint.max(axis=1, keepdims=True)).sum(axis=1))
    estimate = V.importance_sampled_log_likelihood(trained_vae, x, num_samples=20000, batch_size=1)
    np.testing.assert_allclose(estimate, exact, atol=0.05)
    assert math.isfinite(estimate.sum())
