"""DeepBeliefNetwork: greedy stacking, top-down sampling, classifier initialisation, DBM conditionals, saving."""

import keras
import numpy as np
import pytest

from aecourse import dbn as D


def _data(n=400, d=16, seed=0):
    rng = np.random.default_rng(seed)
    prototypes = (rng.random((4, d)) < 0.5).astype("float32")
    labels = rng.integers(4, size=n)
    x = np.abs(prototypes[labels] - (rng.random((n, d)) < 0.05)).astype("float32")
    return x, labels


def test_greedy_pretraining_trains_each_rbm_on_the_layer_below():
    x, _ = _data()
    model = D.DeepBeliefNetwork((16, 12, 6), seed=0)
    histories = model.pretrain(x, epochs=(3, 2), batch_size=20)
    assert [len(h.history["loss"]) for h in histories] == [3, 2]
    features = keras.ops.convert_to_numpy(model(x))
    assert features.shape == (400, 6) and 0 <= features.min() and features.max() <= 1
    h1 = model.rbms[0].transform(x)
    np.testing.assert_allclose(features, keras.ops.convert_to_numpy(model.rbms[1].transform(h1)), rtol=1e-5)


def test_top_down_samples_have_the_visible_shape_and_resemble_the_data():
    x, _ = _data()
    model = D.DeepBeliefNetwork((16, 12, 6), seed=0)
    model.pretrain(x, epochs=15, batch_size=20, optimizer=lambda: keras.optimizers.SGD(0.1, momentum=0.5))
    samples = keras.ops.convert_to_numpy(model.sample(200, gibbs_steps=50))
    assert samples.shape == (200, 16) and 0 <= samples.min() and samples.max() <= 1
    # Samples sit closer to the data than uniform noise does.
    distance = lambda s: np.abs(s[:, None] - x[None]).sum(-1).min(1).mean()
    assert distance(samples) < 0.5 * distance(np.full((200, 16), 0.5))
    started = keras.ops.convert_to_numpy(model.sample(5, gibbs_steps=2, start=x[:5]))
    assert started.shape == (5, 16)


def test_classifier_starts_from_the_rbm_weights():
    x, y = _data()
    model = D.DeepBeliefNetwork((16, 12, 6), seed=0)
    model.pretrain(x, epochs=2, batch_size=20)
    classifier = model.to_classifier(4)
    hidden = keras.Model(classifier.inputs, classifier.layers[1].output)
    np.testing.assert_allclose(hidden.predict(x, verbose=0), keras.ops.convert_to_numpy(model(x)), rtol=1e-5)
    classifier.compile(keras.optimizers.Adam(0.02), "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = classifier.fit(x, y, epochs=20, batch_size=40, verbose=0)
    assert history.history["accuracy"][-1] > 0.9


def test_dbm_conditional_uses_both_layers_and_halving():
    rng = np.random.default_rng(0)
    v, h2 = rng.integers(0, 2, (5, 4)).astype("float32"), rng.integers(0, 2, (5, 2)).astype("float32")
    w1, w2, c1 = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=3)
    for scale in (1.0, 0.5):
        expected = 1 / (1 + np.exp(-(scale * (v @ w1 + h2 @ w2.T) + c1)))
        got = D.dbm_hidden_probabilities(v, h2, w1.astype("float32"), w2.astype("float32"),
                                         c1.astype("float32"), weight_scale=scale)
        np.testing.assert_allclose(keras.ops.convert_to_numpy(got), expected, rtol=1e-5, atol=1e-6)


def test_dbm_mean_field_full_weights_are_overconfident_and_halving_fixes_it():
    x, _ = _data()
    model = D.DeepBeliefNetwork((16, 12, 6), seed=0)
    model.pretrain(x, epochs=30, batch_size=20)
    saturation = lambda q: np.mean((q < 0.05) | (q > 0.95))
    rbm_saturation = saturation(keras.ops.convert_to_numpy(model.rbms[0].transform(x)))
    saturated = {}
    for halve in (True, False):
        q_h1, q_h2 = D.dbm_mean_field(model, x, n_steps=5, halve_weights=halve)
        assert q_h1.shape == (400, 12) and q_h2.shape == (400, 6)
        saturated[halve] = saturation(keras.ops.convert_to_numpy(q_h1))
    # Full weights count the data twice: more saturated than RBM 1 alone; halving undoes it.
    assert saturated[False] > rbm_saturation
    assert saturated[True] < saturated[False]
    with pytest.raises(ValueError, match="two RBMs"):
        D.dbm_mean_field(D.DeepBeliefNetwork((16, 8)), x)


def test_bad_layer_sizes_raise():
    with pytest.raises(ValueError, match="Received: layer_sizes"):
        D.DeepBeliefNetwork((16,))
    with pytest.raises(ValueError, match="Received: layer_sizes"):
        D.DeepBeliefNetwork((16, 0))
    with pytest.raises(ValueError, match="one int per RBM"):
        D.DeepBeliefNetwork((16, 8, 4)).pretrain(_data()[0], epochs=(1,))


def test_save_and_reload(tmp_path):
    x, _ = _data()
    model = D.DeepBeliefNetwork((16, 12, 6), seed=1)
    model.pretrain(x, epochs=1, batch_size=50)
    model.save(tmp_path / "dbn.keras")
    reloaded = keras.saving.load_model(tmp_path / "dbn.keras")
    assert isinstance(reloaded, D.DeepBeliefNetwork) and reloaded.layer_sizes == (16, 12, 6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(reloaded(x)), keras.ops.convert_to_numpy(model(x)),
                               rtol=1e-6)
