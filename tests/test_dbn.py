"""DeepBeliefNetwork: greedy stacking, top-down sampling, classifier initialisation, DBM conditionals, saving."""

import itertools

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


def test_dbm_conditional_uses_both_layers():
    rng = np.random.default_rng(0)
    v, h2 = rng.integers(0, 2, (5, 4)).astype("float32"), rng.integers(0, 2, (5, 2)).astype("float32")
    w1, w2, c1 = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=3)
    expected = 1 / (1 + np.exp(-(v @ w1 + h2 @ w2.T + c1)))
    got = D.dbm_hidden_probabilities(v, h2, w1.astype("float32"), w2.astype("float32"), c1.astype("float32"))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(got), expected, rtol=1e-5, atol=1e-6)


def _random_dbm(rng, d=4, k1=3, k2=2):
    return {"W1": rng.normal(size=(d, k1)), "W2": rng.normal(size=(k1, k2)), "b": rng.normal(size=d),
            "c1": rng.normal(size=k1), "c2": rng.normal(size=k2)}


def test_dbm_log_likelihood_matches_brute_force_enumeration():
    params = _random_dbm(np.random.default_rng(1))
    states = lambda n: np.array(list(itertools.product([0.0, 1.0], repeat=n)))
    vs, h1s, h2s = states(4), states(3), states(2)
    log_p_star = np.zeros(len(vs))
    for i, v in enumerate(vs):
        terms = [v @ params["b"] + h1 @ params["c1"] + h2 @ params["c2"] + v @ params["W1"] @ h1
                 + h1 @ params["W2"] @ h2 for h1 in h1s for h2 in h2s]
        log_p_star[i] = np.log(np.sum(np.exp(terms)))
    expected = log_p_star - np.log(np.sum(np.exp(log_p_star)))
    np.testing.assert_allclose(D.dbm_log_likelihood(params, vs), expected, atol=1e-10)
    assert np.exp(D.dbm_log_likelihood(params, vs)).sum() == pytest.approx(1.0)


def test_dbm_mean_field_is_a_fixed_point_of_the_symmetric_updates():
    rng = np.random.default_rng(2)
    params = _random_dbm(rng, 6, 5, 3)
    params["W1"] *= 0.3
    params["W2"] *= 0.3
    v = rng.integers(0, 2, (7, 6)).astype("float64")
    q1, q2 = D.dbm_mean_field(params, v, n_steps=50)
    sigmoid = lambda x: 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(q1, sigmoid(v @ params["W1"] + q2 @ params["W2"].T + params["c1"]), atol=1e-8)
    np.testing.assert_allclose(q2, sigmoid(q1 @ params["W2"] + params["c2"]), atol=1e-8)


def test_compose_dbm_uses_one_symmetric_set_of_weights():
    from aecourse.rbm import BernoulliRBM
    rng = np.random.default_rng(3)
    first = BernoulliRBM(6, 4, visible_copies=2, seed=0)
    second = BernoulliRBM(4, 3, hidden_copies=2, seed=1)
    plain_first, plain_second = BernoulliRBM(6, 4, seed=0), BernoulliRBM(4, 3, seed=1)
    for model in (first, second, plain_first, plain_second):
        model.set_weights([rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])
    plain_first.set_weights(first.get_weights())
    plain_second.set_weights(second.get_weights())
    w1, b1, c1 = (keras.ops.convert_to_numpy(w) for w in (first.kernel, first.visible_bias, first.hidden_bias))
    w2, b2, c2 = (keras.ops.convert_to_numpy(w) for w in (second.kernel, second.visible_bias, second.hidden_bias))
    doubled = D.compose_dbm(first, second, halve=True)     # Salakhutdinov & Hinton: W1* = W1, W2* = W2
    np.testing.assert_allclose(doubled["W1"], w1, rtol=1e-6)
    np.testing.assert_allclose(doubled["W2"], w2, rtol=1e-6)
    np.testing.assert_allclose(doubled["c1"], 0.5 * (c1 + b2), rtol=1e-6)
    np.testing.assert_allclose(doubled["b"], b1, rtol=1e-6)
    np.testing.assert_allclose(doubled["c2"], c2, rtol=1e-6)
    halved = D.compose_dbm(plain_first, plain_second, halve=True)
    np.testing.assert_allclose(halved["W1"], 0.5 * w1, rtol=1e-6)
    full = D.compose_dbm(plain_first, plain_second, halve=False)
    np.testing.assert_allclose(full["W2"], w2, rtol=1e-6)
    np.testing.assert_allclose(full["c1"], c1 + b2, rtol=1e-6)
    with pytest.raises(ValueError, match="same layer h1"):
        D.compose_dbm(first, BernoulliRBM(5, 3))


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


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def test_to_autoencoder_unrolls_the_stack_with_transposed_weights():
    x, _ = _data(n=50)
    model = D.DeepBeliefNetwork((16, 12, 6), seed=0)
    rng = np.random.default_rng(1)
    for rbm in model.rbms:
        rbm.set_weights([rng.normal(size=w.shape).astype("float32") for w in rbm.get_weights()])
    (w1, b1, c1), (w2, b2, c2) = ([keras.ops.convert_to_numpy(w) for w in (r.kernel, r.visible_bias, r.hidden_bias)]
                                  for r in model.rbms)
    # encoder: p(h1|v), p(h2|h1); decoder: the mean-field top-down pass with W' and the visible biases
    expected = _sigmoid(_sigmoid(_sigmoid(_sigmoid(x @ w1 + c1) @ w2 + c2) @ w2.T + b2) @ w1.T + b1)
    autoencoder = model.to_autoencoder()
    assert [layer.units for layer in autoencoder.layers] == [12, 6, 12, 16]
    np.testing.assert_allclose(autoencoder.predict(x, verbose=0), expected, rtol=1e-4, atol=1e-6)


