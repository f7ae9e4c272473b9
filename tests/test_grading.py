"""Student edition and grading, with a corpus of submissions made here.

The reference for the corpus is chapter 1's exercises behind a light setup
cell (NumPy and the chapter-1 checks), so that each graded run is quick.
"""

import csv
import json
import os
import re
import subprocess
import sys

import nbformat
import pytest

from aecourse import exercises, grading

from conftest import BOOK, ROOT

CHAPTER_1 = BOOK / "01_undercomplete.ipynb"
LABELS = ["ex-1-error", "ex-1-pca", "ex-1-tied"]


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
             nbformat.v4.new_code_cell("import numpy as np\nfrom aecourse.checks import ch1 as checks"),
             nbformat.v4.new_markdown_cell("## Exercises"), *_reference_exercise_cells()]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    return path


def _solution_index(notebook, label):
    return next(i for i, c in enumerate(notebook.cells)
                if "solution" in exercises.tags(c) and exercises.solution_label(notebook, i) == label)


REFERENCE_ANSWERS = {
    "ex-1-error": "def per_image_error(x, x_hat):\n    return ((x - x_hat) ** 2).reshape(len(x), -1).sum(axis=1)",
    "ex-1-pca": ("def pca_reconstruct(x_train, x_test, k):\n    mu = x_train.mean(axis=0)\n"
                 "    vt = np.linalg.svd(x_train - mu, full_matrices=False)[2][:k]\n"
                 "    return mu + (x_test - mu) @ vt.T @ vt"),
    "ex-1-tied": "def tied_decode(h, W, b_prime):\n    return 1 / (1 + np.exp(-(h @ W.T + b_prime)))",
}


def _answered(student, answers):
    notebook = nbformat.from_dict(json.loads(json.dumps(student)))
    for label, source in answers.items():
        notebook.cells[_solution_index(notebook, label)].source = source
    return notebook


def _corpus(reference, folder):
    """Writes the submissions; returns {file name: expected gradebook row (status, per-exercise, total)}."""
    student = grading.student_edition(nbformat.read(reference, as_version=4))
    right = REFERENCE_ANSWERS
    wrong_error = dict(right, **{"ex-1-error": "def per_image_error(x, x_hat):\n    return ((x - x_hat) ** 2).mean(axis=1)"})
    corpus, expected = {}, {}

    corpus["correct.ipynb"] = _answered(student, right)
    expected["correct.ipynb"] = ("graded", [1, 1, 1])
    corpus["partly.ipynb"] = _answered(student, wrong_error)
    expected["partly.ipynb"] = ("graded", [0, 1, 1])
    corpus["untouched.ipynb"] = student
    expected["untouched.ipynb"] = ("graded", [0, 0, 0])

    missing = _answered(student, right)
    del missing.cells[_solution_index(missing, "ex-1-pca")]
    corpus["missing.ipynb"] = missing
    expected["missing.ipynb"] = ("graded", [1, 0, 1])

    duplicated = _answered(student, right)
    index = _solution_index(duplicated, "ex-1-tied")
    duplicated.cells.insert(index + 1, dict(json.loads(json.dumps(duplicated.cells[index])), id="duplicate"))
    corpus["duplicated.ipynb"] = nbformat.from_dict(duplicated)
    expected["duplicated.ipynb"] = ("graded", [1, 1, 0])

    corpus["raises.ipynb"] = _answered(student, dict(right, **{"ex-1-error": right["ex-1-error"] + "\nraise RuntimeError('boom')"}))
    expected["raises.ipynb"] = ("graded", [0, 1, 1])
    corpus["endless.ipynb"] = _answered(student, dict(right, **{"ex-1-pca": "while True:\n    pass"}))
    expected["endless.ipynb"] = ("graded", [1, 0, 1])
    corpus["chatty.ipynb"] = _answered(student, dict(right, **{"ex-1-error": right["ex-1-error"] + "\nprint('x' * 5_000_000)"}))
    expected["chatty.ipynb"] = ("graded", [1, 1, 1])
    corpus["exits.ipynb"] = _answered(student, dict(right, **{"ex-1-error": "import os\nos._exit(3)"}))
    expected["exits.ipynb"] = ("graded", [0, 1, 1])

    # A learner who edits a check cell and its stored output gains nothing.
    cheat = _answered(student, wrong_error)
    for cell in cheat.cells:
        if "check" in exercises.tags(cell):
            cell.source = "print('\u2714 ok')"
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="\u2714 ok\n")]
    corpus["cheat.ipynb"] = cheat
    expected["cheat.ipynb"] = ("graded", [0, 1, 1])

    # Cells moved around (and their metadata lost) are matched by the statement above them.
    moved = _answered(grading.student_edition(nbformat.read(reference, as_version=4)), right)
    for cell in moved.cells:
        cell.metadata.pop("aecourse", None)
    moved.cells.append(nbformat.v4.new_code_cell("x = 1  # a cell the learner added"))
    corpus["moved.ipynb"] = moved
    expected["moved.ipynb"] = ("graded", [1, 1, 1])

    wrong_chapter = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("```{exercise} KL\n:label: ex-2-kl\n\nWrite it.\n```"),
        nbformat.v4.new_code_cell("def kl(rho, rho_hat):\n    return 0.0", metadata={"tags": ["solution"]})])
    corpus["wrong_chapter.ipynb"] = wrong_chapter
    expected["wrong_chapter.ipynb"] = ("wrong chapter", None)

    for name, notebook in corpus.items():
        nbformat.write(notebook, folder / name)
    (folder / "not_json.ipynb").write_bytes(b"\x89PNG\r\n\x1a\n not a notebook")
    expected["not_json.ipynb"] = ("not JSON", None)
    (folder / "not_notebook.ipynb").write_text('{"hello": "world"}')
    expected["not_notebook.ipynb"] = ("not a Jupyter notebook", None)
    return expected


