"""A chapter opened alone in a fresh Colab runtime runs top to bottom.

The test copies one chapter notebook alone into an empty folder and executes
it in fast mode with the kernel of a virtual environment that holds only what
a Colab runtime ships (TensorFlow, Keras, matplotlib, scikit-learn, NumPy,
SciPy, and ipykernel/nbclient to run it), pinned as in requirements.txt, and
no `aecourse`. The chapter's setup cell must install `aecourse` itself: here
from a copy of this checkout (`AECOURSE_INSTALL`), for readers from the
repository URL.

The environment is cached in `~/.cache/aecourse/` (or `$AECOURSE_CACHE`)
under a name that hashes the Python version and the pins of those packages;
it is made again when one of its packages is no longer the version
requirements.txt pins. Before each run `aecourse` is uninstalled and the
installed packages are compared with the list recorded when it was made.
"""

import hashlib
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import BOOK, ROOT, report

pytestmark = [pytest.mark.book, pytest.mark.colab]

CHAPTER = BOOK / "01_undercomplete.ipynb"
# What a Colab runtime ships that the chapters use, plus what runs a notebook.
COLAB_PACKAGES = ["tensorflow", "keras", "matplotlib", "scikit-learn", "numpy", "scipy", "ipykernel", "nbclient"]


def _name(requirement):
    return requirement.split("==")[0].strip().lower().replace("_", "-")


def _pins():
    """`{normalized name: "name==version"}` from requirements.txt."""
    lines = (line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines())
    return {_name(line): line for line in lines if "==" in line}


def _freeze(python):
    result = subprocess.run([str(python), "-m", "pip", "freeze", "--all"], capture_output=True, text=True, check=True)
    return sorted(line for line in result.stdout.splitlines() if not line.lower().startswith("aecourse"))


def _make_venv(venv):
    pins = _pins()
    missing = [name for name in COLAB_PACKAGES if name not in pins]
    assert not missing, f"requirements.txt pins none of {missing}"
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    # requirements.txt as constraints: the packages' own dependencies get the same pins too.
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    "-c", str(ROOT / "requirements.txt"), *(pins[name] for name in COLAB_PACKAGES)],
                   check=True, capture_output=True, text=True)
    (venv / "freeze.txt").write_text("\n".join(_freeze(python)) + "\n")


@pytest.fixture(scope="session")
def colab_python():
    """The Python of the Colab-like environment, made (and timed) when it is missing or stale."""
    pins = _pins()
    wanted = "\n".join([sys.version] + [pins.get(name, name) for name in COLAB_PACKAGES])
    key = hashlib.sha256(wanted.encode()).hexdigest()[:12]
    cache = pathlib.Path(os.environ.get("AECOURSE_CACHE", pathlib.Path.home() / ".cache" / "aecourse"))
    venv = cache / f"colab-venv-{key}"
    python = venv / "bin" / "python"
    recorded = (venv / "freeze.txt").read_text().split() if (venv / "freeze.txt").is_file() else None
    if recorded is not None:  # honest: no aecourse before the run, nothing changed since it was made
        subprocess.run([str(python), "-m", "pip", "uninstall", "-q", "-y", "aecourse"], capture_output=True)
    stale = recorded is None or _freeze(python) != recorded or any(  # or no longer what requirements.txt pins
        pins.get(_name(line), line).split("==")[1] != line.split("==")[1] for line in recorded if "==" in line)
    if stale:
        for old in cache.glob("colab-venv-*"):
            shutil.rmtree(old, ignore_errors=True)
        start = time.perf_counter()
        _make_venv(venv)
        report(f"made the Colab-like environment {venv} in {time.perf_counter() - start:.0f} s")
    else:
        report(f"reused the Colab-like environment {venv}")
    yield python
    subprocess.run([str(python), "-m", "pip", "uninstall", "-q", "-y", "aecourse"], capture_output=True)


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

    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "VIRTUAL_ENV", "JUPYTER_PATH", "JUPYTER_CONFIG_DIR")}
    env.update(PATH=f"{python.parent}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(python.parents[1]),
               AECOURSE_FAST="1", AECOURSE_INSTALL=str(package), KERAS_BACKEND="tensorflow",
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
    checks = [cell for cell in executed.cells if "check" in cell.metadata.get("tags", [])]
    assert checks and all("\u2714" in "".join(o.get("text", "") for o in cell.outputs) for cell in checks)
