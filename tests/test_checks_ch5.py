"""Every chapter-5 check passes the reference and rejects plausible wrong answers."""

import numpy as np
import pytest

import keras

from aecourse import conv, stacked
from aecourse.checks import ExerciseFailure, ch5

# --- ex-5-backprop -----------------------------------------------------------


def _backprop(x, kernels, biases, activation, upstream, derivative_of="a", skip_last=False,
              order=1, no_input=False):
    inputs, derivatives, h = [], [], x
    for W, b in zip(kernels, biases):
        inputs.append(h)
        a = h @ W + b
        if activation == "sigmoid":
            h = 1 / (1 + np.exp(-a))
            s = h if derivative_of == "a" else 1 / (1 + np.exp(-h))  # wrong: sigma'(h) instead of sigma'(a)
            derivatives.append(s * (1 - s))
        else:
            h = np.maximum(a, 0)
            derivatives.append((a > 0).astype(float))
    norms, grad_h = [], upstream
    for l in reversed(range(len(kernels))):
        delta = grad_h if (skip_last and l == len(kernels) - 1) else grad_h * derivatives[l]
        norms.append(np.linalg.norm(delta if no_input else inputs[l].T @ delta))
        grad_h = delta @ kernels[l].T
    return np.array(norms[::-1] if order == 1 else norms)


def test_reference_backprop_matches_finite_differences():
    rng = np.random.default_rng(0)
    sizes = [5, 4, 4, 3]
    kernels = [rng.normal(size=(m, n)) for m, n in zip(sizes[:-1], sizes[1:])]
    biases = [rng.normal(size=n) for n in sizes[1:]]
    x, target = rng.normal(size=(6, 5)), rng.normal(size=(6, 3))
    for activation in ("sigmoid", "relu"):
        phi = ch5.ACTIVATIONS[activation][0]

        def loss(ks):
            h = x
            for k, b in zip(ks, biases):
                h = phi(h @ k + b)
            return 0.5 * np.sum((h - target) ** 2)

        h = x
        for k, b in zip(kernels, biases):
            h = phi(h @ k + b)
        expected = []
        for layer in range(len(kernels)):
            grad = np.zeros_like(kernels[layer])
            for index in np.ndindex(grad.shape):
                plus = [k.copy() for k in kernels]
                minus = [k.copy() for k in kernels]
                plus[layer][index] += 1e-6
                minus[layer][index] -= 1e-6
                grad[index] = (loss(plus) - loss(minus)) / 2e-6
            expected.append(np.linalg.norm(grad))
        got = ch5.reference_weight_gradient_norms(x, kernels, biases, activation, h - target)
        np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_weight_gradient_norms(capsys):
    ch5.check_weight_gradient_norms(_backprop)
    assert capsys.readouterr().out == (
        "\u2714 ex-5-backprop: backpropagated gradient norms match the reference for sigmoid and ReLU\n")


@pytest.mark.parametrize("kwargs", [
    {"derivative_of": "h"},    # sigma'(h) instead of sigma'(a)
    {"skip_last": True},       # forgets phi' at the last layer
    {"order": -1},             # output layer first
    {"no_input": True},        # norm of delta, not of h^T delta
])
def test_weight_gradient_norms_rejects(kwargs):
    with pytest.raises(ExerciseFailure, match="^ex-5-backprop"):
        ch5.check_weight_gradient_norms(lambda *args: _backprop(*args, **kwargs))


# --- ex-5-stack ---------------------------------------------------------------


def _stack(x, encoders, decoders, reverse=True, code_activation=True, output="sigmoid"):
    h = x
    for i, (W, b) in enumerate(encoders):
        a = h @ W + b
        h = np.maximum(a, 0) if (code_activation or i < len(encoders) - 1) else a
    order = reversed(range(len(decoders))) if reverse else range(len(decoders))
    for k in order:
        V, c = decoders[k]
        a = h @ V + c
        if k == 0:
            h = 1 / (1 + np.exp(-a)) if output == "sigmoid" else np.maximum(a, 0)
        else:
            h = np.maximum(a, 0)
    return h


def test_reference_stack_is_the_package_stack():
    rng = np.random.default_rng(0)
    encoders, decoders = ch5._random_stack(rng, [9, 6, 4])
    x = rng.random((5, 9))
    np.testing.assert_allclose(ch5.reference_stack_reconstruct(x, encoders, decoders),
                               _stack(x, encoders, decoders), atol=1e-5)


def test_stack_reconstruct(capsys):
    ch5.check_stack_reconstruct(_stack)
    assert capsys.readouterr().out.startswith("\u2714 ex-5-stack:")


@pytest.mark.parametrize("kwargs", [
    {"reverse": False},           # decoders in the encoders' order
    {"code_activation": False},   # linear code
    {"output": "relu"},           # ReLU output
])
def test_stack_reconstruct_rejects(kwargs):
    with pytest.raises(ExerciseFailure, match="^ex-5-stack"):
        ch5.check_stack_reconstruct(lambda *args: _stack(*args, **kwargs))


