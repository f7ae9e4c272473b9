"""A conditional VAE: encoder and decoder both see the class label (Sohn et al., 2015).

`q(z | x, y)` and `p(x | z, y)` take the one-hot label `y` as an extra input,
so sampling `z ~ N(0, I)` and decoding with a chosen `y` generates an item of
that class. The model's input is `condition(x, labels)`, the images with the
one-hot labels appended, so that plain `fit(inputs)` trains it.
"""

import numpy as np
import keras
from keras import ops

from aecourse.vae import Sampling, bernoulli_log_likelihood, gaussian_kl


def condition(x, labels, n_classes):
    """Appends one-hot labels to the images: the input of `ConditionalVAE`.

    Args:
        x: `(n, D)` images.
        labels: `(n,)` integer labels in `[0, n_classes)`.
        n_classes: number of classes.

    Returns:
        `(n, D + n_classes)` float32 array.

    Example:

    >>> condition(np.zeros((2, 3)), np.array([1, 0]), 2).tolist()
    [[0.0, 0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 1.0, 0.0]]
    """
    x, labels = np.asarray(x, "float32"), np.asarray(labels)
    if x.ndim != 2 or labels.shape != (len(x),):
        raise ValueError(f"x must be (n, D) and labels (n,). Received: x.shape={x.shape}, "
                         f"labels.shape={labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() >= n_classes:
        raise ValueError(f"labels must be integers in [0, {n_classes}). Received: labels in "
                         f"[{labels.min()}, {labels.max()}] of dtype {labels.dtype}")
    return np.concatenate([x, np.eye(n_classes, dtype="float32")[labels]], axis=1)


class ConditionalVAE(keras.Model):
    """A fully connected conditional VAE with a Bernoulli decoder.

    The loss is the negative conditional ELBO,
    `-log p(x | z, y) + KL(q(z | x, y) || N(0, I))`, reported as `loss`,
    `reconstruction` and `kl` (nats per image), like `aecourse.vae.VAE`.

    Args:
        input_dim: number of pixels.
        n_classes: number of classes of the condition.
        latent_dim: size of the code `z`.
        hidden_units: encoder hidden layer sizes; the decoder mirrors them.
        seed: seed of the sampling layer.
        **kwargs: base `Model` arguments such as `name`.

    Example:

    >>> model = ConditionalVAE(784, 10, latent_dim=16)
    >>> model.compile(optimizer="adam")
    >>> model.fit(condition(x_train, y_train, 10), epochs=5)   # doctest: +SKIP
    >>> images = model.generate(np.arange(10), seed=0)          # doctest: +SKIP
    """

    def __init__(self, input_dim, n_classes, latent_dim, hidden_units=(256,), seed=None, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("input_dim", input_dim), ("n_classes", n_classes), ("latent_dim", latent_dim)):
            if not (isinstance(value, (int, np.integer)) and value > 0):
                raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
        self.input_dim, self.n_classes, self.latent_dim = int(input_dim), int(n_classes), int(latent_dim)
        self.encoder = self._mlp(self.input_dim + self.n_classes, hidden_units, 2 * self.latent_dim, "encoder")
        self.decoder = self._mlp(self.latent_dim + self.n_classes, tuple(reversed(hidden_units)),
                                 self.input_dim, "decoder")
        self.sampling = Sampling(seed=seed, name="sampling")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.built = True  # encoder and decoder are built models already

    @staticmethod
    def _mlp(in_dim, hidden_units, out_dim, name):
        layers = [keras.Input((in_dim,))] + [keras.layers.Dense(units, activation="relu") for units in hidden_units]
        return keras.Sequential(layers + [keras.layers.Dense(out_dim)], name=name)

    def _encode(self, inputs):
        statistics = self.encoder(inputs)
        return statistics[:, :self.latent_dim], statistics[:, self.latent_dim:]

    def call(self, inputs, training=False):
        z_mean, _ = self._encode(inputs)
        return ops.sigmoid(self.decoder(ops.concatenate([z_mean, inputs[:, self.input_dim:]], axis=1)))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        z_mean, z_log_var = self._encode(x)
        z = self.sampling([z_mean, z_log_var])
        logits = self.decoder(ops.concatenate([z, x[:, self.input_dim:]], axis=1))
        reconstruction = -bernoulli_log_likelihood(x[:, :self.input_dim], logits)
        kl = gaussian_kl(z_mean, z_log_var)
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        return ops.mean(reconstruction + kl)

    def generate(self, labels, seed=0):
        """Decoder means of `z ~ N(0, I)` decoded with the given labels.

        Args:
            labels: `(n,)` integer labels in `[0, n_classes)`.
            seed: seed of the NumPy generator of the codes.

        Returns:
            `(n, input_dim)` pixel probabilities.
        """
        z = np.random.default_rng(seed).normal(size=(len(labels), self.latent_dim))
        logits = self.decoder.predict(condition(z, labels, self.n_classes), batch_size=1000, verbose=0)
        return np.exp(-np.logaddexp(0.0, -logits))
