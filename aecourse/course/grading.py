"""Grading submissions: the verdict is reached outside the learner's process.

`python -m aecourse grade SUBMISSION... --reference book/ --out DIR` grades.

For each submission the grader takes only the solution cells (matched by
exercise label), flags any that use `aecourse` for what they are asked to
write (`aecourse.course.scan`), and runs them in a grading kernel
(`aecourse.course.runner`) inside a bubblewrap sandbox
(`aecourse.course.sandbox`). The kernel only *calls* each answer on cases the
grader drew from a per-submission secret seed and sends the results back as
data; the grader judges them in its own process with the checks' reference
code, which the sandbox cannot see. A submission file is only ever read.
"""

import contextlib
import csv
import dataclasses
import importlib
import json
import os
import pathlib
import queue
import secrets
import signal
import struct
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import nbformat
import numpy as np

from aecourse.checks import REGISTRY, ExerciseFailure
from aecourse.course import exercises, protocol, sandbox, scan
from aecourse.course.student import chapter_paths

PASSED, FAILED, ERROR, TIMED_OUT, CRASHED, MISSING, DUPLICATED, NOT_RUN, COPIED, ANSWERED, UNANSWERED = (
    "passed", "failed", "error", "timed out", "kernel died", "missing", "duplicated", "not run",
    "not your own code", "answered", "not answered")
UNSAFE_WARNING = ("NOT SANDBOXED (--unsafe-no-sandbox): the learners' code ran with your permissions "
                  "and could have changed these grades")
_MAX_LOG = 1_000_000
_MAX_DATA = 512 << 20  # bytes a kernel may send back
# Forking while another thread runs NumPy can deadlock in OpenBLAS's fork handler: submissions
# graded in parallel threads never start a kernel while another makes inputs or judges.
_NUMPY_OR_FORK = threading.Lock()


class GradingError(RuntimeError):
    """Grading itself failed (bad reference, broken environment), not a learner."""


# ----------------------------------------------------------------------------- references

@dataclasses.dataclass
class Outcome:
    """The grade of one exercise: a status (`passed`, `failed`, ...), a detail, and for an
    `explain` exercise the learner's answer."""

    status: str
    detail: str = ""
    answer: str = None


@dataclasses.dataclass
class Grade:
    """The grading of one submission.

    Attributes:
        submission: the submission's path, as given.
        chapter: the reference chapter's file name, or `None` if rejected.
        problem: why the submission could not be graded at all, or `None`.
        outcomes: exercise label -> `Outcome`, in the reference's order.
        kinds: exercise label -> kind.
    """

    submission: str
    chapter: str = None
    problem: str = None
    outcomes: dict = dataclasses.field(default_factory=dict)
    kinds: dict = dataclasses.field(default_factory=dict)

    @property
    def scored(self):
        """The labels that count towards the total (every kind but `explain`)."""
        return [label for label in self.outcomes if self.kinds.get(label) != "explain"]

    @property
    def total(self):
        return sum(self.outcomes[label].status == PASSED for label in self.scored)


@dataclasses.dataclass
class _Exercise:
    label: str
    kind: str
    check: object
    answer: str


@dataclasses.dataclass
class _Reference:
    path: pathlib.Path
    labels: list
    exercises: dict
    imports: list
    bound: dict


def _load_references(source):
    references = []
    for path in chapter_paths(source):
        notebook = nbformat.read(path, as_version=4)
        found = exercises.find_exercises(notebook)
        if not found:
            raise ValueError(f"Reference chapter {path} has no exercises.")
        setup = next(c for c in notebook.cells if c.cell_type == "code").source
        module = importlib.import_module(f"aecourse.checks.ch{int(found[0].label.split('-')[1])}")
        by_label = {}
        for exercise in found:
            function, answer = exercises.check_call(notebook.cells[exercise.check].source)
            check = getattr(module, function, None)
            if REGISTRY.get(exercise.label) is not check:
                raise GradingError(f"{path.name}: the check cell of {exercise.label} calls {function}, which "
                                   f"is not the Check labelled {exercise.label} in {module.__name__}.")
            if exercise.kind and exercise.kind != check.kind:
                raise GradingError(f"{path.name}: {exercise.label} is a {exercise.kind} exercise in the notebook "
                                   f"but a {check.kind} exercise in its Check.")
            by_label[exercise.label] = _Exercise(exercise.label, check.kind, check, answer)
        references.append(_Reference(path, [e.label for e in found], by_label, scan.setup_imports(setup),
                                     scan.aecourse_names(setup)))
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


