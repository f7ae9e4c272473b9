import gzip
import pathlib

import numpy as np
import pytest

from aecourse import data


def _write_idx(path, array):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


def _fake_fashion_folder(folder, n_train=6, n_test=4):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 28, 28)), "y_train": rng.integers(0, 10, n_train),
        "x_test": rng.integers(0, 256, (n_test, 28, 28)), "y_test": rng.integers(0, 10, n_test),
    }
    for key, name in data.IDX_FILES.items():
        _write_idx(folder / name, arrays[key])
    return arrays


@pytest.fixture
def no_system_data(monkeypatch, tmp_path):
    """Points every Fashion-MNIST location at empty folders."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setattr(data, "SYSTEM_FASHION_MNIST", tmp_path / "system")
    monkeypatch.delenv("AECOURSE_DATA", raising=False)
    return tmp_path


def test_fashion_mnist_real_files():
    fashion = data.fashion_mnist()
    assert fashion.x_train.shape == (60000, 28, 28) and fashion.x_test.shape == (10000, 28, 28)
    assert fashion.x_train.dtype == np.float32
    assert 0.0 <= fashion.x_train.min() and fashion.x_train.max() == 1.0
    assert set(np.unique(fashion.y_test)) == set(range(10))
    assert fashion.class_names[9] == "Ankle boot"


def test_fashion_mnist_lookup_order(no_system_data, monkeypatch):
    keras_arrays = _fake_fashion_folder(no_system_data / "keras_home" / "datasets" / "fashion-mnist")
    _fake_fashion_folder(no_system_data / "system", n_train=3)
    fashion = data.fashion_mnist()
    np.testing.assert_allclose(fashion.x_train, keras_arrays["x_train"] / 255.0, rtol=1e-6)


def test_fashion_mnist_from_aecourse_data(no_system_data, monkeypatch):
    arrays = _fake_fashion_folder(no_system_data / "mine" / "fashion-mnist")
    monkeypatch.setenv("AECOURSE_DATA", str(no_system_data / "mine"))
    fashion = data.fashion_mnist()
    np.testing.assert_array_equal(fashion.y_test, arrays["y_test"])


def test_fashion_mnist_missing_names_every_fix(no_system_data, monkeypatch):
    import keras

    def offline():
        raise OSError("network unreachable")

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", offline)
    with pytest.raises(data.DatasetNotFoundError) as error:
        data.fashion_mnist()
    message = str(error.value)
    for fix in ("apt-get install dataset-fashion-mnist", "AECOURSE_DATA", "keras.datasets", "network unreachable",
                data.FASHION_MNIST_URL, "macOS", "Fashion-MNIST off Debian"):
        assert fix in message


def test_readme_documents_the_path_off_debian():
    """The README section the error message names exists and gives the same fixes."""
    readme = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## Fashion-MNIST off Debian", 1)[1].split("\n## ", 1)[0]
    for fix in ("AECOURSE_DATA", "keras.datasets.fashion_mnist.load_data()", data.FASHION_MNIST_URL, "macOS"):
        assert fix in section


def test_fashion_mnist_download_mocked(no_system_data, monkeypatch):
    """Off Debian, with nothing on disk, the loader falls back on keras.datasets."""
    import keras

    rng = np.random.default_rng(1)
    arrays = ((rng.integers(0, 256, (5, 28, 28)), rng.integers(0, 10, 5)),
              (rng.integers(0, 256, (3, 28, 28)), rng.integers(0, 10, 3)))
    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", lambda: arrays)
    fashion = data.fashion_mnist()
    np.testing.assert_allclose(fashion.x_train, arrays[0][0] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(fashion.y_test, arrays[1][1])


def test_mnist_download_mocked(no_system_data, monkeypatch):
    import keras

    rng = np.random.default_rng(0)
    fake = ((rng.integers(0, 256, (5, 28, 28), dtype=np.uint8), np.arange(5)),
            (rng.integers(0, 256, (2, 28, 28), dtype=np.uint8), np.arange(2)))
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda: fake)
    mnist = data.mnist()
    assert mnist.x_train.shape == (5, 28, 28) and mnist.class_names[3] == "3"
    np.testing.assert_allclose(mnist.x_test, fake[1][0] / 255.0, rtol=1e-6)


def test_mnist_download_failure_is_clear(no_system_data, monkeypatch):
    import keras

    def offline():
        raise ConnectionError("no route to host")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(data.DatasetNotFoundError, match="mnist.npz") as error:
        data.mnist()
    assert "no Debian package" in str(error.value)


def test_mnist_from_npz(no_system_data, monkeypatch):
    folder = no_system_data / "mine"
    folder.mkdir()
    np.savez(folder / "mnist.npz", x_train=np.zeros((3, 28, 28), np.uint8), y_train=np.arange(3),
             x_test=np.full((2, 28, 28), 255, np.uint8), y_test=np.arange(2))
    monkeypatch.setenv("AECOURSE_DATA", str(folder))
    assert data.mnist().x_test.max() == 1.0


def test_digits_split_and_scale():
    digits = data.digits()
    assert digits.x_train.shape == (1437, 8, 8) and digits.x_test.shape == (360, 8, 8)
    assert digits.x_train.max() == 1.0 and digits.x_train.min() == 0.0
    assert data.digits(seed=0).y_test.tolist() == digits.y_test.tolist()
    with pytest.raises(ValueError, match="test_size"):
        data.digits(test_size=0)


def test_shapes_are_seeded_and_labelled():
    a, b = data.shapes(20, 5, seed=3), data.shapes(20, 5, seed=3)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert a.x_train.shape == (20, 30, 30) and a.class_names == data.SHAPE_CLASSES
    assert not np.array_equal(a.x_train, data.shapes(20, 5, seed=4).x_train)
    assert 0 <= a.x_train.min() and a.x_train.max() <= 1
    assert (a.x_train.reshape(20, -1).max(axis=1) > 0.5).all()  # every image holds a shape


def test_draw_shape_areas():
    circle = data.draw_shape("circle", size=60, scale=0.3)
    rectangle = data.draw_shape("rectangle", size=60, scale=0.3)
    np.testing.assert_allclose(circle.sum() / 60 ** 2, np.pi * 0.3 ** 2, rtol=0.02)
    # the rectangle spans [-1, 1] x [-0.6, 0.6] in units of the scale
    np.testing.assert_allclose(rectangle.sum() / 60 ** 2, 2.0 * 1.2 * 0.3 ** 2, rtol=0.03)
    with pytest.raises(ValueError, match="kind"):
        data.draw_shape("hexagon")


def test_load_dispatch_and_unknown_name():
    assert data.load("shapes", n_train=4, n_test=2).x_test.shape == (2, 30, 30)
    with pytest.raises(ValueError, match="Expected one of"):
        data.load("cifar10")


def test_helpers():
    np.testing.assert_allclose(data.scale_pixels(np.array([0, 255])), [0, 1])
    with pytest.raises(ValueError, match="max_value"):
        data.scale_pixels(np.array([300]))
    assert data.flatten(np.zeros((3, 28, 28))).shape == (3, 784)
    with pytest.raises(ValueError, match="batch"):
        data.flatten(np.zeros(5))
    np.testing.assert_array_equal(data.binarize(np.array([0.2, 0.5, 0.9])), [0, 0, 1])
    sampled = data.binarize(np.full(10000, 0.3), seed=0)
    assert set(np.unique(sampled)) == {0.0, 1.0} and abs(sampled.mean() - 0.3) < 0.02
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        data.binarize(np.array([2.0]))


def test_subset():
    small = data.digits().subset(n_train=10, n_test=5)
    assert small.x_train.shape[0] == 10 and small.y_test.shape == (5,)
    with pytest.raises(ValueError, match="n_train"):
        data.digits().subset(n_train=10 ** 6)


def test_read_idx_rejects_bad_files(tmp_path):
    bad = tmp_path / "bad.gz"
    with gzip.open(bad, "wb") as handle:
        handle.write(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="magic"):
        data.read_idx(bad)
