"""The grading kernel: runs a learner's solution cells and reports their answers as data.

    python -m aecourse.course.runner JOB_DIR FD

runs inside the sandbox (`aecourse.course.sandbox`), where the checks are not
visible. It reads `JOB_DIR/job.json` (the setup cell's imports and, per
exercise, the solution source, the name of the answer, the probe) and
`JOB_DIR/<label>.npz` (the cases), executes each solution cell in one
namespace, calls the answer on its cases (`protocol.answer_data`) and writes
frames to file descriptor `FD`: `S` (exercise started), `R` (its results, as
`protocol.encode`d data), `A` (no answer: the hint), `C` (the solution cell
raised) and `D` (done). The grader judges the results in its own process, so
nothing the learner's code does here can turn a wrong answer into a pass.
"""

import ast
import builtins
import json
import os
import pathlib
import struct
import sys
import traceback

from aecourse.course import protocol


class LazyImports(dict):
    """Builtins that import a name of the setup cell on its first use.

    Grading runs only the setup cell's import statements, and each one only
    when the learner's code first uses a name it binds, so that a submission
    that never touches Keras does not pay for importing it.
    """

    def __init__(self, statements):
        super().__init__(vars(builtins))
        self._pending = {}
        for statement in statements:
            for alias in ast.parse(statement).body[0].names:
                self._pending[(alias.asname or alias.name).split(".")[0]] = statement

    def __missing__(self, name):
        if name not in self._pending:
            raise KeyError(name)
        scope = {}
        exec(self._pending.pop(name), scope)
        self[name] = scope[name]
        return scope[name]


def frame(fd, kind, label, payload=b""):
    """Writes one frame: kind (1 byte), label length (4), label, payload length (8), payload."""
    name = label.encode()
    data = kind.encode() + struct.pack(">I", len(name)) + name + struct.pack(">Q", len(payload)) + payload
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _last_line(error):
    lines = traceback.format_exception_only(type(error), error)
    return lines[-1].strip()[:500] if lines else type(error).__name__


def main(job_dir, fd):
    job_dir = pathlib.Path(job_dir)
    job = json.loads((job_dir / "job.json").read_text())
    namespace = {"__name__": "__main__", "__builtins__": LazyImports(job["imports"])}
    for exercise in job["exercises"]:
        label = exercise["label"]
        frame(fd, "S", label)
        try:
            exec(compile(exercise["source"], f"<solution {label}>", "exec"), namespace)
        except BaseException as error:  # noqa: B036  (SystemExit and KeyboardInterrupt too: a learner's)
            frame(fd, "C", label, _last_line(error).encode())
            continue
        if not exercise["call"]:
            continue  # already judged in an earlier run: only its definitions are needed
        if exercise["answer"] not in namespace:
            frame(fd, "A", label, f"your solution cell defines no `{exercise['answer']}`.".encode())
            continue
        try:
            cases = protocol.decode((job_dir / f"{label}.npz").read_bytes())
            results = protocol.answer_data(namespace[exercise["answer"]], cases, exercise["probe"],
                                           exercise["keep_inputs"])
            frame(fd, "R", label, protocol.encode(results))
        except protocol.AnswerError as error:
            frame(fd, "A", label, str(error).encode())
        except BaseException as error:  # noqa: B036
            frame(fd, "A", label, f"your answer raised {_last_line(error)}".encode())
    frame(fd, "D", "")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
