"""The oldest Keras and backends `aecourse` supports, checked when it is imported.

Colab and other hosted runtimes ship their own Keras and TensorFlow, not the
pins in `requirements.txt`. The package is tested on the pins and on the
floor below (`tests/test_floor.py`); on anything older, `import aecourse`
stops with an error that names the installed version, the minimum and the
command that fixes it, instead of giving wrong numbers later.

The floor is what Colab shipped through 2025: TensorFlow 2.19, Keras 3.10 and
JAX 0.5.3. The PyTorch backend is tested with the torch of `requirements.txt`.
"""

import importlib.metadata
import importlib.util
import json
import os
import pathlib
import re

MINIMUM = {"keras": "3.10.0", "tensorflow": "2.19.0", "jax": "0.5.3"}


def version_tuple(version):
    """The leading numeric part of a version string, as a tuple of ints.

    Args:
        version: a version string such as `"3.10.0"`, `"2.19.0rc1"` or `"2.13.0+cpu"`.

    Returns:
        Tuple of ints, e.g. `(3, 10, 0)`.

    Example:

    >>> version_tuple("2.13.0+cpu")
    (2, 13, 0)
    """
    match = re.match(r"\d+(\.\d+)*", str(version))
    if match is None:
        raise ValueError(f"version must start with a number, like 3.10.0. Received: version={version!r}")
    return tuple(int(part) for part in match.group(0).split("."))


def keras_backend_name():
    """The backend Keras will load, read as Keras reads it, without importing Keras.

    `$KERAS_BACKEND` if set, else the `backend` of `keras.json` in `$KERAS_HOME`
    (default `~/.keras`), else `"tensorflow"`.
    """
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    home = pathlib.Path(os.environ.get("KERAS_HOME", pathlib.Path.home() / ".keras"))
    try:
        return json.loads((home / "keras.json").read_text()).get("backend", "tensorflow")
    except (OSError, ValueError):
        return "tensorflow"


DEFAULT_BACKEND = "jax"
"""The backend the book runs on unless the reader chose one: on a 2-core CPU it executes chapter 1
in full mode in 163 s against TensorFlow's 246 s (`benchmarks/results/backends.md`)."""


def choose_backend():
    """Selects the book's default backend (`DEFAULT_BACKEND`) unless the reader chose one.

    The reader's choice wins: `$KERAS_BACKEND`, or a `keras.json` backend other
    than the `"tensorflow"` Keras writes there by itself. Keras already imported
    keeps its backend (it cannot change). Without JAX installed nothing changes.
    Sets `$KERAS_BACKEND`, so it must run before Keras is imported; `import
    aecourse` calls it.

    Returns:
        The backend Keras will load (or has loaded).
    """
    import sys

    if "keras" in sys.modules:
        return sys.modules["keras"].backend.backend()
    chosen = keras_backend_name()
    if os.environ.get("KERAS_BACKEND") or chosen != "tensorflow":
        return chosen
    if importlib.util.find_spec(DEFAULT_BACKEND) is None:
        return chosen
    os.environ["KERAS_BACKEND"] = DEFAULT_BACKEND
    return DEFAULT_BACKEND


def check_versions(installed=None, backend=None):
    """Raises an `ImportError` when Keras or its backend is older than `MINIMUM`.

    Checks Keras and the package of the backend Keras will load (TensorFlow or
    JAX; other backends have no floor here).

    Args:
        installed: function from a distribution name to its version string
            (default `importlib.metadata.version`); tests pass their own.
        backend: backend name (default: `keras_backend_name()`).

    Raises:
        ImportError: naming the installed version, the minimum and the fix.
    """
    installed = installed or importlib.metadata.version
    backend = backend or keras_backend_name()
    for name in ["keras"] + [backend] * (backend in MINIMUM):
        try:
            version = installed(name)
        except importlib.metadata.PackageNotFoundError:
            raise ImportError(
                f"aecourse needs {name} >= {MINIMUM[name]}, and {name} is not installed. "
                f"Fix: pip install -U {name}"
            ) from None
        if version_tuple(version) < version_tuple(MINIMUM[name]):
            raise ImportError(
                f"aecourse needs {name} >= {MINIMUM[name]}; this environment has {name} {version}. "
                f"Fix: pip install -U {name} (on Colab, then restart the runtime: "
                "Runtime > Restart session)."
            )
