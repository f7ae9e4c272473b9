"""Many short training runs of the same architecture without recompiling.

On a CPU, compiling a Keras model's training step (XLA under JAX) costs
seconds, more than a few hundred updates of a small network. Experiments
that repeat a run over seeds and learning rates therefore compile each
architecture once and *restart* it for every run: fresh weights, a zeroed
optimizer state, the run's learning rate. A restarted run is the same
computation as a freshly built and compiled model with those weights.
"""

import keras
import numpy as np

_COMPILED = {}  # key -> compiled keras.Model


def compiled(key, build, loss):
    """The compiled model stored under `key`, built with `build()` and compiled (Adam, `loss`) on first use.

    Args:
        key: a hashable description of the architecture and loss.
        build: a function without arguments that returns an uncompiled `keras.Model`.
        loss: the Keras loss.

    Returns:
        The cached model. Its weights belong to the most recent run: copy
        what you need to keep (`get_weights`) before the next `restart`.
    """
    model = _COMPILED.get(key)
    if model is None:
        model = build()
        model.compile(keras.optimizers.Adam(1e-3), loss=loss)
        _COMPILED[key] = model
    return model


def restart(model, weights, learning_rate):
    """Starts a new run of a compiled model: sets `weights`, zeroes Adam's state, sets the learning rate.

    Args:
        model: a model from `compiled`.
        weights: the run's initial weights, in `model.get_weights()` order.
        learning_rate: the run's Adam learning rate (a positive float).

    Example:

    >>> model = compiled("tiny", lambda: keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]), "mse")
    >>> restart(model, [np.ones((2, 1), "float32"), np.zeros(1, "float32")], 1e-2)
    >>> float(model.optimizer.learning_rate)
    0.01
    """
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be positive. Received: learning_rate={learning_rate!r}")
    model.set_weights(weights)
    for variable in model.optimizer.variables:
        variable.assign(np.zeros(variable.shape, variable.dtype))
    model.optimizer.learning_rate = float(learning_rate)


def clear():
    """Forgets every compiled model (tests use it to compare with fresh models)."""
    _COMPILED.clear()
