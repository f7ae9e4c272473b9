"""The package on the oldest TensorFlow, Keras and JAX it supports (what Colab shipped in 2025).

Runs, in the cached floor environment of `tests/envs.py` (`aecourse` taken
from this checkout through `PYTHONPATH`):

- the package tests (`-m "not book"`) on TensorFlow: the only run of the
  package tests on TensorFlow in `make test` (JAX and PyTorch run them in the
  pinned environment);
- nbval in fast mode over every chapter (`tests/test_chapters.py`'s nbval
  test, run by the floor environment's Python), the check cells included, on
  JAX: the backend a Colab learner's setup cell picks;
- the backend-sensitive package tests on JAX (penalties, seeding, the floor
  check, Jacobians, gradients): the rest of the package tests run on JAX in the pinned
  environment, and the floor adds nothing backend-specific to them.

The Colab standalone test (`tests/test_colab.py`) runs in an overlay on the
same environment, which it leaves unchanged, so these tests may run beside it.
"""

import os
import re
import subprocess

import pytest

from conftest import ROOT, report
from envs import floor_venv

pytestmark = [pytest.mark.book, pytest.mark.floor]

JAX_TESTS = ["tests/test_regularizers.py", "tests/test_runtime_reporting_plotting.py", "tests/test_compat.py",
             "tests/test_jacobian.py", "tests/test_autodiff.py"]


@pytest.fixture(scope="module")
def floor_python():
    return floor_venv()


def _pytest(python, backend, *args):
    env = {key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV", "AECOURSE_FAST")}
    env.update(PYTHONPATH=str(ROOT), KERAS_BACKEND=backend, PATH=f"{python.parent}{os.pathsep}{env['PATH']}")
    result = subprocess.run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
                            cwd=ROOT, env=env, capture_output=True, text=True)
    summary = (result.stdout.strip().splitlines() or ["(no output)"])[-1]
    return result, summary


def _check(result, summary, what):
    report(f"floor environment, {what}: {summary}")
    assert result.returncode == 0 and re.search(r"\d+ passed", summary), result.stdout[-8000:] + result.stderr[-3000:]


@pytest.mark.parametrize("backend, what, args", [
    ("tensorflow", "package tests on TensorFlow", ["-n", "2", "--dist", "loadgroup", "-m", "not book", "tests"]),
    ("jax", "backend-sensitive package tests on JAX", JAX_TESTS),
    ("jax", "nbval over every chapter in fast mode", ["-n", "2", "tests/test_chapters.py", "-k", "nbval_in_fast_mode"]),
])
def test_floor_environment(floor_python, backend, what, args):
    _check(*_pytest(floor_python, backend, *args), what)


def test_floor_environment_is_the_floor(floor_python):
    from aecourse.compat import MINIMUM

    code = "import keras, tensorflow, jax; print(keras.__version__, tensorflow.__version__, jax.__version__)"
    versions = subprocess.run([str(floor_python), "-c", code], capture_output=True, text=True, check=True,
                              env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")).stdout.split()
    assert versions == [MINIMUM["keras"], MINIMUM["tensorflow"], MINIMUM["jax"]]
