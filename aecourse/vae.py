"""Variational autoencoders: the sampling layer, the VAE model and its bounds.

A VAE is a latent variable model `p(x, z) = p(z) p(x|z)` with a standard
normal prior `p(z)`, a Bernoulli decoder `p(x|z)` whose logits a network
computes from `z`, and a Gaussian encoder `q(z|x) = N(mean, diag(exp(log_var)))`.
It is trained by maximising the evidence lower bound (ELBO)

    log p(x) >= E_q[log p(x|z)] - KL(q(z|x) || p(z)),

estimated with one reparameterized sample `z = mean + exp(log_var / 2) * eps`.
`importance_sampled_log_likelihood` tightens the bound with K samples
(Burda et al. 2016).
"""

import math

import keras
import numpy as np
from keras import ops


def gaussian_kl(z_mean, z_log_var):
    """KL divergence from `N(z_mean, diag(exp(z_log_var)))` to `N(0, I)`, per example.

    The closed form `0.5 * sum_j (mean_j^2 + exp(log_var_j) - 1 - log_var_j)`,
    summed over the last axis.

    Args:
        z_mean: `(..., latent_dim)` means of the encoder's Gaussians.
        z_log_var: log-variances, same shape as `z_mean`.

    Returns:
        A tensor of shape `z_mean.shape[:-1]`, in nats.

    Example:

    >>> float(gaussian_kl(np.zeros((1, 3)), np.zeros((1, 3)))[0])
    0.0
    """
    z_mean, z_log_var = ops.convert_to_tensor(z_mean), ops.convert_to_tensor(z_log_var)
    return 0.5 * ops.sum(ops.square(z_mean) + ops.exp(z_log_var) - 1.0 - z_log_var, axis=-1)


def bernoulli_log_likelihood(x, logits):
    """`log p(x|z)` of binary pixels `x` under Bernoulli logits, summed per example.

    `sum_i x_i * l_i - softplus(l_i)`, which is `sum_i x_i log r_i +
    (1 - x_i) log(1 - r_i)` with `r = sigmoid(l)`, computed without `log(0)`.

    Args:
        x: `(..., input_dim)` pixels in [0, 1] (0 or 1 for a true likelihood).
        logits: decoder logits, broadcastable against `x`.

    Returns:
        A tensor of shape `broadcast(x, logits).shape[:-1]`, in nats.
    """
    logits = ops.convert_to_tensor(logits)
    x = ops.convert_to_tensor(x, dtype=logits.dtype)
    return ops.sum(x * logits - ops.softplus(logits), axis=-1)


def gaussian_log_density(z, mean, log_var):
    """`log N(z; mean, diag(exp(log_var)))`, summed over the last axis."""
    z = ops.convert_to_tensor(z)
    mean, log_var = (ops.convert_to_tensor(t, dtype=z.dtype) for t in (mean, log_var))
    return -0.5 * ops.sum(
        math.log(2 * math.pi) + log_var + ops.square(z - mean) * ops.exp(-log_var), axis=-1
    )


