"""Contractive autoencoders: Jacobian penalties and a model trained with `fit()`.

A contractive autoencoder (CAE, Rifai et al. 2011) adds to the reconstruction
loss the squared Frobenius norm of the encoder's Jacobian,
`contraction * ||J_f(x)||_F^2`, so that the code `h = f(x)` changes little
when `x` moves in most directions.

For a sigmoid encoder layer `h = sigmoid(x W + b)` (kernel `W` of shape
`(D, K)`, Keras's convention) the Jacobian is `J[j, i] = h_j (1 - h_j) W[i, j]`,
and the penalty has the closed form

    ||J_f(x)||_F^2 = sum_j (h_j (1 - h_j))^2 sum_i W[i, j]^2,

which costs about as much as the forward pass. For other encoders,
`finite_difference_contraction` estimates the penalty with only forward
passes, so it stays backend-agnostic and differentiable (for exact values by
autodiff, see `aecourse.jacobian`).
"""

import keras
import numpy as np
from keras import ops

from aecourse.models import DenseAutoencoder

PENALTIES = ("closed_form", "finite_difference")


def _check_non_negative(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{name} must be a non-negative number. Received: {name}={value!r}")


def _check_positive(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(f"{name} must be a positive number. Received: {name}={value!r}")


def sigmoid_jacobian(h, kernel):
    """The Jacobian of a sigmoid layer `h = sigmoid(x W + b)` at each example.

    Args:
        h: the layer's outputs, shape `(n, K)`.
        kernel: its kernel `W`, shape `(D, K)`.

    Returns:
        Tensor of shape `(n, K, D)` with entries `h_j (1 - h_j) W[i, j]`.

    Example:

    >>> sigmoid_jacobian(np.full((2, 3), 0.5), np.ones((4, 3))).shape
    (2, 3, 4)
    """
    h = ops.convert_to_tensor(h)
    slope = h * (1.0 - h)
    return slope[:, :, None] * ops.transpose(kernel)[None, :, :]


def sigmoid_jacobian_spectrum(h, kernel):
    """Singular values and right singular vectors of a sigmoid layer's Jacobian, per example.

    `J = diag(h (1 - h)) W^T` has `J^T J = W diag((h (1 - h))^2) W^T`, a `(D, D)`
    matrix, so its eigendecomposition (in float64) gives the singular values
    (square roots of the eigenvalues) and the right singular vectors without
    forming or decomposing the `(K, D)` Jacobian: much cheaper than an SVD
    when `K >= D`.

    Args:
        h: the layer's outputs, shape `(n, K)`.
        kernel: its kernel `W`, shape `(D, K)`.

    Returns:
        A pair of NumPy arrays: singular values `(n, D)`, largest first, and
        right singular vectors `(n, D, D)`, one per row, in the same order.

    Example:

    >>> s, vt = sigmoid_jacobian_spectrum(np.full((1, 3), 0.5), np.eye(2, 3))
    >>> s
    array([[0.25, 0.25]])
    """
    h, kernel = np.asarray(h, "float64"), np.asarray(kernel, "float64")
    if h.ndim != 2 or kernel.ndim != 2 or h.shape[1] != kernel.shape[1]:
        raise ValueError("Expected h of shape (n, K) and kernel of shape (D, K). "
                         f"Received: h.shape={h.shape}, kernel.shape={kernel.shape}")
    values, vectors = [], []
    for slope in h * (1.0 - h):
        scaled = kernel * slope
        eigenvalues, eigenvectors = np.linalg.eigh(scaled @ scaled.T)
        values.append(np.sqrt(np.maximum(eigenvalues[::-1], 0.0)))
        vectors.append(eigenvectors[:, ::-1].T)
    return np.array(values), np.array(vectors)


def sigmoid_contraction(h, kernel):
    """The contractive penalty `||J_f(x)||_F^2` of a sigmoid layer, in closed form.

    `sum_j (h_j (1 - h_j))^2 sum_i W[i, j]^2` for each example: no Jacobian
    is ever formed, so it costs `O(n K + D K)` instead of `O(n K D)`.

    Args:
        h: the layer's outputs `sigmoid(x W + b)`, shape `(n, K)`.
        kernel: its kernel `W`, shape `(D, K)`.

    Returns:
        Tensor of shape `(n,)`: the squared Frobenius norm per example.

    Example:

    >>> h = np.full((2, 3), 0.5)                          # slope 0.25
    >>> ops.convert_to_numpy(sigmoid_contraction(h, np.ones((4, 3))))
    array([0.75, 0.75])
    """
    slope_sq = ops.square(h * (1.0 - h))
    column_norms_sq = ops.sum(ops.square(kernel), axis=0)
    return ops.sum(slope_sq * column_norms_sq, axis=-1)


def sigmoid_curvature(h, h_nearby, kernel):
    """`||J_f(x) - J_f(x~)||_F^2` for a sigmoid layer, in closed form.

    The higher-order penalty of CAE+H (Rifai et al. 2011b) compares the
    Jacobian at `x` with the Jacobian at a nearby point `x~ = x + eps`. For a
    sigmoid layer both share `W`, so the difference is
    `sum_j (h_j (1 - h_j) - h~_j (1 - h~_j))^2 sum_i W[i, j]^2`.

    Args:
        h: outputs at `x`, shape `(n, K)`.
        h_nearby: outputs at the nearby points, shape `(n, K)`.
        kernel: the layer's kernel `W`, shape `(D, K)`.

    Returns:
        Tensor of shape `(n,)`.
    """
    slope_gap_sq = ops.square(h * (1.0 - h) - h_nearby * (1.0 - h_nearby))
    return ops.sum(slope_gap_sq * ops.sum(ops.square(kernel), axis=0), axis=-1)


def finite_difference_contraction(function, x, noise_scale, seed, n_samples=1):
    """A stochastic estimate of `||J_f(x)||_F^2` from forward passes only.

    Averages `||f(x + s eps) - f(x)||^2 / s^2` over `n_samples` draws of
    `eps ~ N(0, I)`, with `s = noise_scale`. Because `E ||J eps||^2 =
    ||J||_F^2`, the estimate is unbiased for a linear `f` and has a bias of
    order `s^2` otherwise (the curvature of `f`); its variance shrinks as
    `1 / n_samples`. It uses only `keras.ops`, works for any encoder and
    backend, and is differentiable, so it can be trained through.

    Args:
        function: the encoder, mapping `(n, D)` to `(n, K)` row by row.
        x: inputs, shape `(n, D)`.
        noise_scale: the step `s` (small, e.g. 0.01 for pixels in [0, 1]).
        seed: a `keras.random.SeedGenerator` (or an integer seed).
        n_samples: number of random directions per example.

    Returns:
        Tensor of shape `(n,)`.

    Example:

    >>> f = keras.layers.Dense(3, activation="tanh")
    >>> finite_difference_contraction(f, np.zeros((5, 4)), 0.01, seed=0).shape
    (5,)
    """
    _check_positive("noise_scale", noise_scale)
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer. Received: n_samples={n_samples!r}")
    x = ops.convert_to_tensor(x, dtype="float32")
    h = function(x)
    total = 0.0
    for _ in range(n_samples):
        eps = keras.random.normal(ops.shape(x), seed=seed)
        total = total + ops.sum(ops.square(function(x + noise_scale * eps) - h), axis=-1)
    return total / (n_samples * noise_scale**2)


def contraction_ratio(encode, x, eps):
    """How much an encoder stretches small input changes: `||f(x + eps) - f(x)|| / ||eps||`.

    Below 1 the encoder contracts the neighbourhood of `x` in the direction
    of `eps`; for small `eps` the ratio tends to `||J_f(x) u||` with
    `u = eps / ||eps||`.

    Args:
        encode: maps `(n, D)` inputs to `(n, K)` codes (a Keras model's
            `predict`, or any function returning an array).
        x: inputs, shape `(n, D)`.
        eps: perturbations, shape `(n, D)`, none of them zero.

    Returns:
        NumPy array of shape `(n,)`.

    Example:

    >>> contraction_ratio(lambda v: 0.5 * v, np.ones((2, 3)), np.ones((2, 3)))
    array([0.5, 0.5])
    """
    x, eps = np.asarray(x), np.asarray(eps)
    if x.shape != eps.shape or x.ndim != 2:
        raise ValueError(
            "x and eps must be batches of the same shape (n, D). "
            f"Received: x.shape={x.shape}, eps.shape={eps.shape}"
        )
    change = np.asarray(encode(x + eps), "float64") - np.asarray(encode(x), "float64")
    return np.linalg.norm(change, axis=1) / np.linalg.norm(eps.astype("float64"), axis=1)


@keras.saving.register_keras_serializable(package="aecourse")
class ContractiveAutoencoder(DenseAutoencoder):
    """An autoencoder trained with a contractive penalty on its encoder.

    The training loss is the compiled reconstruction loss plus
    `contraction * mean_n ||J_f(x_n)||_F^2` (and, for CAE+H, plus
    `curvature * mean_n ||J_f(x_n) - J_f(x_n + eps_n)||_F^2` with
    `eps_n ~ N(0, curvature_noise^2 I)`), added with `add_loss`, so plain
    `fit(x, x)` trains it. The penalties act only when `training=True`.

    With `penalty="closed_form"` (the default) the encoder must be one
    sigmoid layer, `h = sigmoid(x W + b)` (`hidden_units=()`,
    `code_activation="sigmoid"`), and the penalty uses
    `sigmoid_contraction`. With `penalty="finite_difference"` any encoder
    works and the penalty is `finite_difference_contraction`.

    Scale of `contraction`: Keras's `"binary_crossentropy"` and `"mse"`
    average over the `D` pixels, while Rifai et al. sum over them; their
    lambda corresponds to `contraction * D` here.

    Args:
        input_dim: number of input features.
        code_dim: size of the code `h`.
        contraction: weight of the Jacobian penalty (lambda).
        penalty: `"closed_form"` or `"finite_difference"`.
        curvature: weight of the CAE+H penalty (0 turns it off); needs
            `penalty="closed_form"`.
        curvature_noise: standard deviation of `eps` in the CAE+H penalty.
        noise_scale: step of the finite-difference estimator.
        seed: integer seed of the model's random draws (`None`: unseeded).
        hidden_units, activation, code_activation, output_activation, tied:
            as in `aecourse.models.DenseAutoencoder`.
        **kwargs: base `Model` arguments such as `name`.

    Example:

    >>> cae = ContractiveAutoencoder(784, code_dim=256, contraction=0.05)
    >>> cae.compile(optimizer="adam", loss="binary_crossentropy")
    >>> # cae.fit(x, x, epochs=5); h = cae.encoder.predict(x)
    """

    def __init__(self, input_dim, code_dim, contraction=0.1, penalty="closed_form",
                 curvature=0.0, curvature_noise=0.1, noise_scale=0.01, seed=None,
                 hidden_units=(), activation="relu", code_activation="sigmoid",
                 output_activation="sigmoid", tied=False, **kwargs):
        super().__init__(input_dim, code_dim, hidden_units=hidden_units, activation=activation,
                         code_activation=code_activation, output_activation=output_activation,
                         tied=tied, **kwargs)
        _check_non_negative("contraction", contraction)
        _check_non_negative("curvature", curvature)
        _check_positive("curvature_noise", curvature_noise)
        _check_positive("noise_scale", noise_scale)
        if penalty not in PENALTIES:
            raise ValueError(f"penalty must be one of {PENALTIES}. Received: penalty={penalty!r}")
        if penalty == "closed_form" and (tuple(hidden_units) or code_activation != "sigmoid"):
            raise ValueError(
                "The closed-form penalty needs a one-layer sigmoid encoder (hidden_units=(), "
                "code_activation='sigmoid'); use penalty='finite_difference' for other encoders. "
                f"Received: hidden_units={tuple(hidden_units)}, code_activation={code_activation!r}"
            )
        if curvature and penalty != "closed_form":
            raise ValueError(
                "The curvature (CAE+H) penalty needs penalty='closed_form'. "
                f"Received: curvature={curvature!r}, penalty={penalty!r}"
            )
        self.contraction, self.penalty = float(contraction), penalty
        self.curvature, self.curvature_noise = float(curvature), float(curvature_noise)
        self.noise_scale, self.seed = float(noise_scale), seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    @property
    def code_kernel(self):
        """The kernel `W` of the code layer, shape `(input_dim, code_dim)` for a one-layer encoder."""
        return self.encoder.layers[-1].kernel

    def jacobian_penalty(self, x, h):
        """Per-example `||J_f(x)||_F^2` as used in training, shape `(n,)`.

        Args:
            x: inputs, shape `(n, input_dim)`.
            h: their codes `self.encoder(x)`, shape `(n, code_dim)`.
        """
        if self.penalty == "closed_form":
            return sigmoid_contraction(h, self.code_kernel)
        return finite_difference_contraction(self.encoder, x, self.noise_scale, self.seed_generator)

    def call(self, inputs, training=False):
        h = self.encoder(inputs, training=training)
        if training and self.contraction:
            self.add_loss(self.contraction * ops.mean(self.jacobian_penalty(inputs, h)))
        if training and self.curvature:
            eps = keras.random.normal(ops.shape(inputs), seed=self.seed_generator)
            h_nearby = self.encoder(inputs + self.curvature_noise * eps, training=training)
            self.add_loss(self.curvature * ops.mean(sigmoid_curvature(h, h_nearby, self.code_kernel)))
        return self.decoder(h, training=training)

    def get_config(self):
        config = super().get_config()
        config.update({
            "contraction": self.contraction, "penalty": self.penalty,
            "curvature": self.curvature, "curvature_noise": self.curvature_noise,
            "noise_scale": self.noise_scale, "seed": self.seed,
        })
        return config
