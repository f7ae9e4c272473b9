import keras
import numpy as np
import pytest

from aecourse import reconstruction


class _Halve:
    """A stand-in model whose reconstruction is half its input."""

    def predict(self, x, verbose=0, batch_size=None):
        return x / 2


def test_squared_errors_sums_over_features():
    x = np.random.default_rng(0).random((5, 7))
    errors = reconstruction.squared_errors(_Halve(), x)
    assert errors.shape == (5,)
    for n in range(5):  # one image at a time, by enumeration of its pixels
        assert errors[n] == pytest.approx(sum((x[n, i] / 2) ** 2 for i in range(7)))


def test_squared_errors_with_a_keras_model_and_bad_input():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4, use_bias=False, kernel_initializer="zeros")])
    x = np.ones((3, 4), "float32")
    np.testing.assert_allclose(reconstruction.squared_errors(model, x), [4.0, 4.0, 4.0])
    with pytest.raises(ValueError, match="2-D"):
        reconstruction.squared_errors(model, np.ones((2, 2, 2)))
    shrink = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="shaped like x"):
        reconstruction.squared_errors(shrink, x)
    with pytest.raises(ValueError, match="callable"):
        reconstruction.squared_errors("pca", x)


def test_squared_errors_of_a_plain_function():
    x = np.array([[1.0, 2.0], [0.0, 0.5]])
    np.testing.assert_allclose(reconstruction.squared_errors(lambda v: v + 1.0, x), [2.0, 2.0])


def test_class_means():
    values = np.array([1.0, 2.0, 3.0, 10.0, 20.0])
    labels = np.array([0, 0, 0, 2, 1])
    np.testing.assert_allclose(reconstruction.class_means(values, labels, 3), [2.0, 20.0, 10.0])
    with pytest.raises(ValueError, match="at least one example"):
        reconstruction.class_means(values, labels, 4)
    with pytest.raises(ValueError, match="same length"):
        reconstruction.class_means(values, labels[:3], 3)


def test_cross_entropy_floor_is_the_minimum_of_cross_entropy():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.random(50), [0.0, 1.0, 0.0]])
    floor = reconstruction.cross_entropy_floor(x)

    def mean_cross_entropy(r):
        return np.mean(-(x * np.log(r) + (1 - x) * np.log(1 - r)))

    # Reached at r = x (up to the clipping needed for the pixels at 0 and 1) ...
    assert mean_cross_entropy(np.clip(x, 1e-12, 1 - 1e-12)) == pytest.approx(floor, abs=1e-9)
    # ... and never beaten: every other reconstruction scores higher (Gibbs' inequality).
    for _ in range(20):
        r = np.clip(x + rng.normal(0, 0.1, x.shape), 1e-6, 1 - 1e-6)
        assert mean_cross_entropy(r) > floor
    # Closed forms: binary pixels have floor 0, grey 0.5 pixels log 2.
    assert reconstruction.cross_entropy_floor(np.array([0.0, 1.0])) == 0.0
    assert reconstruction.cross_entropy_floor(np.full(4, 0.5)) == pytest.approx(np.log(2))


def test_cross_entropy_floor_matches_keras_loss_at_the_target():
    x = np.random.default_rng(1).uniform(0.05, 0.95, size=(4, 6)).astype("float32")
    keras_value = float(keras.ops.mean(keras.losses.binary_crossentropy(x, x)))
    assert reconstruction.cross_entropy_floor(x) == pytest.approx(keras_value, rel=1e-4)


def test_cross_entropy_floor_rejects_values_outside_unit_interval():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        reconstruction.cross_entropy_floor(np.array([0.5, 1.5]))
