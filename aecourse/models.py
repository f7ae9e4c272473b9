"""Autoencoder builders: encoder, decoder and autoencoder as separate Keras models."""

import keras
import numpy as np

from aecourse.layers import DenseTied


def _check_units(name, units):
    if not (isinstance(units, int) and not isinstance(units, bool) and units > 0):
        raise ValueError(f"{name} must be a positive integer. Received: {name}={units!r}")


def _check_mean(data_mean, input_dim, output_activation):
    data_mean = np.asarray(data_mean, "float32")
    if data_mean.shape != (input_dim,) or not np.all(np.isfinite(data_mean)):
        raise ValueError(
            f"data_mean must be a finite array of shape ({input_dim},). Received: shape={data_mean.shape}"
        )
    if output_activation not in ("sigmoid", None):
        raise ValueError(
            "data_mean sets the output bias, which needs output_activation='sigmoid' or None. "
            f"Received: output_activation={output_activation!r}"
        )
    return data_mean


def _output_bias(data_mean, output_activation):
    """The output bias at which the decoder, fed a zero pre-activation, outputs `data_mean`."""
    if output_activation is None:
        return data_mean
    p = np.clip(data_mean, 1e-3, 1 - 1e-3)  # logit of a pixel that is always 0 or 1 is infinite
    return np.log(p / (1 - p)).astype("float32")


@keras.saving.register_keras_serializable(package="aecourse")
class DenseAutoencoder(keras.Model):
    """A fully connected autoencoder `r = g(f(x))` with reusable halves.

    The encoder `f` maps `input_dim` features through `hidden_units` to a
    `code_dim` code `h`; the decoder `g` mirrors it back. `encoder` and
    `decoder` are Keras models of their own (encode a test set, decode codes
    drawn by hand); the autoencoder trains both with `fit(x, x)`.

    Args:
        input_dim: number of input features (784 for flattened 28x28 images).
        code_dim: size of the code `h` (the bottleneck).
        hidden_units: sizes of the encoder's hidden layers, outermost first;
            the decoder uses them in reverse. `()` gives a one-layer encoder.
        activation: activation of the hidden layers (ReLU in the lecture notes).
        code_activation: activation of the code layer (`None`: linear, as in
            Hinton & Salakhutdinov 2006).
        output_activation: activation of the reconstruction (`"sigmoid"` for
            pixels in [0, 1], `None` for a linear decoder).
        tied: if `True`, each decoder layer uses the transpose of the matching
            encoder kernel (`aecourse.layers.DenseTied`).
        data_mean: optional `(input_dim,)` mean of the training inputs. The
            encoder then subtracts it from its input (a fixed, untrained
            step), and the output bias starts at the value that outputs this
            mean when the last hidden layer is silent: its logit for a
            sigmoid output, the mean itself for a linear one. `None`
            (default): neither.
        **kwargs: base `Model` arguments such as `name`.

    Example:

    >>> ae = DenseAutoencoder(784, code_dim=30, hidden_units=(256,))
    >>> ae.compile(optimizer="adam", loss="mse")
    >>> ae.encoder.output_shape, ae.decoder.output_shape
    ((None, 30), (None, 784))
    """

    def __init__(self, input_dim, code_dim, hidden_units=(), activation="relu",
                 code_activation=None, output_activation="sigmoid", tied=False, data_mean=None,
                 **kwargs):
        super().__init__(**kwargs)
        _check_units("input_dim", input_dim)
        _check_units("code_dim", code_dim)
        hidden_units = tuple(hidden_units)
        for units in hidden_units:
            _check_units("hidden_units[i]", units)
        self.input_dim, self.code_dim = input_dim, code_dim
        self.hidden_units, self.tied = hidden_units, bool(tied)
        self.activation, self.code_activation = activation, code_activation
        self.output_activation = output_activation
        self.data_mean = None if data_mean is None else _check_mean(data_mean, input_dim, output_activation)

        x = keras.Input((input_dim,), name="x")
        encoder_layers = [
            keras.layers.Dense(units, activation=activation, name=f"encoder_{i}")
            for i, units in enumerate(hidden_units)
        ] + [keras.layers.Dense(code_dim, activation=code_activation, name="code")]
        h = x
        if self.data_mean is not None:
            h = keras.layers.Normalization(mean=self.data_mean, variance=np.ones(input_dim),
                                           name="subtract_mean")(h)
        for layer in encoder_layers:
            h = layer(h)
        self.encoder = keras.Model(x, h, name="encoder")

        code = keras.Input((code_dim,), name="h")
        out_sizes = list(reversed(hidden_units)) + [input_dim]
        out_activations = [activation] * len(hidden_units) + [output_activation]
        r = code
        for i, (units, act, tied_layer) in enumerate(
                zip(out_sizes, out_activations, reversed(encoder_layers))):
            if self.tied:
                layer = DenseTied(tied_layer, activation=act, name=f"decoder_{i}")
            else:
                layer = keras.layers.Dense(units, activation=act, name=f"decoder_{i}")
            r = layer(r)
        if self.data_mean is not None:
            layer.bias.assign(_output_bias(self.data_mean, output_activation))
        self.decoder = keras.Model(code, r, name="decoder")
        self.built = True  # both halves are built models already

    def call(self, inputs, training=False):
        return self.decoder(self.encoder(inputs, training=training), training=training)

    def get_config(self):
        config = super().get_config()
        config.update({
            "input_dim": self.input_dim, "code_dim": self.code_dim,
            "hidden_units": list(self.hidden_units), "activation": self.activation,
            "code_activation": self.code_activation,
            "output_activation": self.output_activation, "tied": self.tied,
            "data_mean": None if self.data_mean is None else self.data_mean.tolist(),
        })
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)
