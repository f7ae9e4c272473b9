"""Checks of chapter 5, stacked autoencoders and greedy layer-wise pretraining."""

import keras
import numpy as np

from aecourse import conv, stacked
from aecourse.checks import call, expect_close, fail, fresh_rng, passed

ACTIVATIONS = {
    # activation: (phi(a), phi'(a) written with a and h = phi(a))
    "sigmoid": (lambda a: 1.0 / (1.0 + np.exp(-a)), lambda a, h: h * (1.0 - h)),
    "relu": (lambda a: np.maximum(a, 0.0), lambda a, h: (a > 0).astype("float64")),
}


def _call_raw(label, function, *args):
    """Calls the learner's function and returns its result unconverted (a model, a list)."""
    if not callable(function):
        fail(label, f"expected a function, got {type(function).__name__}.")
    try:
        return function(*args)
    except NotImplementedError:
        fail(label, "not answered yet: replace `raise NotImplementedError` with your solution.")
    except Exception as error:  # the learner's bug: report it as a failed check
        fail(label, f"your function raised {type(error).__name__}: {error}")


def reference_weight_gradient_norms(x, kernels, biases, activation, upstream):
    """Backpropagation (the delta rule) through a stack of dense layers, in NumPy.

    The network is `h_l = phi(h_{l-1} W_l + b_l)` for `l = 1..L`, `h_0 = x`;
    `upstream` is the gradient of the loss with respect to `h_L`. With
    `delta_L = upstream * phi'(a_L)` and `delta_l = (delta_{l+1} W_{l+1}^T) *
    phi'(a_l)`, the weight gradients are `dE/dW_l = h_{l-1}^T delta_l`.

    Args:
        x: `(n, d_0)` inputs.
        kernels: list of `L` kernels, `kernels[l]` of shape `(d_l, d_{l+1})`.
        biases: list of `L` biases.
        activation: `"sigmoid"` or `"relu"`.
        upstream: `(n, d_L)` gradient of the loss with respect to the last layer's output.

    Returns:
        `(L,)` Frobenius norms of the weight gradients, input side first.
    """
    phi, phi_prime = ACTIVATIONS[activation]
    h, pre_activations, activations = np.asarray(x, "float64"), [], []
    for kernel, bias in zip(kernels, biases):
        activations.append(h)
        a = h @ kernel + bias
        h = phi(a)
        pre_activations.append((a, h))
    norms = []
    grad_h = np.asarray(upstream, "float64")
    for layer in reversed(range(len(kernels))):
        a, h = pre_activations[layer]
        delta = grad_h * phi_prime(a, h)
        norms.append(np.linalg.norm(activations[layer].T @ delta))
        grad_h = delta @ kernels[layer].T
    return np.array(norms[::-1])


def check_weight_gradient_norms(weight_gradient_norms):
    """Checks `weight_gradient_norms(x, kernels, biases, activation, upstream)`."""
    label = "ex-5-backprop"
    rng = fresh_rng()
    sizes = [9, 8, 7, 7, 6]
    kernels = [rng.normal(0, 1.0, (m, n)) for m, n in zip(sizes[:-1], sizes[1:])]
    biases = [rng.normal(0, 0.5, n) for n in sizes[1:]]
    x = rng.normal(size=(11, sizes[0]))
    upstream = rng.normal(size=(11, sizes[-1]))
    for activation in ("sigmoid", "relu"):
        got = call(label, weight_gradient_norms, x, kernels, biases, activation, upstream)
        if got.shape != (len(kernels),):
            fail(label, f"return one norm per layer, shape ({len(kernels)},); got shape {got.shape}.")
        expect_close(label, got, reference_weight_gradient_norms(x, kernels, biases, activation, upstream),
                     f"the {activation} gradient norms (input layer first; multiply by phi'(a) at every "
                     "layer, including the last; dE/dW_l = h_(l-1)^T delta_l)", rtol=1e-5, atol=1e-8)
    passed(label, "backpropagated gradient norms match the reference for sigmoid and ReLU")


def _random_stack(rng, sizes):
    encoders = [(rng.normal(0, 0.5, (m, n)), rng.normal(0, 0.3, n)) for m, n in zip(sizes[:-1], sizes[1:])]
    decoders = [(rng.normal(0, 0.5, (n, m)), rng.normal(0, 0.3, m)) for m, n in zip(sizes[:-1], sizes[1:])]
    return encoders, decoders


def reference_stack_reconstruct(x, encoders, decoders):
    """The reconstruction of a greedy stack via `aecourse.stacked.stack_autoencoder`.

    Args:
        x: `(n, d_0)` inputs.
        encoders: list of `(kernel, bias)`; `encoders[k]` maps layer `k` to `k + 1`.
        decoders: list of `(kernel, bias)`; `decoders[k]` maps layer `k + 1` back to `k`.

    Returns:
        `(n, d_0)` reconstructions (ReLU hidden layers and code, sigmoid output).
    """
    encoder_layers, decoder_layers = [], []
    for (w, b), (v, c) in zip(encoders, decoders):
        encoder = keras.layers.Dense(w.shape[1], activation="relu")
        encoder.build((None, w.shape[0]))
        encoder.set_weights([w, b])
        decoder = keras.layers.Dense(v.shape[1], activation="relu")
        decoder.build((None, v.shape[0]))
        decoder.set_weights([v, c])
        encoder_layers.append(encoder)
        decoder_layers.append(decoder)
    stack = stacked.GreedyStack(encoder_layers, decoder_layers, [], "relu", "sigmoid")
    return keras.ops.convert_to_numpy(stacked.stack_autoencoder(stack)(np.asarray(x, "float32")))


