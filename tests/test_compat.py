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