# ----------------------------------------------------------------------------- the kernel

def _read_frames(fd, frames):
    """Parses the runner's frames from `fd` into the queue `frames` until EOF or too much data."""
    with os.fdopen(fd, "rb") as stream:
        received = 0
        while True:
            head = stream.read(5)
            if len(head) < 5:
                break
            name = stream.read(min(struct.unpack(">I", head[1:])[0], 1000))
            size = stream.read(8)
            if len(size) < 8:
                break
            length = struct.unpack(">Q", size)[0]
            received += length
            if received > _MAX_DATA:
                frames.put(("X", "", b""))
                break
            frames.put((head[:1].decode(errors="replace"), name.decode(errors="replace"), stream.read(length)))
    frames.put(None)


def _read_log(stream, chunks):
    total = 0
    for chunk in iter(lambda: stream.read(65536), b""):
        chunks.append(chunk)
        total += len(chunk)
        while total > _MAX_LOG and len(chunks) > 1:
            total -= len(chunks.pop(0))


def _run_kernel(job_dir, sandboxed, limits, cell_timeout, timeout):
    """Runs the grading kernel once. Returns (frames, how it ended, the exercise running then, log)."""
    read, write = os.pipe()
    command = sandbox.command(job_dir, write, limits) if sandboxed else sandbox.unsandboxed_command(job_dir, write)
    frames, collected, log = queue.Queue(), [], []
    with sandbox.process_group(limits, sandboxed) as preexec:
        env = None if sandboxed else dict(os.environ, AECOURSE_FAST="1", MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")
        try:
            with _NUMPY_OR_FORK:
                process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                           stderr=subprocess.STDOUT, pass_fds=(write,), preexec_fn=preexec,
                                           start_new_session=True, cwd=job_dir, env=env)
        finally:
            os.close(write)
        threading.Thread(target=_read_frames, args=(read, frames), daemon=True).start()
        log_reader = threading.Thread(target=_read_log, args=(process.stdout, log), daemon=True)
        log_reader.start()
        start = started = time.monotonic()
        current, ended, eof = None, None, False
        while ended is None:
            try:
                item = frames.get(timeout=0.05)
            except queue.Empty:
                item = ""
            if item is None:
                eof = True
            elif item:
                collected.append(item)
                if item[0] == "S":
                    current, started = item[1], time.monotonic()
                elif item[0] in "DX":
                    ended = "done" if item[0] == "D" else "too much data"
            now = time.monotonic()
            if ended is None and current is not None and now - started > cell_timeout:
                ended = "cell timeout"
            elif ended is None and now - start > timeout:
                ended = "timeout"
            elif ended is None and eof and process.poll() is not None:
                ended = "exited"
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        log_reader.join(timeout=2)
    return collected, ended, current, b"".join(log).decode(errors="replace")


def _judge(exercise, cases, payload):
    """The outcome of data sent back by the kernel, judged with the reference in this process."""
    with _NUMPY_OR_FORK:
        return _judge_unlocked(exercise, cases, payload)


def _judge_unlocked(exercise, cases, payload):
    try:
        results = protocol.decode(payload)
    except ValueError as error:
        return Outcome(FAILED, f"{exercise.label}: your answer's data could not be read ({error}).")
    if exercise.kind == "explain":
        return Outcome(ANSWERED, answer=results[0].strip() if results and isinstance(results[0], str) else "")
    try:
        return Outcome(PASSED, exercise.check.judge(cases, results))
    except ExerciseFailure as failure:
        return Outcome(FAILED, str(failure))
    except Exception as error:  # data of an unexpected form: the learner's answer, not the grader
        return Outcome(FAILED, f"{exercise.label}: your answer returned data of an unexpected form "
                               f"({type(error).__name__}: {str(error)[:200]}).")