@keras.saving.register_keras_serializable(package="aecourse")
class Sampling(keras.layers.Layer):
    """Draws `z ~ N(z_mean, diag(exp(z_log_var)))` with the reparameterization trick.

    `z = z_mean + exp(z_log_var / 2) * eps` with `eps ~ N(0, I)`: the noise
    enters as an input, so gradients flow to `z_mean` and `z_log_var`. The
    layer owns a `keras.random.SeedGenerator`, so draws are reproducible and
    differ from call to call.

    Args:
        seed: integer seed of the layer's generator (`None`: drawn from the
            global seed set by `keras.utils.set_random_seed`).
        **kwargs: base `Layer` arguments such as `name`.

    Returns (when called on `[z_mean, z_log_var]`):
        A tensor `z` of the shape of `z_mean`.

    Example:

    >>> z = Sampling(seed=0)([np.zeros((4, 2)), np.zeros((4, 2))])
    >>> z.shape
    (4, 2)
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        if seed is not None and not (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)):
            raise ValueError(f"seed must be an integer or None. Received: seed={seed!r}")
        self.seed = None if seed is None else int(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(
                "Sampling expects a list [z_mean, z_log_var]. "
                f"Received: inputs of type {type(inputs).__name__}"
            )
        z_mean, z_log_var = inputs
        eps = keras.random.normal(ops.shape(z_mean), dtype=z_mean.dtype, seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * eps

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config.update({"seed": self.seed})
        return config


def _check_positive_int(name, value):
    if not (isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0):
        raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")


@keras.saving.register_keras_serializable(package="aecourse")
class VAE(keras.Model):
    """A fully connected variational autoencoder with a Bernoulli decoder.

    The encoder maps `x` to `[z_mean, z_log_var]`; `Sampling` draws
    `z`; the decoder maps `z` to Bernoulli **logits** over the pixels. Training
    with plain `fit(x)` (compile with an optimizer only) minimises, per image,

        reconstruction + beta * kl,   reconstruction = -log p(x|z),
        kl = KL(q(z|x) || N(0, I)),

    the negative ELBO when `beta = 1` and Higgins et al.'s beta-VAE loss
    otherwise. `fit` and `evaluate` report `loss`, `reconstruction` and `kl`
    (nats per image). Called on `x`, the model returns reconstruction
    probabilities decoded from `z_mean` (from a sampled `z` when training).

    Args:
        input_dim: number of pixels (784 for flattened 28x28 images).
        latent_dim: size of the latent code `z`.
        hidden_units: encoder hidden layer sizes, outermost first; the decoder
            mirrors them.
        activation: activation of the hidden layers.
        beta: non-negative weight of the KL term (1: the ELBO).
        seed: seed of the sampling layer.
        **kwargs: base `Model` arguments such as `name`.

    Example:

    >>> vae = VAE(784, latent_dim=2, hidden_units=(256,))
    >>> vae.compile(optimizer="adam")
    >>> history = vae.fit(x_train, epochs=10, batch_size=128)   # doctest: +SKIP
    >>> sorted(history.history)                                  # doctest: +SKIP
    ['kl', 'loss', 'reconstruction']
    """

    def __init__(self, input_dim, latent_dim, hidden_units=(256,), activation="relu",
                 beta=1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        _check_positive_int("input_dim", input_dim)
        _check_positive_int("latent_dim", latent_dim)
        hidden_units = tuple(hidden_units)
        for units in hidden_units:
            _check_positive_int("hidden_units[i]", units)
        if not (isinstance(beta, (int, float, np.floating, np.integer)) and beta >= 0):
            raise ValueError(f"beta must be a non-negative number. Received: beta={beta!r}")
        self.input_dim, self.latent_dim = int(input_dim), int(latent_dim)
        self.hidden_units, self.activation = hidden_units, activation
        self.beta, self.seed = float(beta), seed

        x = keras.Input((self.input_dim,), name="x")
        h = x
        for i, units in enumerate(hidden_units):
            h = keras.layers.Dense(units, activation=activation, name=f"encoder_{i}")(h)
        z_mean = keras.layers.Dense(self.latent_dim, name="z_mean")(h)
        z_log_var = keras.layers.Dense(self.latent_dim, name="z_log_var")(h)
        self.encoder = keras.Model(x, [z_mean, z_log_var], name="encoder")

        z = keras.Input((self.latent_dim,), name="z")
        h = z
        for i, units in enumerate(reversed(hidden_units)):
            h = keras.layers.Dense(units, activation=activation, name=f"decoder_{i}")(h)
        logits = keras.layers.Dense(self.input_dim, name="logits")(h)
        self.decoder = keras.Model(z, logits, name="decoder")

        self.sampling = Sampling(seed=seed, name="sampling")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.built = True  # encoder and decoder are built models already

    def call(self, inputs, training=False):
        z_mean, z_log_var = self.encoder(inputs, training=training)
        z = self.sampling([z_mean, z_log_var]) if training else z_mean
        return ops.sigmoid(self.decoder(z, training=training))

    def loss_terms(self, x, training=False):
        """Reconstruction `-log p(x|z)` (one sampled `z`) and KL, per example.

        Args:
            x: `(n, input_dim)` pixels in [0, 1].
            training: passed to the encoder and decoder.

        Returns:
            `(reconstruction, kl)`, two tensors of shape `(n,)`, in nats.
        """
        z_mean, z_log_var = self.encoder(x, training=training)
        z = self.sampling([z_mean, z_log_var])
        logits = self.decoder(z, training=training)
        return -bernoulli_log_likelihood(x, logits), gaussian_kl(z_mean, z_log_var)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if sample_weight is not None:
            raise ValueError("VAE does not support sample weights. Received: sample_weight of type "
                             f"{type(sample_weight).__name__}")
        reconstruction, kl = self.loss_terms(x, training=training)
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        loss = ops.mean(reconstruction + self.beta * kl)
        for extra in self.losses:  # regularizers added by layers, if any
            loss = loss + ops.sum(extra)
        return loss

    def encode(self, x, batch_size=1000):
        """The encoder's `(z_mean, z_log_var)` as NumPy arrays."""
        return self.encoder.predict(x, batch_size=batch_size, verbose=0)

    def decode(self, z, batch_size=1000):
        """Pixel probabilities `sigmoid(decoder(z))` as a NumPy array."""
        logits = self.decoder.predict(np.asarray(z, "float32"), batch_size=batch_size, verbose=0)
        return np.exp(-np.logaddexp(0.0, -logits))  # a sigmoid without overflow warnings

    def generate(self, n, seed=0):
        """Decodes `n` codes drawn from the prior `N(0, I)`.

        Args:
            n: number of images.
            seed: seed of the NumPy generator of the codes.

        Returns:
            `(n, input_dim)` pixel probabilities (the decoder's means).
        """
        _check_positive_int("n", n)
        return self.decode(np.random.default_rng(seed).normal(size=(n, self.latent_dim)))

    def get_config(self):
        config = super().get_config()
        config.update({
            "input_dim": self.input_dim, "latent_dim": self.latent_dim,
            "hidden_units": list(self.hidden_units), "activation": self.activation,
            "beta": self.beta, "seed": self.seed,
        })
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def importance_sampled_log_likelihood(vae, x, num_samples=100, batch_size=None, seed=0):
    """Estimates `log p(x)` per example with K importance samples from `q(z|x)`.

    `log (1/K) sum_k p(x, z_k) / q(z_k|x)`, `z_k ~ q(z|x)`, computed with
    `logsumexp`. Its expectation is a lower bound on `log p(x)` that equals the
    ELBO for `K = 1` and rises towards `log p(x)` as `K` grows (Burda et al.
    2016).

    Args:
        vae: a `VAE` (or any model with `encoder` giving `[z_mean, z_log_var]`
            and `decoder` giving Bernoulli logits).
        x: `(n, input_dim)` binary data.
        num_samples: K, the number of importance samples per example.
        batch_size: examples per step (default: about 20,000 decoded rows per step).
        seed: seed of the noise.

    Returns:
        `(n,)` NumPy array of estimates, in nats (higher is better).

    Example:

    >>> log_px = importance_sampled_log_likelihood(vae, x_test, num_samples=100)  # doctest: +SKIP
    >>> print(f"test NLL {-log_px.mean():.2f} nats")                              # doctest: +SKIP
    """
    _check_positive_int("num_samples", num_samples)
    x = np.asarray(x, dtype="float32")
    if x.ndim != 2:
        raise ValueError(f"x must be a 2-D (n, input_dim) array. Received: shape={x.shape}")
    batch_size = batch_size or max(1, 20000 // num_samples)
    _check_positive_int("batch_size", batch_size)
    generator = keras.random.SeedGenerator(seed)
    estimates = []
    for start in range(0, len(x), batch_size):
        xb = ops.convert_to_tensor(x[start:start + batch_size])
        z_mean, z_log_var = vae.encoder(xb, training=False)
        n, latent_dim = ops.shape(z_mean)
        eps = keras.random.normal((num_samples, n, latent_dim), seed=generator)
        z = z_mean[None] + ops.exp(0.5 * z_log_var)[None] * eps
        logits = ops.reshape(vae.decoder(ops.reshape(z, (-1, latent_dim)), training=False),
                             (num_samples, n, -1))
        log_weights = (bernoulli_log_likelihood(xb[None], logits)
                       + gaussian_log_density(z, 0.0, ops.zeros_like(z))
                       - gaussian_log_density(z, z_mean[None], z_log_var[None]))
        estimates.append(ops.convert_to_numpy(ops.logsumexp(log_weights, axis=0)) - math.log(num_samples))
    return np.concatenate(estimates).astype("float64")
