"""Chapter notebooks: nbval in fast mode, exercise-format lint, fresh stamps.

Marked `book`: they execute notebooks or read their stored outputs. nbval runs
on the backend a reader's setup cell would pick: the book's default (JAX)
unless `KERAS_BACKEND` is set (`tests/test_floor.py` sets it).
"""

import importlib
import json
import os
import re
import subprocess
import sys

import nbformat
import pytest

from aecourse.course import exercises as exercise_cells
from aecourse.course import notebooks, student
from aecourse.checks import PASS_MARK, REGISTRY

from conftest import BOOK, CHAPTERS, ROOT

pytestmark = pytest.mark.book

LABEL = re.compile(r"^:label:\s*(\S+)\s*$", re.MULTILINE)
CHECK_CALL = re.compile(r"^checks\.check_\w+\(\w+\)$")


def _ids(paths):
    return [path.stem for path in paths]


def _read(path):
    return nbformat.read(path, as_version=4)


def _tags(cell):
    return set(cell.metadata.get("tags", []))


def _exercises(notebook):
    """(label, [the five cells]) for every `{exercise}` cell of a notebook."""
    cells = notebook.cells
    found = []
    for i, cell in enumerate(cells):
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("```{exercise}"):
            label = LABEL.search(cell.source)
            found.append((label.group(1) if label else None, cells[i:i + 5]))
    return found


def run_nbval(path, *extra):
    """Runs `pytest --nbval-lax` on a notebook in fast mode, in a fresh process."""
    env = notebooks.fast_environment(os.environ)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-q", "-p", "no:cacheprovider", str(path), *extra],
        capture_output=True, text=True, env=env, cwd=path.parent,
    )


def test_every_chapter_notebook_is_in_the_toc():
    on_disk = sorted(BOOK.glob("[0-9][0-9]_*.ipynb"))
    assert on_disk == sorted(CHAPTERS), "add each chapter to _toc.yml (or remove the stray notebook)"
    assert CHAPTERS, "no chapter found in _toc.yml"


@pytest.mark.parametrize("path", CHAPTERS, ids=_ids(CHAPTERS))
def test_chapter_passes_nbval_in_fast_mode(path):
    result = run_nbval(path)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


@pytest.mark.parametrize("path", CHAPTERS, ids=_ids(CHAPTERS))
def test_learner_copy_is_current_and_has_no_solution(path):
    """`student/NN_x.ipynb`, what the chapter's Colab link opens, is its current student edition."""
    copy = ROOT / student.LEARNER_DIR / path.name
    fresh = student.student_edition(_read(path), outputs=False)
    assert copy.is_file() and _read(copy) == fresh, (
        f"{copy.relative_to(ROOT)} is missing or stale: run `python -m aecourse student book/ --learner-copy`")
    reference = _read(path)
    solutions = {exercise.solution for exercise in exercise_cells.find_exercises(reference)}
    elsewhere = "\n".join(cell.source for i, cell in enumerate(reference.cells) if i not in solutions)
    answers = [line.strip() for i in solutions
               for body in re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", reference.cells[i].source, re.DOTALL)
               for line in body.splitlines() if len(line.strip()) > 12 and line.strip() not in elsewhere]
    text = "\n".join(cell.source for cell in _read(copy).cells)
    assert answers and not [line for line in answers if line in text], f"{copy.relative_to(ROOT)} holds solution code"


@pytest.mark.parametrize("path", CHAPTERS, ids=_ids(CHAPTERS))
def test_chapter_skeleton(path):
    notebook = _read(path)
    cells = notebook.cells
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# "), "first cell: '# Title' + summary"
    badge = cells[1].source
    colab = f"https://colab.research.google.com/github/aecourse/aecourse/blob/main/student/{path.name}"
    assert colab in badge, f"badge cell must link to {colab} (the learners' copy, without solutions)"
    stamp = notebook.metadata.get("aecourse", {})
    assert "runtime_fast_s" in stamp and notebooks.badge_times(stamp) in badge, (
        "the badge's run times must be the stamped ones: run `python -m aecourse execute` (it updates them)")
    setup = cells[2].source
    assert 'find_spec("aecourse")' in setup and "AECOURSE_INSTALL" in setup, "setup cell must bootstrap aecourse"
    assert "runtime.setup(" in setup, "setup cell must seed through runtime.setup"
    assert re.search(r"^import aecourse\b", setup, re.MULTILINE), (
        "import aecourse first: it picks the backend and silences TensorFlow")
    assert setup.index("import aecourse") < setup.index("import keras"), "import aecourse before keras"
    headings = [line for cell in cells if cell.cell_type == "markdown" for line in cell.source.splitlines()
                if line.startswith("## ")]
    for required in ("## Results", "## Summary", "## Exercises"):
        assert required in headings, f"missing section {required!r}"
    numbered = [h for h in headings if re.match(r"#+ \d+\.\d", h)]
    assert not numbered, f"the toc numbers sections; drop the hand-written numbers: {numbered}"
    assert not any("{bibliography}" in cell.source for cell in cells if cell.cell_type == "markdown"), (
        "citations link to the one references page (book/bibliography.md); no per-chapter bibliography")


