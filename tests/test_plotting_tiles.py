import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from aecourse import plotting


def test_weight_tiles_draws_each_unit_scaled_to_unit_range():
    kernel = np.random.default_rng(0).normal(size=(6, 5)) * np.arange(1, 6)
    fig = plotting.weight_tiles(kernel, (2, 3), n=4, n_cols=2)
    images = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    assert len(images) == 4 and images[0].shape == (2, 3)
    for j, image in enumerate(images):
        np.testing.assert_allclose(np.asarray(image), kernel[:, j].reshape(2, 3) / np.abs(kernel[:, j]).max())
    assert fig.axes[0].images[0].get_clim() == (-1.0, 1.0)
    matplotlib.pyplot.close("all")


def test_weight_tiles_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="Received: kernel.shape"):
        plotting.weight_tiles(np.zeros((10, 3)), (28, 28))
    with pytest.raises(ValueError, match="Received: n="):
        plotting.weight_tiles(np.zeros((4, 3)), (2, 2), n=0)
