"""Datasets of the course: Fashion-MNIST, MNIST, scikit-learn's digits, shapes.

Every loader returns a `Dataset`: float32 images scaled to [0, 1] with shape
`(n, height, width)`, integer labels and the class names. `flatten`,
`scale_pixels` and `binarize` prepare them for dense models and RBMs.

Fashion-MNIST is looked up, in order, in the Keras cache
(`~/.keras/datasets/fashion-mnist`), the folder Debian's `dataset-fashion-mnist`
package installs (`/usr/share/datasets/fashion-mnist`), `$AECOURSE_DATA`, and
finally downloaded through `keras.datasets` (into the Keras cache, so once).
Off Debian (macOS, other Linux, Windows) the download is the way; offline,
copy the four `*-ubyte.gz` files of `FASHION_MNIST_URL` into a folder and set
`AECOURSE_DATA` to it (README.md, "Fashion-MNIST off Debian").
"""

import dataclasses
import gzip
import os
import pathlib

import numpy as np

FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
MNIST_CLASSES = tuple(str(d) for d in range(10))
SHAPE_CLASSES = ("circle", "triangle", "rectangle", "star")
SYSTEM_FASHION_MNIST = pathlib.Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_URL = "https://github.com/zalandoresearch/fashion-mnist/tree/master/data/fashion"
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}


class DatasetNotFoundError(FileNotFoundError):
    """Raised when a dataset is neither on disk nor downloadable."""


