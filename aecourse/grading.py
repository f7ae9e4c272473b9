"""The student edition of the exercises, and grading submissions with nbval.

`python -m aecourse student book/ --out DIR` writes the student edition;
`python -m aecourse grade SUBMISSION... --reference book/ --out DIR` grades.

Grading takes only the solution cells of a submission (matched by exercise
label), puts them into a notebook made from the reference chapter (its setup
cell, then each solution followed by the reference's check cell) and runs
`pytest --nbval-lax` on it in a separate process, with a per-cell and an
overall time limit. Edited check cells or stored outputs in a submission
therefore change nothing, and a submission file is only ever read.
"""

import copy
import csv
import dataclasses
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from concurrent.futures import ThreadPoolExecutor

import nbformat

from aecourse import exercises

PASSED, FAILED, ERROR, TIMED_OUT, CRASHED, MISSING, DUPLICATED, NOT_RUN = (
    "passed", "failed", "error", "timed out", "kernel died", "missing", "duplicated", "not run")
_ANSI = re.compile(r"(\x1b|#x1B)\[[0-9;]*m")  # raw, or as JUnit XML escapes it
_MAX_LOG = 1_000_000


class GradingError(RuntimeError):
    """Grading itself failed (bad reference, broken environment), not a learner."""


def chapter_paths(source):
    """The chapter notebooks a path names: the file itself, or `NN_*.ipynb` in a folder.

    Raises:
        ValueError: if nothing matches.
    """
    source = pathlib.Path(source)
    paths = sorted(source.glob("[0-9][0-9]_*.ipynb")) if source.is_dir() else [source]
    if not paths or not all(p.is_file() and p.suffix == ".ipynb" for p in paths):
        raise ValueError(f"Expected a chapter notebook or a folder of NN_name.ipynb chapters. "
                         f"Received: {str(source)!r}")
    return paths


# ----------------------------------------------------------------------------- student edition

def student_edition(notebook):
    """The student edition of a chapter notebook (the input is not modified).

    Each solution between the markers becomes `raise NotImplementedError(label)`
    (code outside the markers is kept) and loses its outputs; the
    `{solution-start}`/`{solution-end}` cells are removed; check cells keep
    their stored pass lines; cells and notebook keep their metadata, and each
    solution cell records its exercise label (`metadata.aecourse.exercise`).

    Args:
        notebook: a reference chapter (`nbformat` notebook).

    Returns:
        The student edition, a new notebook.
    """
    edition = copy.deepcopy(notebook)
    dropped = set()
    for exercise in exercises.find_exercises(edition):
        solution = edition.cells[exercise.solution]
        solution.source = exercises.blank_solution(solution.source, exercise.label)
        solution.outputs, solution.execution_count = [], None
        solution.metadata.setdefault("aecourse", {})["exercise"] = exercise.label
        edition.cells[exercise.check].metadata.setdefault("aecourse", {})["exercise"] = exercise.label
        dropped.update({exercise.solution - 1, exercise.solution + 1})
    edition.cells = [cell for i, cell in enumerate(edition.cells) if i not in dropped]
    return edition


