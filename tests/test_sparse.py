"""aecourse.sparse: Treves-Rolls sparseness, units carrying a share of the activity, the TopK layer."""

import math

import keras
import numpy as np
import pytest

from aecourse.sparse import TopK, treves_rolls, units_carrying


def test_treves_rolls_limits_and_axes():
    one_hot, even = np.eye(5)[[2]], np.full((1, 5), 0.3)
    assert treves_rolls(one_hot, axis=1) == pytest.approx([1 / 5])
    assert treves_rolls(even, axis=1) == pytest.approx([1.0])
    # lifetime: one column per unit; unit 0 fires once in four inputs, unit 1 always at 0.05
    h = np.array([[1.0, 0.05], [0.0, 0.05], [0.0, 0.05], [0.0, 0.05]])
    assert treves_rolls(h, axis=0) == pytest.approx([0.25, 1.0])
    assert np.isnan(treves_rolls(np.zeros((2, 3)), axis=1)).all()


def test_treves_rolls_matches_its_formula_on_random_codes():
    h = np.random.default_rng(0).random((7, 4)) ** 3
    for axis in (0, 1):
        expected = [np.mean(a) ** 2 / np.mean(a ** 2) for a in np.moveaxis(h, axis, -1)]
        assert treves_rolls(h, axis) == pytest.approx(expected)


def test_units_carrying_enumeration():
    h = np.random.default_rng(1).random((20, 9)) * (np.random.default_rng(2).random((20, 9)) < 0.5)
    h[0] = 0.0
    got = units_carrying(h, fraction=0.8)
    for row, n_units in zip(h, got):
        if row.sum() == 0:
            assert n_units == 0
            continue
        ordered = np.sort(row)[::-1]
        # the smallest m whose top-m sum reaches 80% (checked by enumeration)
        assert n_units == min(m for m in range(1, 10) if ordered[:m].sum() >= 0.8 * row.sum() - 1e-12)
    assert units_carrying(np.full((3, 256), 0.05)).tolist() == [math.ceil(0.8 * 256)] * 3
    assert units_carrying(np.eye(4)).tolist() == [1] * 4


@pytest.mark.parametrize("bad", [np.ones(3), -np.ones((2, 2))])
def test_measures_reject_bad_codes(bad):
    with pytest.raises(ValueError, match="h"):
        treves_rolls(bad, axis=0)
    with pytest.raises(ValueError, match="h"):
        units_carrying(bad)


def test_measures_reject_bad_arguments():
    with pytest.raises(ValueError, match="axis"):
        treves_rolls(np.ones((2, 2)), axis=2)
    with pytest.raises(ValueError, match="fraction"):
        units_carrying(np.ones((2, 2)), fraction=1.5)


def test_topk_keeps_the_k_largest_per_row():
    x = np.random.default_rng(3).normal(size=(6, 10)).astype("float32")
    y = keras.ops.convert_to_numpy(TopK(3)(x))
    assert ((y != 0).sum(axis=1) == 3).all()
    for row_x, row_y in zip(x, y):
        kept = np.argsort(row_x)[-3:]
        np.testing.assert_array_equal(row_y[kept], row_x[kept])


def test_topk_gradient_flows_only_through_kept_units():
    x = keras.ops.convert_to_tensor(np.array([[0.1, 0.5, 0.3, 0.9]], "float32"))
    layer = TopK(2)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = keras.ops.sum(layer(x))
        grad = tape.gradient(out, x).numpy()
    elif keras.backend.backend() == "jax":
        import jax
        grad = np.asarray(jax.grad(lambda v: keras.ops.sum(layer(v)))(x))
    else:
        pytest.skip("gradient test written for the TensorFlow and JAX backends")
    np.testing.assert_array_equal(grad, [[0.0, 1.0, 0.0, 1.0]])


def test_topk_trains_in_a_model_and_survives_save(tmp_path):
    x = keras.Input((12,))
    h = TopK(2)(keras.layers.Dense(8, activation="relu")(x))
    model = keras.Model(x, keras.layers.Dense(12)(h))
    model.compile("adam", "mse")
    data = np.random.default_rng(4).random((32, 12)).astype("float32")
    model.fit(data, data, epochs=1, verbose=0)
    path = tmp_path / "topk.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    np.testing.assert_allclose(reloaded.predict(data, verbose=0), model.predict(data, verbose=0), atol=1e-6)


@pytest.mark.parametrize("k", [0, -1, 2.5, True])
def test_topk_rejects_bad_k(k):
    with pytest.raises(ValueError, match="k"):
        TopK(k)


def test_topk_rejects_too_few_units():
    with pytest.raises(ValueError, match="at least 5"):
        TopK(5)(np.zeros((2, 3), "float32"))
