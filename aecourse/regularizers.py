"""Sparsity penalties for autoencoder codes (L1, KL) and the layer that adds them to the loss.

Usage: put an `ActivityPenalty` layer after the layer whose output (the code)
is penalised. It passes the code through unchanged and adds the penalty of
each batch to the model's loss with `add_loss`:

```python
x = keras.Input((784,))
h = keras.layers.Dense(200, activation="sigmoid")(x)
h = ActivityPenalty(KLSparsity(rho=0.05, beta=3.0))(h)  # or ActivityPenalty(L1Activity(1e-3))
autoencoder = keras.Model(x, keras.layers.Dense(784, activation="sigmoid")(h))
```

The loss gains exactly `penalty.penalty(h)` for every batch `h`, on every
Keras version and backend:

- `L1Activity(l1).penalty(h) = l1 * mean_n sum_j |h_nj|`, the per-example L1
  penalty averaged over the batch like the reconstruction loss;
- `KLSparsity(rho, beta).penalty(h) = beta * sum_j KL(rho || rho_hat_j)`, with
  `rho_hat_j` the batch's mean activation of unit `j`: one number per batch.

Why not `activity_regularizer=`: Keras scales what an activity regularizer
returns differently across versions (Keras 3.13 and later divide it by the
batch size, earlier versions add it as it is), so the same regularizer would
add penalties that differ by a factor of the batch size on Colab's Keras and
on ours. `add_loss` in a layer of ours adds the same number everywhere. Passing
an `L1Activity` or `KLSparsity` as `activity_regularizer=` raises an error that
says so.
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
    count = ops.cast(ops.size(h) // h.shape[-1], h.dtype)  # a sum, not ops.mean: on JAX that computes float64 in float32
    return ops.sum(h, axis=tuple(range(len(h.shape) - 1))) / count


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


class _Penalty:
    """Shared parts of the penalties: Keras serialization, repr and the misuse error."""

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        arguments = ", ".join(f"{name}={value!r}" for name, value in self.get_config().items())
        return f"{type(self).__name__}({arguments})"

    def __call__(self, h):
        raise TypeError(
            f"{self!r} is not a Keras activity_regularizer: Keras scales those differently across "
            "versions. Add it after the layer instead, e.g. "
            f"h = aecourse.regularizers.ActivityPenalty({self!r})(h), or compute it with .penalty(h)."
        )


@keras.saving.register_keras_serializable(package="aecourse")
class L1Activity(_Penalty):
    """L1 activity penalty `l1 * sum_j |h_j|`, averaged over the examples.

    The negative log of a Laplace prior on the code, `p(h) ∝ exp(-l1 |h|_1)`:
    minimising the loss plus this penalty is MAP estimation with that prior,
    which pushes many activations to exactly (ReLU) or nearly (sigmoid) zero.
    Add it to a model with `ActivityPenalty(L1Activity(l1))`.

    Args:
        l1: the penalty weight `lambda`, non-negative.

    Example:

    >>> h = keras.layers.Dense(100, activation="relu")(keras.Input((784,)))
    >>> h = ActivityPenalty(L1Activity(1e-3))(h)
    """

    def __init__(self, l1=1e-3):
        self.l1 = _check_weight("l1", l1)

    def penalty(self, h):
        """The term the loss gains for a batch `h` of shape `(n, ...)`: `l1 * mean_n sum_j |h_nj|`."""
        h = ops.convert_to_tensor(h)
        return self.l1 * ops.sum(ops.abs(h)) / ops.cast(ops.shape(h)[0], h.dtype)

    def get_config(self):
        return {"l1": self.l1}


@keras.saving.register_keras_serializable(package="aecourse")
class KLSparsity(_Penalty):
    """KL sparsity penalty `beta * sum_j KL(rho || rho_hat_j)` on mean activations.

    `rho_hat_j` is unit `j`'s mean activation over the batch; the penalty is
    zero when every unit is active a fraction `rho` of the time on average and
    grows as `rho_hat_j` moves away from `rho` (Ng's sparse autoencoder). The
    activations must lie in [0, 1] (sigmoid units). Add it to a model with
    `ActivityPenalty(KLSparsity(rho, beta))`.

    Args:
        rho: target mean activation, strictly between 0 and 1 (e.g. 0.05).
        beta: weight of the penalty, non-negative (e.g. 3).

    Example:

    >>> h = keras.layers.Dense(100, activation="sigmoid")(keras.Input((784,)))
    >>> h = ActivityPenalty(KLSparsity(rho=0.05, beta=3.0))(h)
    """

    def __init__(self, rho=0.05, beta=3.0):
        self.rho = _check_target(rho)
        self.beta = _check_weight("beta", beta)

    def penalty(self, h):
        """The term the loss gains for a batch `h`: `beta * sum_j KL(rho || mean_n h_nj)`."""
        return self.beta * ops.sum(kl_divergence(self.rho, mean_activation(h)))

    def get_config(self):
        return {"rho": self.rho, "beta": self.beta}


@keras.saving.register_keras_serializable(package="aecourse")
class ActivityPenalty(keras.layers.Layer):
    """Adds a penalty on its input to the model's loss; passes the input through unchanged.

    Place it after the layer whose activations (the code) are penalised. Each
    batch `h` adds `penalty.penalty(h)` to the loss through `add_loss`, the
    same number on every Keras version and backend (see the module docstring).
    After an eager call, `layer.losses` holds that number.

    Args:
        penalty: an `L1Activity` or `KLSparsity`.
        **kwargs: standard layer arguments (`name`, ...).

    Returns:
        The input, unchanged.

    Example:

    >>> layer = ActivityPenalty(L1Activity(0.01))
    >>> h = layer(np.ones((4, 3), "float32"))
    >>> round(float(layer.losses[0]), 6)  # 0.01 * (mean over the 4 rows of sum_j |h_j| = 3)
    0.03
    """

    def __init__(self, penalty, **kwargs):
        super().__init__(**kwargs)
        if isinstance(penalty, dict):  # from get_config
            penalty = keras.saving.deserialize_keras_object(penalty)
        if not isinstance(penalty, _Penalty):
            raise ValueError(
                "penalty must be an aecourse penalty such as L1Activity(1e-3) or "
                f"KLSparsity(rho=0.05, beta=3.0). Received: penalty={penalty!r}"
            )
        self.penalty = penalty

    def call(self, h):
        self.add_loss(self.penalty.penalty(h))
        return h

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "penalty": keras.saving.serialize_keras_object(self.penalty)}