def check_stack_reconstruct(stack_reconstruct):
    """Checks `stack_reconstruct(x, encoders, decoders)` against the package's stacked autoencoder."""
    label = "ex-5-stack"
    rng = fresh_rng()
    sizes = [12, 7, 5, 3]
    encoders, decoders = _random_stack(rng, sizes)
    x = rng.random((10, sizes[0]))
    got = call(label, stack_reconstruct, x, encoders, decoders)
    expect_close(label, got, reference_stack_reconstruct(x, encoders, decoders),
                 "the reconstructions (encoders in order, then decoders in reverse order; ReLU on every "
                 "hidden layer and on the code, sigmoid on the output)", rtol=1e-3, atol=1e-4)
    passed(label, "the stacked autoencoder's reconstructions match the reference")


def check_frozen_classifier(frozen_classifier):
    """Checks `frozen_classifier(encoder, n_classes)`: softmax on a frozen pretrained encoder."""
    label = "ex-5-freeze"
    rng = fresh_rng()
    n_inputs, code_dim, n_classes = 10, 4, 3
    inputs = keras.Input((n_inputs,))
    hidden = keras.layers.Dense(6, activation="relu")(inputs)
    encoder = keras.Model(inputs, keras.layers.Dense(code_dim, activation="sigmoid")(hidden))
    encoder.set_weights([rng.normal(0, 0.7, w.shape).astype("float32") for w in encoder.get_weights()])
    x = rng.random((32, n_inputs)).astype("float32")
    y = rng.integers(n_classes, size=32)
    codes = keras.ops.convert_to_numpy(encoder(x))

    model = _call_raw(label, frozen_classifier, encoder, n_classes)
    if not isinstance(model, keras.Model):
        fail(label, f"return a keras.Model, got {type(model).__name__}.")
    probabilities = call(label, model, x)
    if probabilities.shape != (32, n_classes):
        fail(label, f"the classifier should output shape (n, {n_classes}); got {probabilities.shape}.")
    if not np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-4) or probabilities.min() < 0:
        fail(label, "the outputs are not class probabilities: end with a softmax layer.")
    trainable = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
    if sorted(w.shape for w in trainable) != sorted([(code_dim, n_classes), (n_classes,)]):
        fail(label, "only the softmax layer's kernel and bias should be trainable; found trainable weights "
                    f"of shapes {[w.shape for w in trainable]}. Set the encoder's `trainable` to False.")
    kernel, bias = sorted(trainable, key=lambda w: w.ndim, reverse=True)
    logits = codes @ kernel + bias
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expect_close(label, probabilities, expected / expected.sum(axis=1, keepdims=True),
                 "the probabilities (softmax of a dense layer applied to the pretrained encoder's codes; "
                 "keep the encoder's weights)", rtol=1e-3, atol=1e-5)
    frozen_before = [keras.ops.convert_to_numpy(w).copy() for w in model.non_trainable_weights]
    model.compile(keras.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    frozen_after = [keras.ops.convert_to_numpy(w) for w in model.non_trainable_weights]
    if any(not np.array_equal(a, b) for a, b in zip(frozen_before, frozen_after)):
        fail(label, "the encoder's weights changed during training: freeze it.")
    if np.allclose(keras.ops.convert_to_numpy(model.trainable_weights[0]), trainable[0]):
        fail(label, "the softmax layer did not learn: it must stay trainable.")
    passed(label, "only the softmax layer trains; the pretrained encoder stays frozen")


def check_code_shapes(code_shapes):
    """Checks `code_shapes(input_shape, filters)` against the package's convolutional autoencoder."""
    label = "ex-5-conv-shape"
    rng = fresh_rng()
    cases = [((28, 28, 1), (16, 8))]
    for _ in range(2):
        n_blocks = int(rng.integers(2, 4))
        sides = rng.integers(1, 5, size=2) * 2 ** n_blocks
        cases.append(((int(sides[0]), int(sides[1]), int(rng.integers(1, 4))),
                      tuple(int(f) for f in rng.choice([4, 6, 8, 12, 16, 24, 32], size=n_blocks))))
    for input_shape, filters in cases:
        got = _call_raw(label, code_shapes, input_shape, filters)
        try:
            got = [tuple(int(v) for v in shape) for shape in got]
        except Exception:
            fail(label, f"return a list of (height, width, channels) tuples; got {got!r}.")
        expected = conv.encoder_shapes(input_shape, filters)
        if got != expected:
            fail(label, f"for input_shape={input_shape}, filters={filters} the shapes after each block are "
                        f"{expected}, got {got} (a block keeps the size in its 'same' convolution, then "
                        "halves height and width by pooling; its channels are its filters).")
    passed(label, "feature-map shapes after each encoder block match the convolutional autoencoder")