def _grade_solutions(reference, solutions, work, settings):
    """Grades the matched solution sources; reruns what a timeout or crash stopped."""
    outcomes, sources = {}, {}
    for label in reference.labels:
        exercise, found = reference.exercises[label], solutions.get(label, [])
        if not found:
            outcomes[label] = Outcome(MISSING, "no solution cell for this exercise (a code cell tagged "
                                               "'solution' under its statement)")
        elif len(found) > 1:
            outcomes[label] = Outcome(DUPLICATED, f"{len(found)} solution cells answer this exercise; keep one")
        else:
            sources[label] = found[0].source
            uses = scan.forbidden_uses(sources[label], reference.bound, exercise.check.allow)
            if uses:
                outcomes[label] = Outcome(COPIED, "your solution uses " + "; ".join(uses[:5]) +
                                          ". Write it yourself, with NumPy or Keras.")
    job = work / "job"
    job.mkdir()
    rng = np.random.default_rng(secrets.randbits(128))  # per submission; never written anywhere
    cases = {}
    for label in sources:
        with _NUMPY_OR_FORK:
            cases[label] = protocol.decode(protocol.encode(reference.exercises[label].check.cases(rng)))
        (job / f"{label}.npz").write_bytes(protocol.encode(cases[label]))
    logs = []
    while any(label not in outcomes for label in sources):
        # cells that stopped the kernel are left out; the others run again for their definitions
        order = [label for label in sources if outcomes.get(label, Outcome("")).status not in (TIMED_OUT, CRASHED)]
        (job / "job.json").write_text(json.dumps({"imports": reference.imports, "exercises": [
            {"label": label, "source": sources[label], "answer": reference.exercises[label].answer,
             "probe": reference.exercises[label].check.probe,
             "keep_inputs": reference.exercises[label].check.keep_inputs,
             "call": label not in outcomes} for label in order]}))
        frames, ended, current, log = _run_kernel(job, settings["sandboxed"], settings["limits"],
                                                  settings["cell_timeout"], settings["timeout"])
        logs.append(log)
        if not frames and ended == "exited":
            raise GradingError(f"the grading kernel did not start:\n{log[-3000:]}")
        progressed = False
        for kind, label, payload in frames:
            if label not in sources or label in outcomes or kind not in "CAR":
                continue  # the first report of an exercise counts; nothing else
            exercise, text = reference.exercises[label], payload.decode(errors="replace")[:2000]
            if kind == "C":
                outcomes[label] = Outcome(ERROR, f"your solution cell: {text}")
            elif kind == "A":
                outcomes[label] = Outcome(UNANSWERED if exercise.kind == "explain" else FAILED, f"{label}: {text}")
            else:
                outcomes[label] = _judge(exercise, cases[label], payload)
            progressed = True
        if ended in ("cell timeout", "exited") and current in sources and current not in outcomes:
            outcomes[current] = (Outcome(TIMED_OUT, "the cell ran longer than the time limit (an endless loop?)")
                                 if ended == "cell timeout" else
                                 Outcome(CRASHED, "the kernel stopped (exit(), os._exit, out of memory or a crash?)"))
            progressed = True
        if ended in ("timeout", "too much data") or not progressed:
            reason = {"timeout": f"the whole submission ran longer than {settings['timeout']:g} s",
                      "too much data": "the submission sent back too much data"}.get(ended, "an earlier cell "
                                                                                        "stopped the run")
            for label in sources:
                outcomes.setdefault(label, Outcome(NOT_RUN, reason))
    return {label: outcomes[label] for label in reference.labels}, "\n".join(logs)


def grade_submission(path, references, settings):
    """Grades one submission against the reference chapters; returns a `Grade` and the kernel's log."""
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
    grade.kinds = {label: reference.exercises[label].kind for label in reference.labels}
    with tempfile.TemporaryDirectory(prefix="aecourse-grade-") as work:
        os.chmod(work, 0o755)  # the sandbox's user reads the job through it
        grade.outcomes, log = _grade_solutions(reference, solutions, pathlib.Path(work), settings)
    return grade, log


# ----------------------------------------------------------------------------- gradebook

