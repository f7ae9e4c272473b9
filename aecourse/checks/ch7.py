"""Checks of chapter 7, variational autoencoders."""

import functools

import numpy as np
from keras import ops

from aecourse import vae
from aecourse.checks import EXPLAIN, IMPLEMENT, TRAIN, Check, expect_close, expect_shape, fail


def _gaussian(rng, n=9, latent_dim=5):
    return rng.normal(size=(n, latent_dim)), rng.normal(0, 1.0, size=(n, latent_dim))


def reference_diagonal_kl(mean_q, log_var_q, mean_p, log_var_p):
    """KL(N(mean_q, diag exp(log_var_q)) || N(mean_p, diag exp(log_var_p))) per row."""
    return 0.5 * np.sum(log_var_p - log_var_q + (np.exp(log_var_q) + (mean_q - mean_p) ** 2) / np.exp(log_var_p)
                        - 1.0, axis=-1)


def _kl_inputs(rng):
    return [_gaussian(rng) + _gaussian(rng), (np.zeros((2, 3)), np.zeros((2, 3))) * 2]


def _judge_kl(cases, results):
    label = "ex-7-kl"
    for case, got in zip(cases, results):
        expect_shape(label, got, (len(case[0]),), "Return one KL per example: sum over the latent axis only.")
        expect_close(label, got, reference_diagonal_kl(*case),
                     "the KL values (per unit: 0.5 * (log-variance of p - log-variance of q + (variance of q + "
                     "squared mean difference) / variance of p - 1), summed; q is the first Gaussian; "
                     "0 when the two Gaussians are equal)")
    return "KL between two diagonal Gaussians matches the reference"


check_gaussian_kl = Check("ex-7-kl", IMPLEMENT, inputs=_kl_inputs, judge=_judge_kl)


def reference_free_bits_kl(z_mean, z_log_var, free_bits):
    """Free-bits KL: each unit's batch-mean KL to N(0, I), raised to at least `free_bits`, summed over units."""
    per_unit = 0.5 * np.mean(z_mean ** 2 + np.exp(z_log_var) - 1.0 - z_log_var, axis=0)
    return float(np.sum(np.maximum(per_unit, free_bits)))


def _free_bits_inputs(rng):
    scales = np.array([0.05, 0.3, 0.8, 1.5, 2.5])  # units from nearly switched off to busy
    z_mean = rng.normal(size=(12, 5)) * scales
    z_log_var = rng.normal(-0.5, 0.3, size=(12, 5)) * (scales > 0.1)
    return [(z_mean, z_log_var, 0.5), (z_mean, z_log_var, 0.0)]


def _judge_free_bits(cases, results):
    label = "ex-7-free-bits"
    for (z_mean, z_log_var, free_bits), got in zip(cases, results):
        if np.ndim(got) != 0:
            fail(label, f"return one number for the batch, not an array of shape {np.shape(got)}.")
        expect_close(label, np.asarray(got, "float64"), reference_free_bits_kl(z_mean, z_log_var, free_bits),
                     "the free-bits KL (per unit: the KL averaged over the batch, then raised to at least "
                     "free_bits; then summed over the units)")
    return "free-bits KL matches the reference"


check_free_bits = Check("ex-7-free-bits", IMPLEMENT, inputs=_free_bits_inputs, judge=_judge_free_bits)


def _bernoulli_case(rng, n=8, input_dim=30, latent_dim=4):
    x = (rng.random((n, input_dim)) < 0.4).astype("float64")
    logits = rng.normal(0, 3, size=(n, input_dim))
    return (x, logits) + _gaussian(rng, n, latent_dim)


def reference_elbo(x, logits, z_mean, z_log_var):
    """One-sample ELBO per example: `log p(x|z) - KL(q(z|x) || p(z))`."""
    return ops.convert_to_numpy(vae.bernoulli_log_likelihood(x, ops.convert_to_tensor(logits))
                                - vae.gaussian_kl(z_mean, z_log_var))


def _judge_elbo(cases, results):
    label = "ex-7-elbo"
    for case, got in zip(cases, results):
        expect_shape(label, got, (len(case[0]),), "Return one ELBO per example.")
        expect_close(label, got, reference_elbo(*case),
                     "the ELBO values (sum the Bernoulli log-likelihood over pixels, using "
                     "sigmoid(logits) as probabilities, then subtract the KL)", rtol=1e-4, atol=1e-4)
    return "ELBO = log-likelihood - KL matches the reference"


check_elbo = Check("ex-7-elbo", IMPLEMENT, inputs=lambda rng: [_bernoulli_case(rng)], judge=_judge_elbo)


