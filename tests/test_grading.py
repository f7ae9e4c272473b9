"""Student edition and sandboxed grading, with a corpus of honest and cheating submissions.

The reference for the corpus is chapter 1's exercises (one of each kind)
behind a light setup cell, so that each graded kernel is quick; the honest
`train` answers build their weights with NumPy, so that no kernel imports
Keras. One grading run serves every assertion about the corpus.
"""

import csv
import hashlib
import json
import os
import re
import subprocess
import sys
import time

import nbformat
import numpy as np
import pytest

from aecourse.course import exercises, scan, student

from conftest import BOOK, ROOT

# One xdist worker runs this file: its module fixtures grade a whole corpus once.
pytestmark = [pytest.mark.grading, pytest.mark.xdist_group("grading")]

CHAPTER_1 = BOOK / "01_undercomplete.ipynb"
LABELS = ["ex-1-error", "ex-1-pca", "ex-1-tied", "ex-1-train", "ex-1-linear-error", "ex-1-control"]
SCORED = LABELS[:-1]
MARKER = "ae-test-gradebook-rewriter"
# A chapter with one of the shortest fast modes (book/_generated/runtimes.md): its whole student edition is run.
QUICKEST_CHAPTER = BOOK / "06_rbm_dbn.ipynb"


def _reference_exercise_cells():
    notebook = nbformat.read(CHAPTER_1, as_version=4)
    found = exercises.find_exercises(notebook)
    assert [e.label for e in found] == LABELS, "chapter 1's exercises changed; update this test"
    return [cell for e in found for cell in notebook.cells[e.statement:e.check + 1]]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A small reference chapter: title, light setup cell, chapter 1's exercises."""
    path = tmp_path_factory.mktemp("reference") / "01_tiny.ipynb"
    cells = [nbformat.v4.new_markdown_cell("# Tiny chapter"),
             nbformat.v4.new_code_cell("import numpy as np\nimport keras\nfrom aecourse import linear\n"
                                       "from aecourse.checks import ch1 as checks"),
             nbformat.v4.new_markdown_cell("## Exercises"), *_reference_exercise_cells()]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    return path


def _solution_index(notebook, label):
    return next(i for i, c in enumerate(notebook.cells)
                if "solution" in exercises.tags(c) and exercises.solution_label(notebook, i) == label)


TRAIN_WITH_NUMPY = """def train_autoencoder(x_train):
    # a PCA encoder kept positive, and a least-squares decoder in logit space: no Keras needed
    x_train = np.asarray(x_train, "float64")[:500]
    mean = x_train.mean(axis=0)
    components = np.linalg.svd(x_train - mean, full_matrices=False)[2][:32]
    kernel, bias = components.T, 20.0 - mean @ components.T
    design = np.hstack([np.maximum(x_train @ kernel + bias, 0), np.ones((len(x_train), 1))])
    clipped = np.clip(x_train, 0.02, 0.98)
    solution = np.linalg.lstsq(design, np.log(clipped / (1 - clipped)), rcond=None)[0]
    return [kernel, bias, solution[:-1], solution[-1]]"""

RIGHT = {
    "ex-1-error": "def per_image_error(x, x_hat):\n    return ((x - x_hat) ** 2).reshape(len(x), -1).sum(axis=1)",
    "ex-1-pca": ("def pca_reconstruct(x_train, x_test, k):\n    mu = x_train.mean(axis=0)\n"
                 "    vt = np.linalg.svd(x_train - mu, full_matrices=False)[2][:k]\n"
                 "    return mu + (x_test - mu) @ vt.T @ vt"),
    "ex-1-tied": "def tied_decode(h, W, b_prime):\n    return 1 / (1 + np.exp(-(h @ W.T + b_prime)))",
    "ex-1-train": TRAIN_WITH_NUMPY,
    "ex-1-linear-error": "linear_error = 3.75",
    "ex-1-control": ('control_answer = "=1+1 The garment-only network saw more images of each garment class than '
                     'the control, whose random subset of the same size is only partly made of garments."'),
}
WRONG_ERROR = "def per_image_error(x, x_hat):\n    return ((x - x_hat) ** 2).mean(axis=1)"
PASS_LINE = "\u2714 ex-1-error: per-image squared error matches the reference"


