import numpy as np

from aecourse import binarized, data


def test_one_fixed_sample_of_the_grey_images():
    grey, binary = data.fashion_mnist(), binarized.fashion_mnist()
    np.testing.assert_array_equal(binary.x_test, binarized.fashion_mnist().x_test)
    np.testing.assert_array_equal(binary.y_test, grey.y_test)
    assert binary.x_train.shape == (60000, 784) and binary.x_test.shape == (10000, 784)
    assert set(np.unique(binary.x_test)) == {0.0, 1.0}
    # Each pixel is 1 with probability equal to its grey value: per-pixel means agree.
    grey_mean = data.flatten(grey.x_test).mean(axis=0)
    assert np.abs(binary.x_test.mean(axis=0) - grey_mean).max() < 0.02
    assert not np.array_equal(binary.x_test, data.binarize(data.flatten(grey.x_test)))
