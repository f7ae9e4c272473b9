"""Stacked autoencoders: greedy layer-wise pretraining, stacking, fine-tuning, classifiers.

Greedy layer-wise pretraining (Bengio et al. 2007; Hinton & Salakhutdinov
2006 with RBMs instead of autoencoders) trains a deep autoencoder one layer at
a time: autoencoder 1 learns to reconstruct the data `x`, autoencoder 2 learns
to reconstruct the codes `h1` of autoencoder 1, and so on. The trained
encoder layers, stacked in order, and the decoder layers, stacked in reverse,
make a deep autoencoder (`stack_autoencoder`) that can then be fine-tuned as a
whole (`fine_tune`), or an encoder on which a classifier is trained
(`encoder_classifier`). With per-layer input corruption, the same procedure
trains a stacked denoising autoencoder (Vincent et al. 2010).
"""

import dataclasses

import keras
import numpy as np

from aecourse.models import DenseAutoencoder, _check_units
from aecourse import reuse
from aecourse.regularizers import ActivityPenalty, KLSparsity

NOISE_KINDS = ("masking", "gaussian")


@dataclasses.dataclass
class GreedyStack:
    """The trained layers of a greedy layer-wise pretraining.

    Attributes:
        encoders: the trained encoder `Dense` layers, input side first;
            `encoders[k]` maps the codes of layer `k - 1` (or `x`) to layer `k`.
        decoders: the trained decoder `Dense` layers; `decoders[k]` maps the
            codes of layer `k` back to the input of `encoders[k]`.
        losses: per layer, `[mean training loss over its training run]`.
        activation: activation of the hidden (code) layers.
        output_activation: activation of the first decoder (the reconstruction of `x`).
    """

    encoders: list
    decoders: list
    losses: list
    activation: str
    output_activation: str

    @property
    def layer_sizes(self):
        """`(input_dim, units_1, ..., units_L)` of the stack."""
        return (int(self.encoders[0].kernel.shape[0]),) + tuple(layer.units for layer in self.encoders)


def corrupt(x, kind, level, rng):
    """Corrupts inputs for a denoising autoencoder (NumPy, fresh noise per call).

    Args:
        x: array of inputs.
        kind: `"masking"` (each value set to 0 with probability `level`) or
            `"gaussian"` (add normal noise of standard deviation `level`).
        level: masking probability in [0, 1) or noise standard deviation >= 0.
        rng: a `numpy.random.Generator`.

    Returns:
        The corrupted float32 array, same shape as `x`.

    Example:

    >>> rng = np.random.default_rng(0)
    >>> corrupt(np.ones((2, 4)), "masking", 0.5, rng).shape
    (2, 4)
    """
    x = np.asarray(x, dtype="float32")
    if kind == "masking":
        if not 0 <= level < 1:
            raise ValueError(f"The masking level must lie in [0, 1). Received: level={level!r}")
        return x * (rng.random(x.shape) >= level).astype("float32")
    if kind == "gaussian":
        if level < 0:
            raise ValueError(f"The Gaussian noise level must be >= 0. Received: level={level!r}")
        return (x + level * rng.standard_normal(x.shape)).astype("float32")
    raise ValueError(f"noise must be None or one of {NOISE_KINDS}. Received: noise={kind!r}")


def epoch_order(n, epochs, seed):
    """Indices of `epochs` passes over `n` examples, each pass a fresh permutation.

    Feeding `x[epoch_order(...)]` to one `fit` call with `shuffle=False` trains
    for exactly `epochs` epochs with one compilation and none of Keras's
    per-epoch overhead (which dominates on small data sets).
    """
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.permutation(n) for _ in range(epochs)])


def fit_epochs(model, x, y, epochs, batch_size, seed=0, noise=None, noise_level=0.3):
    """Trains a compiled model for `epochs` epochs in one `fit` call; returns the mean training loss.

    With `noise`, each pass sees a fresh corruption of `x` (`corrupt`), the
    target `y` stays clean.
    """
    order = epoch_order(len(x), epochs, seed)
    inputs = x[order]
    if noise is not None:
        inputs = corrupt(inputs, noise, noise_level, np.random.default_rng(seed + 1))
    history = model.fit(inputs, y[order], epochs=1, batch_size=batch_size, shuffle=False, verbose=0)
    return float(history.history["loss"][-1])


def _train_one_layer(inputs, autoencoder, epochs, batch_size, noise, noise_level, seed):
    """Fits one shallow autoencoder on `inputs`; returns its mean training loss over the run."""
    return [fit_epochs(autoencoder, inputs, inputs, epochs, batch_size, seed, noise, noise_level)]


