"""Every chapter-6 check passes the reference and rejects plausible wrong answers."""

import itertools

import numpy as np
import pytest

from aecourse.checks import ExerciseFailure, ch6


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _free_energy(v, w, b, c):
    return -v @ b - np.logaddexp(0, v @ w + c).sum(axis=1)


def test_free_energy(capsys):
    ch6.check_free_energy(_free_energy)
    assert capsys.readouterr().out == "\u2714 ex-6-free-energy: free energy matches the reference\n"


@pytest.mark.parametrize("wrong", [
    lambda v, w, b, c: -np.logaddexp(0, v @ w + c).sum(axis=1),               # visible bias forgotten
    lambda v, w, b, c: -v @ b - np.logaddexp(0, v @ w).sum(axis=1),           # hidden bias forgotten
    lambda v, w, b, c: v @ b + np.logaddexp(0, v @ w + c).sum(axis=1),        # wrong sign
    lambda v, w, b, c: -v @ b - (v @ w + c).sum(axis=1),                      # no softplus
    lambda v, w, b, c: -v @ b - np.logaddexp(0, v @ w + c).mean(axis=1),      # mean over hidden units
])
def test_free_energy_rejects(wrong):
    with pytest.raises(ExerciseFailure, match="^ex-6-free-energy"):
        ch6.check_free_energy(wrong)


def _gibbs(v, w, b, c, u_h, u_v, sample_hidden=True, sample_visible=True, flip=False):
    p_h = _sigmoid(v @ w + c)
    h = ((u_h > p_h) if flip else (u_h < p_h)).astype(float) if sample_hidden else p_h
    p_v = _sigmoid(h @ w.T + b)
    return (u_v < p_v).astype(float) if sample_visible else p_v


def test_gibbs_step(capsys):
    ch6.check_gibbs_step(_gibbs)
    assert capsys.readouterr().out.startswith("\u2714 ex-6-gibbs:")


@pytest.mark.parametrize("kwargs", [{"sample_hidden": False}, {"sample_visible": False}, {"flip": True}])
def test_gibbs_step_rejects(kwargs):
    with pytest.raises(ExerciseFailure, match="^ex-6-gibbs"):
        ch6.check_gibbs_step(lambda *args: _gibbs(*args, **kwargs))


def _cd_update(v_data, v_model, w, c, lr, sign=1.0, reduce=np.mean, model_samples_for_h=False):
    h_data = _sigmoid(v_data @ w + c)
    h_model = _sigmoid(v_model @ w + c)
    if model_samples_for_h:
        h_model = (h_model > 0.5).astype(float)
    positive = v_data.T @ h_data / (len(v_data) if reduce is np.mean else 1)
    negative = v_model.T @ h_model / (len(v_model) if reduce is np.mean else 1)
    return w + sign * lr * (positive - negative)


def test_cd_update(capsys):
    ch6.check_cd_update(_cd_update)
    assert capsys.readouterr().out.startswith("\u2714 ex-6-cd:")


@pytest.mark.parametrize("kwargs", [{"sign": -1.0}, {"reduce": np.sum}, {"model_samples_for_h": True}])
def test_cd_update_rejects(kwargs):
    with pytest.raises(ExerciseFailure, match="^ex-6-cd"):
        ch6.check_cd_update(lambda *args: _cd_update(*args, **kwargs))


def _log_partition(w, b, c, include_hidden_bias=True, log=True, extra=0.0):
    vs = np.array(list(itertools.product([0.0, 1.0], repeat=len(b))))
    c = c if include_hidden_bias else 0 * c
    z = np.exp(vs @ b + np.logaddexp(0, vs @ w + c).sum(axis=1)).sum()
    return (np.log(z) if log else z) + extra


def test_log_partition(capsys):
    ch6.check_log_partition(_log_partition)
    assert capsys.readouterr().out.startswith("\u2714 ex-6-partition:")


@pytest.mark.parametrize("kwargs", [{"include_hidden_bias": False}, {"log": False}, {"extra": np.log(2.0)}])
def test_log_partition_rejects(kwargs):
    with pytest.raises(ExerciseFailure, match="^ex-6-partition"):
        ch6.check_log_partition(lambda *args: _log_partition(*args, **kwargs))


def test_log_partition_rejects_one_value_per_state():
    with pytest.raises(ExerciseFailure, match="^ex-6-partition"):
        ch6.check_log_partition(lambda w, b, c: np.logaddexp(0, w).sum(axis=1))


def test_dbm_conditional(capsys):
    ch6.check_dbm_conditional(lambda v, h2, w1, w2, c1: _sigmoid(v @ w1 + h2 @ w2.T + c1))
    assert capsys.readouterr().out.startswith("\u2714 ex-6-dbm:")


@pytest.mark.parametrize("wrong", [
    lambda v, h2, w1, w2, c1: _sigmoid(v @ w1 + c1),                          # the RBM conditional
    lambda v, h2, w1, w2, c1: _sigmoid(0.5 * (v @ w1 + h2 @ w2.T) + c1),      # halved weights
    lambda v, h2, w1, w2, c1: _sigmoid(v @ w1 + h2 @ w2 + c1),                # no transpose
    lambda v, h2, w1, w2, c1: v @ w1 + h2 @ w2.T + c1,                        # no sigmoid
])
def test_dbm_conditional_rejects(wrong):
    with pytest.raises(ExerciseFailure, match="^ex-6-dbm"):
        ch6.check_dbm_conditional(wrong)


