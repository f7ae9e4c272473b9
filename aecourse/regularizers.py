"""Sparsity regularizers for autoencoder codes: an L1 activity penalty and KL sparsity.

Both are `keras.regularizers.Regularizer` subclasses meant for the
`activity_regularizer=` argument of a layer, e.g.
`keras.layers.Dense(100, activation="sigmoid", activity_regularizer=KLSparsity(0.05, beta=3))`.

How Keras scales activity penalties (Keras 3, `Layer.__call__`): the value an
activity regularizer returns for a batch of `n` outputs is **divided by `n`**
before `add_loss`, so that its weight relative to the loss (a mean over the
batch) does not depend on the batch size. The two regularizers rely on it:

- `L1Activity(l1)` returns `l1 * sum_{n,j} |h_nj|`; after the division the loss
  gains `l1 * mean_n sum_j |h_nj|`, the per-example penalty averaged like the
  reconstruction loss.
- `KLSparsity(rho, beta)` is one number per batch, `beta * sum_j KL(rho || rho_hat_j)`
  with `rho_hat_j` the batch's mean activation of unit `j`. Its `__call__`
  returns that penalty times `n`, so that after the division the loss gains
  exactly `KLSparsity.penalty(h)`, whatever the batch size.

The tests (`tests/test_regularizers.py`) check both scalings through a real
`Dense` layer on each backend, so a change in Keras's convention is caught.
"""

import math

import keras
from keras import ops

EPSILON = 1e-7  # rho_hat is clipped to [EPSILON, 1 - EPSILON] inside the logarithms


def _check_weight(name, value):
    if (isinstance(value, bool) or not isinstance(value, (int, float))
            or not math.isfinite(value) or value < 0):
        raise ValueError(f"{name} must be a non-negative finite number. Received: {name}={value!r}")
    return float(value)


def _check_target(rho):
    if isinstance(rho, bool) or not isinstance(rho, (int, float)) or not 0 < rho < 1:
        raise ValueError(
            "rho, the target mean activation, must lie strictly between 0 and 1 "
            f"(e.g. 0.05). Received: rho={rho!r}"
        )
    return float(rho)


def mean_activation(h):
    """The mean activation `rho_hat_j` of each unit over a batch.

    Args:
        h: activations, shape `(n, units)` (or `(n, ..., units)`: every axis
            but the last is averaged).

    Returns:
        Tensor of shape `(units,)`.

    Example:

    >>> rho_hat = mean_activation(np.array([[0.0, 1.0], [0.5, 0.0]]))  # [0.25, 0.5]
    """
    h = ops.convert_to_tensor(h)
    return ops.mean(h, axis=tuple(range(len(h.shape) - 1)))


def kl_divergence(rho, rho_hat, epsilon=EPSILON):
    """KL divergence between Bernoulli(`rho`) and Bernoulli(`rho_hat`), elementwise.

    `KL(rho || rho_hat) = rho log(rho / rho_hat) + (1 - rho) log((1 - rho) / (1 - rho_hat))`:
    zero when `rho_hat == rho`, growing without bound as `rho_hat` nears 0 or 1.
    `rho_hat` is clipped to `[epsilon, 1 - epsilon]`, so the value and its
    gradient stay finite for saturated or dead units.

    Args:
        rho: target activation, a number in (0, 1).
        rho_hat: tensor of mean activations in [0, 1].
        epsilon: clipping margin of `rho_hat`.

    Returns:
        Tensor shaped like `rho_hat`.

    Example:

    >>> float(kl_divergence(0.05, 0.05))
    0.0
    """
    rho = _check_target(rho)
    rho_hat = ops.clip(ops.convert_to_tensor(rho_hat), epsilon, 1.0 - epsilon)
    return rho * ops.log(rho / rho_hat) + (1.0 - rho) * ops.log((1.0 - rho) / (1.0 - rho_hat))


@keras.saving.register_keras_serializable(package="aecourse")
class L1Activity(keras.regularizers.Regularizer):
    """L1 activity penalty `l1 * sum_j |h_j|`, averaged over the examples.

    The negative log of a Laplace prior on the code, `p(h) ∝ exp(-l1 |h|_1)`:
    minimising the loss plus this penalty is MAP estimation with that prior,
    which pushes many activations to exactly (ReLU) or nearly (sigmoid) zero.

    As an `activity_regularizer`, it returns `l1 * sum_{n,j} |h_nj|` for a batch;
    Keras divides that by the batch size `n` (see the module docstring).

    Args:
        l1: the penalty weight `lambda`, non-negative.

    Example:

    >>> layer = keras.layers.Dense(100, activation="relu", activity_regularizer=L1Activity(1e-3))
    """

    def __init__(self, l1=1e-3):
        self.l1 = _check_weight("l1", l1)

    def __call__(self, h):
        return self.l1 * ops.sum(ops.abs(h))

    def penalty(self, h):
        """The term the loss gains for a batch `h`: `l1 * mean_n sum_j |h_nj|`."""
        h = ops.convert_to_tensor(h)
        return self(h) / ops.cast(ops.shape(h)[0], h.dtype)

    def get_config(self):
        return {"l1": self.l1}


@keras.saving.register_keras_serializable(package="aecourse")
class KLSparsity(keras.regularizers.Regularizer):
    """KL sparsity penalty `beta * sum_j KL(rho || rho_hat_j)` on mean activations.

    `rho_hat_j` is unit `j`'s mean activation over the batch; the penalty is
    zero when every unit is active a fraction `rho` of the time on average and
    grows as `rho_hat_j` moves away from `rho` (Ng's sparse autoencoder). The
    activations must lie in [0, 1] (sigmoid units).

    As an `activity_regularizer`, `__call__` returns `n * penalty(h)` for a batch
    of `n`, which Keras divides by `n`: the loss gains exactly `penalty(h)`.

    Args:
        rho: target mean activation, strictly between 0 and 1 (e.g. 0.05).
        beta: weight of the penalty, non-negative (e.g. 3).

    Example:

    >>> layer = keras.layers.Dense(
    ...     100, activation="sigmoid", activity_regularizer=KLSparsity(rho=0.05, beta=3.0))
    """

    def __init__(self, rho=0.05, beta=3.0):
        self.rho = _check_target(rho)
        self.beta = _check_weight("beta", beta)

    def penalty(self, h):
        """The penalty of a batch `h`: `beta * sum_j KL(rho || mean_n h_nj)`."""
        return self.beta * ops.sum(kl_divergence(self.rho, mean_activation(h)))

    def __call__(self, h):
        h = ops.convert_to_tensor(h)
        return self.penalty(h) * ops.cast(ops.shape(h)[0], h.dtype)

    def get_config(self):
        return {"rho": self.rho, "beta": self.beta}
