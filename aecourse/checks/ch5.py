"""Checks of chapter 5, stacked autoencoders and greedy layer-wise pretraining."""

import keras
import numpy as np

from aecourse import conv, stacked
from aecourse import data
from aecourse.checks import EXPLAIN, IMPLEMENT, TRAIN, Check, expect_close, expect_shape, fail

ACTIVATIONS = {
    # activation: (phi(a), phi'(a) written with a and h = phi(a))
    "sigmoid": (lambda a: 1.0 / (1.0 + np.exp(-a)), lambda a, h: h * (1.0 - h)),
    "relu": (lambda a: np.maximum(a, 0.0), lambda a, h: (a > 0).astype("float64")),
}


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


def _gradient_inputs(rng):
    sizes = [9, 8, 7, 7, 6]
    kernels = [rng.normal(0, 1.0, (m, n)) for m, n in zip(sizes[:-1], sizes[1:])]
    biases = [rng.normal(0, 0.5, n) for n in sizes[1:]]
    x, upstream = rng.normal(size=(11, sizes[0])), rng.normal(size=(11, sizes[-1]))
    return [(x, kernels, biases, activation, upstream) for activation in ("sigmoid", "relu")]


def _judge_gradients(cases, results):
    label = "ex-5-backprop"
    for (x, kernels, biases, activation, upstream), got in zip(cases, results):
        expect_shape(label, got, (len(kernels),), "Return one norm per layer.")
        expect_close(label, got, reference_weight_gradient_norms(x, kernels, biases, activation, upstream),
                     f"the {activation} gradient norms (input layer first; multiply by phi'(a) at every "
                     "layer, including the last; dE/dW_l = h_(l-1)^T delta_l)", rtol=1e-5, atol=1e-8)
    return "backpropagated gradient norms match the reference for sigmoid and ReLU"


check_weight_gradient_norms = Check("ex-5-backprop", IMPLEMENT, inputs=_gradient_inputs, judge=_judge_gradients)


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


def _stack_inputs(rng):
    sizes = [12, 7, 5, 3]
    encoders, decoders = _random_stack(rng, sizes)
    x = h = rng.random((10, sizes[0]))
    for w, b in encoders[:-1]:
        h = np.maximum(h @ w + b, 0)
    w, b = encoders[-1]  # each code unit's median pre-activation at -0.5: a linear code and a ReLU code differ
    encoders[-1] = (w, b - np.median(h @ w + b, axis=0) - 0.5)
    return [(x, encoders, decoders)]


def _judge_stack(cases, results):
    for (x, encoders, decoders), got in zip(cases, results):
        expect_close("ex-5-stack", got, reference_stack_reconstruct(x, encoders, decoders),
                     "the reconstructions (encoders in order, then decoders in reverse order; ReLU on every "
                     "hidden layer and on the code, sigmoid on the output)", rtol=1e-3, atol=1e-4)
    return "the stacked autoencoder's reconstructions match the reference"


check_stack_reconstruct = Check("ex-5-stack", IMPLEMENT, inputs=_stack_inputs, judge=_judge_stack)


def _classifier_inputs(rng):
    n_inputs, hidden, code_dim, n_classes = 10, 6, 4, 3
    weights = [rng.normal(0, 0.7, shape).astype("float32")
               for shape in ((n_inputs, hidden), (hidden,), (hidden, code_dim), (code_dim,))]
    return [(weights, rng.random((32, n_inputs)).astype("float32"), rng.integers(n_classes, size=32), n_classes)]