def _iwae_inputs(rng):
    # realistic log-weights of 784-pixel images are far below -745
    return [(offset + rng.normal(0, 3, size=(50, 6)),) for offset in (0.0, -1000.0)]


def _judge_iwae(cases, results):
    label = "ex-7-iwae"
    for (log_weights,), got in zip(cases, results):
        top = log_weights.max(axis=0)
        expected = np.log(np.mean(np.exp(log_weights - top), axis=0)) + top
        expect_shape(label, got, (log_weights.shape[1],), "Return one bound per example; the K samples are "
                                                          "along axis 0.")
        expect_close(label, got, expected,
                     f"the bounds for log-weights around {np.round(np.mean(log_weights), -3):g} (log of the "
                     "MEAN of the weights, computed stably: subtract the largest log-weight before "
                     "exponentiating)")
    return "importance-sampled bound matches the reference"


check_importance_bound = Check("ex-7-iwae", IMPLEMENT, inputs=_iwae_inputs, judge=_judge_iwae)

# ----------------------------------------------------------------------------- train

TRAIN_IMAGES, HELD_OUT_IMAGES, MAX_HIDDEN, MAX_LATENT, ELBO_BOUND = 2000, 2000, 512, 32, -290.0


@functools.lru_cache(maxsize=1)
def _binary_fashion():
    from aecourse import binarized
    return binarized.fashion_mnist()


def _train_inputs(rng):
    x = _binary_fashion().x_train
    return [(x[rng.choice(len(x), TRAIN_IMAGES, replace=False)],)]


def reference_vae_elbo(x, weights, rng):
    """One-sample ELBO per image of a `784 -> H -> (K, K) -> H -> 784` VAE (relu hidden layers) from its weights."""
    k1, b1, km, bm, kv, bv, k2, b2, k3, b3 = (np.asarray(w, "float64") for w in weights)
    hidden = np.maximum(x @ k1 + b1, 0.0)
    z_mean, z_log_var = hidden @ km + bm, hidden @ kv + bv
    z = z_mean + np.exp(0.5 * z_log_var) * rng.normal(size=z_mean.shape)
    logits = np.maximum(z @ k2 + b2, 0.0) @ k3 + b3
    log_likelihood = np.sum(x * logits - np.logaddexp(0.0, logits), axis=1)
    kl = 0.5 * np.sum(z_mean ** 2 + np.exp(z_log_var) - 1.0 - z_log_var, axis=1)
    return log_likelihood - kl


def _judge_train(cases, results):
    label = "ex-7-train"
    weights = [w for w in results[0] if np.issubdtype(np.asarray(w).dtype, np.floating)]
    shapes = [np.shape(w) for w in weights]
    if len(shapes) != 10 or len(shapes[0]) != 2:
        fail(label, "expected the weights of aecourse.vae.VAE(784, K, hidden_units=(H,)): 10 arrays, "
                    f"[(784, H), (H,), (H, K), (K,), (H, K), (K,), (K, H), (H,), (H, 784), (784,)]; got {shapes}.")
    h, k = shapes[0][1], shapes[2][1] if len(shapes[2]) == 2 else -1
    expected = [(784, h), (h,), (h, k), (k,), (h, k), (k,), (k, h), (h,), (h, 784), (784,)]
    if shapes != expected or not (1 <= h <= MAX_HIDDEN and 1 <= k <= MAX_LATENT):
        fail(label, f"expected a VAE 784 -> H -> (K means, K log-variances) -> H -> 784 with H <= {MAX_HIDDEN} "
                    f"and K <= {MAX_LATENT}, i.e. weights of shapes {expected}; got {shapes}.")
    if not all(np.all(np.isfinite(w)) for w in weights):
        fail(label, "the trained weights contain NaN or infinite values (a learning rate too large?).")
    x = _binary_fashion().x_test.astype("float64")
    rng = np.random.default_rng()
    held_out = x[rng.choice(len(x), HELD_OUT_IMAGES, replace=False)]
    elbo = float(np.mean(reference_vae_elbo(held_out, weights, rng)))
    if not elbo > ELBO_BOUND:
        fail(label, f"the mean ELBO on held-out binarized test images is {elbo:.1f} nats, not above {ELBO_BOUND:g}. "
                    "The check rebuilds your VAE from its weights (relu hidden layers, Bernoulli logits out) and "
                    "computes the ELBO with beta = 1: train with beta = 1, for more epochs (Adam, 1e-3).")
    return f"trained VAE's held-out ELBO is above {ELBO_BOUND:g} nats"


check_trained_vae = Check("ex-7-train", TRAIN, inputs=_train_inputs, judge=_judge_train, allow=("aecourse.vae",))

# ----------------------------------------------------------------------------- explain

check_collapse_answer = Check("ex-7-collapse", EXPLAIN, min_words=40)
