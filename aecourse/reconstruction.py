"""Scoring reconstructions: squared errors, per-class means, the cross-entropy floor."""

import numpy as np


def squared_errors(model, x, batch_size=1000):
    """Squared reconstruction error of each input under a reconstruction model.

    The error of input `n` is summed over its features,
    `sum_i (x[n, i] - r[n, i]) ** 2` with `r = model(x)`: the per-image figure
    that Hinton & Salakhutdinov (2006) report.

    Args:
        model: a trained autoencoder (anything with a Keras-style
            `predict(x, verbose=0, batch_size=...)`), or a plain function that
            maps `x` to reconstructions (a PCA projection, a constant guess).
        x: `(n, D)` inputs.
        batch_size: batch size for `predict`.

    Returns:
        `(n,)` float64 array of errors.

    Example:

    >>> squared_errors(lambda x: np.zeros_like(x), np.ones((2, 3))).tolist()
    [3.0, 3.0]
    """
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"x must be a 2-D (n, D) array. Received: shape={x.shape}")
    if hasattr(model, "predict"):
        reconstructions = model.predict(x, verbose=0, batch_size=batch_size)
    elif callable(model):
        reconstructions = model(x)
    else:
        raise ValueError(f"model must have a predict method or be callable. Received: {model!r}")
    reconstructions = np.asarray(reconstructions, "float64")
    if reconstructions.shape != x.shape:
        raise ValueError(
            f"The model must return reconstructions shaped like x {x.shape}. "
            f"Received: shape={reconstructions.shape}"
        )
    return np.sum((x.astype("float64") - reconstructions) ** 2, axis=1)


def class_means(values, labels, n_classes):
    """Mean of `values` over the examples of each class.

    Args:
        values: `(n,)` per-example values (errors, for instance).
        labels: `(n,)` integer class labels in `[0, n_classes)`.
        n_classes: number of classes.

    Returns:
        `(n_classes,)` array; entry `k` is the mean over the examples of class `k`.

    Example:

    >>> class_means(np.array([1.0, 3.0, 10.0]), np.array([0, 0, 1]), 2).tolist()
    [2.0, 10.0]
    """
    values, labels = np.asarray(values, "float64"), np.asarray(labels)
    if values.ndim != 1 or labels.shape != values.shape:
        raise ValueError(
            f"values and labels must be 1-D arrays of the same length. "
            f"Received: values.shape={values.shape}, labels.shape={labels.shape}"
        )
    counts = np.bincount(labels, minlength=n_classes)
    if len(counts) != n_classes or np.any(counts == 0):
        raise ValueError(
            f"labels must be integers in [0, {n_classes}) with at least one example per class. "
            f"Received counts per label: {counts.tolist()}"
        )
    return np.bincount(labels, weights=values, minlength=n_classes) / counts


def cross_entropy_floor(x):
    """The lowest mean binary cross-entropy any reconstruction can reach on `x`.

    For a target `x_i` in [0, 1], `-x_i log r_i - (1 - x_i) log(1 - r_i)` is
    smallest at `r_i = x_i`, where it equals the binary entropy
    `H(x_i) = -x_i log x_i - (1 - x_i) log(1 - x_i)` (natural log, `0 log 0 = 0`).
    It is zero only for pixels that are exactly 0 or 1: on grey-level images,
    cross-entropy is not a normalised likelihood and never reaches zero.

    Args:
        x: array of targets in [0, 1], any shape.

    Returns:
        The mean of `H(x_i)` over all entries (nats per entry), a float.

    Example:

    >>> round(cross_entropy_floor(np.array([0.0, 1.0, 0.5, 0.5])), 4)
    0.3466
    """
    x = np.asarray(x, "float64")
    if x.size == 0 or np.any(x < 0) or np.any(x > 1):
        raise ValueError(
            f"x must be a non-empty array of values in [0, 1]. "
            f"Received: size={x.size}, min={x.min() if x.size else None}, max={x.max() if x.size else None}"
        )
    inside = (x > 0) & (x < 1)
    p = x[inside]
    entropy = -(p * np.log(p) + (1 - p) * np.log1p(-p))
    return float(entropy.sum() / x.size)