def test_unanswered_fails_clearly():
    def unanswered(*args):
        raise NotImplementedError

    for check in (ch6.check_free_energy, ch6.check_gibbs_step, ch6.check_cd_update,
                  ch6.check_log_partition, ch6.check_dbm_conditional, ch6.check_trained_rbm):
        with pytest.raises(ExerciseFailure, match="not answered yet"):
            check(unanswered)


# ----------------------------------------------------------------------------- train: ex-6-train

class _Weights:
    """A stand-in for a trained model: the check only reads `get_weights()`."""

    def __init__(self, *weights):
        self.weights = list(weights)

    def get_weights(self):
        return self.weights


def _fitted_rbm(epochs=80, **kwargs):
    """An RBM fitted to the multimodal data: PCD-1 by default (the learner's task), other rules by kwargs."""
    import keras
    from aecourse import rbm
    model = rbm.BernoulliRBM(12, 8, init_std=0.1, seed=0, **(kwargs or dict(persistent=True, n_chains=100)))
    model.compile(optimizer=keras.optimizers.SGD(0.05))
    model.fit(ch6.mode_samples(1000, np.random.default_rng(5)), epochs=epochs, batch_size=50, verbose=0)
    return model


@pytest.mark.training
def test_trained_rbm_passes(capsys):
    model = _fitted_rbm()
    ch6.check_trained_rbm(lambda x: model)
    assert capsys.readouterr().out.startswith("\u2714 ex-6-train:")


def _with_chains(model, chains):
    return _Weights(*model.get_weights()[:3], chains)


@pytest.mark.parametrize("wrong", [
    lambda: _fitted_rbm(epochs=40, exact=True),                                          # exact gradient, no chains
    lambda: _fitted_rbm(epochs=40, exact=True, persistent=True, n_chains=100),           # exact: chains never move
    lambda: _fitted_rbm(epochs=40, cd_steps=1),                                          # CD-1, no chains
    lambda: _with_chains(_fitted_rbm(epochs=40, exact=True), np.zeros((100, 12))),       # chains never advanced
    lambda: _with_chains(_fitted_rbm(epochs=40, exact=True),                             # noise, not samples
                         (np.random.default_rng(0).random((100, 12)) < 0.5).astype("float32")),
    lambda: _with_chains(_fitted_rbm(epochs=40, exact=True), np.full((100, 12), 0.5)),   # probabilities, not states
    lambda: _with_chains(_fitted_rbm(epochs=40, exact=True), np.zeros((5, 12))),         # too few chains
])
@pytest.mark.training
def test_trained_rbm_rejects_rules_other_than_pcd(wrong):
    answer = wrong()
    with pytest.raises(ExerciseFailure, match="^ex-6-train"):
        ch6.check_trained_rbm(lambda x: answer)


def _independent_bits():
    p = ch6.mode_samples(4000, np.random.default_rng(0)).mean(axis=0).clip(1e-3, 1 - 1e-3)
    return _Weights(np.zeros((12, 1)), np.log(p / (1 - p)), np.zeros(1))


@pytest.mark.parametrize("wrong", [
    lambda: _Weights(np.zeros((12, 8)), np.zeros(12), np.zeros(8)),                       # untrained
    lambda: _Weights(np.zeros((12, 8)), np.zeros(12), np.zeros(8), np.zeros((100, 12))),  # untrained, with chains
    _independent_bits,                                                                     # no hidden structure
    lambda: _Weights(np.zeros((16, 8)), np.zeros(16), np.zeros(8)),                       # wrong visible size
    lambda: _Weights(np.zeros((12, 20)), np.zeros(12), np.zeros(20)),                     # too many hidden units
    lambda: _Weights(np.full((12, 8), np.nan), np.zeros(12), np.zeros(8)),                # diverged
    lambda: _Weights(np.zeros((12, 8))),                                                   # not an RBM
])
def test_trained_rbm_rejects(wrong):
    answer = wrong()
    with pytest.raises(ExerciseFailure, match="^ex-6-train"):
        ch6.check_trained_rbm(lambda x: answer)


# ----------------------------------------------------------------------------- derive: ex-6-log-z

def test_toy_log_z(capsys):
    ch6.check_toy_log_z(np.log(1 + np.exp(-1.0) + np.exp(0.5) + np.exp(1.5)))
    assert capsys.readouterr().out.startswith("\u2714 ex-6-log-z:")


@pytest.mark.parametrize("wrong", [
    np.log(np.exp(-1.0) + np.exp(0.5) + np.exp(1.5)),            # the all-zero state forgotten
    np.log((1 + np.exp(-1.0)) * (1 + np.exp(0.5))),              # the weight forgotten
    np.log(1 + np.exp(-1.0) + np.exp(0.5) + np.exp(-1.0 + 0.5 - 2.0)),   # sign of the interaction
    1 + np.exp(-1.0) + np.exp(0.5) + np.exp(1.5),                # Z, not log Z
    np.array([0.0, 1.0]),                                        # not one number
])
def test_toy_log_z_rejects(wrong):
    with pytest.raises(ExerciseFailure, match="^ex-6-log-z"):
        ch6.check_toy_log_z(wrong)
