"""Command line of the course (`python -m aecourse`).

    python -m aecourse execute book/01_undercomplete.ipynb   # re-execute and stamp a chapter
    python -m aecourse student book/ --out DIR               # the student edition
    python -m aecourse student book/ --learner-copy          # refresh student/, what the Colab links open
    python -m aecourse grade subs/*.ipynb --reference book/ --out grades/
"""

import argparse
import pathlib
import sys

from aecourse.course import grading, notebooks, sandbox, student


def _execute(args):
    for path in args.notebooks:
        stamp = (notebooks.retime_fast(path) if args.fast_only
                 else notebooks.execute(path, time_fast=not args.no_fast_timing))
        print(f"{path}: full {stamp['runtime_full_s']} s, fast {stamp.get('runtime_fast_s', '-')} s, "
              f"hash {stamp['source_hash']}")
        print(f"updated {notebooks.write_runtime_table(pathlib.Path(path).parent)}")
        print(f"updated {student.write_learner_copy(path)}")


def _student(args):
    paths = ([student.write_learner_copy(path) for path in student.chapter_paths(args.source)] if args.learner_copy
             else student.write_student_edition(args.source, args.out))
    for path in paths:
        print(f"wrote {path}")


def _grade(args):
    if args.unsafe_no_sandbox:
        print(f"warning: {grading.UNSAFE_WARNING}", file=sys.stderr)
    limits = sandbox.Limits(memory=int(args.memory_gb * (1 << 30)), processes=args.max_processes)
    grades = grading.grade(args.submissions, args.reference, args.out, cell_timeout=args.cell_timeout,
                           timeout=args.timeout, jobs=args.jobs, sandboxed=not args.unsafe_no_sandbox,
                           limits=limits)
    for grade in grades:
        verdict = f"not graded: {grade.problem}" if grade.problem else f"{grade.total}/{len(grade.scored)}"
        print(f"{grade.submission}: {verdict}")
    print(f"wrote {pathlib.Path(args.out) / 'gradebook.csv'} and one feedback file per submission")


def main(argv=None):
    """Runs a command; returns the exit status (0: the command worked)."""
    parser = argparse.ArgumentParser(prog="python -m aecourse", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("execute", help="execute chapters in full mode and stamp them")
    run.add_argument("notebooks", nargs="+", help="chapter notebooks, e.g. book/01_undercomplete.ipynb")
    run.add_argument("--no-fast-timing", action="store_true", help="skip timing a fast-mode run")
    run.add_argument("--fast-only", action="store_true",
                     help="only re-time fast mode, keeping the stored full-mode outputs (after a change to "
                          "fast-mode budgets only; refused for a stale chapter)")
    run.set_defaults(action=_execute)

    student = commands.add_parser("student", help="write the student edition (solutions removed)")
    student.add_argument("source", help="a chapter notebook or the book/ folder")
    target = student.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", help="folder for the student notebooks")
    target.add_argument("--learner-copy", action="store_true",
                        help="write student/ beside the chapters' folder, without outputs: what the Colab links open")
    student.set_defaults(action=_student)

    grade = commands.add_parser("grade", help="grade submissions in a sandbox; write a gradebook")
    grade.add_argument("submissions", nargs="+", help="learners' notebooks (never modified)")
    grade.add_argument("--reference", required=True, help="the reference chapter notebook or the book/ folder")
    grade.add_argument("--out", required=True, help="folder for gradebook.csv, feedback/ and logs/")
    grade.add_argument("--cell-timeout", type=float, default=60, help="seconds per cell (default 60)")
    grade.add_argument("--timeout", type=float, default=600, help="seconds per submission (default 600)")
    grade.add_argument("--jobs", type=int, default=2, help="submissions graded in parallel (default 2)")
    grade.add_argument("--memory-gb", type=float, default=6, help="address space per sandboxed process (default 6)")
    grade.add_argument("--max-processes", type=int, default=256,
                       help="processes and threads per sandbox (default 256)")
    grade.add_argument("--unsafe-no-sandbox", action="store_true",
                       help="run learners' code WITHOUT the sandbox, with your permissions (the gradebook says so)")
    grade.set_defaults(action=_grade)

    args = parser.parse_args(argv)
    try:
        args.action(args)
    except ValueError as error:
        parser.error(str(error))
    except grading.GradingError as error:
        print(f"error: grading failed: {error}", file=sys.stderr)
        return 1
    except sandbox.SandboxUnavailable as error:
        print(f"error: the grading sandbox cannot start: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
