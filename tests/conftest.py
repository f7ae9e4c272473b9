"""Shared test set-up: quiet logs, the repository root, a seeded backend."""

import pathlib

import pytest

import aecourse  # noqa: F401  (silences TensorFlow's logs before keras is imported)

ROOT = pathlib.Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
CHAPTERS = sorted(BOOK.glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(autouse=True)
def _seeded():
    import keras

    keras.utils.set_random_seed(1234)
    yield
