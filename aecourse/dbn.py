"""Deep belief networks: a stack of RBMs trained greedily, layer by layer.

A DBN with layers `v, h1, ..., hL` is trained one RBM at a time: RBM 1 on
the data, RBM 2 on `p(h1 | v)`, and so on (Hinton, Osindero & Teh 2006). The
resulting generative model is *mostly directed*: only the top two layers
form an undirected RBM; every lower layer is generated top-down by the
sigmoid conditionals `p(h_{l-1} | h_l)`. It is not a deep Boltzmann machine,
whose hidden layers receive input from both neighbours; `compose_dbm`
builds that model from two RBMs (with the doubled-input pretraining of
Salakhutdinov & Hinton 2009 when the RBMs have copies), and
`dbm_log_likelihood` evaluates a small one exactly.
"""

import keras
import numpy as np
from keras import ops

from aecourse.rbm import BernoulliRBM, _logsumexp, _softplus, all_binary_states, bernoulli_sample
from aecourse.runtime import steps_per_execution


@keras.saving.register_keras_serializable(package="aecourse")
class DeepBeliefNetwork(keras.Model):
    """A greedy stack of Bernoulli RBMs with top-down sampling.

    Args:
        layer_sizes: units per layer, visible first, e.g. `(784, 256, 64)`.
        cd_steps: Gibbs steps per update of each RBM.
        persistent: train each RBM by persistent CD.
        seed: seed of the RBMs' random generators (layer `l` uses `seed + l`).
        **kwargs: base `Model` arguments such as `name`.

    Example:

    >>> dbn = DeepBeliefNetwork((784, 256, 64))
    >>> histories = dbn.pretrain(x_binary, epochs=5, batch_size=100)
    >>> samples = dbn.sample(16, gibbs_steps=500)
    >>> classifier = dbn.to_classifier(n_classes=10)
    """

    def __init__(self, layer_sizes, cd_steps=1, persistent=False, seed=None, **kwargs):
        super().__init__(**kwargs)
        layer_sizes = tuple(layer_sizes)
        if len(layer_sizes) < 2 or not all(
                isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in layer_sizes):
            raise ValueError(
                "layer_sizes must list at least two positive integers (visible units first). "
                f"Received: layer_sizes={layer_sizes!r}")
        self.layer_sizes, self.cd_steps, self.persistent, self.seed = layer_sizes, cd_steps, persistent, seed
        self.rbms = [
            BernoulliRBM(n_in, n_out, cd_steps=cd_steps, persistent=persistent,
                         seed=None if seed is None else seed + i, name=f"rbm_{i}")
            for i, (n_in, n_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:]))
        ]
        self.built = True

    def pretrain(self, x, epochs=5, batch_size=100, optimizer=None, verbose=0):
        """Greedy layer-wise training: each RBM learns the features `p(h | .)` of the one below.

        Args:
            x: binary training data, shape `(n, layer_sizes[0])`.
            epochs: epochs per RBM (an int, or one int per RBM; 0 keeps an
                RBM as it is, e.g. one whose weights were set from an RBM
                trained before).
            batch_size: mini-batch size.
            optimizer: a function returning a fresh Keras optimizer for each
                RBM (default: SGD with learning rate 0.05 and momentum 0.5).
            verbose: passed to `fit`.

        Returns:
            The list of Keras `History` objects, one per RBM (`None` for
            RBMs trained for 0 epochs).
        """
        epochs = [epochs] * len(self.rbms) if isinstance(epochs, int) else list(epochs)
        if len(epochs) != len(self.rbms):
            raise ValueError(f"epochs must be an int or one int per RBM ({len(self.rbms)}). "
                             f"Received: epochs={epochs!r}")
        optimizer = optimizer or (lambda: keras.optimizers.SGD(0.05, momentum=0.5))
        histories, features = [], x
        for rbm, n_epochs in zip(self.rbms, epochs):
            history = None
            if n_epochs > 0:
                rbm.compile(optimizer=optimizer(), steps_per_execution=steps_per_execution(20))
                history = rbm.fit(features, epochs=n_epochs, batch_size=batch_size, verbose=verbose)
            histories.append(history)
            features = ops.convert_to_numpy(rbm.transform(features))
        return histories

    def call(self, inputs, training=False):
        """The upward mean-field pass: `p(h_L | ...)` of the top layer."""
        h = inputs
        for rbm in self.rbms:
            h = rbm.transform(h)
        return h

    def sample(self, n_samples, gibbs_steps=1000, start=None):
        """Generates visible vectors top-down.

        Runs a Gibbs chain in the top RBM (the only undirected part), then
        propagates down through the directed sigmoid layers; the last step
        returns probabilities `p(v | h1)`, which make clearer images.

        Args:
            n_samples: number of samples (ignored when `start` is given).
            gibbs_steps: Gibbs steps in the top RBM.
            start: optional visible data whose upward pass starts the chains
                (otherwise they start from random binary states).

        Returns:
            Visible probabilities, shape `(n_samples, layer_sizes[0])`.
        """
        top = self.rbms[-1]
        if start is None:
            h = bernoulli_sample(ops.full((n_samples, top.n_visible), 0.5), top.seed_generator)
        else:
            h = start
            for rbm in self.rbms[:-1]:
                h = rbm.sample_hidden(h)
        if len(self.rbms) == 1:
            return top.gibbs_chain(h, gibbs_steps, return_probabilities=True)
        h = top.gibbs_chain(h, gibbs_steps)
        for rbm in reversed(self.rbms[1:-1]):
            h = rbm.sample_visible(h)
        return self.rbms[0].visible_probabilities(h)

    def to_classifier(self, n_classes, activation="softmax", name="dbn_classifier"):
        """A feed-forward classifier whose hidden layers start from the RBM weights.

        Each RBM becomes a `Dense(sigmoid)` layer with kernel `W` and bias `c`
        (so its output is `p(h | .)`), followed by a new output layer. Train
        it with `fit(x, y)` (fine-tuning).

        Args:
            n_classes: number of output units.
            activation: activation of the output layer.
            name: the model's name.

        Returns:
            A compiled-ready `keras.Sequential`.
        """
        model = keras.Sequential(
            [keras.Input((self.layer_sizes[0],))]
            + [keras.layers.Dense(n, activation="sigmoid", name=f"dense_{i}")
               for i, n in enumerate(self.layer_sizes[1:])]
            + [keras.layers.Dense(n_classes, activation=activation, name="output")],
            name=name)
        for layer, rbm in zip(model.layers, self.rbms):
            layer.set_weights([ops.convert_to_numpy(rbm.kernel), ops.convert_to_numpy(rbm.hidden_bias)])
        return model

    def to_autoencoder(self, name="unrolled_autoencoder"):
        """The stack unrolled into a deep autoencoder (Hinton & Salakhutdinov 2006).

        The encoder is the upward pass `p(h_l | h_{l-1})` (kernel `W_l`, bias
        `c_l`); the decoder runs the stack backwards with the *transposed*
        kernels `W_l'` and the visible biases `b_l`, so before fine-tuning
        the decoder is the DBN's top-down mean-field pass. Encoder and
        decoder weights are separate variables, untied by fine-tuning.

        Args:
            name: the model's name.

        Returns:
            A `keras.Sequential` from `layer_sizes[0]` inputs through the
            code `layer_sizes[-1]` back to `layer_sizes[0]` sigmoid outputs.
        """
        to_numpy = ops.convert_to_numpy
        encoders = [(to_numpy(r.kernel), to_numpy(r.hidden_bias)) for r in self.rbms]
        decoders = [(to_numpy(r.kernel).T, to_numpy(r.visible_bias)) for r in self.rbms]
        return unrolled_autoencoder(encoders, decoders, name=name)

    def get_config(self):
        config = super().get_config()
        config.update({"layer_sizes": list(self.layer_sizes), "cd_steps": self.cd_steps,
                       "persistent": self.persistent, "seed": self.seed})
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def unrolled_autoencoder(encoders, decoders, name="unrolled_autoencoder"):
    """A deep sigmoid autoencoder built from per-layer weights, bottom layer first.

    Layer `l`'s encoder `(kernel, bias)` maps `h_{l-1}` to `h_l`; its decoder
    `(kernel, bias)` maps `h_l` back to `h_{l-1}`. The model applies the
    encoders bottom-up, then the decoders top-down; every layer is
    `Dense(sigmoid)`.

    Args:
        encoders: list of `(kernel, bias)` pairs, kernel shape `(n_in, n_out)`.
        decoders: list of `(kernel, bias)` pairs, kernel shape `(n_out, n_in)`.
        name: the model's name.

    Returns:
        A `keras.Sequential` autoencoder.

    Raises:
        ValueError: if the lists differ in length or the shapes do not chain.
    """
    if not encoders or len(encoders) != len(decoders):
        raise ValueError("encoders and decoders must be non-empty lists of the same length. "
                         f"Received: len(encoders)={len(encoders)}, len(decoders)={len(decoders)}")
    sizes = [np.shape(encoders[0][0])[0]] + [np.shape(kernel)[1] for kernel, _ in encoders]
    for layer, ((kernel, _), (back, _)) in enumerate(zip(encoders, decoders)):
        if np.shape(kernel) != (sizes[layer], sizes[layer + 1]) or np.shape(back) != np.shape(kernel)[::-1]:
            raise ValueError(f"layer {layer}: the encoder kernel must be (n_in, n_out) and chain with the layer "
                             "below, the decoder kernel (n_out, n_in). Received: encoder kernel shape "
                             f"{np.shape(kernel)}, decoder kernel shape {np.shape(back)}")
    weights = list(encoders) + list(decoders)[::-1]
    model = keras.Sequential(
        [keras.Input((sizes[0],))]
        + [keras.layers.Dense(np.shape(kernel)[1], activation="sigmoid", name=f"dense_{i}")
           for i, (kernel, _) in enumerate(weights)], name=name)
    for layer, (kernel, bias) in zip(model.layers, weights):
        layer.set_weights([np.asarray(kernel, "float32"), np.asarray(bias, "float32")])
    return model


