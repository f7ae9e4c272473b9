"""Checks of chapter 7, variational autoencoders."""

import numpy as np
from keras import ops

from aecourse import vae
from aecourse.checks import call, expect_close, fail, fresh_rng, passed


def _gaussian(rng, n=9, latent_dim=5):
    return rng.normal(size=(n, latent_dim)), rng.normal(0, 1.0, size=(n, latent_dim))


def check_gaussian_kl(gaussian_kl):
    """Checks `gaussian_kl(z_mean, z_log_var)`: KL(q || N(0, I)) summed per example."""
    label = "ex-7-kl"
    rng = fresh_rng()
    z_mean, z_log_var = _gaussian(rng)
    got = call(label, gaussian_kl, z_mean, z_log_var)
    if got.shape != (len(z_mean),):
        fail(label, f"return one KL per example, shape ({len(z_mean)},); got shape {got.shape}. "
                    "Sum over the latent axis only.")
    expect_close(label, got, ops.convert_to_numpy(vae.gaussian_kl(z_mean, z_log_var)),
                 "the KL values (0.5 * sum of mean^2 + variance - 1 - log-variance; "
                 "the variance is exp(z_log_var))")
    expect_close(label, call(label, gaussian_kl, np.zeros((2, 3)), np.zeros((2, 3))), np.zeros(2),
                 "the KL of N(0, I) from itself")
    passed(label, "closed-form Gaussian KL matches the reference")


def check_reparameterize(reparameterize):
    """Checks `reparameterize(z_mean, z_log_var, eps)`: `z_mean + exp(z_log_var / 2) * eps`."""
    label = "ex-7-reparam"
    rng = fresh_rng()
    z_mean, z_log_var = _gaussian(rng)
    eps = rng.normal(size=z_mean.shape)
    got = call(label, reparameterize, z_mean, z_log_var, eps)
    expect_close(label, got, z_mean + np.exp(0.5 * z_log_var) * eps,
                 "the samples z (use the given eps; scale it by the standard deviation "
                 "exp(z_log_var / 2), not the variance)")
    passed(label, "reparameterized samples match the reference")


def _bernoulli_case(rng, n=8, input_dim=30, latent_dim=4):
    x = (rng.random((n, input_dim)) < 0.4).astype("float64")
    logits = rng.normal(0, 3, size=(n, input_dim))
    return (x, logits) + _gaussian(rng, n, latent_dim)


def reference_elbo(x, logits, z_mean, z_log_var):
    """One-sample ELBO per example: `log p(x|z) - KL(q(z|x) || p(z))`."""
    return ops.convert_to_numpy(vae.bernoulli_log_likelihood(x, ops.convert_to_tensor(logits))
                                - vae.gaussian_kl(z_mean, z_log_var))


def check_elbo(elbo):
    """Checks `elbo(x, logits, z_mean, z_log_var)` for a Bernoulli decoder."""
    label = "ex-7-elbo"
    case = _bernoulli_case(fresh_rng())
    got = call(label, elbo, *case)
    if got.shape != (len(case[0]),):
        fail(label, f"return one ELBO per example, shape ({len(case[0])},); got shape {got.shape}.")
    expect_close(label, got, reference_elbo(*case),
                 "the ELBO values (sum the Bernoulli log-likelihood over pixels, using "
                 "sigmoid(logits) as probabilities, then subtract the KL)", rtol=1e-4, atol=1e-4)
    passed(label, "ELBO = log-likelihood - KL matches the reference")


def check_importance_bound(importance_bound):
    """Checks `importance_bound(log_weights)`: `logsumexp` over K minus `log K`."""
    label = "ex-7-iwae"
    rng = fresh_rng()
    for offset in (0.0, -1000.0):  # realistic log-weights of 784-pixel images are far below -745
        log_weights = offset + rng.normal(0, 3, size=(50, 6))
        expected = (np.log(np.mean(np.exp(log_weights - log_weights.max(axis=0)), axis=0))
                    + log_weights.max(axis=0))
        got = call(label, importance_bound, log_weights)
        if got.shape != (6,):
            fail(label, f"return one bound per example, shape (6,); got shape {got.shape}. "
                        "The K samples are along axis 0.")
        expect_close(label, got, expected,
                     f"the bounds for log-weights around {offset:g} (log of the MEAN of the weights, "
                     "computed stably: subtract the largest log-weight before exponentiating)")
    passed(label, "importance-sampled bound matches the reference")


def reference_active_units(z_mean, threshold=0.01):
    """Number of latent units whose mean code varies across examples: `Var_x(z_mean_j) > threshold`."""
    return int(np.sum(np.var(np.asarray(z_mean), axis=0) > threshold))


def check_active_units(active_units):
    """Checks `active_units(z_mean, threshold)` (Burda et al. 2016's activity statistic)."""
    label = "ex-7-active"
    rng = fresh_rng()
    n_active = int(rng.integers(2, 6))
    stds = np.concatenate([[0.4], rng.uniform(0.9, 2.0, n_active - 1), rng.uniform(0.0, 0.05, 8 - n_active)])
    means = np.concatenate([np.zeros(n_active), rng.uniform(2.0, 5.0, 8 - n_active)])  # collapsed units may sit off 0
    order = rng.permutation(8)
    z_mean = means[order] + stds[order] * rng.normal(size=(2000, 8))
    for threshold in (0.01, 0.5):
        got = call(label, active_units, z_mean, threshold)
        expected = reference_active_units(z_mean, threshold)
        if got.shape != () or got != expected:
            fail(label, f"with threshold={threshold} expected {expected} active units, got {got}. "
                        "A unit is active when the variance ACROSS EXAMPLES (axis 0) of its mean code "
                        "exceeds the threshold.")
    passed(label, "active-unit count matches the reference")
