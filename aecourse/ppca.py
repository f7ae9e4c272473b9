"""Probabilistic PCA in closed form, and the linear VAE whose ELBO optimum recovers it.

Tipping & Bishop (1999): `x = W z + mean + noise`, `z ~ N(0, I_k)`,
`noise ~ N(0, sigma2 I_D)`, so `x ~ N(mean, C)` with `C = W W^T + sigma2 I`.
The maximum-likelihood fit is closed-form: `sigma2` is the mean of the `D - k`
discarded eigenvalues of the data covariance, and `W = U_k (L_k - sigma2 I)^(1/2)`
(up to a rotation). Lucas et al. (2019) show that a VAE with a linear encoder and
decoder and a Gaussian likelihood reaches this optimum: `LinearVAE` is that model,
with its ELBO in closed form (for a linear decoder the expectation over `q` is exact).
"""

import numpy as np
import keras
from keras import ops

from aecourse.vae import gaussian_kl

LOG_2PI = float(np.log(2 * np.pi))


def _check_data(x):
    x = np.asarray(x, "float64")
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"x must be a 2-D (n, D) array with n >= 2. Received: shape={x.shape}")
    return x


def ppca_fit(x, k):
    """The maximum-likelihood probabilistic PCA of `x` with `k` latent dimensions.

    Args:
        x: `(n, D)` data.
        k: latent dimension, an integer in `[1, D - 1]`.

    Returns:
        `(mean, w, sigma2)`: the `(D,)` sample mean, the `(D, k)` loading matrix
        `U_k (L_k - sigma2 I)^(1/2)` (columns along the top-`k` principal
        directions) and the noise variance, the mean of the discarded eigenvalues
        of the covariance `(1/n) sum (x - mean)(x - mean)^T`.

    Example:

    >>> x = np.random.default_rng(0).normal(size=(500, 4)) * [3.0, 2.0, 1.0, 1.0]
    >>> mean, w, sigma2 = ppca_fit(x, 2)
    >>> w.shape, round(float(sigma2), 1)
    ((4, 2), 1.0)
    """
    x = _check_data(x)
    if not (isinstance(k, (int, np.integer)) and 1 <= k < x.shape[1]):
        raise ValueError(f"k must be an integer in [1, {x.shape[1] - 1}]. Received: k={k!r}")
    mean = x.mean(axis=0)
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov(x, rowvar=False, bias=True))
    eigenvalues, eigenvectors = eigenvalues[::-1], eigenvectors[:, ::-1]
    sigma2 = float(eigenvalues[k:].mean())
    w = eigenvectors[:, :k] * np.sqrt(np.maximum(eigenvalues[:k] - sigma2, 0.0))
    return mean, w, sigma2


def ppca_log_likelihood(x, mean, w, sigma2):
    """`log N(x; mean, W W^T + sigma2 I)` per example (nats).

    Args:
        x: `(n, D)` data.
        mean: `(D,)` mean.
        w: `(D, k)` loading matrix.
        sigma2: positive noise variance.

    Returns:
        `(n,)` log-densities.
    """
    x = _check_data(x)
    w = np.asarray(w, "float64")
    if w.ndim != 2 or w.shape[0] != x.shape[1]:
        raise ValueError(f"w must have shape (D, k) with D = {x.shape[1]}. Received: w.shape={w.shape}")
    if not sigma2 > 0:
        raise ValueError(f"sigma2 must be positive. Received: sigma2={sigma2!r}")
    cov = w @ w.T + sigma2 * np.eye(x.shape[1])
    cholesky = np.linalg.cholesky(cov)
    white = np.linalg.solve(cholesky, (x - mean).T)
    log_det = 2 * np.sum(np.log(np.diag(cholesky)))
    return -0.5 * (x.shape[1] * np.log(2 * np.pi) + log_det + np.sum(white ** 2, axis=0))


class LinearVAE(keras.Model):
    """A VAE with a linear encoder and decoder and a Gaussian likelihood (Lucas et al., 2019).

    `q(z | x) = N(A x + b, diag(exp(log_var)))` (the variance does not depend on
    `x`), `p(x | z) = N(W z + c, sigma2 I)` with one learned `sigma2`. Because the
    decoder is linear, `E_q ||x - W z - c||^2 = ||x - W m - c||^2 + sum_j s_j ||W_j||^2`,
    so the ELBO is computed exactly, with no sampled `z`. Fit with `fit(x)`
    (compile with an optimizer only); the loss is the mean negative ELBO.

    Args:
        input_dim: data dimension `D`.
        latent_dim: code dimension `k`.
        **kwargs: base `Model` arguments such as `name`.
    """

    def __init__(self, input_dim, latent_dim, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("input_dim", input_dim), ("latent_dim", latent_dim)):
            if not (isinstance(value, (int, np.integer)) and value > 0):
                raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
        self.input_dim, self.latent_dim = int(input_dim), int(latent_dim)
        self.encoder = keras.layers.Dense(self.latent_dim, name="encoder")
        self.decoder = keras.layers.Dense(self.input_dim, name="decoder")
        self.encoder.build((None, self.input_dim))
        self.decoder.build((None, self.latent_dim))
        self.z_log_var = self.add_weight(shape=(self.latent_dim,), initializer="zeros", name="z_log_var")
        self.log_sigma2 = self.add_weight(shape=(), initializer="zeros", name="log_sigma2")

    def call(self, x):
        return self.decoder(self.encoder(x))

    def elbo(self, x):
        """The exact ELBO per example (nats), a tensor of shape `(n,)`."""
        x = ops.convert_to_tensor(x, "float32")
        z_mean = self.encoder(x)
        residual = ops.sum(ops.square(x - self.decoder(z_mean)), axis=-1)
        spread = ops.sum(ops.exp(self.z_log_var) * ops.sum(ops.square(self.decoder.kernel), axis=1))
        log_likelihood = -0.5 * (self.input_dim * (self.log_sigma2 + LOG_2PI)
                                 + (residual + spread) / ops.exp(self.log_sigma2))
        z_log_var = ops.zeros_like(z_mean) + self.z_log_var
        return log_likelihood - gaussian_kl(z_mean, z_log_var)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        return -ops.mean(self.elbo(x))

    def decoder_columns(self):
        """The decoder's `(D, k)` matrix `W` as a NumPy array (its columns span the model's subspace)."""
        return keras.ops.convert_to_numpy(self.decoder.kernel).T

    def noise_variance(self):
        """The learned `sigma2`, a float."""
        return float(np.exp(keras.ops.convert_to_numpy(self.log_sigma2)))
