"""Checks of chapter 2, sparse autoencoders, and the NumPy reference of a sparse autoencoder.

The references follow the lecture notes (seed 003) and Ng's sparse
autoencoder notes: one sigmoid hidden layer `h = sigmoid(x W1 + b1)`, a
sigmoid output `z = sigmoid(h W2 + b2)` (Keras's row convention: `W1` is
`(D, H)`, `W2` is `(H, D)`), and the objective

    J = mean_n 1/2 ||x_n - z_n||^2 + beta sum_j KL(rho || rho_hat_j) + alpha/2 (|W1|^2 + |W2|^2).

`reference_sparse_ae_gradients` is the hand-derived backpropagation; the
tests compare it with finite differences and with autodiff.
"""

import math

import numpy as np

from aecourse.checks import (DERIVE, EXPLAIN, IMPLEMENT, TRAIN, Check, expect_close, expect_one_hidden_layer,
                             expect_shape, fail, fashion_pixels, fashion_training_sample, held_out_test_images)


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


def _mean_inputs(rng):
    return [(rng.random((37, 11)),)]


def _judge_mean(cases, results):
    label = "ex-2-mean"
    for (h,), got in zip(cases, results):
        expect_shape(label, got, (h.shape[1],), "Return one value per hidden unit: average over the examples "
                                                "(axis 0).")
        expect_close(label, got, reference_mean_activation(h), "the mean activations rho_hat_j")
    return "mean activation per hidden unit matches the reference"


check_mean_activation = Check("ex-2-mean", IMPLEMENT, inputs=_mean_inputs, judge=_judge_mean)


def _kl_inputs(rng):
    cases = [(rho, rng.uniform(0.01, 0.99, size=50), rng.uniform(1, 5))
             for rho in (rng.uniform(0.02, 0.1), rng.uniform(0.2, 0.4))]
    return cases + [(0.1, np.full(8, 0.1), 3.0)]


def _judge_kl(cases, results):
    for (rho, rho_hat, beta), got in zip(cases, results):
        expect_close("ex-2-kl", got, reference_kl_penalty(rho, rho_hat, beta),
                     f"the penalty for rho={rho:.3f} (beta times the SUM over units of "
                     "rho log(rho/rho_hat) + (1-rho) log((1-rho)/(1-rho_hat)); 0 when every rho_hat equals rho)")
    return "KL sparsity penalty matches the reference"


check_kl_penalty = Check("ex-2-kl", IMPLEMENT, inputs=_kl_inputs, judge=_judge_kl)


def _l1_inputs(rng):
    return [(rng.normal(size=(23, 13)), rng.uniform(0.01, 0.1))]


def _judge_l1(cases, results):
    for (h, lam), got in zip(cases, results):
        expect_close("ex-2-l1", got, reference_l1_penalty(h, lam),
                     "the penalty (lam times the sum of |h_j| over units, averaged over examples)")
    return "L1 activity penalty matches the reference"


check_l1_penalty = Check("ex-2-l1", IMPLEMENT, inputs=_l1_inputs, judge=_judge_l1)


def _delta_inputs(rng):
    n, input_dim, hidden = 16, 10, 7
    return [(rng.normal(size=(n, input_dim)), rng.normal(size=(hidden, input_dim)),
             sigmoid(rng.normal(-1, 1, size=(n, hidden))), rng.uniform(0.03, 0.3), rng.uniform(1, 5))]


def _judge_delta(cases, results):
    for case, got in zip(cases, results):
        expect_close("ex-2-delta", got, reference_hidden_delta(*case),
                     "the hidden deltas ((delta_out W_dec^T + beta(-rho/rho_hat + (1-rho)/(1-rho_hat))) "
                     "times h(1-h), with rho_hat the mean of h over the examples)")
    return "hidden delta with the sparsity term matches the reference"


check_hidden_delta = Check("ex-2-delta", IMPLEMENT, inputs=_delta_inputs, judge=_judge_delta)