def greedy_pretrain(x, layer_sizes, activation="relu", output_activation="sigmoid",
                    loss="binary_crossentropy", epochs=5, batch_size=128, learning_rate=1e-3,
                    noise=None, noise_level=0.3, sparsity=None, seed=0, start=None, verbose=0):
    """Greedy layer-wise pretraining of a stack of shallow autoencoders.

    Autoencoder `k` has one hidden layer of `layer_sizes[k]` units. The first
    one reconstructs `x` (with `output_activation` and `loss`); each next one
    reconstructs the codes of the previous one, with the hidden `activation`
    at its output (its targets are such codes) and the squared error. Each is
    trained with Adam, then frozen, and its codes become the next training set.

    Args:
        x: `(n, input_dim)` training inputs (in [0, 1] for the default loss).
        layer_sizes: hidden sizes, input side first, e.g. `(256, 64)`.
        activation: activation of every hidden layer (`"relu"`, `"sigmoid"`).
        output_activation: activation of the reconstruction of `x`.
        loss: loss of the first autoencoder (deeper ones use `"mse"`).
        epochs: epochs per layer (an int, or one int per layer).
        batch_size: minibatch size.
        learning_rate: Adam's learning rate.
        noise: `None`, or `"masking"` / `"gaussian"` to corrupt each
            autoencoder's input (a stacked denoising autoencoder); the target
            stays the clean input.
        noise_level: masking probability or Gaussian standard deviation.
        sparsity: `None`, or a `aecourse.regularizers.KLSparsity` added to
            each autoencoder's loss on its code while it is trained (a stacked
            *sparse* autoencoder; sigmoid codes). Its `beta` weighs the
            penalty against the reconstruction error *summed* over a layer's
            inputs, as in the lecture notes and Ng's sparse autoencoder;
            Keras's losses *average* over the inputs, so a layer with
            `in_dim` inputs is trained with `beta / in_dim`.
        seed: seed of the epochs' shuffling and of the corruption noise.
        start: `None`, or a `GreedyStack` of the same sizes whose weights
            each layer starts from (to train on; Adam's state restarts).
        verbose: unused, kept for compatibility.

    Returns:
        A `GreedyStack` with the trained encoder and decoder layers.

    Example:

    >>> x = np.random.default_rng(0).random((256, 20)).astype("float32")
    >>> stack = greedy_pretrain(x, (8, 3), epochs=2)
    >>> stack.layer_sizes
    (20, 8, 3)
    """
    x = np.asarray(x, dtype="float32")
    if x.ndim != 2:
        raise ValueError(f"x must be a 2-D array (n, features). Received: x.shape={x.shape}")
    layer_sizes = tuple(layer_sizes)
    if not layer_sizes:
        raise ValueError("layer_sizes must name at least one hidden layer. Received: layer_sizes=()")
    for units in layer_sizes:
        _check_units("layer_sizes[i]", units)
    per_layer_epochs = [epochs] * len(layer_sizes) if np.ndim(epochs) == 0 else list(epochs)
    if len(per_layer_epochs) != len(layer_sizes):
        raise ValueError(
            f"epochs must be an int or one int per layer ({len(layer_sizes)}). Received: epochs={epochs!r}"
        )
    for value in per_layer_epochs:
        _check_units("epochs", value)
    if noise is not None and noise not in NOISE_KINDS:
        raise ValueError(f"noise must be None or one of {NOISE_KINDS}. Received: noise={noise!r}")
    if start is not None and (not isinstance(start, GreedyStack) or start.layer_sizes != (x.shape[1],) + layer_sizes):
        raise ValueError(f"start must be a GreedyStack with sizes {(x.shape[1],) + layer_sizes}. Received: {start!r}")
    if sparsity is not None and not isinstance(sparsity, KLSparsity):
        raise ValueError(f"sparsity must be None or a KLSparsity. Received: sparsity={sparsity!r}")

    encoders, decoders, losses = [], [], []
    inputs = x
    for k, (units, layer_epochs) in enumerate(zip(layer_sizes, per_layer_epochs)):
        first = k == 0
        in_dim, out_activation = inputs.shape[1], output_activation if first else activation
        encoder = keras.layers.Dense(units, activation=activation, name=f"encoder_{k}")
        decoder = keras.layers.Dense(in_dim, activation=out_activation, name=f"decoder_{k}")
        encoder.build((None, in_dim))
        decoder.build((None, units))  # Keras's initialisation, from the global seed
        if start is not None:
            encoder.set_weights(start.encoders[k].get_weights())
            decoder.set_weights(start.decoders[k].get_weights())
        layer_loss = loss if first else "mse"
        layer_sparsity = None if sparsity is None else KLSparsity(sparsity.rho, sparsity.beta / in_dim)

        def build(in_dim=in_dim, units=units, out_activation=out_activation, layer_sparsity=layer_sparsity):
            layer_input = keras.Input((in_dim,))
            code = keras.layers.Dense(units, activation=activation)(layer_input)
            if layer_sparsity is not None:
                code = ActivityPenalty(layer_sparsity)(code)
            return keras.Model(layer_input, keras.layers.Dense(in_dim, activation=out_activation)(code))

        key = ("layer", in_dim, units, activation, out_activation, str(layer_loss),
               None if layer_sparsity is None else (layer_sparsity.rho, layer_sparsity.beta))
        autoencoder = reuse.compiled(key, build, layer_loss)
        reuse.restart(autoencoder, encoder.get_weights() + decoder.get_weights(), learning_rate)
        losses.append(_train_one_layer(inputs, autoencoder, layer_epochs, batch_size, noise, noise_level,
                                       seed + 1000 * k))
        trained = autoencoder.get_weights()
        encoder.set_weights(trained[:2])
        decoder.set_weights(trained[2:])
        encoders.append(encoder)
        decoders.append(decoder)
        inputs = keras.ops.convert_to_numpy(encoder(inputs))
    return GreedyStack(encoders, decoders, losses, activation, output_activation)


