"""Greedy layer-wise pretraining, stacking, fine-tuning and classifiers (aecourse.stacked)."""

import numpy as np
import pytest

import keras

from aecourse import regularizers, reuse, stacked
from aecourse.models import DenseAutoencoder


def _data(n=256, d=20, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 3))
    return (1 / (1 + np.exp(-z @ rng.normal(size=(3, d))))).astype("float32")


def _forward(layers, x):
    for layer in layers:
        x = keras.ops.convert_to_numpy(layer(x))
    return x


def test_greedy_pretrain_trains_each_layer_on_the_codes_below():
    x = _data()
    stack = stacked.greedy_pretrain(x, (8, 3), activation="sigmoid", epochs=(15, 200), learning_rate=1e-2)
    assert stack.layer_sizes == (20, 8, 3)
    assert [layer.kernel.shape for layer in stack.decoders] == [(8, 20), (3, 8)]
    assert all(len(losses) == 1 and np.isfinite(losses[0]) for losses in stack.losses)
    # Layer 2 reconstructs the codes of layer 1, better than their mean does.
    codes = _forward(stack.encoders[:1], x)
    error = np.mean((_forward([stack.encoders[1], stack.decoders[1]], codes) - codes) ** 2)
    assert error < np.mean(np.var(codes, axis=0))
    assert stack.decoders[0].activation.__name__ == "sigmoid"


def test_noise_corrupts_inputs_only_during_pretraining():
    x = _data()
    stack = stacked.greedy_pretrain(x, (6,), epochs=3, noise="masking", noise_level=0.5, seed=1)
    assert len(stack.losses[0]) == 1
    rng = np.random.default_rng(0)
    masked = stacked.corrupt(np.ones((200, 100)), "masking", 0.3, rng)
    assert set(np.unique(masked)) == {0.0, 1.0}
    assert abs(1 - masked.mean() - 0.3) < 0.02
    noisy = stacked.corrupt(np.zeros((200, 100)), "gaussian", 0.5, rng)
    assert abs(noisy.std() - 0.5) < 0.02


def test_stack_autoencoder_equals_encoders_then_reversed_decoders():
    x = _data(64)
    stack = stacked.greedy_pretrain(x, (8, 5, 3), epochs=1)
    ae = stacked.stack_autoencoder(stack)
    assert isinstance(ae, DenseAutoencoder)
    expected = _forward(stack.encoders + stack.decoders[::-1], x)
    np.testing.assert_allclose(ae.predict(x, verbose=0), expected, atol=1e-5)
    np.testing.assert_allclose(ae.encoder.predict(x, verbose=0), _forward(stack.encoders, x), atol=1e-5)


def test_fine_tuning_improves_the_stack_and_leaves_the_stack_unchanged():
    x = _data()
    stack = stacked.greedy_pretrain(x, (8, 3), epochs=2)
    kernel_before = keras.ops.convert_to_numpy(stack.encoders[0].kernel).copy()
    ae = stacked.stack_autoencoder(stack)
    before = np.mean((ae.predict(x, verbose=0) - x) ** 2)
    stacked.fine_tune(ae, x, epochs=15, learning_rate=1e-2)
    assert np.mean((ae.predict(x, verbose=0) - x) ** 2) < before
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(stack.encoders[0].kernel), kernel_before)


@pytest.mark.parametrize("freeze", [True, False])
def test_encoder_classifier_freezes_or_fine_tunes_a_copy(freeze):
    x = _data(128)
    y = (x[:, 0] > np.median(x[:, 0])).astype("int64")
    encoder = DenseAutoencoder(20, 3, hidden_units=(8,)).encoder
    original = [w.copy() for w in encoder.get_weights()]
    classifier = stacked.encoder_classifier(encoder, n_classes=2, freeze=freeze)
    np.testing.assert_allclose(classifier.layers[1].predict(x, verbose=0), encoder.predict(x, verbose=0), atol=1e-6)
    assert len(classifier.trainable_weights) == (2 if freeze else 6)
    copy_before = [w.copy() for w in classifier.layers[1].get_weights()]
    stacked.fit_classifier(classifier, x, y, steps=20, learning_rate=1e-2)
    changed = any(not np.allclose(a, b) for a, b in zip(copy_before, classifier.layers[1].get_weights()))
    assert changed != freeze
    for a, b in zip(original, encoder.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert 0.0 <= stacked.accuracy(classifier, x, y) <= 1.0


def test_fit_classifier_learns_with_few_labels():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 5)).astype("float32")
    y = np.arange(10) % 2
    x[:, 0] += 3 * (2 * y - 1)
    inputs = keras.Input((5,))
    classifier = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(inputs))
    stacked.fit_classifier(classifier, x, y, steps=100, batch_size=4, learning_rate=5e-2)
    assert stacked.accuracy(classifier, x, y) == 1.0


@pytest.mark.parametrize("kwargs, match", [
    ({"layer_sizes": ()}, "layer_sizes"),
    ({"layer_sizes": (4, 0)}, "layer_sizes"),
    ({"layer_sizes": (4,), "epochs": (1, 2)}, "epochs"),
    ({"layer_sizes": (4,), "noise": "salt"}, "noise"),
])
def test_greedy_pretrain_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        stacked.greedy_pretrain(_data(16), **kwargs)


def test_other_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="2-D"):
        stacked.greedy_pretrain(np.zeros((4, 2, 2)), (3,))
    with pytest.raises(ValueError, match="masking level"):
        stacked.corrupt(np.ones(3), "masking", 1.5, np.random.default_rng())
    with pytest.raises(ValueError, match="GreedyStack"):
        stacked.stack_autoencoder([1, 2])
    with pytest.raises(ValueError, match="n_classes"):
        stacked.encoder_classifier(DenseAutoencoder(4, 2).encoder, n_classes=0)
    with pytest.raises(ValueError, match="same positive number"):
        stacked.fit_classifier(None, np.zeros((3, 2)), np.zeros(2))