def greedy_autoencoder_weights(x, layer_sizes, epochs=5, batch_size=100, optimizer=None, seed=None):
    """Greedy layer-wise pretraining with shallow autoencoders instead of RBMs (Bengio et al. 2007).

    Layer `l` is a one-hidden-layer sigmoid autoencoder (untied weights,
    binary cross-entropy) trained on the codes `h_{l-1}` of the layer below;
    its codes feed layer `l + 1`.

    Args:
        x: training data in [0, 1], shape `(n, layer_sizes[0])`.
        layer_sizes: units per layer, input first, e.g. `(784, 256, 64, 16)`.
        epochs: epochs per layer.
        batch_size: mini-batch size.
        optimizer: a function returning a fresh Keras optimizer per layer
            (default: Adam with learning rate 1e-3).
        seed: seed of the initial weights (layer `l` uses `seed + l`).

    Returns:
        `(encoders, decoders)`: lists of `(kernel, bias)` NumPy pairs for
        `unrolled_autoencoder`.
    """
    if len(layer_sizes) < 2 or np.shape(x)[1:] != (layer_sizes[0],):
        raise ValueError("layer_sizes must list at least two sizes, the first equal to the width of x. "
                         f"Received: layer_sizes={tuple(layer_sizes)!r}, x.shape={np.shape(x)}")
    optimizer = optimizer or (lambda: keras.optimizers.Adam(1e-3))
    encoders, decoders, codes = [], [], np.asarray(x, "float32")
    for layer, (n_in, n_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:])):
        init = None if seed is None else seed + layer
        shallow = unrolled_autoencoder(
            [(keras.initializers.GlorotUniform(init)((n_in, n_out)), np.zeros(n_out))],
            [(keras.initializers.GlorotUniform(init)((n_out, n_in)), np.zeros(n_in))], name=f"shallow_{layer}")
        shallow.compile(optimizer=optimizer(), loss="binary_crossentropy",
                        steps_per_execution=steps_per_execution(20))
        shallow.fit(codes, codes, epochs=epochs, batch_size=batch_size, verbose=0)
        (kernel, bias), (back, back_bias) = (layer_.get_weights() for layer_ in shallow.layers)
        encoders.append((kernel, bias))
        decoders.append((back, back_bias))
        codes = ops.convert_to_numpy(shallow.layers[0](codes))
    return encoders, decoders


