"""Measuring a VAE: stable ELBO estimates, exact 2-D posteriors, gradient estimators, sample quality.

Chapter 7's analysis tools, kept apart from `aecourse.vae` (the model, shared
with chapter 8):

- `elbo_terms`: the one-sample ELBO per image with the analytic KL, with its
  own seed, so one model's ELBO is one number wherever it is printed;
- `bernoulli_log_joint`, `log_joint_on_grid`, `log_marginal_from_grid`,
  `grid_moments`, `gaussian_elbo_on_grid`, `gaussian_elbo_monte_carlo`: with a 2-D code, `log p(x, z)` on a grid gives the
  exact posterior and `log p(x)` by quadrature, and the ELBO of any Gaussian
  `q(z)` by the same quadrature;
- `gradient_estimates`, `finite_difference_gradient`: the reparameterization
  and score-function estimators of `d/dmean E_q[f(z)]`, per draw;
- `aggregate_posterior_log_density`: `log (1/n) sum_n q(z | x_n)`;
- `class_balance`, `frechet_distance`: scores of generated samples through a
  classifier.
"""

import numpy as np
from keras import ops

from aecourse.bernoulli_mixture import logsumexp
from aecourse.vae import bernoulli_log_likelihood, gaussian_kl


def elbo_terms(model, x, seed=0, batch_size=1000):
    """One-sample ELBO per example: `log p(x|z) - KL(q(z|x) || N(0, I))`, `z ~ q(z|x)`.

    The KL is the closed form; the reconstruction uses one `z` per example,
    drawn from the model's encoder with NumPy noise seeded by `seed` (not the
    model's own `Sampling` layer), so the same call always gives the same
    number, whatever the batch size.

    Args:
        model: a `aecourse.vae.VAE` (any model with `encoder` -> `[z_mean, z_log_var]`
            and `decoder` -> Bernoulli logits).
        x: `(n, input_dim)` binary data.
        seed: seed of the noise.
        batch_size: examples per step.

    Returns:
        `(elbo, reconstruction, kl)`: three `(n,)` float64 arrays in nats, with
        `elbo = -(reconstruction + kl)`.
    """
    x = np.asarray(x, dtype="float32")
    if x.ndim != 2:
        raise ValueError(f"x must be a 2-D (n, input_dim) array. Received: shape={x.shape}")
    noise = np.random.default_rng(seed).normal(size=(len(x), model.latent_dim)).astype("float32")
    reconstruction, kl = [], []
    for start in range(0, len(x), batch_size):
        xb = ops.convert_to_tensor(x[start:start + batch_size])
        z_mean, z_log_var = model.encoder(xb, training=False)
        eps = ops.convert_to_tensor(noise[start:start + batch_size])
        logits = model.decoder(z_mean + ops.exp(0.5 * z_log_var) * eps, training=False)
        reconstruction.append(ops.convert_to_numpy(-bernoulli_log_likelihood(xb, logits)))
        kl.append(ops.convert_to_numpy(gaussian_kl(z_mean, z_log_var)))
    reconstruction = np.concatenate(reconstruction).astype("float64")
    kl = np.concatenate(kl).astype("float64")
    return -(reconstruction + kl), reconstruction, kl


def bernoulli_log_joint(decode_logits, x, z):
    """`log p(x | z) + log p(z)` with a Bernoulli decoder and the prior `N(0, I)`, for each row of `z`.

    Args:
        decode_logits: function mapping `(m, K)` codes to `(m, D)` Bernoulli logits.
        x: `(D,)` binary image.
        z: `(m, K)` codes.

    Returns:
        `(m,)` float64 array, in nats.
    """
    z = np.asarray(z, dtype="float64")
    logits = np.asarray(decode_logits(z.astype("float32")), dtype="float64")
    x = np.asarray(x, dtype="float64")
    log_likelihood = np.sum(x * logits - np.logaddexp(0.0, logits), axis=1)
    return log_likelihood - 0.5 * np.sum(z ** 2, axis=1) - 0.5 * z.shape[1] * np.log(2 * np.pi)


