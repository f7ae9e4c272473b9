"""Sparsity penalties and ActivityPenalty: values pinned by hand, batch-size independence, safety, saving."""

import numpy as np
import pytest

import keras

from aecourse import regularizers
from aecourse.regularizers import ActivityPenalty, KLSparsity, L1Activity


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _kl(rho, rho_hat):
    """Bernoulli KL(rho || rho_hat) in float64 NumPy."""
    rho_hat = np.asarray(rho_hat, "float64")
    return rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))


def _penalised_model(penalty, units=5, seed=0):
    """Input(8) -> sigmoid Dense -> ActivityPenalty: the output is the code."""
    x = keras.Input((8,))
    h = keras.layers.Dense(units, activation="sigmoid",
                           kernel_initializer=keras.initializers.RandomNormal(seed=seed))(x)
    return keras.Model(x, ActivityPenalty(penalty)(h))


def test_kl_divergence_matches_numpy_and_is_zero_at_target():
    rho_hat = np.linspace(0.01, 0.99, 23).astype("float32")
    np.testing.assert_allclose(_np(regularizers.kl_divergence(0.05, rho_hat)),
                               _kl(0.05, rho_hat), rtol=1e-4, atol=1e-6)
    assert abs(float(_np(regularizers.kl_divergence(0.3, np.float32(0.3))))) < 1e-6
    assert np.all(_np(regularizers.kl_divergence(0.3, rho_hat)) >= -1e-7)


def test_mean_activation_averages_every_axis_but_the_last():
    h = np.random.default_rng(0).random((4, 3, 5)).astype("float32")
    np.testing.assert_allclose(_np(regularizers.mean_activation(h)), h.mean(axis=(0, 1)), rtol=1e-6)


# Worked by hand. KL: rho_hat = column means = (0.2, 0.05);
# KL(0.1 || 0.2) = 0.1 ln(0.1/0.2) + 0.9 ln(0.9/0.8) = 0.0366900,
# KL(0.1 || 0.05) = 0.1 ln(0.1/0.05) + 0.9 ln(0.9/0.95) = 0.0206542; times beta = 3: 0.172033.
# L1: row sums of |h| are 3 and 3, their mean 3, times l1 = 0.5: 1.5.
KL_BATCH, KL_BY_HAND = np.array([[0.1, 0.0], [0.3, 0.1]], "float32"), 0.172033
L1_BATCH, L1_BY_HAND = np.array([[1.0, -2.0], [0.0, 3.0]], "float32"), 1.5


@pytest.mark.parametrize("penalty, batch, by_hand", [
    (KLSparsity(rho=0.1, beta=3.0), KL_BATCH, KL_BY_HAND),
    (L1Activity(0.5), L1_BATCH, L1_BY_HAND),
])
def test_activity_penalty_adds_the_hand_computed_value(penalty, batch, by_hand):
    np.testing.assert_allclose(float(_np(penalty.penalty(batch))), by_hand, rtol=1e-5)
    layer = ActivityPenalty(penalty)
    np.testing.assert_array_equal(_np(layer(batch)), batch)  # passes its input through
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(_np(layer.losses[0])), by_hand, rtol=1e-5)


@pytest.mark.parametrize("penalty, batch, by_hand", [
    (KLSparsity(rho=0.1, beta=3.0), KL_BATCH, KL_BY_HAND),
    (L1Activity(0.5), L1_BATCH, L1_BY_HAND),
])
def test_training_loss_gains_exactly_the_penalty(penalty, batch, by_hand):
    """What fit() and evaluate() report: the same number on every Keras version."""
    x = keras.Input((2,))
    model = keras.Model(x, ActivityPenalty(penalty)(x))
    model.compile("sgd", loss=lambda y, p: keras.ops.zeros_like(p[:, 0]))
    np.testing.assert_allclose(model.evaluate(batch, batch, batch_size=2, verbose=0), by_hand, rtol=1e-5)
    history = model.fit(batch, batch, batch_size=2, epochs=1, verbose=0)
    np.testing.assert_allclose(history.history["loss"][0], by_hand, rtol=1e-5)


@pytest.mark.parametrize("batch", [4, 32])
def test_kl_sparsity_adds_exactly_its_penalty_whatever_the_batch_size(batch):
    model = _penalised_model(KLSparsity(rho=0.1, beta=3.0))
    x = np.random.default_rng(batch).normal(size=(batch, 8)).astype("float32")
    h = _np(model(x))
    assert len(model.losses) == 1
    np.testing.assert_allclose(float(_np(model.losses[0])),
                               3.0 * _kl(0.1, h.mean(axis=0)).sum(), rtol=1e-4)


