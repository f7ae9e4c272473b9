"""Measures for dictionary learning on activations: sparsity, reconstruction, faithfulness, purity.

- `l0`: active latents per input (the number of non-zero codes, averaged);
- `normalized_mse`: squared reconstruction error over the squared error of
  predicting every input by the mean input (Gao et al. 2024's normalisation):
  0 is perfect, 1 is no better than the mean;
- `dead_latents`: latents that are zero on every input of a set;
- `loss_recovered`: how much of the loss increase caused by ablating a layer
  the spliced-in reconstruction wins back, `(L_ablated - L_spliced) /
  (L_ablated - L_clean)`: 1 when splicing costs nothing, 0 when it is as bad
  as the ablation;
- `top_class_purity`: for each unit, the share of its `n_top` most activating
  inputs that belong to its most common class.
"""

import numpy as np


def _as_2d(name, a):
    a = np.asarray(a, dtype="float64")
    if a.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, shape (n, units). Received: {name}.shape={a.shape}")
    return a


def l0(codes):
    """Mean number of non-zero entries per row of `codes` (shape `(n, latents)`).

    Example:

    >>> l0(np.array([[0.0, 1.0, 2.0], [0.0, 0.0, 3.0]]))
    1.5
    """
    return float(np.mean(np.count_nonzero(_as_2d("codes", codes), axis=1)))


def normalized_mse(x, x_hat):
    """`sum ||x - x_hat||^2 / sum ||x - mean(x)||^2` over the rows of `x` (shape `(n, d)`).

    The denominator uses the mean of the `x` given; it is the error of the
    best constant reconstruction.

    Example:

    >>> x = np.array([[0.0, 0.0], [2.0, 2.0]])
    >>> normalized_mse(x, np.ones_like(x))  # the mean: no better than a constant
    1.0
    """
    x, x_hat = _as_2d("x", x), _as_2d("x_hat", x_hat)
    if x.shape != x_hat.shape:
        raise ValueError(f"x and x_hat must have the same shape. Received: {x.shape} and {x_hat.shape}")
    spread = np.sum((x - x.mean(axis=0)) ** 2)
    if spread == 0:
        raise ValueError("x has no spread (every row equal): the normalised error is undefined.")
    return float(np.sum((x - x_hat) ** 2) / spread)


def dead_latents(codes):
    """Number of latents (columns) that are zero on every row of `codes`."""
    return int(np.sum(np.all(_as_2d("codes", codes) == 0, axis=0)))


def loss_recovered(clean, spliced, ablated):
    """`(ablated - spliced) / (ablated - clean)`: the share of the ablation's loss that splicing wins back.

    Args:
        clean: the model's loss with its own activations.
        spliced: the loss with the reconstruction spliced in.
        ablated: the loss with the layer ablated (zeroed, or set to its mean).

    Returns:
        A float: 1 if splicing costs nothing, 0 if it is as bad as ablating,
        negative if worse.

    Example:

    >>> loss_recovered(clean=0.3, spliced=0.4, ablated=2.3)
    0.95
    """
    clean, spliced, ablated = (float(v) for v in (clean, spliced, ablated))
    if not ablated > clean:
        raise ValueError("the ablated loss must exceed the clean loss, or nothing can be recovered. "
                         f"Received: clean={clean!r}, ablated={ablated!r}")
    return round((ablated - spliced) / (ablated - clean), 12)


def top_class_purity(activations, labels, n_top):
    """For each unit, the share of its `n_top` most activating inputs that fall in its most common class.

    A unit that is positive on fewer than `n_top` inputs is not scored (`nan`):
    its top list would be padded with inputs on which it is silent.

    Args:
        activations: shape `(n, units)`.
        labels: integer class of each input, shape `(n,)`.
        n_top: inputs per unit, `1 <= n_top <= n`.

    Returns:
        `(purity, top_class)`: float array `(units,)` in [0, 1] (`nan` for
        units not scored) and integer array `(units,)` (-1 for those).

    Example:

    >>> h = np.array([[3.0, 1.0], [2.0, 0.0], [1.0, 2.0]])
    >>> top_class_purity(h, np.array([0, 0, 1]), n_top=2)
    (array([1. , nan]), array([ 0, -1]))
    """
    activations = _as_2d("activations", activations)
    labels = np.asarray(labels)
    if labels.shape != (len(activations),) or not np.issubdtype(labels.dtype, np.integer) or np.any(labels < 0):
        raise ValueError(f"labels must be non-negative integers, one per row of activations ({len(activations)}). "
                         f"Received: labels with shape {labels.shape} and dtype {labels.dtype}")
    if isinstance(n_top, bool) or not isinstance(n_top, (int, np.integer)) or not 1 <= n_top <= len(activations):
        raise ValueError(f"n_top must be an integer in [1, {len(activations)}]. Received: n_top={n_top!r}")
    top = np.argsort(-activations, axis=0, kind="stable")[:n_top]  # (n_top, units)
    counts = np.stack([np.bincount(labels[top[:, u]], minlength=labels.max() + 1) for u in range(top.shape[1])])
    scored = np.count_nonzero(activations > 0, axis=0) >= n_top
    purity = np.where(scored, counts.max(axis=1) / n_top, np.nan)
    return purity, np.where(scored, counts.argmax(axis=1), -1)
