"""Shared test set-up: quiet logs, the repository root, a seeded backend."""

import pathlib

import pytest
import yaml

import aecourse  # noqa: F401  (picks the backend and silences TensorFlow's logs before keras is imported)

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


def pytest_configure(config):
    """Stops a `--dist loadgroup` run that pytest-xdist cannot group on this pytest.

    Tests marked `xdist_group` share an expensive fixture (a site build, a graded
    corpus). pytest-xdist groups them by rewriting a test's private `_nodeid`;
    pytest 9.2 no longer reads it, so the grouping silently does nothing and every
    worker builds the fixture again.
    """
    if getattr(config.option, "dist", "no") != "loadgroup":
        return
    from _pytest.nodes import Node

    probe = object.__new__(Node)  # a bare node: what xdist rewrites, without collecting anything
    probe._nodeid = "probe@group"
    try:
        grouped = probe.nodeid == "probe@group"
    except AttributeError:
        grouped = False
    if not grouped:
        raise pytest.UsageError(f"pytest {pytest.__version__} breaks pytest-xdist's --dist loadgroup (tests "
                                "of one xdist_group would run on several workers): "
                                "pip install -r requirements.txt installs the pytest it pins")


# --- Shared by the site tests (tests/test_book_build.py, tests/test_site.py) ---

# Lines the tests want shown at the end of the run (timings, artifact folders).
_REPORT = []


def report(line):
    """Prints `line` now and again in an "aecourse" section after the test summary."""
    _REPORT.append(line)
    print(line)


def pytest_terminal_summary(terminalreporter):
    if _REPORT:
        terminalreporter.section("aecourse")
        for line in _REPORT:
            terminalreporter.write_line(line)


def build_book(out, config=None):
    """Builds the book strictly (`-W -n --keep-going`) into `out`; returns `out/_build/html`.

    Args:
        out: the `--path-output` folder.
        config: a Jupyter Book configuration to use instead of `_config.yml`.
    """
    import os
    import subprocess
    import sys
    import time

    jupyter_book = pathlib.Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book), "build", str(ROOT), "--path-output", str(out), "-W", "-n", "--keep-going"]
    if config is not None:
        command += ["--config", str(config)]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True,
                            env=dict(os.environ, KERAS_BACKEND="tensorflow"))
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-3000:]
    report(f"built {'the book' if config is None else config} in {time.perf_counter() - start:.0f} s")
    return pathlib.Path(out) / "_build" / "html"


@pytest.fixture(scope="session")
def built_site(tmp_path_factory):
    """The book built once per session, strictly, in a temporary folder; returns its `_build/html`.

    `AECOURSE_BUILT_SITE=path/to/_build/html` reuses a site built before
    (only to iterate on the site tests quickly).
    """
    import os

    if os.environ.get("AECOURSE_BUILT_SITE"):
        return pathlib.Path(os.environ["AECOURSE_BUILT_SITE"])
    return build_book(tmp_path_factory.mktemp("site"))