def dbm_hidden_probabilities(v, h2, kernel_1, kernel_2, hidden_bias_1):
    """The DBM conditional of the first hidden layer, which sees both neighbours.

    `p(h1_j = 1 | v, h2) = sigmoid((v'W1)_j + (W2 h2)_j + c1_j)`. Unlike an
    RBM's `p(h | v)`, it uses both neighbouring layers.

    Args:
        v: visible states, shape `(n, n_visible)`.
        h2: second hidden layer states, shape `(n, n_hidden_2)`.
        kernel_1: `W1`, shape `(n_visible, n_hidden_1)`.
        kernel_2: `W2`, shape `(n_hidden_1, n_hidden_2)`.
        hidden_bias_1: `c1`, the bias of `h1`, shape `(n_hidden_1,)`.

    Returns:
        `p(h1 = 1 | v, h2)`, shape `(n, n_hidden_1)`.
    """
    bottom_up = ops.matmul(v, kernel_1)
    top_down = ops.matmul(h2, ops.transpose(kernel_2))
    return ops.sigmoid(bottom_up + top_down + hidden_bias_1)


def compose_dbm(first, second, halve=True):
    """The parameters of the two-hidden-layer DBM `v - h1 - h2` composed from two RBMs.

    RBM 1 (`v - h1`) and RBM 2 (`h1 - h2`) each give `h1` a total input:
    `r1 W1'v + c1` from RBM 1 (`r1` its `visible_copies`) and `s2 W2 h2 + b2`
    from RBM 2 (`s2` its `hidden_copies`). The DBM gives `h1` the sum of
    both, times `f = 1/2` (`halve`, which averages the two models of `h1`)
    or `f = 1`; its weights are `W1* = f r1 W1` and `W2* = f s2 W2`, used in
    every conditional, so the composed model is a Boltzmann machine (one
    energy, symmetric weights). With `r1 = s2 = 2` (each RBM pretrained with
    the doubled input, Salakhutdinov & Hinton 2009) and `halve`, `W1* = W1`
    and `W2* = W2`: `v` and `h2` keep the conditionals their RBMs learned.
    With ordinary RBMs (`r1 = s2 = 1`), halving also halves the weights
    that generate `v` and infer `h2`.

    Args:
        first: RBM 1, a `BernoulliRBM` on the data.
        second: RBM 2, a `BernoulliRBM` whose visible layer is `h1`.
        halve: `f = 1/2` (default) or `f = 1`.

    Returns:
        A dict of float64 NumPy arrays `W1, W2, b, c1, c2` (`b` is RBM 1's
        visible bias, `c2` RBM 2's hidden bias).
    """
    if first.n_hidden != second.n_visible:
        raise ValueError(f"RBM 1 has {first.n_hidden} hidden units but RBM 2 has {second.n_visible} visible "
                         "units; they must be the same layer h1.")
    f = 0.5 if halve else 1.0
    to_numpy = lambda w: np.asarray(ops.convert_to_numpy(w), dtype="float64")
    return {
        "W1": f * first.visible_copies * to_numpy(first.kernel),
        "W2": f * second.hidden_copies * to_numpy(second.kernel),
        "b": to_numpy(first.visible_bias),
        "c1": f * (to_numpy(first.hidden_bias) + to_numpy(second.visible_bias)),
        "c2": to_numpy(second.hidden_bias),
    }


