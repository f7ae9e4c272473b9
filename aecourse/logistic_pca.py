"""Logistic PCA: a linear code per image, found by optimisation, decoded through a sigmoid.

The model of Schein, Saul & Ungar (2003) that Hinton & Salakhutdinov (2006)
compare with: each input `x` in `[0, 1]^D` is reconstructed as
`sigmoid(h W + b)` from its own code `h` in `R^K`, and the codes, `W` and `b`
minimise the cross-entropy. There is no encoder: the code of a new input is
found by minimising the same loss over `h` with `W` and `b` fixed. Both
optimisations run as full-batch Adam in Keras, so the model works on every
backend.
"""

import keras
import numpy as np


def _check_pixels(x):
    x = np.asarray(x, "float32")
    if x.ndim != 2 or x.size == 0 or np.any(x < 0) or np.any(x > 1):
        raise ValueError(f"x must be a non-empty (n, D) array of values in [0, 1]. "
                         f"Received: shape={x.shape}, range=[{x.min() if x.size else None}, "
                         f"{x.max() if x.size else None}]")
    return x


class LogisticPCA:
    """Logistic PCA fitted by full-batch Adam on the cross-entropy.

    Args:
        n_components: code size `K`.
        steps: Adam steps for `fit` (codes and decoder together) and for
            `transform` (codes only).
        learning_rate: Adam's learning rate.
        seed: seed of the codes' initialisation.

    Example:

    >>> lpca = LogisticPCA(30).fit(x_train)
    >>> x_hat = lpca.inverse_transform(lpca.transform(x_test))
    """

    def __init__(self, n_components, steps=300, learning_rate=0.05, seed=0):
        if int(n_components) < 1 or int(steps) < 1 or not learning_rate > 0:
            raise ValueError(f"n_components and steps must be >= 1 and learning_rate > 0. Received: "
                             f"n_components={n_components}, steps={steps}, learning_rate={learning_rate}")
        self.n_components, self.steps = int(n_components), int(steps)
        self.learning_rate, self.seed = float(learning_rate), seed
        self.decoder = None

    def _optimise_codes(self, x):
        """Learns one code per row of `x` (and the decoder, while it is trainable); returns the codes."""
        index = keras.Input((), dtype="int32")
        codes = keras.layers.Embedding(len(x), self.n_components, name="codes",
                                       embeddings_initializer=keras.initializers.RandomNormal(0.0, 0.01, self.seed))
        model = keras.Model(index, self.decoder(codes(index)))
        model.compile(keras.optimizers.Adam(self.learning_rate), loss="binary_crossentropy")
        rows, targets = keras.ops.arange(len(x), dtype="int32"), keras.ops.convert_to_tensor(x)
        for _ in range(self.steps):  # one compiled step each, without fit's per-epoch set-up
            model.train_on_batch(rows, targets)
        return keras.ops.convert_to_numpy(codes.embeddings)

    def fit(self, x):
        """Fits the decoder `W`, `b` (and codes) to `x`, an `(n, D)` array in `[0, 1]`; returns `self`."""
        x = _check_pixels(x)
        mean = np.clip(x.mean(axis=0), 1e-3, 1 - 1e-3)
        self.decoder = keras.layers.Dense(x.shape[1], activation="sigmoid", name="decoder",
                                          bias_initializer=keras.initializers.Constant(np.log(mean / (1 - mean))))
        self._optimise_codes(x)
        return self

    def transform(self, x):
        """The codes of `x`: minimisers of the cross-entropy with the decoder fixed, shape `(n, K)`."""
        if self.decoder is None:
            raise ValueError("LogisticPCA is not fitted yet: call fit(x_train) first.")
        x = _check_pixels(x)
        if x.shape[1] != self.decoder.units:
            raise ValueError(f"x must have {self.decoder.units} columns, as the data it was fitted on. "
                             f"Received: shape={x.shape}")
        self.decoder.trainable = False
        return self._optimise_codes(x)

    def inverse_transform(self, codes):
        """The reconstructions `sigmoid(h W + b)` of codes `h`, shape `(n, D)`."""
        if self.decoder is None:
            raise ValueError("LogisticPCA is not fitted yet: call fit(x_train) first.")
        return keras.ops.convert_to_numpy(self.decoder(np.asarray(codes, "float32")))
