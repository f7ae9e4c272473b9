"""Cached virtual environments for the tests that run the package outside the pinned venv.

Two tests need an environment other than `.venv`: the Colab standalone test
(`tests/test_colab.py`) and the floor check (`tests/test_floor.py`). Both use
`floor_venv()`: what a Colab runtime ships that the chapters use (TensorFlow,
Keras, JAX, matplotlib, scikit-image, PyWavelets, scikit-learn, NumPy, SciPy,
and ipykernel/nbclient to run a notebook) at the **oldest versions the package supports**
(`aecourse.compat.MINIMUM`, what Colab shipped in 2025), plus pytest, pytest-xdist, nbval
and PyYAML to run the tests there (on two workers). `aecourse` itself is not installed in it,
and no test installs anything into it: the floor tests import `aecourse` from this
checkout (`PYTHONPATH`), and the Colab test installs it into an `overlay_venv()` of its own.

It is cached in `~/.cache/aecourse/` (or `$AECOURSE_CACHE`) under a name that
hashes the Python version and the requirements; it is made again when the
requirements change or its installed packages no longer match the list
recorded when it was made. Other packages take their version from
requirements.txt where it pins them, so only what the floor forces (NumPy and
TensorFlow's own dependencies) differs from the pinned environment. A file lock
lets tests on several pytest-xdist workers ask for it at once: one makes it, the others wait.
A floor environment of other requirements (another checkout's) is removed only once it
has not been used for `STALE_AFTER_S`, so two checkouts can test at the same time.
"""

import fcntl
import hashlib
import os
import pathlib
import shutil
import subprocess
import sys
import time

from conftest import ROOT, report

from aecourse.compat import MINIMUM

# Pinned as in requirements.txt: what the chapters import besides the backends, and what runs the tests.
PINNED = ["matplotlib", "scikit-image", "PyWavelets", "scikit-learn", "scipy", "ipykernel", "nbclient", "nbformat",
          "pytest", "pytest-xdist", "nbval", "PyYAML"]

# A floor environment of other requirements unused for this long is removed when one is made.
STALE_AFTER_S = 7 * 24 * 3600


def _name(requirement):
    return requirement.split("==")[0].strip().lower().replace("_", "-")


def pins():
    """`{normalized name: "name==version"}` from requirements.txt."""
    lines = (line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines())
    return {_name(line): line for line in lines if "==" in line}


def floor_requirements():
    """The floor venv's requirements: the backends at `MINIMUM`, the rest as requirements.txt pins them."""
    pinned = pins()
    missing = [name for name in PINNED if _name(name) not in pinned]
    assert not missing, f"requirements.txt pins none of {missing}"
    floor = [f"{name}=={version}" for name, version in MINIMUM.items()] + [f"jaxlib=={MINIMUM['jax']}"]
    return floor + [pinned[_name(name)] for name in PINNED]


def freeze(python):
    """`pip freeze --all` of an environment, sorted."""
    result = subprocess.run([str(python), "-m", "pip", "freeze", "--all"], capture_output=True, text=True, check=True)
    return sorted(result.stdout.splitlines())


def recorded_freeze(python):
    """The `freeze()` recorded when the environment of `python` was made by `floor_venv()`."""
    return pathlib.Path(python).parents[1].joinpath("freeze.txt").read_text().splitlines()


def floor_venv():
    """The Python of the cached floor environment, made (and timed) when missing or stale."""
    requirements = floor_requirements()
    key = hashlib.sha256("\n".join([sys.version, *requirements]).encode()).hexdigest()[:12]
    cache = pathlib.Path(os.environ.get("AECOURSE_CACHE", pathlib.Path.home() / ".cache" / "aecourse"))
    cache.mkdir(parents=True, exist_ok=True)
    venv = cache / f"floor-venv-{key}"
    python = venv / "bin" / "python"
    record = venv / "freeze.txt"
    with open(cache / "floor-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if record.is_file() and freeze(python) == recorded_freeze(python):
            venv.touch()  # marks it used (see STALE_AFTER_S)
            report(f"reused the floor environment {venv}")
            return python
        for old in cache.glob("floor-venv-*"):
            if old == venv or time.time() - old.stat().st_mtime > STALE_AFTER_S:
                shutil.rmtree(old, ignore_errors=True)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        result = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                                 *requirements], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr[-4000:]
        record.write_text("\n".join(freeze(python)) + "\n")
        report(f"made the floor environment {venv} ({', '.join(requirements[:4])}) "
               f"in {time.perf_counter() - start:.0f} s")
        return python


def overlay_venv(base_python, path):
    """A new, empty virtual environment at `path` that sees the packages of `base_python`'s.

    What is installed into it (`python -m pip install ...`, with the base's pip) lands in
    it, not in the base environment; made in well under a second, unlike a copy.

    Returns:
        The overlay's Python.
    """
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    python = pathlib.Path(path) / "bin" / "python"
    paths = {}
    for name, interpreter in (("base", base_python), ("overlay", python)):
        paths[name] = subprocess.run([str(interpreter), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                     capture_output=True, text=True, check=True).stdout.strip()
    # An import line, not a path line: `site.addsitedir` also runs the base's own .pth files.
    pathlib.Path(paths["overlay"], "_base_environment.pth").write_text(f"import site; site.addsitedir({paths['base']!r})\n")
    return python