def stack_autoencoder(stack, name="stacked_autoencoder"):
    """Assembles the deep autoencoder of a greedy stack (weights are copied).

    The encoder applies `stack.encoders` in order, the decoder applies
    `stack.decoders` in reverse order: `x -> h1 -> ... -> hL -> ... -> h1 -> r`.

    Args:
        stack: a `GreedyStack` from `greedy_pretrain`.
        name: the model's name.

    Returns:
        An `aecourse.models.DenseAutoencoder` (with `.encoder`, `.decoder`)
        whose weights are copies of the stack's, so fine-tuning it leaves the
        stack unchanged.

    Example:

    >>> ae = stack_autoencoder(stack)  # doctest: +SKIP
    >>> ae.encoder.output_shape         # doctest: +SKIP
    (None, 3)
    """
    if not isinstance(stack, GreedyStack):
        raise ValueError(f"stack must be a GreedyStack from greedy_pretrain. Received: stack={type(stack).__name__}")
    sizes = stack.layer_sizes
    autoencoder = DenseAutoencoder(
        sizes[0], code_dim=sizes[-1], hidden_units=sizes[1:-1], activation=stack.activation,
        code_activation=stack.activation, output_activation=stack.output_activation, name=name)
    for target, source in zip(autoencoder.encoder.layers[1:], stack.encoders):
        target.set_weights(source.get_weights())
    for target, source in zip(autoencoder.decoder.layers[1:], reversed(stack.decoders)):
        target.set_weights(source.get_weights())
    return autoencoder


def fine_tune(autoencoder, x, epochs=5, batch_size=128, learning_rate=1e-3, loss="binary_crossentropy",
              seed=0, verbose=0):
    """Fine-tunes a whole (stacked) autoencoder end to end on `x` (unsupervised).

    Args:
        autoencoder: a Keras autoencoder, e.g. from `stack_autoencoder`.
        x: `(n, features)` training inputs.
        epochs: training epochs.
        batch_size: minibatch size.
        learning_rate: Adam's learning rate (smaller than for pretraining is usual).
        loss: reconstruction loss.
        seed: seed of the epochs' shuffling.
        verbose: unused, kept for compatibility.

    Returns:
        The mean training loss over the run (a float).
    """
    _check_units("epochs", epochs)
    x = np.asarray(x, dtype="float32")
    autoencoder.compile(keras.optimizers.Adam(learning_rate), loss=loss)
    return fit_epochs(autoencoder, x, x, epochs, batch_size, seed)