# --- ex-5-freeze ----------------------------------------------------------------


def _classifier(encoder, n_classes, freeze=True, activation="softmax", reinit=False):
    if reinit:  # a fresh encoder with the same architecture: loses the pretrained weights
        encoder = keras.models.clone_model(encoder)
    encoder.trainable = not freeze
    x = keras.Input(encoder.input_shape[1:])
    return keras.Model(x, keras.layers.Dense(n_classes, activation=activation)(encoder(x)))


def _copy_classifier(encoder, n_classes):
    """The model answer: freezes a copy, so the caller's encoder is left as it was."""
    features = keras.models.clone_model(encoder)
    features.set_weights(encoder.get_weights())
    return _classifier(features, n_classes)


def test_frozen_classifier(capsys):
    ch5.check_frozen_classifier(_copy_classifier)
    ch5.check_frozen_classifier(lambda encoder, n: stacked.encoder_classifier(encoder, n, freeze=True))
    assert capsys.readouterr().out.count("\u2714 ex-5-freeze:") == 2


def _zeroes_the_callers_encoder(encoder, n_classes):
    model = _copy_classifier(encoder, n_classes)
    encoder.set_weights([0 * w for w in encoder.get_weights()])
    return model


@pytest.mark.parametrize("wrong, match", [
    (_classifier, "trainable` to False"),                  # freezes the caller's encoder in place
    (_zeroes_the_callers_encoder, "weights changed"),      # a correct copy, but the caller's weights overwritten
])
def test_frozen_classifier_rejects_answers_that_change_the_callers_encoder(wrong, match):
    with pytest.raises(ExerciseFailure, match=match):
        ch5.check_frozen_classifier(wrong)


def _all_frozen(encoder, n_classes):
    model = _classifier(encoder, n_classes)
    model.trainable = False
    return model


@pytest.mark.parametrize("wrong", [
    lambda e, n: _classifier(e, n, freeze=False),          # encoder not frozen
    lambda e, n: _classifier(e, n, activation=None),       # no softmax
    lambda e, n: _classifier(e, n, reinit=True),           # pretrained weights thrown away
    _all_frozen,                                           # softmax layer frozen too
    lambda e, n: e,                                        # the encoder itself
    _classifier,                                           # freezes the caller's encoder, not a copy
])
def test_frozen_classifier_rejects(wrong):
    with pytest.raises(ExerciseFailure, match="^ex-5-freeze"):
        ch5.check_frozen_classifier(wrong)


# --- ex-5-conv-shape --------------------------------------------------------------


def _shapes(input_shape, filters, pool=2, channels="filters"):
    height, width, c = input_shape
    shapes = []
    for f in filters:
        height, width = height // pool, width // pool
        shapes.append((height, width, f if channels == "filters" else c))
        c = f
    return shapes


def test_code_shapes(capsys):
    ch5.check_code_shapes(_shapes)
    ch5.check_code_shapes(conv.encoder_shapes)
    assert capsys.readouterr().out.count("\u2714 ex-5-conv-shape:") == 2


