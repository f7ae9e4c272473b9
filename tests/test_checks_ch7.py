"""Every chapter-7 check passes the reference and rejects plausible wrong answers."""

import numpy as np
import pytest

from aecourse.checks import ExerciseFailure, ch7


def _kl(mean, log_var, reduce=np.sum, scale=0.5, log_std=False):
    var = np.exp(2 * log_var) if log_std else np.exp(log_var)
    log_v = 2 * log_var if log_std else log_var
    return scale * reduce(mean ** 2 + var - 1 - log_v, axis=-1)


def _kl2(mq, vq, mp, vp, reduce=np.sum, scale=0.5, var_p_power=1.0):
    return scale * reduce(vp - vq + (np.exp(vq) + (mq - mp) ** 2) / np.exp(vp) ** var_p_power - 1, axis=-1)


def test_gaussian_kl(capsys):
    ch7.check_gaussian_kl(_kl2)
    assert capsys.readouterr().out == "\u2714 ex-7-kl: KL between two diagonal Gaussians matches the reference\n"


@pytest.mark.parametrize("wrong", [
    lambda mq, vq, mp, vp: _kl2(mq, vq, mp, vp, reduce=np.mean),     # mean over units, not sum
    lambda mq, vq, mp, vp: _kl2(mq, vq, mp, vp, scale=1.0),          # factor 1/2 forgotten
    lambda mq, vq, mp, vp: _kl2(mp, vp, mq, vq),                     # KL(p || q): arguments swapped
    lambda mq, vq, mp, vp: _kl(mq, vq),                              # against N(0, I), p ignored
    lambda mq, vq, mp, vp: _kl2(mq, vq, mp, vp, var_p_power=0.0),    # variance of p not divided by
    lambda mq, vq, mp, vp: _kl2(mq, vq, mp, vp) - 0.5 * np.sum(vp, axis=-1),  # log-variance of p forgotten
    lambda mq, vq, mp, vp: -_kl2(mq, vq, mp, vp),                    # wrong sign
    lambda mq, vq, mp, vp: np.sum(_kl2(mq, vq, mp, vp)),             # one number for the batch
])
def test_gaussian_kl_rejects(wrong):
    with pytest.raises(ExerciseFailure, match="^ex-7-kl"):
        ch7.check_gaussian_kl(wrong)


def _free_bits(m, v, lam, clamp_each=False, op=np.maximum, reduce=np.mean):
    kl = 0.5 * (m ** 2 + np.exp(v) - 1 - v)
    if clamp_each:
        return float(np.sum(np.mean(op(kl, lam), axis=0)))
    return float(np.sum(op(reduce(kl, axis=0), lam)))


def test_free_bits(capsys):
    ch7.check_free_bits(_free_bits)
    assert capsys.readouterr().out.startswith("\u2714 ex-7-free-bits:")


@pytest.mark.parametrize("wrong", [
    lambda m, v, lam: _free_bits(m, v, lam, clamp_each=True),                 # floor per example, not per batch mean
    lambda m, v, lam: _free_bits(m, v, lam, op=np.minimum),                   # a ceiling instead of a floor
    lambda m, v, lam: _free_bits(m, v, 0.0),                                  # no floor at all
    lambda m, v, lam: _free_bits(m, v, lam, reduce=np.sum),                   # summed over the batch
    lambda m, v, lam: max(_free_bits(m, v, 0.0), lam),                        # floor on the total KL
    lambda m, v, lam: np.maximum(0.5 * np.mean(m ** 2 + np.exp(v) - 1 - v, axis=0), lam),  # per unit, not summed
])
def test_free_bits_rejects(wrong):
    with pytest.raises(ExerciseFailure, match="^ex-7-free-bits"):
        ch7.check_free_bits(wrong)


def _elbo(x, logits, m, v, kl_sign=-1.0, reduce=np.sum):
    r = 1 / (1 + np.exp(-logits))
    log_lik = reduce(x * np.log(r) + (1 - x) * np.log(1 - r), axis=1)
    return log_lik + kl_sign * _kl(m, v)


def test_elbo(capsys):
    ch7.check_elbo(_elbo)
    assert capsys.readouterr().out.startswith("\u2714 ex-7-elbo:")


@pytest.mark.parametrize("wrong", [
    lambda x, l, m, v: _elbo(x, l, m, v, kl_sign=+1.0),         # KL added
    lambda x, l, m, v: _elbo(x, l, m, v, kl_sign=0.0),          # KL forgotten
    lambda x, l, m, v: _elbo(x, l, m, v, reduce=np.mean),       # mean over pixels
    lambda x, l, m, v: -_elbo(x, l, m, v),                      # the loss, not the bound
])
def test_elbo_rejects(wrong):
    with pytest.raises(ExerciseFailure, match="^ex-7-elbo"):
        ch7.check_elbo(wrong)


def _bound(log_w):
    peak = log_w.max(axis=0)
    return peak + np.log(np.mean(np.exp(log_w - peak), axis=0))


def test_importance_bound(capsys):
    ch7.check_importance_bound(_bound)
    assert capsys.readouterr().out.startswith("\u2714 ex-7-iwae:")


@pytest.mark.parametrize("wrong", [
    lambda w: w.mean(axis=0),                                          # the ELBO, not the bound
    lambda w: _bound(w) + np.log(len(w)),                              # log-sum, no 1/K
    lambda w: np.log(np.mean(np.exp(w), axis=0)),                      # unstable: -inf at -1000
    lambda w: _bound(w.T),                                             # K on the wrong axis
])
def test_importance_bound_rejects(wrong):
    with pytest.raises(ExerciseFailure, match="^ex-7-iwae"):
        with np.errstate(divide="ignore"):
            ch7.check_importance_bound(wrong)


def test_unanswered_fails_clearly():
    def unanswered(mq, vq, mp, vp):
        raise NotImplementedError

    with pytest.raises(ExerciseFailure, match="not answered yet"):
        ch7.check_gaussian_kl(unanswered)


def _train_vae(epochs, beta=1.0):
    import keras

    from aecourse import vae

    def train(x_train):
        keras.utils.set_random_seed(0)
        model = vae.VAE(784, 16, hidden_units=(256,), beta=beta, seed=0)
        model.compile(keras.optimizers.Adam(1e-3))
        if epochs:
            model.fit(x_train, epochs=epochs, batch_size=64, verbose=0)
        return model
    return train


@pytest.mark.training
def test_trained_vae(capsys):
    ch7.check_trained_vae(_train_vae(10))
    assert capsys.readouterr().out.startswith("\u2714 ex-7-train:")


def _plain_autoencoder(x_train):
    from aecourse import models
    return models.DenseAutoencoder(784, 16, hidden_units=(256,), name="ae")


@pytest.mark.parametrize("wrong", [
    _train_vae(0),             # not trained
    _train_vae(1),             # trained far too briefly (ELBO about -366)
    _plain_autoencoder,        # not a VAE: no log-variance head
])
def test_trained_vae_rejects(wrong):
    with pytest.raises(ExerciseFailure, match="^ex-7-train"):
        ch7.check_trained_vae(wrong)


def test_collapse_answer(capsys):
    ch7.check_collapse_answer(" ".join(["word"] * 40))
    assert capsys.readouterr().out.startswith("\u2714 ex-7-collapse:")
    with pytest.raises(ExerciseFailure, match="^ex-7-collapse"):
        ch7.check_collapse_answer("Beta switches units off.")
