"""Times grading a class: 30 submissions of one chapter, half right, half untouched,
with the bubblewrap sandbox and without it, and the sandbox's start-up cost alone.

    python benchmarks/grading.py [--chapter book/01_undercomplete.ipynb] [--n 30] [--jobs 2]

Writes `benchmarks/results/grading.md`; each gradebook is checked against what
the submissions should score. The right submissions are the reference chapter
itself, so every exercise runs as a learner's answer would, `train` included.
"""

import argparse
import csv
import datetime
import os
import pathlib
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import nbformat

from aecourse.course import grading, sandbox, student

RESULTS = pathlib.Path(__file__).resolve().parent / "results" / "grading.md"


def _grade(subs, chapter, out, jobs, sandboxed):
    start = time.perf_counter()
    grades = grading.grade(sorted(subs.iterdir()), chapter, out, jobs=jobs, sandboxed=sandboxed)
    seconds = time.perf_counter() - start
    expected = [len(grades[0].scored) if i % 2 == 0 else 0 for i in range(len(grades))]
    assert [g.total for g in grades] == expected, [g.total for g in grades]
    with open(out / "gradebook.csv") as handle:
        assert len(list(csv.DictReader(handle))) == len(grades)
    return seconds, len(grades[0].outcomes)


def _sandbox_start(repeats=20):
    """Median seconds to start a sandboxed `python -c pass` minus an unsandboxed one."""
    command = sandbox.command(pathlib.Path("/tmp"), 1)
    inside = command[:command.index(sys.executable)] + [sys.executable, "-c", "pass"]
    times = {"sandboxed": [], "plain": []}
    for _ in range(repeats):
        for name, argv in (("sandboxed", inside), ("plain", [sys.executable, "-c", "pass"])):
            with sandbox.process_group(sandboxed=name == "sandboxed") as preexec:
                start = time.perf_counter()
                subprocess.run(argv, check=True, preexec_fn=preexec)
                times[name].append(time.perf_counter() - start)
    return statistics.median(times["sandboxed"]) - statistics.median(times["plain"])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chapter", default="book/01_undercomplete.ipynb")
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    chapter = pathlib.Path(args.chapter)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        (tmp / "subs").mkdir()
        edition = student.student_edition(nbformat.read(chapter, as_version=4))
        for i in range(args.n):
            target = tmp / "subs" / f"learner{i:02d}.ipynb"
            if i % 2:
                nbformat.write(edition, target)
            else:
                shutil.copy(chapter, target)  # the reference itself: every answer right
        sandboxed, n_exercises = _grade(tmp / "subs", chapter, tmp / "sandboxed", args.jobs, True)
        unsafe, _ = _grade(tmp / "subs", chapter, tmp / "unsafe", args.jobs, False)
    start_up = _sandbox_start()
    load_after = os.getloadavg()
    lines = [
        "# Grading a class of chapter 1",
        "",
        f"Written by `python benchmarks/grading.py --n {args.n} --jobs {args.jobs}`: {args.n} submissions of "
        f"{chapter.name} ({n_exercises} exercises each; half the reference itself, every answer right and the "
        "`train` exercise trained, half the untouched student edition).",
        "",
        f"- date: {datetime.datetime.now():%Y-%m-%d %H:%M}",
        f"- machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
        f"backend {os.environ.get('KERAS_BACKEND', 'tensorflow')}",
        f"- load average (1, 5, 15 min) before: {', '.join(f'{v:.1f}' for v in load_before)}; "
        f"after: {', '.join(f'{v:.1f}' for v in load_after)}",
        "",
        "| run | wall-clock | per submission |",
        "| --- | --- | --- |",
        f"| sandboxed (bubblewrap) | {sandboxed:.0f} s | {sandboxed / args.n:.2f} s |",
        f"| `--unsafe-no-sandbox` | {unsafe:.0f} s | {unsafe / args.n:.2f} s |",
        "",
        f"Sandbox overhead: {(sandboxed - unsafe) / args.n:+.2f} s per submission over the whole run; "
        f"starting a sandboxed `python -c pass` costs {start_up * 1000:.0f} ms more than an unsandboxed one "
        "(median of 20).",
        "",
    ]
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