def _ceil_shapes(input_shape, filters):
    height, width, _ = input_shape
    shapes = []
    for f in filters:
        height, width = -(-height // 2), -(-width // 2)
        shapes.append((height, width, f))
    return shapes


@pytest.mark.parametrize("wrong", [
    _ceil_shapes,                                          # rounds odd sizes up ('same' pooling)
    lambda s, f: _shapes(s, f, pool=1),                    # forgets the pooling
    lambda s, f: _shapes(s, f, channels="input"),          # channels of the block's input
    lambda s, f: _shapes(s, f)[-1],                        # only the code's shape
    lambda s, f: _shapes(s, f[::-1]),                      # filters reversed
])
def test_code_shapes_rejects(wrong):
    with pytest.raises(ExerciseFailure, match="^ex-5-conv-shape"):
        ch5.check_code_shapes(wrong)


def test_the_model_answer_leaves_the_callers_encoder_trainable(capsys):
    def frozen_classifier(encoder, n_classes):  # the chapter's model answer
        features = keras.models.clone_model(encoder)
        features.set_weights(encoder.get_weights())
        features.trainable = False
        x = keras.Input(encoder.input_shape[1:])
        return keras.Model(x, keras.layers.Dense(n_classes, activation="softmax")(features(x)))

    encoder = stacked.stack_autoencoder(stacked.greedy_pretrain(np.random.default_rng(0).random((32, 10)), (6, 4),
                                                                epochs=1)).encoder
    frozen_classifier(encoder, 3)
    assert encoder.trainable and len(encoder.trainable_weights) == 4
    ch5.check_frozen_classifier(frozen_classifier)
    assert capsys.readouterr().out.startswith("\u2714 ex-5-freeze:")


# --- ex-5-pretrain ----------------------------------------------------------------


def _pretrain(x, epochs=10, second_layer=True, reverse=True, activation="sigmoid"):
    keras.utils.set_random_seed(1)
    encoders, decoders, inputs = [], [], x
    for units, loss in ((32, "binary_crossentropy"), (16, "mse")):
        encoder = keras.layers.Dense(units, activation=activation)
        decoder = keras.layers.Dense(inputs.shape[1], activation="sigmoid")
        model = keras.Sequential([keras.Input((inputs.shape[1],)), encoder, decoder])
        model.compile(keras.optimizers.Adam(1e-2), loss=loss)
        if second_layer or units == 32:
            model.fit(inputs, inputs, epochs=epochs, batch_size=16, verbose=0)
        encoders += encoder.get_weights()
        decoders = decoder.get_weights() + decoders if reverse else decoders + decoder.get_weights()
        inputs = keras.ops.convert_to_numpy(encoder(inputs))
    return encoders + decoders


@pytest.mark.training
def test_pretrain_two_layers(capsys):
    ch5.check_pretrain_two_layers(_pretrain)
    assert capsys.readouterr().out.startswith("\u2714 ex-5-pretrain:")


def _mean_image_stack(x):
    """Weights whose stack outputs (almost) the mean image: the trivial baseline must fail."""
    mean = np.clip(x.mean(axis=0), 1e-3, 1 - 1e-3)
    return [np.zeros((64, 32)), np.zeros(32), np.zeros((32, 16)), np.zeros(16), np.zeros((16, 32)), np.zeros(32),
            np.zeros((32, 64)), np.log(mean / (1 - mean))]


def _end_to_end(x, epochs=40):
    """The 64-32-16-32-64 sigmoid autoencoder trained as a whole: its stack reconstructs, its layers alone do not."""
    keras.utils.set_random_seed(1)
    layers = [keras.layers.Dense(units, activation="sigmoid") for units in (32, 16, 32, 64)]
    model = keras.Sequential([keras.Input((64,))] + layers)
    model.compile(keras.optimizers.Adam(1e-2), loss="binary_crossentropy")
    model.fit(x, x, epochs=epochs, batch_size=16, verbose=0)
    return [w for layer in layers for w in layer.get_weights()]


@pytest.mark.training
def test_end_to_end_stack_reconstructs_but_its_layers_do_not():
    x, held_out = ch5._digits_split()
    weights = _end_to_end(x)
    assert ch5.reference_stack_error(held_out, weights) < ch5.PRETRAIN_BOUND  # the whole-stack bound alone passes it
    error_1, fraction_2 = ch5.reference_layer_errors(held_out, weights)
    assert error_1 > ch5.LAYER1_BOUND and fraction_2 > ch5.LAYER2_BOUND


def test_layer_errors_of_the_mean_code_and_of_a_perfect_layer():
    x = np.random.default_rng(0).random((20, 64))
    zeros = [np.zeros((64, 32)), np.zeros(32), np.zeros((32, 16)), np.zeros(16), np.zeros((16, 32)), np.zeros(32),
             np.zeros((32, 64)), np.zeros(64)]
    error_1, fraction_2 = ch5.reference_layer_errors(x, zeros)
    assert error_1 == pytest.approx(np.mean(np.sum((x - 0.5) ** 2, axis=1)))
    assert fraction_2 == pytest.approx(0.0)  # a constant code is reconstructed exactly by a constant output


@pytest.mark.parametrize("wrong", [
    lambda x: _pretrain(x, second_layer=False),            # second autoencoder never trained
    lambda x: _pretrain(x, epochs=1, activation="relu"),   # ReLU codes, rebuilt as sigmoid by the check
    lambda x: _pretrain(x, reverse=False)[:6],             # weights missing
    _mean_image_stack,                                     # the trivial baseline
    _end_to_end,                                           # the deep autoencoder trained end to end, no greedy step
])
@pytest.mark.training
def test_pretrain_two_layers_rejects(wrong):
    with pytest.raises(ExerciseFailure, match="^ex-5-pretrain"):
        ch5.check_pretrain_two_layers(wrong)


# --- ex-5-erhan -------------------------------------------------------------------


def test_erhan_answer_needs_an_answer(capsys):
    ch5.check_erhan_answer(" ".join(["word"] * 45))
    assert capsys.readouterr().out.startswith("\u2714 ex-5-erhan:")
    for wrong in ("Regularisation.", " ".join(["word"] * 30), 42):
        with pytest.raises(ExerciseFailure, match="^ex-5-erhan"):
            ch5.check_erhan_answer(wrong)


def test_unanswered_answers_fail_clearly():
    def unanswered(*args):
        raise NotImplementedError

    for check in (ch5.check_weight_gradient_norms, ch5.check_stack_reconstruct,
                  ch5.check_frozen_classifier, ch5.check_code_shapes):
        with pytest.raises(ExerciseFailure, match="not answered yet"):
            check(unanswered)
