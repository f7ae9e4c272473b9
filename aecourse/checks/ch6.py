"""Checks of chapter 6, restricted Boltzmann machines and deep belief networks."""

import keras
import numpy as np

from aecourse import dbn, rbm
from aecourse.checks import DERIVE, IMPLEMENT, TRAIN, Check, expect_close, fail


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


def _free_energy_inputs(rng):
    cases = []
    for n_visible, n_hidden in ((7, 5), (4, 9)):
        weights, visible_bias, hidden_bias, v = _random_rbm(rng, n_visible, n_hidden)
        cases.append((v, weights, visible_bias, hidden_bias))
    return cases


def _judge_free_energy(cases, results):
    for (v, weights, visible_bias, hidden_bias), got in zip(cases, results):
        expect_close("ex-6-free-energy", got, -rbm.unnormalized_log_marginal(v, visible_bias, hidden_bias, weights),
                     "the free energies (one per row: minus the visible-bias term minus the sum over "
                     "hidden units of log(1 + exp(c_j + (v W)_j)))")
    return "free energy matches the reference"


check_free_energy = Check("ex-6-free-energy", IMPLEMENT, inputs=_free_energy_inputs, judge=_judge_free_energy)


def _gibbs_inputs(rng):
    weights, visible_bias, hidden_bias, v = _random_rbm(rng, 8, 6)
    return [(v, weights, visible_bias, hidden_bias, rng.random((len(v), 6)), rng.random((len(v), 8)))]


def _judge_gibbs(cases, results):
    label = "ex-6-gibbs"
    for case, got in zip(cases, results):
        if got.shape == case[0].shape and not np.isin(got, (0.0, 1.0)).all():
            fail(label, "return binary samples v' (0 or 1), not probabilities: v'_i = 1 when "
                        "u_visible_i < p(v_i = 1 | h).")
        expect_close(label, got, reference_gibbs_step(*case),
                     "the new visible samples (sample h with u_hidden < p(h|v), then v' with "
                     "u_visible < p(v|h) using the sampled h)")
    return "one Gibbs step v -> h -> v' matches the reference"


check_gibbs_step = Check("ex-6-gibbs", IMPLEMENT, inputs=_gibbs_inputs, judge=_judge_gibbs)


def _cd_inputs(rng):
    weights, visible_bias, hidden_bias, v_data = _random_rbm(rng, 6, 4)
    v_model = rng.integers(0, 2, size=(17, 6)).astype("float64")
    return [(v_data, v_model, weights, hidden_bias, rng.uniform(0.05, 0.5))]


def _judge_cd(cases, results):
    for (v_data, v_model, weights, hidden_bias, learning_rate), got in zip(cases, results):
        visible_bias = np.zeros(weights.shape[0])  # the weight gradient does not depend on it
        gradient, _, _ = rbm.cd_gradient((weights, visible_bias, hidden_bias), v_data, v_model)
        expect_close("ex-6-cd", got, weights + learning_rate * gradient,
                     "the updated weights (W + learning_rate * (mean of v p(h|v)' over the data minus "
                     "the same mean over the model samples))")
    return "CD weight update matches the reference"


check_cd_update = Check("ex-6-cd", IMPLEMENT, inputs=_cd_inputs, judge=_judge_cd)


def _partition_inputs(rng):
    return [_random_rbm(rng, n_visible, n_hidden)[:3] for n_visible, n_hidden in ((5, 3), (3, 6))]


def _judge_partition(cases, results):
    label = "ex-6-partition"
    for (weights, visible_bias, hidden_bias), got in zip(cases, results):
        if got.size != 1:
            fail(label, f"return one number, log Z; got an array of shape {got.shape}.")
        n_visible, n_hidden = weights.shape
        expect_close(label, got.reshape(()), np.array(rbm.log_partition((weights, visible_bias, hidden_bias))),
                     f"log Z of a {n_visible}x{n_hidden} RBM (enumerate every v and sum exp(-F(v)), "
                     "then take the log)", rtol=1e-6, atol=1e-6)
    return "log-partition function by enumeration matches the reference"


check_log_partition = Check("ex-6-partition", IMPLEMENT, inputs=_partition_inputs, judge=_judge_partition)


def _dbm_inputs(rng):
    v = rng.integers(0, 2, size=(9, 7)).astype("float64")
    h2 = rng.integers(0, 2, size=(9, 3)).astype("float64")
    return [(v, h2, rng.normal(size=(7, 5)), rng.normal(size=(5, 3)), rng.normal(size=5))]


def _judge_dbm(cases, results):
    for case, got in zip(cases, results):
        expected = keras.ops.convert_to_numpy(dbn.dbm_hidden_probabilities(*case))
        expect_close("ex-6-dbm", got, expected,
                     "p(h1 = 1 | v, h2) (sigmoid of the bottom-up input v W1, the top-down input "
                     "h2 W2^T and the bias c1)", rtol=1e-4, atol=1e-5)
    return "DBM conditional p(h1 | v, h2) matches the reference"


check_dbm_conditional = Check("ex-6-dbm", IMPLEMENT, inputs=_dbm_inputs, judge=_judge_dbm)

# ----------------------------------------------------------------------------- train

