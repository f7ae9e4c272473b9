"""Times grading a class: 30 submissions of one chapter, half right, half untouched.

    python benchmarks/grading.py [--chapter book/01_undercomplete.ipynb] [--n 30] [--jobs 2]

Prints the wall-clock time and the per-submission average; the gradebook is
checked against what the submissions should score.
"""

import argparse
import csv
import pathlib
import shutil
import tempfile
import time

import nbformat

from aecourse import grading


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chapter", default="book/01_undercomplete.ipynb")
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    chapter = pathlib.Path(args.chapter)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        (tmp / "subs").mkdir()
        student = grading.student_edition(nbformat.read(chapter, as_version=4))
        for i in range(args.n):
            target = tmp / "subs" / f"learner{i:02d}.ipynb"
            if i % 2:
                nbformat.write(student, target)
            else:
                shutil.copy(chapter, target)  # the reference itself: every answer right
        start = time.perf_counter()
        grades = grading.grade(sorted((tmp / "subs").iterdir()), chapter, tmp / "out", jobs=args.jobs)
        seconds = time.perf_counter() - start
        n_exercises = len(grades[0].outcomes)
        expected = [n_exercises if i % 2 == 0 else 0 for i in range(args.n)]
        assert [g.total for g in grades] == expected, [g.total for g in grades]
        with open(tmp / "out" / "gradebook.csv") as handle:
            assert len(list(csv.DictReader(handle))) == args.n
    print(f"graded {args.n} submissions of {chapter.name} ({n_exercises} exercises each) "
          f"with {args.jobs} jobs in {seconds:.0f} s ({seconds / args.n:.1f} s per submission)")


if __name__ == "__main__":
    main()
