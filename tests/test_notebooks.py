"""Tests of aecourse.course.notebooks: module scan, source hash, log stripping, run-time table."""

import nbformat
import pytest

from aecourse.course import notebooks


def _notebook(*sources):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def test_used_modules_follows_imports_transitively():
    modules = notebooks.used_modules(_notebook("from aecourse.checks import ch1 as checks"))
    # ch1 imports aecourse.linear and aecourse.checks; the package __init__ is always used.
    assert {"__init__.py", "checks/__init__.py", "checks/ch1.py", "linear.py"} <= set(modules)
    assert "models.py" not in modules


def test_used_modules_reads_plain_and_from_imports():
    modules = notebooks.used_modules(_notebook("import aecourse.data", "from aecourse import plotting, runtime"))
    assert {"data.py", "plotting.py", "runtime.py"} <= set(modules)


def test_source_hash_changes_with_the_module_list():
    assert notebooks.source_hash(["data.py"]) == notebooks.source_hash(["data.py"])
    assert notebooks.source_hash(["data.py"]) != notebooks.source_hash(["data.py", "linear.py"])


def test_strip_log_spam_keeps_real_output():
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stderr", text=(
            "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
            "I0000 00:00:1700000000.123456   123 cuda_executor.cc:1015] could not open file\n")),
        nbformat.v4.new_output("stream", name="stdout", text="Keras 3, backend tensorflow\n"),
    ]
    notebook = notebooks.strip_log_spam(nbformat.v4.new_notebook(cells=[cell]))
    assert [o.text for o in notebook.cells[0].outputs] == ["Keras 3, backend tensorflow\n"]


def test_execute_rejects_a_path_that_is_not_a_notebook(tmp_path):
    with pytest.raises(ValueError, match="existing .ipynb"):
        notebooks.execute(tmp_path / "missing.ipynb")


def test_retime_fast_refuses_a_stale_chapter(tmp_path):
    path = tmp_path / "01_x.ipynb"
    cell = nbformat.v4.new_code_cell("from aecourse import runtime")
    notebook = nbformat.v4.new_notebook(cells=[cell])
    notebook.metadata["aecourse"] = {"mode": "full", "source_hash": "from-older-modules"}
    nbformat.write(notebook, path)
    with pytest.raises(ValueError, match="python -m aecourse execute"):
        notebooks.retime_fast(path)
    assert nbformat.read(path, as_version=4).metadata["aecourse"]["source_hash"] == "from-older-modules"


def _chapter(path, title, stamp):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"# {title}\n\nText.")])
    notebook.metadata["aecourse"] = stamp
    nbformat.write(notebook, path)


def test_runtime_table_lists_every_chapter(tmp_path):
    _chapter(tmp_path / "01_a.ipynb", "First", {
        "runtime_full_s": 150.2, "runtime_fast_s": 40.0, "machine": "2 cores, x86_64, Python 3.11.7",
        "backend": "tensorflow", "keras_version": "3.15.1", "executed": "2026-11-23"})
    _chapter(tmp_path / "02_b.ipynb", "Second", {})
    table = notebooks.runtime_table(tmp_path)
    assert "| First | 150 s | 40 s | 2 cores, x86_64, Python 3.11.7, tensorflow (Keras 3.15.1) | 2026-11-23 |" in table
    assert "| Second | not yet run |" in table
    target = notebooks.write_runtime_table(tmp_path)
    assert target.read_text() == table


def test_cli_rejects_a_missing_notebook(capsys):
    from aecourse.course.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["execute", "book/99_missing.ipynb"])
    assert exit_info.value.code == 2
    assert "existing .ipynb" in capsys.readouterr().err


def test_imported_names_resolves_relative_imports():
    assert notebooks._imported_names("from . import ch1\nfrom .. import data\nimport numpy", "aecourse.checks") == {
        "aecourse.checks", "aecourse.checks.ch1", "aecourse", "aecourse.data"}
    assert notebooks._imported_names("from .linear import pca_basis", "aecourse") == {
        "aecourse.linear", "aecourse.linear.pca_basis"}


def test_strip_log_spam_merges_a_line_split_over_two_outputs():
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="\u2714 ex-3-psnr: ok"),
                    nbformat.v4.new_output("stream", name="stdout", text="\n")]
    notebook = notebooks.strip_log_spam(nbformat.v4.new_notebook(cells=[cell]))
    assert [o.text for o in notebook.cells[0].outputs] == ["\u2714 ex-3-psnr: ok\n"]


def test_refresh_badge_writes_the_stamped_times():
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# T"),
        nbformat.v4.new_markdown_cell("**Run it:** [Colab](x) · about 12 minutes on a busy 2-core CPU "
                                      "(about 6 minutes with `AECOURSE_FAST=1`).")])
    notebook.metadata["aecourse"] = {"runtime_full_s": 170.0, "runtime_fast_s": 20.0}
    notebooks.refresh_badge(notebook)
    assert notebook.cells[1].source.endswith(
        "about 3 minutes on a 2-core CPU (about 1 minute with `AECOURSE_FAST=1`).")
    notebook.cells[1].source = "no times here"
    with pytest.raises(ValueError, match="badge line"):
        notebooks.refresh_badge(notebook)


@pytest.mark.parametrize("flags, expected", [
    (None, notebooks.FAST_XLA_FLAG),
    ("--xla_cpu_multi_thread_eigen=false", "--xla_cpu_multi_thread_eigen=false " + notebooks.FAST_XLA_FLAG),
    ("--xla_backend_optimization_level=2", "--xla_backend_optimization_level=2"),  # a level already chosen stays
])
def test_fast_environment_sets_fast_mode_and_unoptimised_compilation(flags, expected):
    environ = {"PATH": "/bin"} if flags is None else {"PATH": "/bin", "XLA_FLAGS": flags}
    before = dict(environ)
    env = notebooks.fast_environment(environ)
    assert env == {"PATH": "/bin", "AECOURSE_FAST": "1", "XLA_FLAGS": expected}
    assert environ == before  # the caller's mapping is not modified