MODE_PROTOTYPES = (np.random.default_rng(123).random((4, 12)) < 0.5).astype("float64")  # the chapter's prototypes
MODE_PROBABILITIES, MODE_FLIP = np.array([0.4, 0.3, 0.2, 0.1]), 0.02
TRAIN_VECTORS, HELD_OUT_VECTORS, MAX_HIDDEN, LOG_LIKELIHOOD_BOUND = 1000, 2000, 8, -4.0
MIN_CHAINS, CHAIN_SLACK = 20, 3.0   # the chains lag the model: their average log p may fall this far below -H


def mode_samples(n, rng):
    """`n` vectors of the chapter's multimodal data: a prototype, each bit flipped with probability 0.02."""
    labels = rng.choice(len(MODE_PROBABILITIES), size=n, p=MODE_PROBABILITIES)
    return np.abs(MODE_PROTOTYPES[labels] - (rng.random((n, 12)) < MODE_FLIP)).astype("float32")


def _train_inputs(rng):
    return [(mode_samples(TRAIN_VECTORS, rng),)]


def _judge_chains(label, chains, model_parameters):
    """Fails unless `chains` look like samples of the model: PCD's persistent chains, advanced by training."""
    if chains.ndim != 2 or chains.shape[1] != 12 or len(chains) < MIN_CHAINS:
        fail(label, f"expected at least {MIN_CHAINS} persistent chains of 12 units; got an array of shape "
                    f"{chains.shape}. Build the RBM with persistent=True and n_chains >= {MIN_CHAINS}.")
    if not np.isin(chains, (0.0, 1.0)).all():
        fail(label, "the persistent chains must hold binary states.")
    log_p = rbm.log_likelihood(model_parameters, rbm.all_binary_states(12))
    entropy = float(-(np.exp(log_p) * log_p).sum())
    chain_score = float(rbm.log_likelihood(model_parameters, chains).mean())
    if not chain_score > -entropy - CHAIN_SLACK:
        fail(label, f"the persistent chains are not samples of your RBM: their average log p is "
                    f"{chain_score:.2f} nats, the model's own samples average {-entropy:.2f} (allowed: "
                    f"{CHAIN_SLACK:g} nats less). Train with PCD (persistent=True, exact=False): the chains "
                    "advance only when the negative phase samples them; exact=True never touches them.")


def _judge_train(cases, results):
    label = "ex-6-train"
    weights = results[0]
    if len(weights) < 3:
        fail(label, "return the trained BernoulliRBM (its first three weights are W, b and c).")
    kernel, visible_bias, hidden_bias = (np.asarray(w, "float64") for w in weights[:3])
    if kernel.ndim != 2 or kernel.shape[0] != 12 or visible_bias.shape != (12,) or \
            hidden_bias.shape != (kernel.shape[1],):
        fail(label, f"expected an RBM with 12 visible units (W of shape (12, K)); got W of shape {kernel.shape}.")
    if not 1 <= kernel.shape[1] <= MAX_HIDDEN:
        fail(label, f"use at most {MAX_HIDDEN} hidden units; got {kernel.shape[1]}.")
    if not all(np.isfinite(w).all() for w in (kernel, visible_bias, hidden_bias)):
        fail(label, "the weights contain NaN or infinity: lower the learning rate.")
    if len(weights) != 4:
        fail(label, "the RBM has no persistent chains: train it by PCD (BernoulliRBM(..., persistent=True)), "
                    "not by CD or the exact gradient.")
    held_out = mode_samples(HELD_OUT_VECTORS, np.random.default_rng())
    score = float(rbm.log_likelihood((kernel, visible_bias, hidden_bias), held_out).mean())
    if not score > LOG_LIKELIHOOD_BOUND:
        fail(label, f"the exact average log-likelihood of fresh vectors is {score:.2f} nats, not above "
                    f"{LOG_LIKELIHOOD_BOUND:g}. Train longer with PCD at a small learning rate (the chapter's "
                    "0.05 reaches about -4.4 after 25 epochs and is still rising), or with momentum.")
    _judge_chains(label, np.asarray(weights[3], "float64"), (kernel, visible_bias, hidden_bias))
    return (f"PCD-trained RBM scores above {LOG_LIKELIHOOD_BOUND:g} nats on fresh data (exact log-likelihood), "
            "and its persistent chains sample it")


check_trained_rbm = Check("ex-6-train", TRAIN, inputs=_train_inputs, judge=_judge_train, allow=("aecourse.rbm",))

# ----------------------------------------------------------------------------- derive

TOY_W, TOY_B, TOY_C = 2.0, -1.0, 0.5


def _judge_toy_log_z(cases, results):
    label = "ex-6-log-z"
    got = results[0]
    if got.size != 1:
        fail(label, f"give one number; got an array of shape {got.shape}.")
    expected = np.log(1 + np.exp(TOY_B) + np.exp(TOY_C) + np.exp(TOY_B + TOY_C + TOY_W))
    if not abs(float(got.reshape(())) - expected) < 1e-6:
        fail(label, f"{float(got.reshape(())):g} is not log Z. List the four joint states (v, h), write "
                    "exp(-E(v, h)) = exp(b v + c h + v W h) for each (the state (0, 0) counts too), add them, "
                    "then take the log.")
    return "log Z of the one-by-one RBM is right"


check_toy_log_z = Check("ex-6-log-z", DERIVE, judge=_judge_toy_log_z)
