"""Exact per-example Jacobians by automatic differentiation.

Why this module is backend-specific: Keras 3's `keras.ops` has no
backend-agnostic automatic differentiation (no `grad` or `jacobian` op), so
an exact Jacobian needs the backend's own tool: `tf.GradientTape.batch_jacobian`
on TensorFlow, `jax.vmap(jax.jacrev(...))` on JAX, `torch.func.jacrev` on
PyTorch (of the outputs summed over the batch: rows are independent, so the
derivative of `sum_n f(x_n)` with respect to `x_m` is the Jacobian at `x_m`).
This small module is the only place in `aecourse` that imports a backend
directly; it dispatches on `keras.backend.backend()` and is tested on all
three backends.

The course uses it to *measure* Jacobians (closed form vs autodiff, singular
value spectra). Training penalties stay backend-agnostic: see
`aecourse.contractive`, whose closed form and finite-difference estimator
use only `keras.ops`.
"""

import keras
import numpy as np

SUPPORTED_BACKENDS = ("tensorflow", "jax", "torch")


def _check_inputs(x):
    x = np.asarray(x, dtype="float32")
    if x.ndim != 2:
        raise ValueError(
            "batch_jacobian expects a batch of flat inputs, shape (n, input_dim). "
            f"Received: x.shape={x.shape}"
        )
    return x


def batch_jacobian(function, x):
    """The Jacobian of `function` at each row of `x`, by automatic differentiation.

    `function` must treat the rows of its input independently (an encoder
    `h = f(x)` in inference mode), mapping `(n, input_dim)` to `(n, output_dim)`.

    Args:
        function: a callable such as a Keras model or layer.
        x: inputs, array-like of shape `(n, input_dim)`.

    Returns:
        NumPy array of shape `(n, output_dim, input_dim)` whose entry
        `[n, j, i]` is the derivative of output `j` with respect to input `i`
        at `x[n]`.

    Example:

    >>> encoder = keras.layers.Dense(3, activation="sigmoid")
    >>> batch_jacobian(encoder, np.zeros((5, 4))).shape
    (5, 3, 4)
    """
    x = _check_inputs(x)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        x = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = function(x)
        jacobian = tape.batch_jacobian(y, x)
    elif backend == "jax":
        import jax

        def single(row):
            return function(row[None, :])[0]

        jacobian = jax.vmap(jax.jacrev(single))(x)
    elif backend == "torch":
        import torch

        summed = torch.func.jacrev(lambda rows: function(rows).sum(dim=0))  # (output_dim, n, input_dim)
        jacobian = summed(keras.ops.convert_to_tensor(x)).permute(1, 0, 2)  # on Keras's device
    else:
        raise ValueError(
            f"batch_jacobian supports the backends {SUPPORTED_BACKENDS}. "
            f"Received: backend={backend!r}"
        )
    return np.asarray(keras.ops.convert_to_numpy(jacobian))


def frobenius_norm_sq(function, x):
    """The squared Frobenius norm of the Jacobian of `function` at each row of `x`.

    $\\lVert J_f(x) \\rVert_F^2 = \\sum_{j,i} (\\partial f_j / \\partial x_i)^2$,
    the contractive penalty of Rifai et al. (2011), computed exactly by
    automatic differentiation (see `batch_jacobian`).

    Args:
        function: a callable mapping `(n, input_dim)` to `(n, output_dim)` row by row.
        x: inputs, array-like of shape `(n, input_dim)`.

    Returns:
        NumPy array of shape `(n,)`.

    Example:

    >>> frobenius_norm_sq(lambda v: 2.0 * v, np.ones((3, 4)))
    array([16., 16., 16.], dtype=float32)
    """
    jacobian = batch_jacobian(function, x)
    return np.sum(np.square(jacobian), axis=(1, 2))
