"""Checks of chapter 6, restricted Boltzmann machines and deep belief networks."""

import keras
import numpy as np

from aecourse import dbn, rbm
from aecourse.checks import call, expect_close, fail, fresh_rng, passed


def _random_rbm(rng, n_visible, n_hidden):
    """Random `(W, b, c)` float64 parameters and a batch of binary visible vectors."""
    weights = rng.normal(size=(n_visible, n_hidden))
    visible_bias, hidden_bias = rng.normal(size=n_visible), rng.normal(size=n_hidden)
    v = rng.integers(0, 2, size=(11, n_visible)).astype("float64")
    return weights, visible_bias, hidden_bias, v


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def reference_gibbs_step(v, weights, visible_bias, hidden_bias, u_hidden, u_visible):
    """One block-Gibbs step driven by given uniform noise: `h = [u_h < p(h|v)]`, `v' = [u_v < p(v|h)]`."""
    h = (u_hidden < _sigmoid(v @ weights + hidden_bias)).astype("float64")
    return (u_visible < _sigmoid(h @ weights.T + visible_bias)).astype("float64")


def check_free_energy(free_energy):
    """Checks `free_energy(v, W, b, c)`: `-b.v - sum_j softplus(c_j + (v W)_j)` per row."""
    label = "ex-6-free-energy"
    rng = fresh_rng()
    for n_visible, n_hidden in ((7, 5), (4, 9)):
        weights, visible_bias, hidden_bias, v = _random_rbm(rng, n_visible, n_hidden)
        got = call(label, free_energy, v, weights, visible_bias, hidden_bias)
        expected = -rbm.unnormalized_log_marginal(v, visible_bias, hidden_bias, weights)
        expect_close(label, got, expected,
                     "the free energies (one per row: minus the visible-bias term minus the sum over "
                     "hidden units of log(1 + exp(c_j + (v W)_j)))")
    passed(label, "free energy matches the reference")


def check_gibbs_step(gibbs_step):
    """Checks `gibbs_step(v, W, b, c, u_hidden, u_visible)` with given uniform noise."""
    label = "ex-6-gibbs"
    rng = fresh_rng()
    weights, visible_bias, hidden_bias, v = _random_rbm(rng, 8, 6)
    u_hidden, u_visible = rng.random((len(v), 6)), rng.random((len(v), 8))
    got = call(label, gibbs_step, v, weights, visible_bias, hidden_bias, u_hidden, u_visible)
    if got.shape == v.shape and not np.isin(got, (0.0, 1.0)).all():
        fail(label, "return binary samples v' (0 or 1), not probabilities: v'_i = 1 when u_visible_i < p(v_i = 1 | h).")
    expect_close(label, got, reference_gibbs_step(v, weights, visible_bias, hidden_bias, u_hidden, u_visible),
                 "the new visible samples (sample h with u_hidden < p(h|v), then v' with "
                 "u_visible < p(v|h) using the sampled h)")
    passed(label, "one Gibbs step v -> h -> v' matches the reference")


def check_cd_update(cd_update):
    """Checks `cd_update(v_data, v_model, W, c, learning_rate)`: the CD weight update."""
    label = "ex-6-cd"
    rng = fresh_rng()
    weights, visible_bias, hidden_bias, v_data = _random_rbm(rng, 6, 4)
    v_model = rng.integers(0, 2, size=(17, 6)).astype("float64")
    learning_rate = rng.uniform(0.05, 0.5)
    got = call(label, cd_update, v_data, v_model, weights, hidden_bias, learning_rate)
    gradient, _, _ = rbm.cd_gradient((weights, visible_bias, hidden_bias), v_data, v_model)
    expect_close(label, got, weights + learning_rate * gradient,
                 "the updated weights (W + learning_rate * (mean of v p(h|v)' over the data minus "
                 "the same mean over the model samples))")
    passed(label, "CD weight update matches the reference")


def check_log_partition(log_partition):
    """Checks `log_partition(W, b, c)` of a tiny RBM against exact enumeration."""
    label = "ex-6-partition"
    rng = fresh_rng()
    for n_visible, n_hidden in ((5, 3), (3, 6)):
        weights, visible_bias, hidden_bias, _ = _random_rbm(rng, n_visible, n_hidden)
        got = call(label, log_partition, weights, visible_bias, hidden_bias)
        if got.size != 1:
            fail(label, f"return one number, log Z; got an array of shape {got.shape}.")
        expect_close(label, got.reshape(()), np.array(rbm.log_partition((weights, visible_bias, hidden_bias))),
                     f"log Z of a {n_visible}x{n_hidden} RBM (enumerate every v and sum exp(-F(v)), "
                     "then take the log)", rtol=1e-6, atol=1e-6)
    passed(label, "log-partition function by enumeration matches the reference")


def check_dbm_conditional(dbm_conditional):
    """Checks `dbm_conditional(v, h2, W1, W2, c1)`: `p(h1 = 1 | v, h2)` in a DBM."""
    label = "ex-6-dbm"
    rng = fresh_rng()
    v = rng.integers(0, 2, size=(9, 7)).astype("float64")
    h2 = rng.integers(0, 2, size=(9, 3)).astype("float64")
    w1, w2, c1 = rng.normal(size=(7, 5)), rng.normal(size=(5, 3)), rng.normal(size=5)
    got = call(label, dbm_conditional, v, h2, w1, w2, c1)
    expected = keras.ops.convert_to_numpy(dbn.dbm_hidden_probabilities(v, h2, w1, w2, c1))
    expect_close(label, got, expected,
                 "p(h1 = 1 | v, h2) (sigmoid of the bottom-up input v W1, the top-down input "
                 "h2 W2^T and the bias c1)", rtol=1e-4, atol=1e-5)
    passed(label, "DBM conditional p(h1 | v, h2) matches the reference")