def _judge_classifier(cases, results):
    label = "ex-5-freeze"
    (weights, x, _, n_classes), behaviour = cases[0], results[0]
    w0, b0, w1, b1 = (np.asarray(w, "float64") for w in weights)
    codes = 1.0 / (1.0 + np.exp(-(np.maximum(x @ w0 + b0, 0.0) @ w1 + b1)))
    probabilities = behaviour["probabilities"]
    expect_shape(label, probabilities, (len(x), n_classes), "The classifier outputs one probability per class.")
    if not np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-4) or probabilities.min() < 0:
        fail(label, "the outputs are not class probabilities: end with a softmax layer.")
    trainable = behaviour["trainable"]
    if sorted(np.shape(w) for w in trainable) != sorted([(codes.shape[1], n_classes), (n_classes,)]):
        fail(label, "only the softmax layer's kernel and bias should be trainable; found trainable weights "
                    f"of shapes {[np.shape(w) for w in trainable]}. Set the encoder's `trainable` to False.")
    kernel, bias = sorted(trainable, key=np.ndim, reverse=True)
    logits = codes @ kernel + bias
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expect_close(label, probabilities, expected / expected.sum(axis=1, keepdims=True),
                 "the probabilities (softmax of a dense layer applied to the pretrained encoder's codes; "
                 "keep the encoder's weights)", rtol=1e-3, atol=1e-5)
    if behaviour["frozen_changed"]:
        fail(label, "the encoder's weights changed during training: freeze it.")
    if all(np.allclose(a, b) for a, b in zip(behaviour["trainable_after"], trainable)):
        fail(label, "the softmax layer did not learn: it must stay trainable.")
    if not behaviour["caller_trainable"]:
        fail(label, "your function set the given encoder's `trainable` to False: the caller's encoder must "
                    "stay as it was. Freeze a copy (keras.models.clone_model, then set_weights).")
    if len(behaviour["caller_weights"]) != len(weights) or not all(
            np.allclose(a, b, rtol=1e-6, atol=0) for a, b in zip(behaviour["caller_weights"], weights)):
        fail(label, "the given encoder's weights changed (during your call or while the classifier "
                    "trained): leave the caller's encoder as it was.")
    return "only the softmax layer trains; the pretrained encoder stays frozen"


check_frozen_classifier = Check("ex-5-freeze", IMPLEMENT, inputs=_classifier_inputs, judge=_judge_classifier,
                                probe="frozen_classifier")


def _shape_inputs(rng):
    # Sides that are not multiples of 2^B: pooling drops an odd last row or column (floor, not ceil).
    cases = [((28, 28, 1), (16, 8)), ((30, 30, 1), (8, 8, 4))]
    for _ in range(2):
        n_blocks = int(rng.integers(2, 4))
        sides = 2 * rng.integers(4, 20, size=2) + 1  # odd: floor and ceil differ at the first block
        cases.append(((int(sides[0]), int(sides[1] - 1), int(rng.integers(1, 4))),
                      tuple(int(f) for f in rng.choice([4, 6, 8, 12, 16, 24, 32], size=n_blocks))))
    return cases


def _judge_shapes(cases, results):
    for (input_shape, filters), got in zip(cases, results):
        expected = conv.encoder_shapes(tuple(input_shape), tuple(filters))
        if [tuple(int(v) for v in row) for row in got] != expected:
            fail("ex-5-conv-shape", f"for input_shape={tuple(input_shape)}, filters={tuple(filters)} the shapes "
                                    f"after each block are {expected}, got {got.tolist()} (a block keeps the size "
                                    "in its 'same' convolution, then halves height and width by 2x2 pooling, "
                                    "which drops an odd last row or column; its channels are its filters).")
    return "feature-map shapes after each encoder block match the convolutional autoencoder"


check_code_shapes = Check("ex-5-conv-shape", IMPLEMENT, inputs=_shape_inputs, judge=_judge_shapes, probe="shapes")


# ----------------------------------------------------------------------------- train

PRETRAIN_SIZES, PRETRAIN_BOUND = (32, 16), 2.0
LAYER1_BOUND, LAYER2_BOUND = 2.0, 0.5  # autoencoder 1's error per image; autoencoder 2's unexplained fraction


def _digits_split():
    digits = data.digits(test_size=360, seed=0)
    return data.flatten(digits.x_train), data.flatten(digits.x_test)


def _pretrain_inputs(rng):
    x_train, _ = _digits_split()
    return [(x_train[rng.permutation(len(x_train))],)]


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def reference_stack_error(x, weights):
    """Mean per-image squared error of the sigmoid stack `[W1, b1, W2, b2, V2, c2, V1, c1]` on `x`."""
    w1, b1, w2, b2, v2, c2, v1, c1 = (np.asarray(w, "float64") for w in weights)
    r = _sigmoid(_sigmoid(_sigmoid(_sigmoid(x @ w1 + b1) @ w2 + b2) @ v2 + c2) @ v1 + c1)
    return float(np.mean(np.sum((x - r) ** 2, axis=1)))


