"""Population sparsity: the k-sparse (TopK) layer and measures of how sparse a code is.

A code `h` of shape `(n, units)` (one row per input) can be sparse in two
senses:

- **lifetime** sparsity is about one unit across many inputs: the unit is
  silent for most inputs and strongly active for a few (a column of `h`);
- **population** sparsity is about one input across many units: few units
  are active for it (a row of `h`).

`treves_rolls` measures both with one threshold-free number (Treves & Rolls
1991; Vinje & Gallant 2000): for a non-negative vector `a` of length `m`,
`S(a) = mean(a)^2 / mean(a^2)`, which is 1 when every entry is equal and
`1/m` when one entry carries everything. `units_carrying` counts, for each
input, the fewest units whose activations add up to a given fraction of its
total activity. `TopK` enforces population sparsity directly: it keeps the
`k` largest entries of each row and zeros the rest (Makhzani & Frey 2013).
"""

import keras
import numpy as np
from keras import ops


def _check_code(h):
    h = np.asarray(h, dtype="float64")
    if h.ndim != 2:
        raise ValueError(f"h must be a 2-D array of codes, shape (n, units). Received: h.shape={h.shape}")
    if np.any(h < 0):
        raise ValueError(
            "Sparsity measures need non-negative activations (sigmoid, ReLU or TopK of ReLU "
            f"codes). Received: h with minimum {h.min():.3g}")
    return h


def treves_rolls(h, axis):
    """Treves-Rolls sparseness `mean(a)^2 / mean(a^2)` of a code along one axis.

    With `axis=0` it measures **lifetime** sparseness, one value per unit
    (over the inputs); with `axis=1` **population** sparseness, one value per
    input (over the units). The value lies in `[1/m, 1]` for `m` entries:
    1 for a perfectly even spread, `1/m` when one entry is non-zero. Lower is
    sparser. An all-zero slice has no defined sparseness and gives `nan`.

    Args:
        h: non-negative codes, shape `(n, units)`.
        axis: 0 (lifetime, per unit) or 1 (population, per input).

    Returns:
        NumPy array of shape `(units,)` for `axis=0`, `(n,)` for `axis=1`.

    Example:

    >>> treves_rolls(np.array([[1.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]]), axis=1)
    array([0.25, 1.  ])
    """
    h = _check_code(h)
    if axis not in (0, 1):
        raise ValueError(f"axis must be 0 (lifetime) or 1 (population). Received: axis={axis!r}")
    second = np.mean(h ** 2, axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(second > 0, np.mean(h, axis=axis) ** 2 / second, np.nan)


def units_carrying(h, fraction=0.8):
    """For each input, the fewest units whose activations sum to `fraction` of its total.

    A population-sparsity count: for a one-hot code it is 1, for a code
    spread evenly over `m` units it is `ceil(fraction * m)`.

    Args:
        h: non-negative codes, shape `(n, units)`.
        fraction: the share of each input's total activity, in (0, 1].

    Returns:
        Integer NumPy array of shape `(n,)` (0 for an all-zero code).

    Example:

    >>> units_carrying(np.array([[0.7, 0.2, 0.1, 0.0]]), fraction=0.8)
    array([2])
    """
    h = _check_code(h)
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction <= 1:
        raise ValueError(f"fraction must lie in (0, 1]. Received: fraction={fraction!r}")
    ordered = -np.sort(-h, axis=1)
    cumulative = np.cumsum(ordered, axis=1)
    total = cumulative[:, -1:]
    # Units needed: how many cumulative sums stay below the target, plus one (relative slack for round-off).
    below = cumulative < fraction * total * (1 - 1e-12)
    return np.where(total[:, 0] > 0, below.sum(axis=1) + 1, 0)


def kth_largest(values, k):
    """The `k`-th largest entry of each row, shape `(batch, 1)`, found by `k` passes of a row maximum.

    Each pass removes the current maximum (and any entries tied with it), so
    with ties the result is the `k`-th largest *distinct* value. `ops.top_k`
    gives the same threshold without ties, but on JAX's CPU backend it made a
    TopK autoencoder's training step about 100 times slower than a ReLU one's;
    `k` row maxima cost about as much as `k` elementwise passes. No gradient
    flows through the threshold.

    Args:
        values: tensor of shape `(batch, n)`.
        k: a positive integer, at most `n`.

    Returns:
        Tensor of shape `(batch, 1)`.
    """
    values = ops.stop_gradient(ops.convert_to_tensor(values))
    lowest = ops.full_like(values, -np.inf)
    for _ in range(k - 1):
        values = ops.where(ops.greater_equal(values, ops.max(values, axis=-1, keepdims=True)), lowest, values)
    return ops.max(values, axis=-1, keepdims=True)


@keras.saving.register_keras_serializable(package="aecourse")
class TopK(keras.layers.Layer):
    """Keeps the `k` largest entries of each row and sets the others to zero.

    The k-sparse autoencoder's code layer (Makhzani & Frey 2013): every input
    is described by exactly `k` active units (population sparsity by
    construction, no penalty to tune). Gradients flow only through the kept
    entries. With ties the threshold is the `k`-th largest *distinct* value
    (`kth_largest`), so tied entries can make more than `k` non-zeros.

    Args:
        k: number of entries kept per row, a positive integer.

    Input shape:
        `(batch, units)` with `units >= k`.

    Output shape:
        Same as the input.

    Example:

    >>> x = keras.Input((256,))
    >>> h = TopK(20)(keras.layers.Dense(256, activation="relu")(x))
    """

    def __init__(self, k, **kwargs):
        super().__init__(**kwargs)
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a positive integer. Received: k={k!r}")
        self.k = k

    def build(self, input_shape):
        units = input_shape[-1]
        if units is not None and units < self.k:
            raise ValueError(f"TopK({self.k}) needs at least {self.k} units. Received: input_shape={input_shape}")

    def call(self, inputs):
        return ops.where(inputs >= kth_largest(inputs, self.k), inputs, ops.zeros_like(inputs))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "k": self.k}