def test_unrolled_autoencoder_applies_encoders_up_then_decoders_down():
    rng = np.random.default_rng(0)
    encoders = [(rng.normal(size=(5, 3)), rng.normal(size=3)), (rng.normal(size=(3, 2)), rng.normal(size=2))]
    decoders = [(rng.normal(size=(3, 5)), rng.normal(size=5)), (rng.normal(size=(2, 3)), rng.normal(size=3))]
    x = rng.random((4, 5))
    h = _sigmoid(_sigmoid(x @ encoders[0][0] + encoders[0][1]) @ encoders[1][0] + encoders[1][1])
    expected = _sigmoid(_sigmoid(h @ decoders[1][0] + decoders[1][1]) @ decoders[0][0] + decoders[0][1])
    got = D.unrolled_autoencoder(encoders, decoders).predict(x, verbose=0)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("encoders, decoders", [
    ([(np.zeros((5, 3)), np.zeros(3))], []),                                                   # lengths differ
    ([], []),                                                                                  # empty
    ([(np.zeros((5, 3)), np.zeros(3))], [(np.zeros((5, 3)), np.zeros(5))]),                    # decoder not transposed
    ([(np.zeros((5, 3)), np.zeros(3)), (np.zeros((4, 2)), np.zeros(2))],                       # layers do not chain
     [(np.zeros((3, 5)), np.zeros(5)), (np.zeros((2, 4)), np.zeros(4))]),
])
def test_unrolled_autoencoder_rejects_bad_weights(encoders, decoders):
    with pytest.raises(ValueError, match="Received"):
        D.unrolled_autoencoder(encoders, decoders)


def test_greedy_autoencoder_weights_train_each_layer_on_the_codes_below():
    x, _ = _data()
    encoders, decoders = D.greedy_autoencoder_weights(x, (16, 12, 6), epochs=30, batch_size=20,
                                                      optimizer=lambda: keras.optimizers.Adam(1e-2), seed=0)
    assert [e[0].shape for e in encoders] == [(16, 12), (12, 6)]
    assert [d[0].shape for d in decoders] == [(12, 16), (6, 12)]
    # the first layer reconstructs the data far better than the mean does
    reconstruction = _sigmoid(_sigmoid(x @ encoders[0][0] + encoders[0][1]) @ decoders[0][0] + decoders[0][1])
    assert np.mean((x - reconstruction) ** 2) < 0.3 * np.mean((x - x.mean(axis=0)) ** 2)
    # the second layer was trained on the first one's codes, not on the data
    codes = _sigmoid(x @ encoders[0][0] + encoders[0][1])
    second = _sigmoid(_sigmoid(codes @ encoders[1][0] + encoders[1][1]) @ decoders[1][0] + decoders[1][1])
    assert np.mean((codes - second) ** 2) < 0.5 * np.mean((codes - codes.mean(axis=0)) ** 2)


@pytest.mark.parametrize("sizes", [(16,), (15, 8)])
def test_greedy_autoencoder_weights_rejects_bad_sizes(sizes):
    x, _ = _data(n=20)
    with pytest.raises(ValueError, match="Received"):
        D.greedy_autoencoder_weights(x, sizes)
