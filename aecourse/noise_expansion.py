"""The small-noise expansion of a denoising autoencoder's squared-error loss.

For an autoencoder `r = g(f(x))` and Gaussian corruption `eps ~ N(0, s^2 I)`,
a second-order Taylor expansion of `r(x + eps)` around `x` gives

    E ||x - r(x + eps)||^2 = ||x - r(x)||^2
                             + s^2 ( ||J_r(x)||_F^2 - (x - r(x)) . lap r(x) ) + O(s^4),

where `J_r` is the Jacobian of `r` and `lap r` the Laplacian of each output
(`sum_i d^2 r_k / dx_i^2`). The first `s^2` term is a contractive penalty on
the whole autoencoder; the second, of the same order, is weighted by the
residual `x - r(x)`. Bishop (1995) shows that for regression, to this
order, the second term can be dropped for the purposes of training; for an
autoencoder the residual is a capacity limit, not target noise, so this
module computes both terms, in closed form, for a one-hidden-layer sigmoid
autoencoder `h = sigmoid(x W + b)`, `r = sigmoid(h V + c)`.
"""

import numpy as np


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def sigmoid_autoencoder_terms(x, encoder_kernel, encoder_bias, decoder_kernel, decoder_bias):
    """Reconstruction, `||J_r||_F^2` and `(x - r) . lap r` of a sigmoid autoencoder.

    With `a = h V + c`, `r = sigmoid(a)`, the pre-activation Jacobian is
    `A = V^T diag(h (1 - h)) W^T`, so `J_r = diag(r (1 - r)) A` and

        lap r_k = r_k'' ||A_k||^2 + r_k' sum_j V[j, k] h_j'' ||W[:, j]||^2,

    with `s' = s (1 - s)` and `s'' = s' (1 - 2 s)` for both layers.

    Args:
        x: inputs, shape `(n, D)`.
        encoder_kernel: `W`, shape `(D, K)`.
        encoder_bias: `b`, shape `(K,)`.
        decoder_kernel: `V`, shape `(K, D)`.
        decoder_bias: `c`, shape `(D,)`.

    Returns:
        A tuple of NumPy arrays `(r, jacobian_sq, curvature)`: the
        reconstructions `(n, D)`, `||J_r(x)||_F^2` of shape `(n,)` and
        `(x - r(x)) . lap r(x)` of shape `(n,)`. The expected excess loss
        under noise of standard deviation `s` is then
        `s^2 * (jacobian_sq - curvature) + O(s^4)`.

    Example:

    >>> rng = np.random.default_rng(0)
    >>> W, V = rng.normal(size=(4, 3)), rng.normal(size=(3, 4))
    >>> r, j, c = sigmoid_autoencoder_terms(rng.random((2, 4)), W, np.zeros(3), V, np.zeros(4))
    >>> r.shape, j.shape, c.shape
    ((2, 4), (2,), (2,))
    """
    x = np.asarray(x, "float64")
    W, b = np.asarray(encoder_kernel, "float64"), np.asarray(encoder_bias, "float64")
    V, c = np.asarray(decoder_kernel, "float64"), np.asarray(decoder_bias, "float64")
    if x.ndim != 2 or W.shape != (x.shape[1], b.shape[0]) or V.shape != (b.shape[0], c.shape[0]) \
            or c.shape[0] != x.shape[1]:
        raise ValueError(
            "Expected x (n, D), encoder_kernel (D, K), encoder_bias (K,), decoder_kernel (K, D), "
            f"decoder_bias (D,). Received: x.shape={x.shape}, encoder_kernel.shape={W.shape}, "
            f"encoder_bias.shape={b.shape}, decoder_kernel.shape={V.shape}, decoder_bias.shape={c.shape}")
    h = _sigmoid(x @ W + b)
    r = _sigmoid(h @ V + c)
    h1, r1 = h * (1 - h), r * (1 - r)
    h2, r2 = h1 * (1 - 2 * h), r1 * (1 - 2 * r)
    column_norms_sq = np.sum(W**2, axis=0)                                   # ||W[:, j]||^2, (K,)
    # ||A_k||^2 = sum_i (sum_j W[i, j] h'_j V[j, k])^2, one (D, D) product per example
    row_norms_sq = np.stack([np.sum(np.square((W * slope) @ V), axis=0) for slope in h1])
    jacobian_sq = np.sum(r1**2 * row_norms_sq, axis=1)
    laplacian = r2 * row_norms_sq + r1 * ((h2 * column_norms_sq) @ V)
    curvature = np.sum((x - r) * laplacian, axis=1)
    return r, jacobian_sq, curvature
