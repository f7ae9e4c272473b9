"""Does an autoencoder copy its input? Perturbations passed on and off the data.

An autoencoder with more code units than inputs can learn the identity. Near
a data point `x` that shows as a reconstruction that passes every small change
of the input through unchanged: `r(x + d) - r(x) = d`. An autoencoder that has
learned the data instead passes changes *along* the data (the directions the
images vary in) and removes changes *across* them. `transmission` measures the
passed fraction `||r(x + d) - r(x)|| / ||d||` (1 for the identity, 0 for a
constant map); `split_perturbation` splits perturbations into the part inside
a subspace, such as the data's leading principal directions, and the rest.
"""

import numpy as np


def _as_matrix(name, value):
    value = np.asarray(value, dtype="float64")
    if value.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (n, D), one row per example. Received: {name}.shape={value.shape}")
    return value


def split_perturbation(perturbation, components, atol=1e-6):
    """Splits perturbations into their parts inside and outside a subspace.

    Args:
        perturbation: `(n, D)` perturbations, one per row.
        components: `(k, D)` orthonormal rows spanning the subspace, such as
            the top-`k` principal directions of `aecourse.linear.pca_basis`.
        atol: tolerance of the orthonormality check.

    Returns:
        `(inside, outside)`, two float64 `(n, D)` arrays that sum to
        `perturbation`: the orthogonal projection onto the subspace and the
        remainder.

    Example:

    >>> inside, outside = split_perturbation(np.array([[3.0, 4.0]]), np.array([[1.0, 0.0]]))
    >>> inside, outside
    (array([[3., 0.]]), array([[0., 4.]]))
    """
    perturbation, components = _as_matrix("perturbation", perturbation), _as_matrix("components", components)
    if components.shape[1] != perturbation.shape[1]:
        raise ValueError(f"components must have one column per feature of perturbation ({perturbation.shape[1]}). "
                         f"Received: components.shape={components.shape}")
    gram = components @ components.T
    if not np.allclose(gram, np.eye(len(components)), atol=atol):
        raise ValueError("components must have orthonormal rows (components @ components.T == I); "
                         "orthonormalise them first, for example with numpy.linalg.qr(components.T)[0].T")
    inside = perturbation @ components.T @ components
    return inside, perturbation - inside


def transmission(reconstruct, x, perturbation):
    """The fraction of an input perturbation that passes to the reconstruction.

    For each example, `||r(x + d) - r(x)|| / ||d||`: 1 when the autoencoder
    copies the change `d` (the identity does, for every `d`), 0 when it
    ignores it. For small `d` it is the gain of the Jacobian of `r` at `x`
    along `d`.

    Args:
        reconstruct: function mapping an `(n, D)` array to its `(n, D)`
            reconstructions, e.g. `lambda v: model.predict(v, verbose=0)`.
        x: `(n, D)` inputs.
        perturbation: `(n, D)` perturbations, no row all zero.

    Returns:
        float64 array of shape `(n,)`.

    Example:

    >>> x, d = np.zeros((2, 3)), np.ones((2, 3))
    >>> transmission(lambda v: 0.5 * v, x, d)
    array([0.5, 0.5])
    """
    x, perturbation = _as_matrix("x", x), _as_matrix("perturbation", perturbation)
    if x.shape != perturbation.shape:
        raise ValueError(f"x and perturbation must have the same shape. "
                         f"Received: x.shape={x.shape}, perturbation.shape={perturbation.shape}")
    sizes = np.linalg.norm(perturbation, axis=1)
    if np.any(sizes == 0):
        raise ValueError("every row of perturbation must be nonzero: the passed fraction of a zero change is undefined")
    outputs = [_as_matrix("reconstruct(x)", reconstruct(v.astype("float32"))) for v in (x, x + perturbation)]
    if any(output.shape != x.shape for output in outputs):
        raise ValueError(f"reconstruct must return one row of D = {x.shape[1]} values per input row. "
                         f"Received shapes: {[output.shape for output in outputs]}")
    return np.linalg.norm(outputs[1] - outputs[0], axis=1) / sizes