# ----------------------------------------------------------------------------- lifetime winner-take-all (a Keras layer)

WTA_IMAGES, WTA_UNITS, WTA_RATES = 256, 32, (0.11, 0.15, 0.2)  # rate * 256 = 28.16, 38.4, 51.2: ceil differs from round and floor


def reference_lifetime_wta(h, rate, training):
    """Lifetime winner-take-all (Makhzani & Frey 2015): in training, each unit (column) keeps its
    `ceil(rate * n)` largest activations over the batch of `n` and the rest become 0; at inference
    the input passes unchanged."""
    h = np.asarray(h, "float64")
    if not training:
        return h
    keep = max(1, math.ceil(rate * len(h)))
    kth = -np.sort(-h, axis=0)[keep - 1]
    return np.where(h >= kth, h, 0.0)


def _wta_inputs(rng):
    pixels = fashion_pixels("train")
    return [(pixels[rng.choice(len(pixels), WTA_IMAGES, replace=False)], float(rng.choice(WTA_RATES)))]


def _judge_wta(cases, results):
    label = "ex-2-wta"
    for (x, rate), got in zip(cases, results):
        n = len(x)
        expect_shape(label, got, (3, n, WTA_UNITS),
                     f"Return np.stack([relu_codes, codes_in_training, codes_at_inference]) for all {n} images "
                     f"as one batch, each of shape ({n}, {WTA_UNITS}).")
        before, training, inference = got
        if not np.all(np.isfinite(got)):
            fail(label, "the codes contain NaN or infinite values.")
        if np.any(before < 0) or not np.any(before > 0):
            fail(label, "the first array should be the Dense(32, relu) layer's output (non-negative, not all "
                        "zero): the codes that go into your LifetimeWTA layer.")
        expect_close(label, inference, before,
                     "the codes at inference (training=False: the layer passes its input unchanged)")
        keep = math.ceil(rate * n)
        expected = reference_lifetime_wta(before, rate, True)
        kept, expected_kept = (training != 0).sum(axis=0), (expected != 0).sum(axis=0)
        if not np.array_equal(kept, expected_kept):
            fail(label, f"in training mode each unit (a COLUMN) should keep ceil(rate * batch size) = "
                        f"ceil({rate:g} * {n}) = {keep} of its activations (all its non-zero ones if it has "
                        f"fewer); your units keep between {kept.min()} and {kept.max()}.")
        expect_close(label, training, expected,
                     f"the codes in training mode (each unit keeps its {keep} largest activations of the batch)")
    return ("lifetime winner-take-all layer works in a trained model: in training each unit keeps its "
            "ceil(rate * n) largest activations of the batch, at inference the codes pass unchanged")


check_lifetime_wta = Check("ex-2-wta", IMPLEMENT, inputs=_wta_inputs, judge=_judge_wta)

# ----------------------------------------------------------------------------- train a k-sparse autoencoder

# The notebook's model answer (centred inputs, the mean folded into the first bias; 10 epochs, batch 100, Adam
# 5e-3 with cosine decay) scores 13.7 +- 0.1 over 3 seeds; the same training on raw pixels 20.2 +- 0.3, worse than
# PCA with 10 components (about 19): the bound rejects it.
TOPK_TRAIN_IMAGES, TOPK_HELD_OUT, TOPK_K, TOPK_MAX_UNITS, TOPK_ERROR_BOUND = 2000, 2000, 20, 256, 18.0


def reference_k_sparse_reconstruct(x, weights, k=TOPK_K):
    """`sigmoid(topk(relu(x W1 + b1)) W2 + b2)`: a k-sparse autoencoder's reconstruction in NumPy."""
    kernel, bias, kernel_out, bias_out = (np.asarray(w, "float64") for w in weights)
    h = np.maximum(x @ kernel + bias, 0.0)
    kth = -np.sort(-h, axis=1)[:, k - 1:k]
    h = np.where(h >= kth, h, 0.0)
    return 1.0 / (1.0 + np.exp(-(h @ kernel_out + bias_out)))


