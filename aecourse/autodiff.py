"""Gradients of a scalar function of arrays, by the current Keras backend's autodiff.

The chapters compare hand-derived gradients (the delta rule, the sparsity
term, the L1 subgradient) with automatic differentiation. `value_and_gradients`
does that on TensorFlow, JAX and PyTorch alike, in the inputs' precision:
float64 inputs are differentiated in float64 on JAX too (which computes in
float32 unless 64-bit mode is on; it is switched on for the call only).
"""

import contextlib

import keras
import numpy as np

SUPPORTED_BACKENDS = ("tensorflow", "jax", "torch")


def _float_arrays(inputs):
    arrays = []
    for i, value in enumerate(inputs):
        array = np.asarray(value)
        if not np.issubdtype(array.dtype, np.floating):
            raise ValueError(f"inputs must be floating-point arrays; input {i} has dtype {array.dtype}. "
                             "Convert it, e.g. np.asarray(x, 'float64').")
        arrays.append(array)
    if not arrays:
        raise ValueError("value_and_gradients needs at least one input to differentiate with respect to.")
    return arrays


def _jax_64_bit():
    """A context in which JAX computes in float64 (the API moved between JAX 0.5 and 0.10)."""
    import jax

    if hasattr(jax, "enable_x64"):
        return jax.enable_x64(True)
    from jax.experimental import enable_x64

    return enable_x64()


def value_and_gradients(function, *inputs):
    """The value of a scalar `function(*inputs)` and its gradient with respect to each input.

    Args:
        function: callable taking one backend tensor per input and returning a
            scalar tensor, written with `keras.ops` (it runs on any backend).
        *inputs: floating-point arrays; each is converted to a tensor of its
            own dtype.

    Returns:
        `(value, gradients)`: `value` a Python float, `gradients` a list of
        NumPy arrays shaped like the inputs.

    Example:

    >>> value, (grad,) = value_and_gradients(lambda a: keras.ops.sum(a ** 2), np.array([1.0, -2.0]))
    >>> value, grad.tolist()
    (5.0, [2.0, -4.0])
    """
    if not callable(function):
        raise ValueError(f"function must be callable. Received: function={function!r}")
    arrays = _float_arrays(inputs)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        tensors = [tf.convert_to_tensor(array) for array in arrays]
        with tf.GradientTape() as tape:
            for tensor in tensors:
                tape.watch(tensor)
            value = function(*tensors)
        gradients = tape.gradient(value, tensors)
    elif backend == "jax":
        import jax

        needs_64 = any(array.dtype == np.float64 for array in arrays)
        with _jax_64_bit() if needs_64 else contextlib.nullcontext():
            tensors = [jax.numpy.asarray(array) for array in arrays]
            value, gradients = jax.value_and_grad(function, argnums=tuple(range(len(tensors))))(*tensors)
            value, gradients = float(value), [np.asarray(gradient) for gradient in gradients]
    elif backend == "torch":
        import torch

        tensors = [keras.ops.convert_to_tensor(array, dtype=str(array.dtype)).detach().requires_grad_(True)
                   for array in arrays]
        value = function(*tensors)
        gradients = torch.autograd.grad(value, tensors)
    else:
        raise ValueError(f"value_and_gradients supports the backends {SUPPORTED_BACKENDS}. "
                         f"Received: backend={backend!r}")
    if np.ndim(keras.ops.convert_to_numpy(value)) != 0:
        raise ValueError(f"function must return a scalar. Received a value of shape "
                         f"{np.shape(keras.ops.convert_to_numpy(value))}")
    return float(keras.ops.convert_to_numpy(value)), [np.asarray(keras.ops.convert_to_numpy(g)) for g in gradients]