@pytest.mark.parametrize("path", CHAPTERS, ids=_ids(CHAPTERS))
def test_exercises_follow_the_protocol(path):
    chapter = int(path.name[:2])
    exercises = _exercises(_read(path))
    assert len(exercises) >= 3, "each chapter has at least three exercises"
    for label, cells in exercises:
        assert label and re.fullmatch(rf"ex-{chapter}-[a-z0-9-]+", label), f"bad exercise label {label!r}"
        assert len(cells) == 5, f"{label}: an exercise is five cells"
        _, start, solution, end, check = cells
        assert start.cell_type == "markdown" and "{solution-start} " + label in start.source, label
        assert solution.cell_type == "code" and _tags(solution) == {"solution"}, f"{label}: untagged solution"
        assert "### BEGIN SOLUTION" in solution.source and "### END SOLUTION" in solution.source, label
        assert end.cell_type == "markdown" and "{solution-end}" in end.source, label
        assert check.cell_type == "code" and _tags(check) == {"check", "nbval-check-output"}, label
        assert CHECK_CALL.match(check.source.strip()), f"{label}: a check cell is one call into aecourse.checks"
        importlib.import_module(f"aecourse.checks.ch{chapter}")
        assert label in REGISTRY, f"{label}: no Check with this label in aecourse/checks/ch{chapter}.py"
        kind = solution.metadata.get("aecourse", {}).get("kind")
        assert kind == REGISTRY[label].kind, (
            f"{label}: the solution cell's metadata must declare its kind, "
            f'{{"aecourse": {{"exercise": "{label}", "kind": "{REGISTRY[label].kind}"}}}}; found {kind!r}')
        assert check.execution_count is not None, f"{label}: check cell has no execution count"
        texts = [o.get("text", "") for o in check.outputs]
        assert [o.output_type for o in check.outputs] == ["stream"], f"{label}: stored output must be the pass line"
        assert re.fullmatch(rf"{PASS_MARK} {label}: .+\n", texts[0]), f"{label}: stored output {texts!r}"


def test_exercise_labels_are_unique_across_the_book():
    labels = [label for path in CHAPTERS for label, _ in _exercises(_read(path))]
    assert len(labels) == len(set(labels))


@pytest.mark.parametrize("path", CHAPTERS, ids=_ids(CHAPTERS))
def test_stored_outputs_are_full_mode_current_and_clean(path):
    notebook = _read(path)
    stamp = notebook.metadata.get("aecourse")
    assert stamp, f"run `python -m aecourse execute {path.relative_to(ROOT)}` to execute and stamp it"
    assert stamp["mode"] == "full"
    current = notebooks.current_stamp(notebook)
    assert stamp["modules"] == current["modules"] and stamp["source_hash"] == current["source_hash"], (
        f"stored outputs are stale: the aecourse modules it uses changed; re-run "
        f"`python -m aecourse execute {path.relative_to(ROOT)}`")
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        assert cell.execution_count is not None, "every code cell is executed"
        for output in cell.outputs:
            assert output.output_type != "error", f"stored error output in cell:\n{cell.source[:200]}"
            if output.output_type == "stream":
                spam = [line for line in output.text.splitlines() if notebooks.LOG_SPAM.match(line)]
                assert not spam, f"log spam in stored output: {spam[:2]}"


def test_runtime_table_is_up_to_date():
    stored = (BOOK / "_generated" / "runtimes.md").read_text()
    assert stored == notebooks.runtime_table(BOOK), "run `python -m aecourse execute ...` to refresh it"


def _exercise_notebook(path, replace):
    """The setup cell and exercise cells of a chapter, solutions edited by `replace`."""
    notebook = _read(path)
    cells = [notebook.cells[2]]
    for label, five in _exercises(notebook):
        solution = five[2].copy()
        solution.source = replace(label, solution.source)
        cells += [solution, five[4]]
    notebook.cells = cells
    return notebook


def _unanswered(label, source):
    return exercise_cells.blank_solution(source, label)


@pytest.mark.parametrize("path", CHAPTERS, ids=_ids(CHAPTERS))
def test_nbval_fails_every_unanswered_exercise_and_names_it(path, tmp_path):
    notebook = _exercise_notebook(path, _unanswered)
    target = tmp_path / path.name
    nbformat.write(notebook, target)
    result = run_nbval(target)
    labels = [label for label, _ in _exercises(_read(path))]
    assert result.returncode == 1
    # setup and solution cells pass (solutions only define functions); every check cell fails
    assert re.search(rf"\b{len(labels)} failed, {len(labels) + 1} passed", result.stdout), result.stdout[-3000:]
    for label in labels:
        assert f"{label}: not answered yet" in result.stdout


def test_nbval_fails_a_wrong_answer_in_chapter_1(tmp_path):
    def mean_instead_of_sum(label, source):
        return source.replace("np.sum(", "np.mean(") if label == "ex-1-error" else source

    path = BOOK / "01_undercomplete.ipynb"
    notebook = _exercise_notebook(path, mean_instead_of_sum)
    assert "np.mean(" in json.dumps(nbformat.writes(notebook)), "the chapter-1 solution changed; update this test"
    target = tmp_path / path.name
    nbformat.write(notebook, target)
    result = run_nbval(target)
    assert result.returncode == 1 and "1 failed" in result.stdout, result.stdout[-3000:]
    assert "ex-1-error: the per-image errors" in result.stdout
