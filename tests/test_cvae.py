"""cvae: the conditioned input, training, and that the label steers generation."""

import keras
import numpy as np
import pytest

from aecourse import cvae


def test_condition_appends_one_hot_labels():
    out = cvae.condition(np.ones((3, 2)), np.array([2, 0, 1]), 3)
    np.testing.assert_array_equal(out[:, 2:], np.eye(3)[[2, 0, 1]])
    np.testing.assert_array_equal(out[:, :2], 1.0)


@pytest.mark.parametrize("x, labels, match", [
    (np.ones((3, 2)), np.array([0, 1]), "labels"),
    (np.ones((2, 2)), np.array([0, 3]), r"\[0, 3\)"),
    (np.ones((2, 2)), np.array([0.0, 1.0]), "integers"),
])
def test_condition_errors(x, labels, match):
    with pytest.raises(ValueError, match=match):
        cvae.condition(x, labels, 3)


def test_training_and_label_steered_generation():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, size=256)
    x = np.where(labels[:, None] == 0, rng.random((256, 8)) < 0.1, rng.random((256, 8)) < 0.9).astype("float32")
    keras.utils.set_random_seed(0)
    model = cvae.ConditionalVAE(8, 2, 2, hidden_units=(16,), seed=0)
    model.compile(keras.optimizers.Adam(1e-2))
    history = model.fit(cvae.condition(x, labels, 2), epochs=30, batch_size=64, verbose=0)
    assert sorted(history.history) == ["kl", "loss", "reconstruction"]
    assert history.history["loss"][-1] < history.history["loss"][0]
    dark, bright = model.generate(np.zeros(50, int), seed=0), model.generate(np.ones(50, int), seed=0)
    assert dark.shape == (50, 8) and dark.mean() < 0.3 < 0.7 < bright.mean()


def test_bad_sizes():
    with pytest.raises(ValueError, match="n_classes"):
        cvae.ConditionalVAE(8, 0, 2)