def dbm_log_likelihood(params, v):
    """Exact `log p(v)` of a small two-hidden-layer DBM, summing over every state of `h1`.

    With `E = -b.v - c1.h1 - c2.h2 - v'W1 h1 - h1'W2 h2`, summing out `v` and
    `h2` (independent given `h1`) leaves a sum over the `2**K1` states of `h1`:
    `log p*(v) = b.v + logsumexp_h1[h1.(c1 + v W1) + sum softplus(c2 + h1 W2)]`
    and `log Z = logsumexp_h1[h1.c1 + sum softplus(c2 + h1 W2) + sum softplus(b + W1 h1)]`.

    Args:
        params: a dict `W1, W2, b, c1, c2` (e.g. from `compose_dbm`), `h1` at
            most 20 units.
        v: binary visible vectors, shape `(n, n_visible)`.

    Returns:
        float64 array of shape `(n,)`.
    """
    w1, w2, b, c1, c2 = (np.asarray(params[k], dtype="float64") for k in ("W1", "W2", "b", "c1", "c2"))
    h1 = all_binary_states(w1.shape[1])
    top = _softplus(c2 + h1 @ w2).sum(axis=1)
    log_z = _logsumexp(h1 @ c1 + top + _softplus(b + h1 @ w1.T).sum(axis=1))
    v = np.asarray(v, dtype="float64")
    log_p_star = v @ b + _logsumexp((v @ w1 + c1) @ h1.T + top, axis=1)
    return log_p_star - log_z


def dbm_mean_field(params, v, n_steps=10):
    """Mean-field inference `q(h1), q(h2)` in a two-hidden-layer DBM, with its symmetric weights.

    Starts from a bottom-up pass and alternates
    `q1 = sigmoid(v W1 + q2 W2' + c1)`, `q2 = sigmoid(q1 W2 + c2)`.

    Args:
        params: a dict `W1, W2, b, c1, c2` (e.g. from `compose_dbm`).
        v: visible data, shape `(n, n_visible)`.
        n_steps: mean-field iterations.

    Returns:
        `(q_h1, q_h2)` float64 arrays.
    """
    w1, w2, c1, c2 = (np.asarray(params[k], dtype="float64") for k in ("W1", "W2", "c1", "c2"))
    v = np.asarray(v, dtype="float64")
    sigmoid = lambda x: 1.0 / (1.0 + np.exp(-x))
    q_h1 = sigmoid(v @ w1 + c1)
    q_h2 = sigmoid(q_h1 @ w2 + c2)
    for _ in range(n_steps):
        q_h1 = sigmoid(v @ w1 + q_h2 @ w2.T + c1)
        q_h2 = sigmoid(q_h1 @ w2 + c2)
    return q_h1, q_h2