def _answered(edition, answers):
    notebook = nbformat.from_dict(json.loads(json.dumps(edition)))
    for label, source in answers.items():
        notebook.cells[_solution_index(notebook, label)].source = source
    return notebook


def _rewriter(gradebook):
    """A program that waits for the gradebook and overwrites it (a background process's attack)."""
    return (f"import os, time\nfor _ in range(300):\n    time.sleep(0.5)\n    if os.path.exists({str(gradebook)!r}):\n"
            f"        open({str(gradebook)!r}, 'w').write('pwned')\n        break\n")


def _cheats(reference, out):
    """label attacked -> (file name, solution source): each should score 0 on that label only."""
    package = ROOT / "aecourse"
    return {
        "redefine_check": ("ex-1-error", "checks.check_per_image_error = lambda f: print(%r)\n%s" % (PASS_LINE, WRONG_ERROR)),
        "print_pass_line": ("ex-1-error", f"print({PASS_LINE!r})\n{WRONG_ERROR}"),
        "patch_display": ("ex-1-error", "import sys, traceback\n"
                                        "sys.excepthook = lambda *a: print(%r)\n"
                                        "traceback.print_exception = lambda *a, **k: None\n"
                                        "sys.stdout.write = lambda s: 0\n%s" % (PASS_LINE, WRONG_ERROR)),
        "read_reference": ("ex-1-pca", f"notebook = open({str(reference)!r}).read()\n"
                                       f"chapter = open({str(CHAPTER_1)!r}).read()\n"
                                       "def pca_reconstruct(x_train, x_test, k):\n    return x_test"),
        "write_package": ("ex-1-tied", "import glob\n"
                                       f"for path in glob.glob({str(package.parent)!r} + '/aec' + 'ourse/**/*.py', recursive=True):\n"
                                       "    open(path, 'a').write('\\nraise SystemExit  # pwned\\n')\n"
                                       "def tied_decode(h, W, b_prime):\n    return h"),
        "assign_check_reference": ("ex-1-error", "per_image_error = checks.reference_per_image_error"),
        "assign_package": ("ex-1-pca", "pca_reconstruct = linear.pca_reconstruct"),
        "fork_bomb": ("ex-1-tied", "import os, time\n"
                                   "def tied_decode(h, W, b_prime):\n    return h\n"
                                   "while True:\n    try:\n        pid = os.fork()\n    except OSError:\n        break\n"
                                   "    if pid == 0:\n        time.sleep(600)\n        os._exit(0)"),
        "allocate_50gb": ("ex-1-pca", "big = np.ones(50 * 2**30 // 8)\n"
                                      "def pca_reconstruct(x_train, x_test, k):\n    return x_test"),
        "network": ("ex-1-tied", "import socket\nsocket.create_connection(('pypi.org', 443), timeout=5).close()\n"
                                 "def tied_decode(h, W, b_prime):\n    return h"),
        "rewrite_gradebook": ("ex-1-error", "import subprocess, sys\n"
                                            f"code = {_rewriter(out / 'gradebook.csv')!r}\n"
                                            f"subprocess.Popen([sys.executable, '-c', code, {MARKER!r}], "
                                            "start_new_session=True)\n" + WRONG_ERROR),
    }