def _snapshot(folder):
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def graded(reference, tmp_path_factory):
    """Grades the whole corpus once through the command line."""
    folder = tmp_path_factory.mktemp("submissions")
    expected = _corpus(reference, folder)
    before = _snapshot(folder)
    out = tmp_path_factory.mktemp("grades")
    result = subprocess.run(
        [sys.executable, "-m", "aecourse", "grade", *sorted(map(str, folder.iterdir())),
         "--reference", str(reference), "--out", str(out), "--cell-timeout", "15", "--jobs", "2"],
        capture_output=True, text=True, cwd=ROOT)
    return expected, folder, before, out, result


def test_grading_exits_zero_and_never_touches_submissions(graded):
    _, folder, before, _, result = graded
    assert result.returncode == 0, result.stderr[-3000:]
    assert _snapshot(folder) == before


def test_gradebook_matches_the_corpus_cell_for_cell(graded):
    expected, folder, _, out, _ = graded
    with open(out / "gradebook.csv") as handle:
        rows = {os.path.basename(row["submission"]): row for row in csv.DictReader(handle)}
    assert set(rows) == set(expected)
    for name, (status, marks) in expected.items():
        row = rows[name]
        assert row["status"].startswith(status), (name, row["status"])
        if marks is None:
            assert [row[label] for label in LABELS] == ["", "", ""] and row["total"] == "", name
        else:
            assert [int(row[label]) for label in LABELS] == marks, name
            assert (int(row["total"]), int(row["out_of"])) == (sum(marks), 3), name


@pytest.mark.parametrize("name, label, words", [
    ("partly", "ex-1-error", "failed: ex-1-error: the per-image errors"),
    ("untouched", "ex-1-tied", "failed: ex-1-tied: not answered yet"),
    ("missing", "ex-1-pca", "missing: no solution cell"),
    ("duplicated", "ex-1-tied", "duplicated: 2 solution cells"),
    ("raises", "ex-1-error", "error: your solution cell: RuntimeError: boom"),
    ("endless", "ex-1-pca", "timed out"),
    ("exits", "ex-1-error", "kernel died"),
    ("cheat", "ex-1-error", "failed: ex-1-error"),
    ("correct", "ex-1-pca", "passed"),
])
def test_feedback_names_each_outcome(graded, name, label, words):
    feedback = (graded[3] / "feedback" / f"{name}.md").read_text()
    line = next(line for line in feedback.splitlines() if line.startswith(f"- {label}:"))
    assert words in line, feedback


def test_rejected_submissions_get_a_reason(graded):
    feedback = (graded[3] / "feedback" / "not_json.md").read_text()
    assert "Not graded: not JSON" in feedback and "upload the .ipynb" in feedback


def test_student_edition_blanks_solutions_and_keeps_checks(reference):
    notebook = nbformat.read(reference, as_version=4)
    student = grading.student_edition(notebook)
    assert notebook.cells == nbformat.read(reference, as_version=4).cells, "the reference must not change"
    text = nbformat.writes(student)
    assert "### BEGIN SOLUTION" not in text and "solution-start" not in text and "solution-end" not in text
    assert "np.linalg.svd(x_train - mu" not in text
    for label in LABELS:
        cell = student.cells[_solution_index(student, label)]
        assert cell.source.splitlines()[0].startswith("def ") and cell.outputs == []
        assert f'    raise NotImplementedError("{label}")' in cell.source
        assert cell.metadata["aecourse"]["exercise"] == label
    checks = [c for c in student.cells if "check" in exercises.tags(c)]
    assert [c.outputs[0]["text"].split(":")[0] for c in checks] == [f"\u2714 {label}" for label in LABELS]


def test_blank_solution_keeps_code_outside_the_markers():
    source = "import numpy as np\n\ndef f(x):\n    y = 2\n    ### BEGIN SOLUTION\n    return x * y\n    ### END SOLUTION\n"
    assert exercises.blank_solution(source, "ex-9-f") == (
        'import numpy as np\n\ndef f(x):\n    y = 2\n    raise NotImplementedError("ex-9-f")\n')
    with pytest.raises(ValueError, match="BEGIN SOLUTION"):
        exercises.blank_solution("def f():\n    return 1", "ex-9-f")


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


@pytest.mark.book
def test_nbval_on_the_student_edition_fails_exactly_the_check_cells(tmp_path):
    (path,) = grading.write_student_edition(CHAPTER_1, tmp_path)
    env = dict(os.environ, AECOURSE_FAST="1", KERAS_BACKEND="tensorflow")
    result = subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "-q", "-rf", "-p", "no:cacheprovider",
                             str(path)], capture_output=True, text=True, env=env, cwd=tmp_path)
    failed = re.findall(r"^FAILED \S+::Cell (\d+)", result.stdout, re.MULTILINE)
    student = nbformat.read(path, as_version=4)
    code = [c for c in student.cells if c.cell_type == "code"]
    checks = [str(i) for i, c in enumerate(code) if "check" in exercises.tags(c)]
    assert failed == checks, result.stdout[-3000:]
    for label in LABELS:
        assert f"{label}: not answered yet" in result.stdout
