"""Compiled models reused across runs (aecourse.reuse)."""

import keras
import numpy as np
import pytest

from aecourse import reuse


def _build():
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])


def test_compiled_caches_and_restart_resets_the_run():
    reuse.clear()
    model = reuse.compiled("test-dense", _build, "mse")
    assert reuse.compiled("test-dense", _build, "mse") is model
    x = np.random.default_rng(0).random((16, 3)).astype("float32")
    y = np.ones((16, 2), "float32")
    start = [np.zeros((3, 2), "float32"), np.zeros(2, "float32")]
    results = []
    for _ in range(2):
        reuse.restart(model, start, 0.1)
        model.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
        results.append(model.get_weights())
    for a, b in zip(*results):  # same start, zeroed Adam state: the same run twice
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="learning_rate"):
        reuse.restart(model, start, 0.0)
    reuse.clear()
    assert reuse.compiled("test-dense", _build, "mse") is not model