def _corpus(reference, folder, out):
    """Writes the submissions; returns {file name: expected (status, marks of SCORED or None)}."""
    edition = student.student_edition(nbformat.read(reference, as_version=4))
    corpus, expected = {}, {}
    right = [1, 1, 1, 1, 1]

    for name in ("00_honest", "zz_honest"):  # graded before and after every attack
        corpus[f"{name}.ipynb"] = _answered(edition, RIGHT)
        expected[f"{name}.ipynb"] = ("graded", right)
    corpus["partly.ipynb"] = _answered(edition, dict(RIGHT, **{"ex-1-error": WRONG_ERROR}))
    expected["partly.ipynb"] = ("graded", [0, 1, 1, 1, 1])
    corpus["untouched.ipynb"] = edition
    expected["untouched.ipynb"] = ("graded", [0, 0, 0, 0, 0])

    missing = _answered(edition, RIGHT)
    del missing.cells[_solution_index(missing, "ex-1-pca")]
    corpus["missing.ipynb"] = missing
    expected["missing.ipynb"] = ("graded", [1, 0, 1, 1, 1])

    duplicated = _answered(edition, RIGHT)
    index = _solution_index(duplicated, "ex-1-tied")
    duplicated.cells.insert(index + 1, dict(json.loads(json.dumps(duplicated.cells[index])), id="duplicate"))
    corpus["duplicated.ipynb"] = nbformat.from_dict(duplicated)
    expected["duplicated.ipynb"] = ("graded", [1, 1, 0, 1, 1])

    for name, (label, source) in {"raises": ("ex-1-error", RIGHT["ex-1-error"] + "\nraise RuntimeError('boom')"),
                                  "endless": ("ex-1-pca", "while True:\n    pass"),
                                  "exits": ("ex-1-error", "import os\nos._exit(3)")}.items():
        corpus[f"{name}.ipynb"] = _answered(edition, dict(RIGHT, **{label: source}))
        expected[f"{name}.ipynb"] = ("graded", [int(other != label) for other in SCORED])
    corpus["chatty.ipynb"] = _answered(edition, dict(RIGHT, **{"ex-1-error": RIGHT["ex-1-error"] + "\nprint('x' * 5_000_000)"}))
    expected["chatty.ipynb"] = ("graded", right)

    # A learner who edits a check cell and its stored output gains nothing.
    cheat = _answered(edition, dict(RIGHT, **{"ex-1-error": WRONG_ERROR}))
    for cell in cheat.cells:
        if "check" in exercises.tags(cell):
            cell.source = "print('\u2714 ok')"
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="\u2714 ok\n")]
    corpus["edited_check_cell.ipynb"] = cheat
    expected["edited_check_cell.ipynb"] = ("graded", [0, 1, 1, 1, 1])

    for name, (label, source) in _cheats(reference, out).items():
        corpus[f"cheat_{name}.ipynb"] = _answered(edition, dict(RIGHT, **{label: source}))
        marks = [int(other != label) for other in SCORED]
        if name == "fork_bomb":  # its own later exercises may starve (no process slot left): not asserted
            marks = [mark if i <= SCORED.index(label) else None for i, mark in enumerate(marks)]
        expected[f"cheat_{name}.ipynb"] = ("graded", marks)

    # Cells moved around (and their metadata lost) are matched by the statement above them.
    moved = _answered(edition, RIGHT)
    for cell in moved.cells:
        cell.metadata.pop("aecourse", None)
    moved.cells.append(nbformat.v4.new_code_cell("x = 1  # a cell the learner added"))
    corpus["moved.ipynb"] = moved
    expected["moved.ipynb"] = ("graded", right)

    corpus["wrong_chapter.ipynb"] = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("```{exercise} KL\n:label: ex-2-kl\n\nWrite it.\n```"),
        nbformat.v4.new_code_cell("def kl(rho, rho_hat):\n    return 0.0", metadata={"tags": ["solution"]})])
    expected["wrong_chapter.ipynb"] = ("wrong chapter", None)

    for name, notebook in corpus.items():
        nbformat.write(notebook, folder / name)
    (folder / "not_json.ipynb").write_bytes(b"\x89PNG\r\n\x1a\n not a notebook")
    expected["not_json.ipynb"] = ("not JSON", None)
    (folder / "not_notebook.ipynb").write_text('{"hello": "world"}')
    expected["not_notebook.ipynb"] = ("not a Jupyter notebook", None)
    return expected


def _hashes(*folders):
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for folder in folders for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def _stray_processes():
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                if MARKER.encode() in handle.read():
                    found.append(entry)
        except OSError:
            pass
    return found


@pytest.fixture(scope="module")
def graded(reference, tmp_path_factory):
    """Grades the whole corpus once, through the command line, in the sandbox."""
    folder, out = tmp_path_factory.mktemp("submissions"), tmp_path_factory.mktemp("grades")
    expected = _corpus(reference, folder, out)
    watched = (folder, reference.parent, ROOT / "aecourse")
    before = _hashes(*watched)
    result = subprocess.run(
        [sys.executable, "-m", "aecourse", "grade", *sorted(map(str, folder.iterdir())),
         "--reference", str(reference), "--out", str(out), "--cell-timeout", "40", "--jobs", "2"],
        capture_output=True, text=True, cwd=ROOT)
    time.sleep(2)  # time for a background process that outlived its kernel to strike
    return {"expected": expected, "folder": folder, "out": out, "result": result, "before": before,
            "after": _hashes(*watched), "stray": _stray_processes()}


