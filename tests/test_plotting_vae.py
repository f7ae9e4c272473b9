"""The latent-space figures of chapter 7: manifold grid, traversals, interpolations."""

import matplotlib
import numpy as np
import pytest

from aecourse import plotting

matplotlib.use("Agg")


def _decode(codes):
    """A toy decoder: a 4x4 image whose top-left pixel is sigmoid(z_0)."""
    codes = np.asarray(codes)
    images = np.zeros((len(codes), 16))
    images[:, 0] = 1 / (1 + np.exp(-codes[:, 0]))
    return images


def test_latent_manifold_places_codes_on_axes():
    seen = []
    ax = plotting.latent_manifold(lambda z: seen.append(z) or _decode(z), extent=2.0, n=5, image_shape=(4, 4))
    mosaic = ax.images[0].get_array()
    assert mosaic.shape == (20, 20)
    codes = seen[0]
    assert codes.shape == (25, 2) and codes[0].tolist() == [-2.0, 2.0]      # top-left: z1 low, z2 high
    assert mosaic[0, 16] > mosaic[0, 0]                                     # z1 grows to the right
    assert ax.get_xlabel() == "$z_1$"
    with pytest.raises(ValueError, match="Received: n=1"):
        plotting.latent_manifold(_decode, n=1)
    matplotlib.pyplot.close("all")


def test_traversal_varies_one_coordinate_per_row():
    fig = plotting.latent_traversal(_decode, np.zeros(3), dims=[0, 2], values=[-2, 0, 2], image_shape=(4, 4))
    assert len(fig.axes) == 6 and fig.axes[0].get_title() == "-2.0"
    first_row = [ax.images[0].get_array()[0, 0] for ax in fig.axes[:3]]
    second_row = [ax.images[0].get_array()[0, 0] for ax in fig.axes[3:]]
    assert first_row[0] < first_row[1] < first_row[2]                      # z_0 varies
    assert len(set(np.round(second_row, 6))) == 1                           # z_2 does not move pixel 0
    with pytest.raises(ValueError, match="dims must be indices"):
        plotting.latent_traversal(_decode, np.zeros(3), dims=[3], values=[0])
    matplotlib.pyplot.close("all")


def test_interpolation_rows_go_from_start_to_end():
    fig = plotting.interpolation_rows(_decode, [[-3.0, 0]], [[3.0, 0]], n_steps=4, image_shape=(4, 4))
    values = [ax.images[0].get_array()[0, 0] for ax in fig.axes]
    assert len(values) == 4 and np.all(np.diff(values) > 0)
    assert values[0] == pytest.approx(1 / (1 + np.exp(3)))
    with pytest.raises(ValueError, match="same shape"):
        plotting.interpolation_rows(_decode, np.zeros((2, 2)), np.zeros((1, 2)))
    matplotlib.pyplot.close("all")