def log_joint_on_grid(decode_logits, x, values):
    """`log p(x | z) + log p(z)` for one binary image on a square grid of 2-D codes.

    Args:
        decode_logits: function mapping `(m, 2)` codes to `(m, D)` Bernoulli logits.
        x: `(D,)` binary image.
        values: `(g,)` evenly spaced coordinates; the grid is `values x values`.

    Returns:
        `(g, g)` float64 array, entry `[i, j]` at `z = (values[j], values[i])`
        (rows: z2, columns: z1), in nats.
    """
    values = np.asarray(values, dtype="float64")
    z1, z2 = np.meshgrid(values, values)
    codes = np.stack([z1.ravel(), z2.ravel()], axis=1)
    return bernoulli_log_joint(decode_logits, x, codes).reshape(len(values), len(values))


def gaussian_elbo_monte_carlo(log_joint, mean, cov, num_samples=4000, seed=0):
    """ELBO `E_q[log p(x, z)] + H(q)` of `q = N(mean, cov)`, the expectation by Monte Carlo.

    Args:
        log_joint: function mapping `(m, K)` codes to `(m,)` values of `log p(x, z)`.
        mean: `(K,)`; cov: `(K, K)`.
        num_samples: draws from `q`.
        seed: seed of the draws.

    Returns:
        `(elbo, standard_error)` in nats.
    """
    mean, cov = np.asarray(mean, "float64"), np.asarray(cov, "float64")
    z = np.random.default_rng(seed).multivariate_normal(mean, cov, size=num_samples)
    values = np.asarray(log_joint(z), "float64")
    entropy = 0.5 * np.log(np.linalg.det(2 * np.pi * np.e * cov))
    return float(values.mean() + entropy), float(values.std(ddof=1) / np.sqrt(num_samples))


def _cell_area(values):
    steps = np.diff(np.asarray(values, dtype="float64"))
    if len(steps) < 1 or not np.allclose(steps, steps[0]) or steps[0] <= 0:
        raise ValueError("values must be at least two evenly spaced, increasing coordinates.")
    return steps[0] ** 2


def log_marginal_from_grid(log_joint, values):
    """`log p(x) = log integral p(x, z) dz` by the midpoint rule on the grid (nats)."""
    return float(logsumexp(np.asarray(log_joint, "float64"), axis=None) + np.log(_cell_area(values)))


def grid_moments(log_joint, values):
    """Mean `(2,)` and covariance `(2, 2)` of the posterior `p(z | x)` on the grid."""
    values = np.asarray(values, dtype="float64")
    weights = np.exp(log_joint - logsumexp(np.asarray(log_joint, "float64"), axis=None))
    z1, z2 = np.meshgrid(values, values)
    codes = np.stack([z1.ravel(), z2.ravel()], axis=1)
    w = weights.ravel()
    mean = w @ codes
    centred = codes - mean
    return mean, (centred * w[:, None]).T @ centred


def gaussian_elbo_on_grid(log_joint, values, mean, cov):
    """ELBO `E_q[log p(x, z)] + H(q)` of a Gaussian `q = N(mean, cov)`, by quadrature on the grid.

    The grid must cover `q`'s mass with cells smaller than its standard
    deviations. With `q` the exact posterior the ELBO equals `log p(x)`.
    """
    values = np.asarray(values, dtype="float64")
    mean, cov = np.asarray(mean, "float64"), np.asarray(cov, "float64")
    z1, z2 = np.meshgrid(values, values)
    centred = np.stack([z1.ravel(), z2.ravel()], axis=1) - mean
    log_q = -0.5 * np.sum(centred @ np.linalg.inv(cov) * centred, axis=1)
    weights = np.exp(log_q - logsumexp(log_q, axis=None))
    entropy = 0.5 * np.log(np.linalg.det(2 * np.pi * np.e * cov))
    return float(weights @ log_joint.ravel() + entropy)


