"""Measures every chapter's run time in full and in fast mode; writes the table the book shows.

    python benchmarks/runtimes.py                      # every chapter listed in _toc.yml
    python benchmarks/runtimes.py book/01_undercomplete.ipynb

Each chapter is executed in fast mode (outputs discarded, `AECOURSE_FAST=1`)
and in full mode (outputs kept), stamped and saved in place by
`aecourse.course.notebooks.execute`, exactly as `python -m aecourse execute` does.
Then `book/_generated/runtimes.md` (included by book/intro.md) is rewritten
from the stamps, and the table is printed with the machine, backend,
versions and date. Takes as long as the chapters do: run it on a quiet
machine.
"""

import argparse
import datetime
import importlib.metadata
import os
import pathlib
import platform
import sys
import time

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]


def toc_chapters(root=ROOT):
    """The chapter notebooks listed in `_toc.yml`, in book order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [entry["file"] for part in toc["parts"] for entry in part["chapters"]]
    return [root / f"{name}.ipynb" for name in files if (root / f"{name}.ipynb").is_file()]


def machine_description():
    """Cores, CPU, load, backend and versions of this machine, one line each."""
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    versions = []
    for package in ("keras", "tensorflow" if backend == "tensorflow" else backend, "numpy"):
        try:
            versions.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return [
        f"date: {datetime.date.today().isoformat()}",
        f"machine: {os.cpu_count()} cores, {cpu}, {platform.system()} {platform.machine()}",
        f"load average (1, 5, 15 min): {load}",
        f"backend: {backend}; Python {platform.python_version()}; {', '.join(versions)}",
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path,
                        help="chapter notebooks (default: every chapter in _toc.yml)")
    parser.add_argument("--no-fast", action="store_true", help="skip the fast-mode run")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per cell (default 1800)")
    args = parser.parse_args(argv)
    from aecourse.course import notebooks  # after argparse: --help needs no Keras

    chapters = args.notebooks or toc_chapters()
    if not chapters:
        parser.error("no chapter notebooks found")
    for line in machine_description():
        print(line)
    book_dirs = []
    for path in chapters:
        start = time.perf_counter()
        stamp = notebooks.execute(path, time_fast=not args.no_fast, timeout=args.timeout)
        print(f"{path}: full {stamp['runtime_full_s']} s, fast {stamp.get('runtime_fast_s', '-')} s "
              f"({time.perf_counter() - start:.0f} s in all)", flush=True)
        if path.resolve().parent not in book_dirs:
            book_dirs.append(path.resolve().parent)
    for book_dir in book_dirs:
        target = notebooks.write_runtime_table(book_dir)
        print(f"\nwrote {target}\n")
        print(target.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
