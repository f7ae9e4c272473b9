"""Checks of chapter 2, sparse autoencoders, and the NumPy reference of a sparse autoencoder.

The references follow the lecture notes (seed 003) and Ng's sparse
autoencoder notes: one sigmoid hidden layer `h = sigmoid(x W1 + b1)`, a
sigmoid output `z = sigmoid(h W2 + b2)` (Keras's row convention: `W1` is
`(D, H)`, `W2` is `(H, D)`), and the objective

    J = mean_n 1/2 ||x_n - z_n||^2 + beta sum_j KL(rho || rho_hat_j) + alpha/2 (|W1|^2 + |W2|^2).

`reference_sparse_ae_gradients` is the hand-derived backpropagation; the
tests compare it with finite differences and with autodiff.
"""

import numpy as np

from aecourse.checks import call, expect_close, fail, fresh_rng, passed


def sigmoid(a):
    """The logistic function `1 / (1 + exp(-a))`."""
    return 1.0 / (1.0 + np.exp(-a))


def reference_mean_activation(h):
    """Mean activation of each unit over the examples (axis 0), shape `(units,)`."""
    return np.mean(np.asarray(h, "float64"), axis=0)


def reference_kl(rho, rho_hat):
    """Elementwise `KL(rho || rho_hat)` between Bernoulli distributions."""
    rho_hat = np.asarray(rho_hat, "float64")
    return rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))


def reference_kl_penalty(rho, rho_hat, beta):
    """`beta * sum_j KL(rho || rho_hat_j)`."""
    return beta * np.sum(reference_kl(rho, rho_hat))


def reference_l1_penalty(h, lam):
    """`lam * sum_j |h_j|` per example, averaged over the examples."""
    return lam * np.mean(np.sum(np.abs(np.asarray(h, "float64")), axis=1))


def reference_hidden_delta(delta_out, w_dec, h, rho, beta):
    """Seed 003's hidden delta with the sparsity term, for sigmoid hidden units.

    `delta_h = (delta_out W_dec^T + beta (-rho / rho_hat + (1 - rho) / (1 - rho_hat))) * h (1 - h)`,
    with `rho_hat` the mean of `h` over the examples.

    Args:
        delta_out: `(n, D)` gradient of the per-example loss w.r.t. the output pre-activations.
        w_dec: `(H, D)` decoder kernel.
        h: `(n, H)` sigmoid hidden activations.
        rho: target mean activation.
        beta: weight of the sparsity penalty.

    Returns:
        `(n, H)` deltas of the hidden pre-activations.
    """
    rho_hat = reference_mean_activation(h)
    sparsity = beta * (-rho / rho_hat + (1 - rho) / (1 - rho_hat))
    return (delta_out @ w_dec.T + sparsity) * h * (1 - h)


def sparse_ae_forward(x, params):
    """Hidden activations `h` and reconstructions `z` of the one-layer sigmoid autoencoder."""
    h = sigmoid(x @ params["W1"] + params["b1"])
    return h, sigmoid(h @ params["W2"] + params["b2"])


def reference_sparse_ae_loss(x, params, rho, beta, alpha):
    """The objective `J` of the module docstring, in float64."""
    h, z = sparse_ae_forward(x, params)
    reconstruction = np.mean(0.5 * np.sum((x - z) ** 2, axis=1))
    decay = 0.5 * alpha * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))
    return reconstruction + reference_kl_penalty(rho, reference_mean_activation(h), beta) + decay


def reference_sparse_ae_gradients(x, params, rho, beta, alpha):
    """Hand-derived gradients of `J` (backpropagation with the sparsity delta).

    Returns:
        dict with the keys of `params` (`W1`, `b1`, `W2`, `b2`), each the
        gradient of `J` with respect to that parameter.
    """
    h, z = sparse_ae_forward(x, params)
    n = len(x)
    delta_out = (z - x) * z * (1 - z)
    delta_h = reference_hidden_delta(delta_out, params["W2"], h, rho, beta)
    return {
        "W1": x.T @ delta_h / n + alpha * params["W1"], "b1": delta_h.mean(axis=0),
        "W2": h.T @ delta_out / n + alpha * params["W2"], "b2": delta_out.mean(axis=0),
    }