def test_epoch_order_is_one_permutation_per_epoch():
    order = stacked.epoch_order(7, 3, seed=0)
    assert len(order) == 21
    for k in range(3):
        assert sorted(order[7 * k:7 * (k + 1)]) == list(range(7))


def test_sparsity_lowers_the_mean_code_activation():
    x = _data(512)
    means = []
    for sparsity in (None, regularizers.KLSparsity(rho=0.05, beta=4.0 * x.shape[1])):  # beta / in_dim = 4
        keras.utils.set_random_seed(0)
        stack = stacked.greedy_pretrain(x, (10,), activation="sigmoid", epochs=20, learning_rate=1e-2,
                                        sparsity=sparsity)
        means.append(float(np.mean(_forward(stack.encoders, x))))
    assert means[1] < 0.15 < means[0]
    with pytest.raises(ValueError, match="sparsity"):
        stacked.greedy_pretrain(x, (4,), sparsity=0.05)


def test_start_continues_training_from_a_stack():
    x = _data()
    keras.utils.set_random_seed(0)
    first = stacked.greedy_pretrain(x, (6,), epochs=1)
    resumed = stacked.greedy_pretrain(x, (6,), epochs=1, start=first)
    assert not np.allclose(first.encoders[0].get_weights()[0], resumed.encoders[0].get_weights()[0])
    with pytest.raises(ValueError, match="start"):
        stacked.greedy_pretrain(x, (5,), epochs=1, start=first)


def test_restarted_runs_equal_fresh_models():
    """A run of a reused compiled model is the same computation as a freshly compiled one."""
    x = _data(128)
    results = []
    for _ in range(2):
        reuse.clear()
        for seed in (0, 1):  # the second run of the cached model is the one compared
            keras.utils.set_random_seed(seed)
            model = stacked.train_deep_autoencoder(x, (8, 3), "sigmoid", epochs=3, batch_size=32,
                                                   learning_rate=1e-2, seed=seed)
            results.append(model.predict(x, verbose=0))
    keras.utils.set_random_seed(1)
    reuse.clear()
    fresh = stacked.train_deep_autoencoder(x, (8, 3), "sigmoid", epochs=3, batch_size=32, learning_rate=1e-2, seed=1)
    np.testing.assert_allclose(results[1], fresh.predict(x, verbose=0), atol=1e-5)
    np.testing.assert_allclose(results[1], results[3], atol=1e-6)


def test_train_deep_autoencoder_starts_from_the_stack():
    x = _data()
    stack = stacked.greedy_pretrain(x, (8, 3), activation="sigmoid", epochs=5, learning_rate=1e-2)
    start = stacked.stack_autoencoder(stack).predict(x, verbose=0)
    tuned = stacked.train_deep_autoencoder(x, (8, 3), "sigmoid", stack, epochs=1, learning_rate=1e-6)
    np.testing.assert_allclose(tuned.predict(x, verbose=0), start, atol=1e-3)
    with pytest.raises(ValueError, match="stack must have"):
        stacked.train_deep_autoencoder(x, (8, 4), "sigmoid", stack, epochs=1)


@pytest.mark.parametrize("freeze", [True, False])
def test_train_classifier_uses_and_freezes_the_stack(freeze):
    x = _data(128)
    y = (x[:, 0] > np.median(x[:, 0])).astype("int64")
    stack = stacked.greedy_pretrain(x, (8, 3), activation="sigmoid", epochs=2)
    model = stacked.train_classifier(x, y, (8, 3), 2, "sigmoid", stack, freeze=freeze, steps=30, learning_rate=1e-2)
    first = model.layers[0].get_weights()[0]
    assert np.allclose(first, stack.encoders[0].get_weights()[0]) == freeze
    assert 0.0 <= stacked.accuracy(model, x, y) <= 1.0


def test_mean_std_and_difference_use_the_sample_std():
    assert stacked.mean_std([1.0, 2.0, 3.0]) == "2.0 ± 1.0"
    delta, error, p_value, verdict = stacked.difference([1.0, 2.0, 3.0], [0.0, 0.0, 0.0])
    assert delta == 2.0 and error == pytest.approx(1 / np.sqrt(3))
    # Welch's t = 2 sqrt(3) = 3.46 with 2 degrees of freedom: p = 0.074, beyond two standard errors yet not < 0.05
    assert p_value == pytest.approx(0.0742, abs=1e-3) and verdict == "no difference"
    assert stacked.difference([1.0, 1.2], [1.1, 1.0])[3] == "no difference"
    assert stacked.difference([0.0, 0.1, 0.0], [5.0, 5.1, 5.0])[3] == "b higher"
    assert stacked.difference([5.0, 5.1, 5.0], [0.0, 0.1, 0.0])[3] == "a higher"
    assert stacked.difference([1.0, 1.0], [1.0, 1.0])[2:] == (1.0, "no difference")
    with pytest.raises(ValueError, match="at least 2"):
        stacked.difference([1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="level"):
        stacked.difference([1.0, 2.0], [1.0, 2.0], level=0)


def test_difference_is_welchs_test():
    from scipy import stats

    a, b = [0.3, 0.5, 0.4, 0.9], [0.1, 0.2, 0.15]
    expected = stats.ttest_ind(a, b, equal_var=False).pvalue
    assert stacked.difference(a, b)[2] == pytest.approx(expected)