def _judge_topk_train(cases, results):
    label = "ex-2-topk-train"
    weights = results[0]
    expect_one_hidden_layer(label, weights, TOPK_K, TOPK_MAX_UNITS,
                            f"Dense(K, relu) -> TopK({TOPK_K}) -> Dense(784, sigmoid)")
    held_out = held_out_test_images(TOPK_HELD_OUT)
    error = np.mean(np.sum((held_out - reference_k_sparse_reconstruct(held_out, weights)) ** 2, axis=1))
    if not error < TOPK_ERROR_BOUND:
        fail(label, f"with {TOPK_K} active units per image, the mean per-image squared error on held-out test "
                    f"images is {error:.1f}, not below {TOPK_ERROR_BOUND:g}. Train on centred images (fold the mean "
                    "into the first bias), longer (about 10 epochs of Adam at a few times 1e-3, the rate decaying), "
                    "and check that TopK sits between the two Dense layers.")
    return (f"k-sparse autoencoder ({TOPK_K} active units) reconstructs held-out test images with error "
            f"below {TOPK_ERROR_BOUND:g}")


check_k_sparse_autoencoder = Check("ex-2-topk-train", TRAIN, inputs=fashion_training_sample(TOPK_TRAIN_IMAGES),
                                   judge=_judge_topk_train, allow=("aecourse.data", "aecourse.sparse"))

# -------------------------------------------------------------------------- derive: the L1 gradient at a softplus unit

L1_GRAD_LAMBDA, L1_GRAD_PREACTIVATIONS = 0.2, (-2.0, 3.0)


def softplus(a):
    """`log(1 + exp(a))`, a smooth ReLU."""
    return np.logaddexp(0.0, a)


def _judge_l1_softplus_gradient(cases, results):
    label = "ex-2-l1-gradient"
    got = results[0]
    a = np.array(L1_GRAD_PREACTIVATIONS)
    if got.shape != a.shape:
        fail(label, f"give {len(a)} numbers, the gradient at a = {L1_GRAD_PREACTIVATIONS[0]:g} and at "
                    f"a = {L1_GRAD_PREACTIVATIONS[1]:g}, in that order; got an array of shape {got.shape}.")
    lam, h, s = L1_GRAD_LAMBDA, softplus(a), sigmoid(a)
    traps = [
        (np.full_like(a, lam), "lambda * sign(h) is the derivative with respect to h; the question asks for the "
                               "derivative with respect to the pre-activation a (chain rule through the softplus)."),
        (lam * h, "that is lambda * h (the penalty itself); differentiate h = log(1 + e^a) with respect to a."),
        (lam * s * (1 - s), "lambda h (1 - h) is the sigmoid unit's answer; here h = log(1 + e^a), whose "
                            "derivative is not h (1 - h)."),
        (lam * s[::-1], "the numbers are in the wrong order (first a = -2, then a = 3)."),
    ]
    for wrong, hint in traps:
        if np.allclose(got, wrong, rtol=0, atol=1e-4):
            fail(label, hint)
    if not np.allclose(got, lam * s, rtol=0, atol=1e-4):
        fail(label, f"{np.round(got, 5).tolist()} is not d(lambda |h|)/da for h = log(1 + e^a) at "
                    f"a = {L1_GRAD_PREACTIVATIONS} with lambda = {lam:g} (to 4 decimals).")
    return "the L1 gradient at a softplus unit's pre-activation is right"


check_l1_softplus_gradient = Check("ex-2-l1-gradient", DERIVE, judge=_judge_l1_softplus_gradient)

# ----------------------------------------------------------------------------- explain: lifetime vs population

check_lifetime_population_answer = Check("ex-2-lifetime", EXPLAIN, min_words=25)
