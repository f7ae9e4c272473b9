"""A chapter opened alone in a fresh Colab runtime runs top to bottom.

The test copies one chapter notebook alone into an empty folder and executes
it in fast mode with the kernel of a virtual environment that holds only what
a Colab runtime ships, at the oldest versions the package supports
(`tests/envs.py`: TensorFlow 2.19, Keras 3.10, JAX 0.5.3, what Colab shipped
in 2025), and no `aecourse`. The chapter's setup cell must install `aecourse`
itself: here from a copy of this checkout (`AECOURSE_INSTALL`), for readers
from the repository URL.

The environment is a new, empty overlay (`tests/envs.overlay_venv`) on the
cached floor environment of `tests/envs.py`, shared with `tests/test_floor.py`:
the setup cell installs `aecourse` into the overlay, and the floor environment
is left as it was, so the floor tests may run at the same time on another worker.
"""

import os
import shutil
import subprocess
import textwrap
import time

import pytest

from conftest import BOOK, ROOT, report
from envs import floor_venv, freeze, overlay_venv

pytestmark = [pytest.mark.book, pytest.mark.colab]

# Any chapter proves the setup cell; one with a short fast mode (book/_generated/runtimes.md).
CHAPTER = BOOK / "06_rbm_dbn.ipynb"


@pytest.fixture()
def colab_python(tmp_path):
    """The Python of a new overlay on the floor environment; checks the floor environment is left unchanged."""
    floor = floor_venv()
    before = freeze(floor)
    yield overlay_venv(floor, tmp_path / "colab-venv")
    assert freeze(floor) == before, "the Colab test changed the shared floor environment"


RUNNER = textwrap.dedent("""
    import sys, nbclient, nbformat
    notebook = nbformat.read(sys.argv[1], as_version=4)
    nbclient.NotebookClient(notebook, timeout=1200, kernel_name="python3",
                            resources={"metadata": {"path": sys.argv[2]}}).execute()
    nbformat.write(notebook, sys.argv[1])
""")


def test_chapter_runs_alone_in_a_colab_runtime(colab_python, tmp_path):
    python = colab_python
    assert subprocess.run([str(python), "-c", "import aecourse"], capture_output=True, cwd=tmp_path).returncode != 0
    # The package as the repository URL would give it: pyproject.toml, README.md and aecourse/.
    package = tmp_path / "aecourse-source"
    package.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, package / name)
    shutil.copytree(ROOT / "aecourse", package / "aecourse", ignore=shutil.ignore_patterns("__pycache__"))
    alone = tmp_path / "colab"
    alone.mkdir()
    shutil.copy(CHAPTER, alone / CHAPTER.name)

    # No KERAS_BACKEND, and a Keras home of its own: the setup cell picks the book's default, as on Colab.
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "VIRTUAL_ENV", "JUPYTER_PATH", "JUPYTER_CONFIG_DIR", "KERAS_BACKEND")}
    env.update(PATH=f"{python.parent}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(python.parents[1]),
               AECOURSE_FAST="1", AECOURSE_INSTALL=str(package), KERAS_HOME=str(tmp_path / "keras-home"),
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    start = time.perf_counter()
    result = subprocess.run([str(python), "-c", RUNNER, CHAPTER.name, str(alone)], cwd=alone, env=env,
                            capture_output=True, text=True)
    seconds = time.perf_counter() - start
    assert result.returncode == 0, result.stderr[-6000:]
    report(f"{CHAPTER.name} ran alone in the Colab-like environment (fast mode) in {seconds:.0f} s")

    # The setup cell installed aecourse into the environment the kernel ran in, not elsewhere.
    where = subprocess.run([str(python), "-c", "import aecourse; print(aecourse.__file__)"],
                           capture_output=True, text=True, env=env, cwd=alone)
    assert where.returncode == 0 and str(python.parents[1]) in where.stdout, where.stdout + where.stderr
    import nbformat

    executed = nbformat.read(alone / CHAPTER.name, as_version=4)
    errors = [output for cell in executed.cells if cell.cell_type == "code"
              for output in cell.outputs if output.output_type == "error"]
    assert not errors, errors
    setup_line = "".join(output.get("text", "") for output in executed.cells[2].outputs)
    assert "backend jax (the book's default" in setup_line, setup_line
    checks = [cell for cell in executed.cells if "check" in cell.metadata.get("tags", [])]
    assert checks and all("\u2714" in "".join(o.get("text", "") for o in cell.outputs) for cell in checks)
