"""Exact Jacobians by autodiff agree with analytic ones and with finite differences."""

import numpy as np
import pytest

import keras

from aecourse import jacobian


def _rng():
    return np.random.default_rng(0)


def test_linear_map_jacobian_is_its_matrix():
    matrix = _rng().normal(size=(4, 3)).astype("float32")     # Keras kernel (D, K)
    x = _rng().normal(size=(5, 4)).astype("float32")
    jac = jacobian.batch_jacobian(lambda v: keras.ops.matmul(v, matrix), x)
    assert jac.shape == (5, 3, 4)
    np.testing.assert_allclose(jac, np.broadcast_to(matrix.T, (5, 3, 4)), atol=1e-6)


def test_nonlinear_model_matches_central_differences():
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, activation="tanh"),
                              keras.layers.Dense(3, activation="sigmoid")])
    x = _rng().normal(size=(4, 6)).astype("float64")
    jac = jacobian.batch_jacobian(model, x)
    step = 1e-3
    for i in range(6):
        shift = np.zeros(6)
        shift[i] = step
        up = keras.ops.convert_to_numpy(model((x + shift).astype("float32")))
        down = keras.ops.convert_to_numpy(model((x - shift).astype("float32")))
        np.testing.assert_allclose(jac[:, :, i], (up - down) / (2 * step), atol=2e-3)


def test_frobenius_norm_sq_sums_squared_entries():
    x = _rng().normal(size=(3, 4))
    np.testing.assert_allclose(jacobian.frobenius_norm_sq(lambda v: 2.0 * v, x), [16.0] * 3, rtol=1e-6)


def test_rows_are_independent():
    layer = keras.layers.Dense(3, activation="sigmoid")
    x = _rng().normal(size=(6, 4)).astype("float32")
    full = jacobian.batch_jacobian(layer, x)
    np.testing.assert_allclose(full[2:3], jacobian.batch_jacobian(layer, x[2:3]), atol=1e-6)


@pytest.mark.parametrize("bad", [np.zeros(4), np.zeros((2, 3, 4))])
def test_rejects_inputs_that_are_not_flat_batches(bad):
    with pytest.raises(ValueError, match="Received: x.shape"):
        jacobian.batch_jacobian(lambda v: v, bad)