def random_sparse_ae(rng, n=20, input_dim=9, hidden=6):
    """Random inputs in [0, 1] and small random parameters, for gradient checks."""
    x = rng.random((n, input_dim))
    params = {
        "W1": rng.normal(0, 0.5, (input_dim, hidden)), "b1": rng.normal(0, 0.5, hidden),
        "W2": rng.normal(0, 0.5, (hidden, input_dim)), "b2": rng.normal(0, 0.5, input_dim),
    }
    return x, params


def check_mean_activation(mean_activation):
    """Checks `mean_activation(h)`: each unit's mean over the examples."""
    label = "ex-2-mean"
    rng = fresh_rng()
    h = rng.random((37, 11))
    got = call(label, mean_activation, h)
    if got.shape != (11,):
        fail(label, f"return one value per hidden unit, shape (11,) for h of shape (37, 11); "
                    f"got shape {got.shape}. Average over the examples (axis 0).")
    expect_close(label, got, reference_mean_activation(h), "the mean activations rho_hat_j")
    passed(label, "mean activation per hidden unit matches the reference")


def check_kl_penalty(kl_penalty):
    """Checks `kl_penalty(rho, rho_hat, beta)` = `beta * sum_j KL(rho || rho_hat_j)`."""
    label = "ex-2-kl"
    rng = fresh_rng()
    for rho in (rng.uniform(0.02, 0.1), rng.uniform(0.2, 0.4)):
        rho_hat = rng.uniform(0.01, 0.99, size=50)
        beta = rng.uniform(1, 5)
        got = call(label, kl_penalty, rho, rho_hat, beta)
        expect_close(label, got, reference_kl_penalty(rho, rho_hat, beta),
                     f"the penalty for rho={rho:.3f} (beta times the SUM over units of "
                     "rho log(rho/rho_hat) + (1-rho) log((1-rho)/(1-rho_hat)))")
    got = call(label, kl_penalty, 0.1, np.full(8, 0.1), 3.0)
    expect_close(label, got, 0.0, "the penalty when every rho_hat equals rho (it must be 0)")
    passed(label, "KL sparsity penalty matches the reference")


def check_l1_penalty(l1_penalty):
    """Checks `l1_penalty(h, lam)`: `lam * sum_j |h_j|` per example, averaged over examples."""
    label = "ex-2-l1"
    rng = fresh_rng()
    h = rng.normal(size=(23, 13))
    lam = rng.uniform(0.01, 0.1)
    got = call(label, l1_penalty, h, lam)
    expect_close(label, got, reference_l1_penalty(h, lam),
                 "the penalty (lam times the sum of |h_j| over units, averaged over examples)")
    passed(label, "L1 activity penalty matches the reference")


def check_hidden_delta(hidden_delta):
    """Checks `hidden_delta(delta_out, W_dec, h, rho, beta)` (seed 003's sparsity delta)."""
    label = "ex-2-delta"
    rng = fresh_rng()
    n, input_dim, hidden = 16, 10, 7
    delta_out = rng.normal(size=(n, input_dim))
    w_dec = rng.normal(size=(hidden, input_dim))
    h = sigmoid(rng.normal(-1, 1, size=(n, hidden)))
    rho, beta = rng.uniform(0.03, 0.3), rng.uniform(1, 5)
    got = call(label, hidden_delta, delta_out, w_dec, h, rho, beta)
    expect_close(label, got, reference_hidden_delta(delta_out, w_dec, h, rho, beta),
                 "the hidden deltas ((delta_out W_dec^T + beta(-rho/rho_hat + (1-rho)/(1-rho_hat))) "
                 "times h(1-h), with rho_hat the mean of h over the examples)")
    passed(label, "hidden delta with the sparsity term matches the reference")
