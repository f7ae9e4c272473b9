"""Shared test set-up: quiet logs, the repository root, a seeded backend."""

import pathlib

import pytest
import yaml

import aecourse  # noqa: F401  (silences TensorFlow's logs before keras is imported)

ROOT = pathlib.Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"


def _toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [entry["file"] for part in toc["parts"] for entry in part["chapters"]]


# The chapters the book publishes, in order: the notebooks listed in _toc.yml.
CHAPTERS = [ROOT / f"{name}.ipynb" for name in _toc_files() if (ROOT / f"{name}.ipynb").is_file()]


@pytest.fixture(autouse=True)
def _seeded():
    import keras

    keras.utils.set_random_seed(1234)
    yield