def encoder_classifier(encoder, n_classes, freeze=False, name="classifier"):
    """A softmax classifier on top of a copy of an encoder.

    The encoder (e.g. the stacked autoencoder's `.encoder`, pretrained, or an
    untrained one for a random-initialisation baseline) is cloned with its
    weights, so training the classifier leaves the original untouched.

    Args:
        encoder: a Keras `Model` mapping inputs to codes.
        n_classes: number of classes (the size of the softmax layer).
        freeze: if `True`, the encoder's weights are not trained (only the
            softmax layer learns: the codes are fixed features); if `False`,
            the whole network is fine-tuned with the labels.
        name: the model's name.

    Returns:
        A Keras `Model` `x -> class probabilities`, not compiled.

    Example:

    >>> encoder = DenseAutoencoder(20, 3, hidden_units=(8,)).encoder
    >>> classifier = encoder_classifier(encoder, n_classes=4, freeze=True)
    >>> len(classifier.trainable_weights)  # the softmax layer's kernel and bias
    2
    """
    _check_units("n_classes", n_classes)
    if not isinstance(encoder, keras.Model):
        raise ValueError(f"encoder must be a keras.Model. Received: encoder={type(encoder).__name__}")
    features = keras.models.clone_model(encoder)
    features.set_weights(encoder.get_weights())
    features.trainable = not freeze
    x = keras.Input(encoder.input_shape[1:])
    probabilities = keras.layers.Dense(n_classes, activation="softmax", name="softmax")(features(x))
    return keras.Model(x, probabilities, name=name)


def fit_classifier(classifier, x, y, steps=400, batch_size=32, learning_rate=1e-3, seed=0):
    """Trains a classifier for a fixed number of updates, however few the labels.

    With 100 labels an "epoch" is 4 minibatches; counting updates instead of
    epochs gives every labelled-set size the same training budget. The
    labelled examples are repeated and shuffled to fill `steps` minibatches,
    which are fed in one pass (fast, even for tiny labelled sets).

    Args:
        classifier: a Keras model with softmax outputs, e.g. from `encoder_classifier`.
        x: `(n, ...)` labelled inputs.
        y: `(n,)` integer labels.
        steps: number of minibatch updates.
        batch_size: minibatch size.
        learning_rate: Adam's learning rate.
        seed: seed of the shuffling.

    Returns:
        The trained classifier (compiled with Adam and the cross-entropy).

    Example:

    >>> classifier = encoder_classifier(encoder, n_classes=10)  # doctest: +SKIP
    >>> fit_classifier(classifier, x_labelled, y_labelled, steps=300)  # doctest: +SKIP
    """
    _check_units("steps", steps)
    _check_units("batch_size", batch_size)
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"x and y must hold the same positive number of examples. "
                         f"Received: len(x)={len(x)}, len(y)={len(y)}")
    order = np.random.default_rng(seed).permutation(np.resize(np.arange(len(x)), steps * batch_size))
    classifier.compile(keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy")
    classifier.fit(x[order], y[order], epochs=1, batch_size=batch_size, shuffle=False, verbose=0)
    return classifier


def accuracy(classifier, x, y, batch_size=1000):
    """Fraction of the examples `x` whose most probable class is the label `y`."""
    probabilities = classifier.predict(x, batch_size=batch_size, verbose=0)
    return float(np.mean(np.argmax(probabilities, axis=1) == np.asarray(y)))


def mean_std(values, scale=1.0, digits=1):
    """`"mean ± sample std"` of `values` (times `scale`), the std with `ddof=1`."""
    values = scale * np.asarray(values, "float64")
    if values.size < 2:
        return f"{values.mean():.{digits}f}"
    return f"{values.mean():.{digits}f} ± {values.std(ddof=1):.{digits}f}"


def difference(a, b, level=0.05):
    """Compares two arms measured over seeds with Welch's t-test (unequal variances).

    Args:
        a, b: the arms' results, one value per seed (at least 2 each).
        level: the p-value below which the difference counts.

    Returns:
        `(delta, standard_error, p_value, verdict)`: `mean(a) - mean(b)`, its
        standard error `sqrt(s_a^2 / n_a + s_b^2 / n_b)` (sample standard
        deviations), the two-sided p-value of Welch's test
        (`scipy.stats.ttest_ind(a, b, equal_var=False)`), and `"a higher"`,
        `"b higher"` or, when `p_value >= level`, `"no difference"`.

    Example:

    >>> difference([1.0, 1.1, 0.9], [1.05, 0.95, 1.0])[3]
    'no difference'
    """
    from scipy import stats

    a, b = np.asarray(a, "float64"), np.asarray(b, "float64")
    if a.size < 2 or b.size < 2:
        raise ValueError(f"each arm needs at least 2 seeds. Received: len(a)={a.size}, len(b)={b.size}")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1). Received: level={level!r}")
    delta = float(a.mean() - b.mean())
    error = float(np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size))
    p_value = float(stats.ttest_ind(a, b, equal_var=False).pvalue) if error > 0 else float(delta == 0)
    if not p_value < level:
        return delta, error, p_value, "no difference"
    return delta, error, p_value, "a higher" if delta > 0 else "b higher"