def write_student_edition(source, out_dir):
    """Writes the student edition of one chapter or of every chapter in a folder.

    Args:
        source: a chapter notebook or the `book/` folder.
        out_dir: folder for the student notebooks (created; must differ from the source's).

    Returns:
        The written paths.
    """
    paths, out_dir = chapter_paths(source), pathlib.Path(out_dir)
    if out_dir.resolve() in {p.parent.resolve() for p in paths}:
        raise ValueError(f"The student edition would overwrite the reference chapters; choose another "
                         f"--out folder. Received: out={str(out_dir)!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in paths:
        target = out_dir / path.name
        nbformat.write(student_edition(nbformat.read(path, as_version=4)), target)
        written.append(target)
    return written


# ----------------------------------------------------------------------------- grading

@dataclasses.dataclass
class Outcome:
    """The grade of one exercise: a status (`passed`, `failed`, ...) and a detail."""

    status: str
    detail: str = ""


@dataclasses.dataclass
class Grade:
    """The grading of one submission.

    Attributes:
        submission: the submission's path, as given.
        chapter: the reference chapter's file name, or `None` if rejected.
        problem: why the submission could not be graded at all, or `None`.
        outcomes: exercise label -> `Outcome`, in the reference's order.
    """

    submission: str
    chapter: str = None
    problem: str = None
    outcomes: dict = dataclasses.field(default_factory=dict)

    @property
    def total(self):
        return sum(o.status == PASSED for o in self.outcomes.values())


@dataclasses.dataclass
class _Reference:
    path: pathlib.Path
    notebook: nbformat.NotebookNode
    labels: list


def _load_references(source):
    references = []
    for path in chapter_paths(source):
        notebook = nbformat.read(path, as_version=4)
        labels = [e.label for e in exercises.find_exercises(notebook)]
        if not labels:
            raise ValueError(f"Reference chapter {path} has no exercises.")
        references.append(_Reference(path, notebook, labels))
    return references


def _read_submission(path):
    """The submission as a notebook, or a string saying why it is not one."""
    try:
        raw = pathlib.Path(path).read_bytes()
    except OSError as error:
        return f"cannot be read: {error.strerror}"
    try:
        content = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return f"not JSON ({error.__class__.__name__}: {str(error)[:120]}): upload the .ipynb file itself"
    if not isinstance(content, dict) or not isinstance(content.get("cells"), list):
        return "not a Jupyter notebook (no list of cells): upload the .ipynb file itself"
    try:
        return nbformat.reads(raw.decode(), as_version=4)
    except Exception as error:  # nbformat raises several kinds for malformed notebooks
        return f"not a valid notebook: {str(error)[:200]}"


def _choose_reference(solutions, references):
    labels = {label for label in solutions if label}
    matches = [r for r in references if labels & set(r.labels)]
    if len(matches) == 1:
        return matches[0]
    if not matches and len(references) == 1 and not labels:
        return references[0]  # no solution cell at all: every exercise is missing
    expected = ", ".join(f"{r.path.name} ({r.labels[0]}, ...)" for r in references)
    found = ", ".join(sorted(labels)) or "no labelled solution cells"
    return f"wrong chapter: found {found}; expected exercises of {expected}"


def _grading_notebook(reference, sources, prelude):
    """The notebook nbval runs: setup cell, earlier solutions, then solution + check pairs.

    Returns:
        The notebook and a map label -> (code index of the solution cell, of the check cell).
    """
    cells = reference.notebook.cells
    setup = next(c for c in cells if c.cell_type == "code")
    by_label = {e.label: e for e in exercises.find_exercises(reference.notebook)}
    graded = [copy.deepcopy(setup)]
    for label in prelude:
        graded.append(nbformat.v4.new_code_cell(sources[label]))
    positions = {}
    for label, source in sources.items():
        if label in prelude:
            continue
        positions[label] = (len(graded), len(graded) + 1)
        graded += [nbformat.v4.new_code_cell(source), copy.deepcopy(cells[by_label[label].check])]
    notebook = nbformat.v4.new_notebook(cells=graded, metadata=copy.deepcopy(reference.notebook.metadata))
    return notebook, positions


def _junit_outcomes(path):
    """Code-cell index -> (`passed` | `failed` | `skipped`, message) from nbval's JUnit XML."""
    results = {}
    for case in ElementTree.parse(path).iter("testcase"):
        match = re.fullmatch(r"Cell (\d+)", case.get("name", ""))
        if not match:
            continue
        problem = next((child for child in case if child.tag in ("failure", "error", "skipped")), None)
        if problem is None:
            results[int(match.group(1))] = ("passed", "")
        else:
            text = _ANSI.sub("", (problem.get("message") or "") + "\n" + (problem.text or ""))
            results[int(match.group(1))] = ("skipped" if problem.tag == "skipped" else "failed", text)
    return results


def _explain(text):
    """The one line of an nbval failure a learner needs."""
    if re.search(r"Kernel (dead|died)|DeadKernel|Failed to interrupt kernel", text):
        return CRASHED, "the Python kernel stopped responding (exit(), os._exit or a crash?)"
    if "Timeout" in text and "exceeded" in text:
        return TIMED_OUT, "the cell ran longer than the time limit (an endless loop?)"
    failure = re.search(r"ExerciseFailure: (.+)", text)
    if failure:
        return FAILED, failure.group(1).strip()
    errors = re.findall(r"^(\w*(?:Error|Exception|Interrupt|Exit)\b.*)$", text, re.MULTILINE)
    return ERROR, (errors[-1].strip() if errors else text.strip().splitlines()[-1] if text.strip() else "failed")


def _run_nbval(notebook, work, cell_timeout, timeout):
    """Runs nbval on `notebook` in a fresh process group; returns (outcomes, log, timed_out)."""
    path, junit, log = work / "graded.ipynb", work / "junit.xml", work / "nbval.log"
    nbformat.write(notebook, path)
    env = dict(os.environ, AECOURSE_FAST="1", PYTHONDONTWRITEBYTECODE="1")
    command = [sys.executable, "-m", "pytest", "--nbval-lax", f"--nbval-cell-timeout={cell_timeout}",
               "-p", "no:cacheprovider", "-q", f"--junitxml={junit}", str(path)]
    with open(log, "wb") as output:
        process = subprocess.Popen(command, cwd=work, env=env, stdout=output, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            process.wait(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            timed_out = True
    text = log.read_bytes()[-_MAX_LOG:].decode(errors="replace")
    if timed_out or not junit.is_file():
        return {}, text, timed_out
    if process.returncode not in (0, 1):
        raise GradingError(f"pytest/nbval could not run (exit {process.returncode}):\n{text[-3000:]}")
    return _junit_outcomes(junit), text, False


def _grade_solutions(reference, solutions, work, cell_timeout, timeout):
    """Grades the matched solution sources; reruns what an earlier timeout or crash stopped."""
    outcomes, sources = {}, {}
    for label in reference.labels:
        found = solutions.get(label, [])
        if not found:
            outcomes[label] = Outcome(MISSING, "no solution cell for this exercise (a code cell tagged "
                                               "'solution' under its statement)")
        elif len(found) > 1:
            outcomes[label] = Outcome(DUPLICATED, f"{len(found)} solution cells answer this exercise; keep one")
        else:
            sources[label] = found[0].source
    prelude, logs = [], []
    while any(label not in outcomes for label in sources):
        pending = {label: sources[label] for label in sources if label not in outcomes or label in prelude}
        notebook, positions = _grading_notebook(reference, pending, prelude)
        results, log, timed_out = _run_nbval(notebook, work, cell_timeout, timeout)
        logs.append(log)
        if results.get(0, ("failed",))[0] != "passed" and not timed_out:
            raise GradingError(f"the setup cell of {reference.path.name} failed:\n{log[-3000:]}")
        progressed = False
        for label, (solution_cell, check_cell) in positions.items():
            solution_state, solution_text = results.get(solution_cell, ("skipped", ""))
            check_state, check_text = results.get(check_cell, ("skipped", ""))
            if solution_state == "failed":
                status, detail = _explain(solution_text)
                outcomes[label] = Outcome(status, f"your solution cell: {detail}")
            elif check_state == "passed":
                outcomes[label] = Outcome(PASSED)
            elif check_state == "failed":
                outcomes[label] = Outcome(*_explain(check_text))
            else:
                continue
            progressed = True
            if outcomes[label].status not in (TIMED_OUT, CRASHED):
                prelude.append(label)
        if timed_out or not progressed:
            reason = (f"the whole submission ran longer than {timeout} s" if timed_out
                      else "an earlier cell stopped the run")
            for label in sources:
                outcomes.setdefault(label, Outcome(NOT_RUN, reason))
    return {label: outcomes[label] for label in reference.labels}, "\n".join(logs)


def grade_submission(path, references, cell_timeout=60, timeout=600):
    """Grades one submission against the reference chapters.

    Args:
        path: the submission (read only, never modified).
        references: reference chapters, as loaded by `grade`.
        cell_timeout: time limit per cell, in seconds.
        timeout: time limit for the whole submission, in seconds.

    Returns:
        A `Grade` and the nbval log.
    """
    grade = Grade(str(path))
    notebook = _read_submission(path)
    if isinstance(notebook, str):
        grade.problem = notebook
        return grade, ""
    solutions = exercises.solutions_by_label(notebook)
    reference = _choose_reference(solutions, references)
    if isinstance(reference, str):
        grade.problem = reference
        return grade, ""
    grade.chapter = reference.path.name
    with tempfile.TemporaryDirectory(prefix="aecourse-grade-") as work:
        grade.outcomes, log = _grade_solutions(reference, solutions, pathlib.Path(work), cell_timeout, timeout)
    return grade, log


def _unique_names(paths):
    names, seen = [], {}
    for path in paths:
        stem = pathlib.Path(path).stem or "submission"
        seen[stem] = seen.get(stem, 0) + 1
        names.append(stem if seen[stem] == 1 else f"{stem}-{seen[stem]}")
    return names


def _feedback(grade, labels):
    lines = [f"# Feedback on {grade.submission}", ""]
    if grade.problem:
        return "\n".join(lines + [f"Not graded: {grade.problem}.", ""])
    lines += [f"Chapter: {grade.chapter}", f"Score: {grade.total} / {len(labels)}", ""]
    for label in labels:
        outcome = grade.outcomes[label]
        lines.append(f"- {label}: {outcome.status}" + (f": {outcome.detail}" if outcome.detail else ""))
    return "\n".join(lines + [""])


def grade(submissions, reference, out_dir, cell_timeout=60, timeout=600, jobs=2):
    """Grades submissions and writes `gradebook.csv` and one feedback file each.

    Args:
        submissions: paths of the learners' notebooks (never modified).
        reference: a reference chapter notebook, or the `book/` folder.
        out_dir: folder for `gradebook.csv`, `feedback/NAME.md` and `logs/NAME.txt`.
        cell_timeout: time limit per notebook cell, in seconds.
        timeout: time limit per submission, in seconds.
        jobs: submissions graded at the same time.

    Returns:
        The list of `Grade`, in the order of `submissions`.

    Raises:
        GradingError: if grading itself fails (e.g. the reference's setup cell).
    """
    for name, value in (("cell_timeout", cell_timeout), ("timeout", timeout), ("jobs", jobs)):
        if not isinstance(value, (int, float)) or value <= 0:
            raise ValueError(f"{name} must be a positive number. Received: {name}={value!r}")
    references = _load_references(reference)
    out_dir = pathlib.Path(out_dir)
    for folder in ("feedback", "logs"):
        (out_dir / folder).mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=int(jobs)) as pool:
        results = list(pool.map(lambda p: grade_submission(p, references, cell_timeout, timeout), submissions))
    grades = [grade for grade, _ in results]
    labels = [label for r in references if any(g.chapter == r.path.name for g in grades) for label in r.labels]
    with open(out_dir / "gradebook.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["submission", "chapter", "status", *labels, "total", "out_of"])
        for (grade_, log), name in zip(results, _unique_names(submissions)):
            cells = [int(grade_.outcomes[label].status == PASSED) if label in grade_.outcomes else ""
                     for label in labels]
            writer.writerow([grade_.submission, grade_.chapter or "", grade_.problem or "graded", *cells,
                             grade_.total if not grade_.problem else "",
                             len(grade_.outcomes) if not grade_.problem else ""])
            (out_dir / "feedback" / f"{name}.md").write_text(_feedback(grade_, list(grade_.outcomes)))
            (out_dir / "logs" / f"{name}.txt").write_text(log[-_MAX_LOG:])
    return grades