def finite_difference_gradient(f, z, step=1e-3):
    """Central-difference gradient of `f: (m, d) -> (m,)` at each row of `z`, shape `(m, d)`."""
    z = np.asarray(z, dtype="float64")
    grads = []
    for j in range(z.shape[1]):
        shift = np.zeros(z.shape[1])
        shift[j] = step
        grads.append((f(z + shift) - f(z - shift)) / (2 * step))
    return np.stack(grads, axis=1)


def gradient_estimates(f, grad_f, mean, std, num_samples=1000, seed=0):
    """Per-draw estimates of `d/dmean E_{z ~ N(mean, diag std^2)}[f(z)]`.

    Args:
        f: function mapping `(m, d)` codes to `(m,)` values.
        grad_f: function mapping `(m, d)` codes to the `(m, d)` gradients of `f`.
        mean, std: `(d,)` parameters of the Gaussian.
        num_samples: number of draws.
        seed: seed of the draws.

    Returns:
        dict of `(num_samples, d)` arrays, each row one draw's estimate (all unbiased):
        `"reparameterization"`: `grad_f(mean + std * eps)`;
        `"score function"`: `f(z) (z - mean) / std^2`;
        `"score function, baseline"`: the same with `f(z)` minus the mean of `f`
        over the other draws (a leave-one-out baseline, so still unbiased).
    """
    mean, std = np.asarray(mean, "float64"), np.asarray(std, "float64")
    eps = np.random.default_rng(seed).normal(size=(num_samples, len(mean)))
    z = mean + std * eps
    values = np.asarray(f(z), dtype="float64")
    score = eps / std  # d/dmean log N(z; mean, std^2) = (z - mean) / std^2
    baseline = (values.sum() - values) / (num_samples - 1)
    return {
        "reparameterization": np.asarray(grad_f(z), dtype="float64"),
        "score function": values[:, None] * score,
        "score function, baseline": (values - baseline)[:, None] * score,
    }


def aggregate_posterior_log_density(z, z_mean, z_log_var, batch_size=500):
    """`log q(z) = log (1/n) sum_n N(z; z_mean_n, diag exp(z_log_var_n))` for each row of `z`."""
    z = np.asarray(z, "float64")
    z_mean, z_log_var = np.asarray(z_mean, "float64"), np.asarray(z_log_var, "float64")
    out = []
    for start in range(0, len(z), batch_size):
        zb = z[start:start + batch_size, None, :]
        log_n = -0.5 * np.sum((zb - z_mean) ** 2 / np.exp(z_log_var) + z_log_var + np.log(2 * np.pi), axis=2)
        out.append(logsumexp(log_n, axis=1) - np.log(len(z_mean)))
    return np.concatenate(out)


def class_balance(probabilities):
    """Entropy of the predicted-class histogram over `log(classes)`: 1 when every class is predicted equally often."""
    probabilities = np.asarray(probabilities)
    counts = np.bincount(np.argmax(probabilities, axis=1), minlength=probabilities.shape[1])
    share = counts[counts > 0] / counts.sum()
    return float(-np.sum(share * np.log(share)) / np.log(probabilities.shape[1]))


def frechet_distance(features_a, features_b):
    """Fréchet distance between Gaussians fitted to two feature sets (the FID formula).

    `|m_a - m_b|^2 + tr(C_a + C_b - 2 (C_a C_b)^(1/2))`, with the matrix square
    root from the eigenvalues of `C_a^(1/2) C_b C_a^(1/2)` (symmetric, so stable).
    """
    a, b = np.asarray(features_a, "float64"), np.asarray(features_b, "float64")
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    eigval, eigvec = np.linalg.eigh(cov_a)
    root_a = (eigvec * np.sqrt(np.clip(eigval, 0, None))) @ eigvec.T
    middle = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_root = np.sum(np.sqrt(np.clip(middle, 0, None)))
    return float(np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root)
