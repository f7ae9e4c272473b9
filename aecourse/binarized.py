"""The book's one binary version of Fashion-MNIST, for likelihoods in nats.

RBMs, mixtures of Bernoullis and VAEs model binary images. Their
log-likelihoods are comparable only on the same binary test images, so every
chapter that reports one uses `fashion_mnist()` here: each pixel sampled
once, with a fixed seed, to 1 with probability equal to its grey value
(stochastic binarization, as for binarized MNIST).
"""

import dataclasses

from aecourse import data

SEEDS = {"train": 0, "test": 1}


def fashion_mnist():
    """Fashion-MNIST binarized once by sampling, with the fixed `SEEDS`.

    Returns:
        A `data.Dataset` in the grey dataset's order and with its labels,
        whose `x_train` (60,000 x 784) and `x_test` (10,000 x 784) are
        flattened float32 arrays of 0s and 1s.

    Example:

    >>> binary = fashion_mnist()
    >>> binary.x_test.shape, sorted(set(binary.x_test.ravel().tolist()))
    ((10000, 784), [0.0, 1.0])
    """
    grey = data.fashion_mnist()
    return dataclasses.replace(
        grey,
        x_train=data.binarize(data.flatten(grey.x_train), seed=SEEDS["train"]),
        x_test=data.binarize(data.flatten(grey.x_test), seed=SEEDS["test"]),
        name="binarized_fashion_mnist",
    )