def _check_stack(stack, input_dim, layer_sizes, activation):
    """Checks that a greedy `stack` fits a network `input_dim -> layer_sizes` with `activation`."""
    if stack.layer_sizes != (input_dim,) + layer_sizes or stack.activation != activation:
        raise ValueError(f"stack must have sizes {(input_dim,) + layer_sizes} and activation {activation!r}. "
                         f"Received: {stack.layer_sizes}, {stack.activation!r}")


def train_deep_autoencoder(x, layer_sizes, activation="sigmoid", stack=None, epochs=10, batch_size=64,
                           learning_rate=1e-3, loss="binary_crossentropy", seed=0):
    """Trains a deep dense autoencoder end to end, from a greedy stack or from Keras's random initialisation.

    The architecture `input -> layer_sizes -> ... -> input` is compiled once
    per process and restarted for each run (`aecourse.reuse`), so repeating
    runs over seeds and learning rates costs no recompilation.

    Args:
        x: `(n, features)` training inputs in [0, 1].
        layer_sizes: hidden sizes of the encoder, input side first (the last is the code).
        activation: activation of every hidden layer and of the code.
        stack: a `GreedyStack` with these sizes to start from (fine-tuning), or
            `None` for a random initialisation drawn from the global seed.
        epochs, batch_size, learning_rate: Adam's budget and step size.
        loss: reconstruction loss.
        seed: seed of the epochs' shuffling.

    Returns:
        The trained model (a `DenseAutoencoder`), valid until the next run
        of the same architecture: use or copy it at once.
    """
    x = np.asarray(x, "float32")
    layer_sizes = tuple(int(u) for u in layer_sizes)

    def build():
        return DenseAutoencoder(x.shape[1], layer_sizes[-1], layer_sizes[:-1], activation=activation,
                                code_activation=activation)

    if stack is None:
        initial = build().get_weights()
    else:
        _check_stack(stack, x.shape[1], layer_sizes, activation)
        initial = stack_autoencoder(stack).get_weights()
    model = reuse.compiled(("deep", x.shape[1], layer_sizes, activation, str(loss)), build, loss)
    reuse.restart(model, initial, learning_rate)
    fit_epochs(model, x, x, epochs, batch_size, seed)
    return model


def train_classifier(x, y, layer_sizes, n_classes, activation="sigmoid", stack=None, freeze=False, steps=400,
                     batch_size=32, learning_rate=1e-3, seed=0):
    """Trains a dense softmax classifier `input -> layer_sizes -> n_classes` for a fixed number of updates.

    The hidden layers start from a greedy stack's encoders (`stack`) or from
    Keras's random initialisation (`stack=None`, drawn from the global seed);
    with `freeze=True` only the softmax layer learns. Like `fit_classifier`,
    the labelled examples are repeated and shuffled to fill `steps`
    minibatches. The architecture is compiled once and restarted per run.

    Returns:
        The trained `keras.Model`, valid until the next run of the same
        architecture: evaluate it at once (e.g. with `accuracy`).
    """
    x, y = np.asarray(x, "float32"), np.asarray(y)
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"x and y must hold the same positive number of examples. "
                         f"Received: len(x)={len(x)}, len(y)={len(y)}")
    _check_units("steps", steps)
    layer_sizes = tuple(int(u) for u in layer_sizes)

    def build():
        layers = [keras.Input((x.shape[1],))]
        for units in layer_sizes:
            layers.append(keras.layers.Dense(units, activation=activation, trainable=not freeze))
        layers.append(keras.layers.Dense(n_classes, activation="softmax"))
        return keras.Sequential(layers)

    initial = build().get_weights()
    if stack is not None:
        _check_stack(stack, x.shape[1], layer_sizes, activation)
        initial = [w for layer in stack.encoders for w in layer.get_weights()] + initial[-2:]
    model = reuse.compiled(("classifier", x.shape[1], layer_sizes, n_classes, activation, bool(freeze)), build,
                           "sparse_categorical_crossentropy")
    reuse.restart(model, initial, learning_rate)
    order = np.random.default_rng(seed).permutation(np.resize(np.arange(len(x)), steps * batch_size))
    model.fit(x[order], y[order], epochs=1, batch_size=batch_size, shuffle=False, verbose=0)
    return model