@dataclasses.dataclass(frozen=True)
class Dataset:
    """Train and test images with labels.

    Attributes:
        x_train: float32 images in [0, 1], shape `(n_train, height, width)`.
        y_train: int64 labels, shape `(n_train,)`.
        x_test: float32 images in [0, 1], shape `(n_test, height, width)`.
        y_test: int64 labels, shape `(n_test,)`.
        class_names: tuple of class names, indexed by label.
        name: the dataset's name.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple
    name: str

    @property
    def image_shape(self):
        """`(height, width)` of one image."""
        return self.x_train.shape[1:]

    def subset(self, n_train=None, n_test=None):
        """The first `n_train` training and `n_test` test examples.

        Args:
            n_train: number of training examples to keep (`None`: all).
            n_test: number of test examples to keep (`None`: all).

        Returns:
            A smaller `Dataset` (the loaders' order is already shuffled).
        """
        for label, n, total in (("n_train", n_train, len(self.x_train)),
                                ("n_test", n_test, len(self.x_test))):
            if n is not None and not (isinstance(n, (int, np.integer)) and 0 < n <= total):
                raise ValueError(
                    f"{label} must be an integer in [1, {total}] or None. Received: {label}={n!r}"
                )
        return dataclasses.replace(
            self,
            x_train=self.x_train[:n_train], y_train=self.y_train[:n_train],
            x_test=self.x_test[:n_test], y_test=self.y_test[:n_test],
        )


def scale_pixels(images, max_value=255):
    """Scales integer pixel values in `[0, max_value]` to float32 in [0, 1].

    Args:
        images: array of pixel values.
        max_value: the largest possible pixel value (255 for 8-bit images).

    Returns:
        float32 array of the same shape, in [0, 1].

    Example:

    >>> scale_pixels(np.array([0, 51, 255], dtype=np.uint8))
    array([0. , 0.2, 1. ], dtype=float32)
    """
    images = np.asarray(images)
    if max_value <= 0:
        raise ValueError(f"max_value must be positive. Received: max_value={max_value!r}")
    if images.size and (images.min() < 0 or images.max() > max_value):
        raise ValueError(
            f"Pixel values must lie in [0, {max_value}]; found values in "
            f"[{images.min()}, {images.max()}]. Pass the right max_value, or "
            f"skip scaling for images already in [0, 1]."
        )
    return (images / max_value).astype("float32")


def flatten(images):
    """Flattens `(n, height, width[, channels])` images to `(n, features)`.

    Args:
        images: array with at least 2 dimensions, the first indexing examples.

    Returns:
        A 2-D float32 array `(n, height * width * ...)`.
    """
    images = np.asarray(images)
    if images.ndim < 2:
        raise ValueError(
            "flatten expects a batch of images with shape (n, height, width) "
            f"or (n, features). Received: shape={images.shape}"
        )
    return images.reshape(len(images), -1).astype("float32")


def check_unit_range(x, name="x"):
    """Raises a `ValueError` unless all values of `x` lie in [0, 1].

    Args:
        x: array of pixel values.
        name: the argument's name, for the error message.

    Returns:
        `x` as a NumPy array.
    """
    x = np.asarray(x)
    if x.size and (np.nanmin(x) < 0 or np.nanmax(x) > 1 or np.isnan(x).any()):
        raise ValueError(
            f"{name} must hold values in [0, 1] (scale 8-bit images with "
            f"aecourse.data.scale_pixels). Received values in [{np.nanmin(x)}, {np.nanmax(x)}]"
        )
    return x


def binarize(images, threshold=0.5, seed=None):
    """Binarizes images in [0, 1], by a threshold or by sampling.

    Args:
        images: array of values in [0, 1].
        threshold: pixels above it become 1 (ignored when `seed` is given).
        seed: if given, each pixel becomes 1 with probability equal to its
            value (stochastic binarization, as for binarized MNIST).

    Returns:
        float32 array of 0s and 1s with the shape of `images`.

    Example:

    >>> binarize(np.array([0.2, 0.7]))
    array([0., 1.], dtype=float32)
    """
    images = check_unit_range(images, "images")
    if seed is not None:
        rng = np.random.default_rng(seed)
        return (rng.random(images.shape) < images).astype("float32")
    if not 0 <= threshold <= 1:
        raise ValueError(f"threshold must lie in [0, 1]. Received: threshold={threshold!r}")
    return (images > threshold).astype("float32")


def read_idx(path):
    """Reads one gzipped IDX file (the MNIST file format) into a uint8 array."""
    with gzip.open(path, "rb") as handle:
        raw = handle.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file (bad magic number).")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path} is truncated: expected {dims}, found {data.size} bytes.")
    return data.reshape(dims)


def _keras_cache():
    return pathlib.Path(os.environ.get("KERAS_HOME", pathlib.Path.home() / ".keras")) / "datasets"


def _fashion_mnist_folders():
    folders = [_keras_cache() / "fashion-mnist", SYSTEM_FASHION_MNIST]
    if os.environ.get("AECOURSE_DATA"):
        root = pathlib.Path(os.environ["AECOURSE_DATA"])
        folders += [root / "fashion-mnist", root]
    return folders


def _make_dataset(arrays, class_names, name):
    return Dataset(
        x_train=scale_pixels(arrays["x_train"]), y_train=arrays["y_train"].astype("int64"),
        x_test=scale_pixels(arrays["x_test"]), y_test=arrays["y_test"].astype("int64"),
        class_names=class_names, name=name,
    )


def _download(loader, name):
    """Calls a `keras.datasets` loader; turns any failure into one clear error."""
    try:
        (x_train, y_train), (x_test, y_test) = loader()
    except Exception as error:  # any network or file error: explain every fix
        raise DatasetNotFoundError(_missing_message(name, error)) from error
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def _missing_message(name, error):
    fixes = {
        "fashion_mnist": (
            "  - on any system with internet access: run keras.datasets.fashion_mnist.load_data() "
            f"once, it downloads into {_keras_cache() / 'fashion-mnist'};\n"
            f"  - offline (macOS, any Linux, Windows): download the four *-ubyte.gz files of {FASHION_MNIST_URL} "
            f"elsewhere, then copy them into {_keras_cache() / 'fashion-mnist'}, or into a folder "
            "you name in AECOURSE_DATA (the files, or a fashion-mnist/ subfolder holding them);\n"
            "  - on Debian/Ubuntu: sudo apt-get install dataset-fashion-mnist "
            f"(installs {SYSTEM_FASHION_MNIST}).\n"
            "README.md, section 'Fashion-MNIST off Debian', has the steps."
        ),
        "mnist": (
            f"  - copy mnist.npz into {_keras_cache()};\n"
            "  - or set AECOURSE_DATA to a folder holding mnist.npz;\n"
            "  - or run where keras.datasets.mnist.load_data() can download "
            "(no Debian package ships MNIST)."
        ),
    }[name]
    return f"Could not find or download {name} (download failed with: {error!r}). Fixes:\n{fixes}"


def fashion_mnist():
    """Loads Fashion-MNIST: 60,000 training and 10,000 test 28x28 images.

    Returns:
        A `Dataset` with the ten clothing classes.

    Raises:
        DatasetNotFoundError: if the files are nowhere on disk and the
            download fails; the message names each way to fix it.

    Example:

    >>> data = fashion_mnist()
    >>> data.x_train.shape, data.class_names[0]
    ((60000, 28, 28), 'T-shirt/top')
    """
    for folder in _fashion_mnist_folders():
        if all((folder / f).is_file() for f in IDX_FILES.values()):
            arrays = {key: read_idx(folder / f) for key, f in IDX_FILES.items()}
            return _make_dataset(arrays, FASHION_MNIST_CLASSES, "fashion_mnist")
    import keras

    arrays = _download(keras.datasets.fashion_mnist.load_data, "fashion_mnist")
    return _make_dataset(arrays, FASHION_MNIST_CLASSES, "fashion_mnist")


def mnist():
    """Loads MNIST from the Keras cache, `$AECOURSE_DATA/mnist.npz`, or a download.

    Returns:
        A `Dataset` with the ten digit classes.

    Raises:
        DatasetNotFoundError: if `mnist.npz` is nowhere on disk and the
            download fails; the message names each way to fix it.
    """
    candidates = [_keras_cache() / "mnist.npz"]
    if os.environ.get("AECOURSE_DATA"):
        candidates.append(pathlib.Path(os.environ["AECOURSE_DATA"]) / "mnist.npz")
    for path in candidates:
        if path.is_file():
            with np.load(path) as npz:
                arrays = {key: npz[key] for key in IDX_FILES}
            return _make_dataset(arrays, MNIST_CLASSES, "mnist")
    import keras

    arrays = _download(keras.datasets.mnist.load_data, "mnist")
    return _make_dataset(arrays, MNIST_CLASSES, "mnist")


def digits(test_size=360, seed=0):
    """Loads scikit-learn's 8x8 digits (1,797 images, shipped with scikit-learn).

    Args:
        test_size: number of images held out for testing.
        seed: seed of the shuffled train/test split.

    Returns:
        A `Dataset` of 8x8 images scaled from [0, 16] to [0, 1].
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    if not (isinstance(test_size, int) and 0 < test_size < len(bunch.images)):
        raise ValueError(
            f"test_size must be an integer in [1, {len(bunch.images) - 1}]. "
            f"Received: test_size={test_size!r}"
        )
    order = np.random.default_rng(seed).permutation(len(bunch.images))
    images = scale_pixels(bunch.images[order], max_value=16)
    labels = bunch.target[order].astype("int64")
    return Dataset(
        x_train=images[test_size:], y_train=labels[test_size:],
        x_test=images[:test_size], y_test=labels[:test_size],
        class_names=MNIST_CLASSES, name="digits",
    )


def _star(n_points=5, inner=0.45):
    angles = np.pi / 2 + np.arange(2 * n_points) * np.pi / n_points
    radii = np.where(np.arange(2 * n_points) % 2 == 0, 1.0, inner)
    return np.stack([radii * np.cos(angles), radii * np.sin(angles)], axis=1)


_POLYGONS = {
    "triangle": np.array([[0.0, 1.0], [-0.87, -0.5], [0.87, -0.5]]),
    "rectangle": np.array([[-1.0, -0.6], [1.0, -0.6], [1.0, 0.6], [-1.0, 0.6]]),
    "star": _star(),
}


def _inside_polygon(px, py, polygon):
    """Even-odd rule point-in-polygon test on arrays of points."""
    inside = np.zeros(px.shape, dtype=bool)
    for (x0, y0), (x1, y1) in zip(polygon, np.roll(polygon, -1, axis=0)):
        crosses = (y0 > py) != (y1 > py)
        x_cross = x0 + (py - y0) * (x1 - x0) / np.where(y1 == y0, 1e-12, y1 - y0)
        inside ^= crosses & (px < x_cross)
    return inside


def draw_shape(kind, size=30, scale=0.3, center=(0.0, 0.0), angle=0.0, intensity=1.0,
               supersample=3):
    """Draws one anti-aliased filled shape on a black `size` x `size` image.

    Args:
        kind: one of `"circle"`, `"triangle"`, `"rectangle"`, `"star"`.
        size: image side in pixels.
        scale: shape radius as a fraction of the image side.
        center: shape centre in units of the image side, within [-0.5, 0.5].
        angle: rotation in radians.
        intensity: grey level of the shape, in (0, 1].
        supersample: sub-pixels per pixel side, for smooth edges.

    Returns:
        float32 image `(size, size)` in [0, 1].
    """
    if kind not in SHAPE_CLASSES:
        raise ValueError(f"kind must be one of {SHAPE_CLASSES}. Received: kind={kind!r}")
    n = size * supersample
    grid = (np.arange(n) + 0.5) / n - 0.5
    x, y = np.meshgrid(grid, -grid)
    x, y = (x - center[0]) / scale, (y - center[1]) / scale
    c, s = np.cos(angle), np.sin(angle)
    x, y = c * x + s * y, -s * x + c * y
    if kind == "circle":
        mask = x ** 2 + y ** 2 <= 1.0
    else:
        mask = _inside_polygon(x, y, _POLYGONS[kind])
    image = mask.reshape(size, supersample, size, supersample).mean(axis=(1, 3))
    return (intensity * image).astype("float32")


def _random_shapes(n, rng, size):
    labels = rng.integers(len(SHAPE_CLASSES), size=n)
    images = np.empty((n, size, size), dtype="float32")
    for i, label in enumerate(labels):
        scale = rng.uniform(0.22, 0.38)
        images[i] = draw_shape(
            SHAPE_CLASSES[label], size=size, scale=scale,
            center=rng.uniform(-0.45 + scale, 0.45 - scale, size=2),
            angle=rng.uniform(0, 2 * np.pi), intensity=rng.uniform(0.6, 1.0),
        )
    return images, labels.astype("int64")


def shapes(n_train=2000, n_test=500, size=30, seed=0):
    """Generates seeded grey images of circles, triangles, rectangles and stars.

    The lecture notes' (seed 003) toy data: one filled shape per image, with
    random size, position, rotation and grey level.

    Args:
        n_train: number of training images.
        n_test: number of test images.
        size: image side in pixels (30 in the lecture notes).
        seed: seed of the generator; the same seed gives the same images.

    Returns:
        A `Dataset` with classes `("circle", "triangle", "rectangle", "star")`.
    """
    for label, value in (("n_train", n_train), ("n_test", n_test), ("size", size)):
        if not (isinstance(value, int) and value > 0):
            raise ValueError(f"{label} must be a positive integer. Received: {label}={value!r}")
    if size < 12:
        raise ValueError(f"size must be at least 12 pixels to draw a shape. Received: size={size}")
    rng = np.random.default_rng(seed)
    x_train, y_train = _random_shapes(n_train, rng, size)
    x_test, y_test = _random_shapes(n_test, rng, size)
    return Dataset(x_train, y_train, x_test, y_test, SHAPE_CLASSES, "shapes")


LOADERS = {"fashion_mnist": fashion_mnist, "mnist": mnist, "digits": digits, "shapes": shapes}


def load(name, **kwargs):
    """Loads a dataset by name.

    Args:
        name: one of `"fashion_mnist"`, `"mnist"`, `"digits"`, `"shapes"`.
        **kwargs: passed to the loader (e.g. `n_train` for `shapes`).

    Returns:
        A `Dataset`.

    Example:

    >>> data = load("digits")
    >>> data.image_shape
    (8, 8)
    """
    if name not in LOADERS:
        raise ValueError(
            f"Unknown dataset. Expected one of {sorted(LOADERS)}. Received: name={name!r}"
        )
    return LOADERS[name](**kwargs)