def _unique_names(paths):
    names, seen = [], {}
    for path in paths:
        stem = pathlib.Path(path).stem or "submission"
        seen[stem] = seen.get(stem, 0) + 1
        names.append(stem if seen[stem] == 1 else f"{stem}-{seen[stem]}")
    return names


def _feedback(grade, sandboxed):
    lines = [f"# Feedback on {grade.submission}", ""]
    if not sandboxed:
        lines += [f"**{UNSAFE_WARNING}.**", ""]
    if grade.problem:
        return "\n".join(lines + [f"Not graded: {grade.problem}.", ""])
    lines += [f"Chapter: {grade.chapter}", f"Score: {grade.total} / {len(grade.scored)}", ""]
    for label, outcome in grade.outcomes.items():
        lines.append(f"- {label}: {outcome.status}" + (f": {outcome.detail}" if outcome.detail else ""))
        if outcome.answer is not None:
            lines += ["", "  ```text", *("  " + line for line in outcome.answer.splitlines()), "  ```"]
    return "\n".join(lines + [""])


def spreadsheet_safe(text):
    """Text for a CSV cell that a spreadsheet will not run as a formula (a leading `'` if needed)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def grade(submissions, reference, out_dir, cell_timeout=60, timeout=600, jobs=2, sandboxed=True,
          limits=sandbox.Limits()):
    """Grades submissions and writes `gradebook.csv` and one feedback file each.

    Args:
        submissions: paths of the learners' notebooks (never modified).
        reference: a reference chapter notebook, or the `book/` folder.
        out_dir: folder for `gradebook.csv`, `feedback/NAME.md` and `logs/NAME.txt`.
        cell_timeout: time limit per solution cell and its calls, in seconds.
        timeout: time limit per submission, in seconds.
        jobs: submissions graded at the same time.
        sandboxed: run each kernel in the bubblewrap sandbox (`False` only with
            `--unsafe-no-sandbox`; the gradebook then says so).
        limits: the sandbox's `Limits` (memory, processes, file size).

    Returns:
        The list of `Grade`, in the order of `submissions`.

    Raises:
        GradingError: if grading itself fails (bad reference, the kernel does not start).
        sandbox.SandboxUnavailable: if the sandbox cannot start (the message says how to fix it).
    """
    for name, value in (("cell_timeout", cell_timeout), ("timeout", timeout), ("jobs", jobs)):
        if not isinstance(value, (int, float)) or value <= 0:
            raise ValueError(f"{name} must be a positive number. Received: {name}={value!r}")
    references = _load_references(reference)
    if sandboxed:
        sandbox.check(limits)
    out_dir = pathlib.Path(out_dir)
    for folder in ("feedback", "logs"):
        (out_dir / folder).mkdir(parents=True, exist_ok=True)
    settings = {"cell_timeout": cell_timeout, "timeout": timeout, "sandboxed": sandboxed, "limits": limits}
    with ThreadPoolExecutor(max_workers=int(jobs)) as pool:
        results = list(pool.map(lambda p: grade_submission(p, references, settings), submissions))
    grades = [grade for grade, _ in results]
    used = [r for r in references if any(g.chapter == r.path.name for g in grades)]
    scored = [label for r in used for label in r.labels if r.exercises[label].kind != "explain"]
    explained = [label for r in used for label in r.labels if r.exercises[label].kind == "explain"]
    with open(out_dir / "gradebook.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["submission", "chapter", "status", *scored, "total", "out_of", *explained, "sandbox"])
        for (grade_, log), name in zip(results, _unique_names(submissions)):
            marks = [int(grade_.outcomes[label].status == PASSED) if label in grade_.outcomes else ""
                     for label in scored]
            answers = [spreadsheet_safe(grade_.outcomes[label].answer or "") if label in grade_.outcomes else ""
                       for label in explained]
            writer.writerow([grade_.submission, grade_.chapter or "", grade_.problem or "graded", *marks,
                             grade_.total if not grade_.problem else "",
                             len(grade_.scored) if not grade_.problem else "", *answers,
                             "bubblewrap" if sandboxed else UNSAFE_WARNING])
            (out_dir / "feedback" / f"{name}.md").write_text(_feedback(grade_, sandboxed))
            (out_dir / "logs" / f"{name}.txt").write_text(log[-_MAX_LOG:])
    return grades