def _rows(out):
    with open(out / "gradebook.csv") as handle:
        return {os.path.basename(row["submission"]): row for row in csv.DictReader(handle)}


def test_grading_exits_zero_and_changes_no_submission_reference_or_package(graded):
    assert graded["result"].returncode == 0, graded["result"].stderr[-3000:]
    changed = sorted(path for path in graded["before"] if graded["after"].get(path) != graded["before"][path])
    assert not [path for path in changed if "pwned" in open(path, errors="replace").read()], "an attack succeeded"
    assert changed == [], "files changed during grading (or someone edited the package meanwhile)"


def test_no_learner_process_outlives_grading(graded):
    assert graded["stray"] == []
    assert "pwned" not in (graded["out"] / "gradebook.csv").read_text()


def test_gradebook_matches_the_corpus_cell_for_cell(graded):
    rows = _rows(graded["out"])
    assert set(rows) == set(graded["expected"])
    for name, (status, marks) in graded["expected"].items():
        row = rows[name]
        assert row["status"].startswith(status), (name, row["status"])
        assert row["sandbox"] == "bubblewrap"
        if marks is None:
            assert [row[label] for label in SCORED] == [""] * len(SCORED) and row["total"] == "", name
        else:
            got = [int(row[label]) for label in SCORED]
            assert [g if m is not None else None for g, m in zip(got, marks)] == marks, name
            assert int(row["out_of"]) == len(SCORED) and (None in marks or int(row["total"]) == sum(marks)), name


def test_explain_answers_are_carried_verbatim_and_spreadsheet_safe(graded):
    rows = _rows(graded["out"])
    assert rows["00_honest.ipynb"]["ex-1-control"] == (
        "'=1+1 The garment-only network saw more images of each garment class than the control, whose random "
        "subset of the same size is only partly made of garments.")
    assert rows["untouched.ipynb"]["ex-1-control"] == ""
    assert "not answered" in (graded["out"] / "feedback" / "untouched.md").read_text()


@pytest.mark.parametrize("name, label, words", [
    ("partly", "ex-1-error", "failed: ex-1-error: the per-image errors"),
    ("untouched", "ex-1-tied", "failed: ex-1-tied: not answered yet"),
    ("untouched", "ex-1-linear-error", "failed: ex-1-linear-error: not answered yet"),
    ("missing", "ex-1-pca", "missing: no solution cell"),
    ("duplicated", "ex-1-tied", "duplicated: 2 solution cells"),
    ("raises", "ex-1-error", "error: your solution cell: RuntimeError: boom"),
    ("endless", "ex-1-pca", "timed out"),
    ("exits", "ex-1-error", "kernel died"),
    ("edited_check_cell", "ex-1-error", "failed: ex-1-error"),
    ("00_honest", "ex-1-train", "passed: trained autoencoder reconstructs held-out test images"),
    ("cheat_redefine_check", "ex-1-error", "not your own code: your solution uses aecourse.checks.ch1.check_per_image_error"),
    ("cheat_print_pass_line", "ex-1-error", "failed: ex-1-error: the per-image errors"),
    ("cheat_patch_display", "ex-1-error", "failed: ex-1-error"),
    ("cheat_read_reference", "ex-1-pca", "error: your solution cell: FileNotFoundError"),
    ("cheat_write_package", "ex-1-tied", "error: your solution cell: OSError: [Errno 30] Read-only file system"),
    ("cheat_assign_check_reference", "ex-1-error", "uses aecourse.checks.ch1.reference_per_image_error (line 1)"),
    ("cheat_assign_package", "ex-1-pca", "uses aecourse.linear.pca_reconstruct (line 1). Write it yourself"),
    ("cheat_fork_bomb", "ex-1-tied", "failed: ex-1-tied"),
    ("cheat_allocate_50gb", "ex-1-pca", "MemoryError: Unable to allocate 50.0 GiB"),
    ("cheat_network", "ex-1-tied", "error: your solution cell: "),
    ("cheat_rewrite_gradebook", "ex-1-error", "failed: ex-1-error"),
])
def test_feedback_names_each_outcome(graded, name, label, words):
    feedback = (graded["out"] / "feedback" / f"{name}.md").read_text()
    line = next(line for line in feedback.splitlines() if line.startswith(f"- {label}:"))
    assert words in line, feedback