def reference_layer_errors(x, weights):
    """How well each autoencoder of a two-layer sigmoid stack reconstructs its own input, alone.

    Autoencoder 1 is `x -> h1 = sigmoid(x W1 + b1) -> sigmoid(h1 V1 + c1)`;
    autoencoder 2 is `h1 -> sigmoid(h1 W2 + b2) -> sigmoid(. V2 + c2)`.
    Greedy training makes each one reconstruct its input; end-to-end
    training of the deep autoencoder does not (its `V1` decodes the deep
    decoder's layer, not `h1`).

    Returns:
        `(error_1, fraction_2)`: autoencoder 1's mean per-image squared error
        on `x`, and autoencoder 2's squared error on `h1` as a fraction of
        `h1`'s total variance (1 for the mean code).
    """
    w1, b1, w2, b2, v2, c2, v1, c1 = (np.asarray(w, "float64") for w in weights)
    h1 = _sigmoid(x @ w1 + b1)
    error_1 = np.mean(np.sum((x - _sigmoid(h1 @ v1 + c1)) ** 2, axis=1))
    error_2 = np.sum((h1 - _sigmoid(_sigmoid(h1 @ w2 + b2) @ v2 + c2)) ** 2)
    return float(error_1), float(error_2 / max(np.sum((h1 - h1.mean(axis=0)) ** 2), 1e-12))


def _judge_pretrain(cases, results):
    label = "ex-5-pretrain"
    weights = results[0]
    (n1, n2), d = PRETRAIN_SIZES, 64
    expected = [(d, n1), (n1,), (n1, n2), (n2,), (n2, n1), (n1,), (n1, d), (d,)]
    shapes = [tuple(np.shape(w)) for w in weights]
    if shapes != expected:
        fail(label, f"expected the stack's weights [W1, b1, W2, b2, V2, c2, V1, c1] of shapes {expected} "
                    f"(encoders in order, then decoders in reverse order); got {shapes}.")
    if not all(np.all(np.isfinite(w)) for w in weights):
        fail(label, "the weights contain NaN or infinite values (a learning rate too large?).")
    _, held_out = _digits_split()
    error = reference_stack_error(held_out, weights)
    if not error < PRETRAIN_BOUND:
        fail(label, f"the stack's mean per-image squared error on held-out digits is {error:.2f}, not below "
                    f"{PRETRAIN_BOUND:g}. The check rebuilds the stack with sigmoid units everywhere: train "
                    "autoencoder 1 on x, then autoencoder 2 on autoencoder 1's codes, each long enough "
                    "(Adam 1e-2, tens of epochs).")
    error_1, fraction_2 = reference_layer_errors(held_out, weights)
    if not error_1 < LAYER1_BOUND:
        fail(label, f"autoencoder 1 alone (x -> W1, b1 -> V1, c1) reconstructs held-out digits with error "
                    f"{error_1:.2f} per image, not below {LAYER1_BOUND:g}: train it by itself to reconstruct x "
                    "(greedy training), not as part of the deep autoencoder.")
    if not fraction_2 < LAYER2_BOUND:
        fail(label, f"autoencoder 2 alone (h1 -> W2, b2 -> V2, c2) leaves {fraction_2:.0%} of the variance of "
                    f"autoencoder 1's codes unexplained, not below {LAYER2_BOUND:.0%}: train it by itself to "
                    "reconstruct those codes.")
    return (f"the greedy stack reconstructs held-out digits with error below {PRETRAIN_BOUND:g}, "
            "and each autoencoder reconstructs its own input")


check_pretrain_two_layers = Check("ex-5-pretrain", TRAIN, inputs=_pretrain_inputs, judge=_judge_pretrain)

# ----------------------------------------------------------------------------- explain

check_erhan_answer = Check("ex-5-erhan", EXPLAIN, min_words=40)
