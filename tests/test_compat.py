"""The supported floor: `import aecourse` refuses Keras or a backend older than it, with the fix."""

import importlib
import importlib.metadata
import json

import pytest

import aecourse
from aecourse import compat


def _versions(**versions):
    def installed(name):
        if name not in versions:
            raise importlib.metadata.PackageNotFoundError(name)
        return versions[name]
    return installed


def test_version_tuple():
    assert compat.version_tuple("3.10.0") == (3, 10, 0)
    assert compat.version_tuple("2.13.0+cpu") == (2, 13, 0)
    assert compat.version_tuple("2.19.0rc1") == (2, 19, 0)
    assert compat.version_tuple("3.9.2") < compat.version_tuple("3.10.0")
    with pytest.raises(ValueError, match="Received: version="):
        compat.version_tuple("latest")


def test_floor_and_newer_versions_pass():
    compat.check_versions(_versions(keras="3.10.0", tensorflow="2.19.0"), backend="tensorflow")
    compat.check_versions(_versions(keras="3.15.1", jax="0.10.2"), backend="jax")
    compat.check_versions(_versions(keras="3.10.0", torch="2.13.0+cpu"), backend="torch")


@pytest.mark.parametrize("versions, backend, name, old", [
    ({"keras": "3.8.0", "tensorflow": "2.19.0"}, "tensorflow", "keras", "3.8.0"),
    ({"keras": "3.10.0", "tensorflow": "2.18.1"}, "tensorflow", "tensorflow", "2.18.1"),
    ({"keras": "3.12.0", "jax": "0.4.38"}, "jax", "jax", "0.4.38"),
])
def test_older_versions_are_refused_with_the_minimum_and_the_fix(versions, backend, name, old):
    with pytest.raises(ImportError) as error:
        compat.check_versions(_versions(**versions), backend=backend)
    message = str(error.value)
    assert f"{name} {old}" in message and f">= {compat.MINIMUM[name]}" in message
    assert f"pip install -U {name}" in message


def test_missing_keras_is_refused():
    with pytest.raises(ImportError, match="keras is not installed.*pip install -U keras"):
        compat.check_versions(_versions(tensorflow="2.21.0"), backend="tensorflow")


def test_import_aecourse_on_old_keras_raises(monkeypatch):
    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version", lambda name: "3.9.2" if name == "keras" else real(name))
    with pytest.raises(ImportError, match=r"keras >= 3\.10\.0; this environment has keras 3\.9\.2.*pip install -U keras"):
        importlib.reload(aecourse)


def test_backend_is_read_like_keras(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    assert compat.keras_backend_name() == "jax"
    monkeypatch.delenv("KERAS_BACKEND")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert compat.keras_backend_name() == "tensorflow"
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "torch"}))
    assert compat.keras_backend_name() == "torch"


@pytest.fixture
def keras_not_imported(monkeypatch, tmp_path):
    """A process state as before `import keras`: no KERAS_BACKEND, an empty KERAS_HOME."""
    import sys

    monkeypatch.delitem(sys.modules, "keras")
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    return tmp_path


def test_default_backend_is_chosen_when_the_reader_chose_none(keras_not_imported):
    assert compat.choose_backend() == compat.DEFAULT_BACKEND == "jax"
    assert compat.os.environ["KERAS_BACKEND"] == "jax"


def test_default_backend_replaces_the_tensorflow_keras_writes_by_itself(keras_not_imported):
    (keras_not_imported / "keras.json").write_text(json.dumps({"backend": "tensorflow"}))
    assert compat.choose_backend() == "jax"


@pytest.mark.parametrize("how", ["environment", "keras.json"])
def test_the_readers_backend_wins(keras_not_imported, monkeypatch, how):
    if how == "environment":
        monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    else:
        (keras_not_imported / "keras.json").write_text(json.dumps({"backend": "torch"}))
    expected = "tensorflow" if how == "environment" else "torch"
    assert compat.choose_backend() == expected
    assert compat.os.environ.get("KERAS_BACKEND") == (expected if how == "environment" else None)


def test_without_jax_the_backend_is_left_alone(keras_not_imported, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "jax" else real(name, *a))
    assert compat.choose_backend() == "tensorflow"
    assert "KERAS_BACKEND" not in compat.os.environ


def test_keras_already_imported_keeps_its_backend(monkeypatch):
    import keras

    monkeypatch.setenv("KERAS_BACKEND", "not-a-backend")
    assert compat.choose_backend() == keras.backend.backend()