def test_rejected_submissions_get_a_reason(graded):
    feedback = (graded["out"] / "feedback" / "not_json.md").read_text()
    assert "Not graded: not JSON" in feedback and "upload the .ipynb" in feedback


def test_unsafe_mode_says_so_in_the_gradebook(graded, tmp_path, reference):
    result = subprocess.run(
        [sys.executable, "-m", "aecourse", "grade", str(graded["folder"] / "partly.ipynb"), "--reference",
         str(reference), "--out", str(tmp_path), "--unsafe-no-sandbox"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0 and "NOT SANDBOXED" in result.stderr, result.stderr[-2000:]
    row = _rows(tmp_path)["partly.ipynb"]
    assert row["sandbox"].startswith("NOT SANDBOXED") and row["total"] == "4"
    assert "NOT SANDBOXED" in (tmp_path / "feedback" / "partly.md").read_text()


def test_grade_refuses_when_the_sandbox_cannot_start(tmp_path, reference, graded):
    environment = dict(os.environ, PATH=str(tmp_path))  # no bwrap on the PATH
    result = subprocess.run(
        [sys.executable, "-m", "aecourse", "grade", str(graded["folder"] / "partly.ipynb"), "--reference",
         str(reference), "--out", str(tmp_path / "out")], capture_output=True, text=True, cwd=ROOT, env=environment)
    assert result.returncode == 1
    assert "bubblewrap" in result.stderr and "apt-get install bubblewrap" in result.stderr
    assert "--unsafe-no-sandbox" in result.stderr and not (tmp_path / "out" / "gradebook.csv").exists()


def test_scan_finds_what_a_solution_uses_of_the_package():
    bound = scan.aecourse_names("import numpy as np\nfrom aecourse import linear, data\n"
                                "from aecourse.checks import ch1 as checks")
    assert bound == {"linear": "aecourse.linear", "data": "aecourse.data", "checks": "aecourse.checks.ch1"}
    assert scan.forbidden_uses("def f(a, b, k):\n    return linear.pca_reconstruct(a, b, k)", bound) == [
        "aecourse.linear.pca_reconstruct (line 2)"]
    assert scan.forbidden_uses("from aecourse.vae import gaussian_kl", bound) == [
        "import aecourse.vae.gaussian_kl (line 1)"]
    assert scan.forbidden_uses("f = __import__('aec' + 'ourse')", bound) == [
        "__import__, which can hide what the code calls (line 1)"]
    assert scan.forbidden_uses("x = data.fashion_mnist()", bound, allow=("aecourse.data",)) == []
    assert scan.forbidden_uses("y = checks.check_x", bound, allow=("aecourse",)) == ["aecourse.checks.ch1.check_x (line 1)"]
    honest = "def f(x, model):\n    model.compile('adam', 'mse')\n    linear = 2\n    return np.sum(x) * linear"
    assert scan.forbidden_uses(honest, bound) == []
    assert scan.setup_imports("import numpy as np\nfrom aecourse.checks import ch1 as checks\nprint(1)") == [
        "import numpy as np"]


def test_student_edition_blanks_solutions_and_keeps_checks(reference):
    notebook = nbformat.read(reference, as_version=4)
    edition = student.student_edition(notebook)
    assert notebook.cells == nbformat.read(reference, as_version=4).cells, "the reference must not change"
    text = nbformat.writes(edition)
    assert "### BEGIN SOLUTION" not in text and "solution-start" not in text and "solution-end" not in text
    assert "np.linalg.svd(x_train - mu" not in text and "identity map" not in text
    for label in LABELS:
        cell = edition.cells[_solution_index(edition, label)]
        assert cell.outputs == [] and cell.metadata["aecourse"]["exercise"] == label
        assert cell.metadata["aecourse"]["kind"] in ("implement", "train", "derive", "explain")
        if cell.metadata["aecourse"]["kind"] in ("derive", "explain"):
            assert re.fullmatch(rf"\w+ = \.\.\.  # {label}: your answer", cell.source), cell.source
        else:
            assert cell.source.splitlines()[0].startswith("def ")
            assert f'    raise NotImplementedError("{label}")' in cell.source
    checks = [c for c in edition.cells if "check" in exercises.tags(c)]
    assert [c.outputs[0]["text"].split(":")[0] for c in checks] == [f"\u2714 {label}" for label in LABELS]


def test_blank_solution_keeps_code_outside_the_markers():
    source = "import numpy as np\n\ndef f(x):\n    y = 2\n    ### BEGIN SOLUTION\n    return x * y\n    ### END SOLUTION\n"
    assert exercises.blank_solution(source, "ex-9-f") == (
        'import numpy as np\n\ndef f(x):\n    y = 2\n    raise NotImplementedError("ex-9-f")\n')
    assert exercises.blank_solution("### BEGIN SOLUTION\nvalue = 2 * 3\n### END SOLUTION\n", "ex-9-v") == (
        "value = ...  # ex-9-v: your answer\n")
    with pytest.raises(ValueError, match="BEGIN SOLUTION"):
        exercises.blank_solution("def f():\n    return 1", "ex-9-f")


def test_check_call_reads_the_answer_name():
    assert exercises.check_call("checks.check_per_image_error(per_image_error)\n") == (
        "check_per_image_error", "per_image_error")
    with pytest.raises(ValueError, match="one call"):
        exercises.check_call("checks.check_x(a, b)")


def test_find_exercises_rejects_a_broken_exercise(reference):
    notebook = nbformat.read(reference, as_version=4)
    del notebook.cells[4]  # the first exercise's solution-start cell
    with pytest.raises(ValueError, match="ex-1-error must be five cells"):
        exercises.find_exercises(notebook)


def test_cli_errors_are_clear(tmp_path, reference):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "aecourse", *args], capture_output=True, text=True, cwd=ROOT)

    result = run("student", str(tmp_path / "nothing"), "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and "Expected a chapter notebook or a folder" in result.stderr
    result = run("student", str(reference), "--out", str(reference.parent))
    assert result.returncode == 2 and "would overwrite the reference" in result.stderr
    result = run("grade", str(reference), "--reference", str(reference), "--out", str(tmp_path), "--jobs", "0")
    assert result.returncode == 2 and "jobs must be a positive number" in result.stderr


def test_protocol_data_never_unpickles():
    from aecourse.course import protocol

    value = {"x": np.arange(3.0), "cases": [(np.ones(2), 3, "a", protocol.Rng(5))], "none": None}
    decoded = protocol.decode(protocol.encode(value))
    assert decoded["cases"][0][3] == protocol.Rng(5) and decoded["none"] is None
    np.testing.assert_array_equal(decoded["x"], np.arange(3.0))
    import io

    buffer = io.BytesIO()
    np.savez(buffer, _spec=np.frombuffer(b'{"a": 0}', np.uint8), a0=np.array([object()], dtype=object))
    with pytest.raises(ValueError):
        protocol.decode(buffer.getvalue())
    with pytest.raises(ValueError):
        protocol.decode(b"not a zip")


@pytest.mark.book
def test_nbval_on_the_student_edition_fails_exactly_the_check_cells(tmp_path):
    (path,) = student.write_student_edition(QUICKEST_CHAPTER, tmp_path)
    env = dict(os.environ, AECOURSE_FAST="1", KERAS_BACKEND="tensorflow")  # the one chapter run on TensorFlow
    result = subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "-q", "-rf", "-p", "no:cacheprovider",
                             str(path)], capture_output=True, text=True, env=env, cwd=tmp_path)
    failed = re.findall(r"^FAILED \S+::Cell (\d+)", result.stdout, re.MULTILINE)
    edition = nbformat.read(path, as_version=4)
    code = [c for c in edition.cells if c.cell_type == "code"]
    checks = [str(i) for i, c in enumerate(code) if "check" in exercises.tags(c)]
    assert checks and failed == checks, result.stdout[-3000:]
    labels = [e.label for e in exercises.find_exercises(nbformat.read(QUICKEST_CHAPTER, as_version=4))]
    for label in labels:
        assert f"{label}: not answered yet" in result.stdout