@pytest.mark.parametrize("batch", [4, 32])
def test_l1_activity_adds_the_mean_over_examples(batch):
    model = _penalised_model(L1Activity(0.01))
    x = np.random.default_rng(batch).normal(size=(batch, 8)).astype("float32")
    h = _np(model(x))
    np.testing.assert_allclose(float(_np(model.losses[0])), 0.01 * np.abs(h).sum(axis=1).mean(), rtol=1e-5)


def test_kl_is_finite_at_dead_and_saturated_units():
    rho_hat = keras.ops.convert_to_tensor(np.array([0.0, 1e-12, 0.05, 1.0 - 1e-9, 1.0], "float32"))
    values = _np(regularizers.kl_divergence(0.05, rho_hat))
    assert np.all(np.isfinite(values))
    assert values[0] > 0.5 and values[-1] > 10 and abs(values[2]) < 1e-6
    h = np.array([[0.0, 1.0], [0.0, 1.0]], "float32")
    assert np.isfinite(float(_np(KLSparsity(0.05, 3.0).penalty(h))))


def test_kl_pulls_mean_activation_towards_rho():
    """A plain gradient-descent fit with only the KL penalty moves rho_hat onto rho."""
    model = _penalised_model(KLSparsity(rho=0.2, beta=1.0), units=4)
    model.compile(keras.optimizers.SGD(1.0), loss=lambda y, p: keras.ops.zeros_like(p[:, 0]))
    x = np.random.default_rng(0).normal(size=(64, 8)).astype("float32")
    steps = np.tile(x, (200, 1))  # 200 full-batch steps in one epoch
    model.fit(steps, np.zeros((len(steps), 4), "float32"), epochs=1, batch_size=64, shuffle=False, verbose=0)
    np.testing.assert_allclose(_np(model(x)).mean(axis=0), 0.2, atol=0.02)


@pytest.mark.parametrize("make, match", [
    (lambda: KLSparsity(rho=0.0), "rho"),
    (lambda: KLSparsity(rho=1.0), "rho"),
    (lambda: KLSparsity(rho=1.5), "rho"),
    (lambda: KLSparsity(rho="0.1"), "rho"),
    (lambda: KLSparsity(rho=0.1, beta=-1.0), "beta"),
    (lambda: KLSparsity(rho=0.1, beta=float("nan")), "beta"),
    (lambda: L1Activity(-0.1), "l1"),
    (lambda: regularizers.kl_divergence(-0.2, 0.5), "rho"),
    (lambda: ActivityPenalty(keras.regularizers.L1(0.1)), "penalty"),
    (lambda: ActivityPenalty(None), "penalty"),
])
def test_bad_arguments_raise_clear_errors(make, match):
    with pytest.raises(ValueError, match=f"{match}.*Received: {match}="):
        make()


def test_penalty_as_activity_regularizer_is_refused_with_the_fix():
    """Keras would scale it by a version-dependent factor; the error names ActivityPenalty."""
    layer = keras.layers.Dense(3, activity_regularizer=KLSparsity(0.05, 3.0))
    with pytest.raises(TypeError, match=r"ActivityPenalty\(KLSparsity\(rho=0.05, beta=3.0\)\)"):
        layer(np.ones((2, 4), "float32"))


def test_config_round_trip_and_model_save(tmp_path):
    for penalty in (KLSparsity(0.05, 4.0), L1Activity(1e-3)):
        clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(penalty))
        assert type(clone) is type(penalty) and clone.get_config() == penalty.get_config()
    x = keras.Input((6,))
    h = ActivityPenalty(KLSparsity(0.05, 4.0))(keras.layers.Dense(3, activation="sigmoid")(x))
    z = ActivityPenalty(L1Activity(1e-3))(keras.layers.Dense(6)(h))
    model = keras.Model(x, z)
    model.compile("adam", "mse")
    data = np.random.default_rng(0).random((16, 6)).astype("float32")
    model.fit(data, data, epochs=1, verbose=0)
    model.save(tmp_path / "sparse.keras")
    reloaded = keras.saving.load_model(tmp_path / "sparse.keras")
    penalties = [layer.penalty for layer in reloaded.layers if isinstance(layer, ActivityPenalty)]
    assert [p.get_config() for p in penalties] == [{"rho": 0.05, "beta": 4.0}, {"l1": 1e-3}]
    np.testing.assert_allclose(reloaded.predict(data, verbose=0), model.predict(data, verbose=0), atol=1e-6)
    np.testing.assert_allclose(reloaded.evaluate(data, data, verbose=0), model.evaluate(data, data, verbose=0),
                               rtol=1e-5)
