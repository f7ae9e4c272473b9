"""L1 and KL sparsity regularizers: values, Keras's batch-size scaling, safety, saving."""

import numpy as np
import pytest

import keras

from aecourse import regularizers
from aecourse.checks import ch2
from aecourse.regularizers import KLSparsity, L1Activity


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _dense(regularizer, units=5, seed=0):
    layer = keras.layers.Dense(units, activation="sigmoid", activity_regularizer=regularizer,
                               kernel_initializer=keras.initializers.RandomNormal(seed=seed))
    return layer


def test_kl_divergence_matches_numpy_and_is_zero_at_target():
    rho_hat = np.linspace(0.01, 0.99, 23).astype("float32")
    np.testing.assert_allclose(_np(regularizers.kl_divergence(0.05, rho_hat)),
                               ch2.reference_kl(0.05, rho_hat), rtol=1e-4, atol=1e-6)
    assert abs(float(_np(regularizers.kl_divergence(0.3, np.float32(0.3))))) < 1e-6
    assert np.all(_np(regularizers.kl_divergence(0.3, rho_hat)) >= -1e-7)


def test_mean_activation_averages_every_axis_but_the_last():
    h = np.random.default_rng(0).random((4, 3, 5)).astype("float32")
    np.testing.assert_allclose(_np(regularizers.mean_activation(h)), h.mean(axis=(0, 1)), rtol=1e-6)


@pytest.mark.parametrize("batch", [4, 32])
def test_kl_sparsity_adds_exactly_its_penalty_whatever_the_batch_size(batch):
    """Keras divides activity penalties by the batch size; KLSparsity undoes it."""
    layer = _dense(KLSparsity(rho=0.1, beta=3.0))
    x = np.random.default_rng(batch).normal(size=(batch, 8)).astype("float32")
    h = _np(layer(x))
    expected = ch2.reference_kl_penalty(0.1, h.mean(axis=0), 3.0)
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(_np(layer.losses[0])), expected, rtol=1e-4)
    np.testing.assert_allclose(float(_np(layer.activity_regularizer.penalty(h))), expected, rtol=1e-4)


@pytest.mark.parametrize("batch", [4, 32])
def test_l1_activity_adds_the_mean_over_examples(batch):
    layer = _dense(L1Activity(0.01))
    x = np.random.default_rng(batch).normal(size=(batch, 8)).astype("float32")
    h = _np(layer(x))
    expected = ch2.reference_l1_penalty(h, 0.01)
    np.testing.assert_allclose(float(_np(layer.losses[0])), expected, rtol=1e-5)
    np.testing.assert_allclose(float(_np(layer.activity_regularizer.penalty(h))), expected, rtol=1e-5)


def test_kl_is_finite_at_dead_and_saturated_units():
    rho_hat = keras.ops.convert_to_tensor(np.array([0.0, 1e-12, 0.05, 1.0 - 1e-9, 1.0], "float32"))
    values = _np(regularizers.kl_divergence(0.05, rho_hat))
    assert np.all(np.isfinite(values))
    assert values[0] > 0.5 and values[-1] > 10 and abs(values[2]) < 1e-6
    h = np.array([[0.0, 1.0], [0.0, 1.0]], "float32")
    assert np.isfinite(float(_np(KLSparsity(0.05, 3.0)(h))))


def test_kl_pulls_mean_activation_towards_rho():
    """A plain gradient-descent fit with only the KL penalty moves rho_hat onto rho."""
    layer = _dense(KLSparsity(rho=0.2, beta=1.0), units=4)
    model = keras.Sequential([keras.Input((3,)), layer])
    model.compile(keras.optimizers.SGD(1.0), loss=lambda y, p: keras.ops.zeros_like(p[:, 0]))
    x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
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
])
def test_bad_arguments_raise_clear_errors(make, match):
    with pytest.raises(ValueError, match=f"{match}.*Received: {match}="):
        make()


def test_config_round_trip_and_model_save(tmp_path):
    for regularizer in (KLSparsity(0.05, 4.0), L1Activity(1e-3)):
        config = keras.regularizers.serialize(regularizer)
        clone = keras.regularizers.deserialize(config)
        assert type(clone) is type(regularizer) and clone.get_config() == regularizer.get_config()
    model = keras.Sequential([keras.Input((6,)), _dense(KLSparsity(0.05, 4.0), units=3),
                              keras.layers.Dense(6, activity_regularizer=L1Activity(1e-3))])
    model.compile("adam", "mse")
    x = np.random.default_rng(0).random((16, 6)).astype("float32")
    model.fit(x, x, epochs=1, verbose=0)
    model.save(tmp_path / "sparse.keras")
    reloaded = keras.saving.load_model(tmp_path / "sparse.keras")
    assert reloaded.layers[0].activity_regularizer.get_config() == {"rho": 0.05, "beta": 4.0}
    assert isinstance(reloaded.layers[1].activity_regularizer, L1Activity)
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
