"""Executes chapters on each Keras backend, in full and fast mode: run time and agreement of results.

    python benchmarks/backends.py                                   # every chapter, 3 backends, 2 modes
    python benchmarks/backends.py book/01_undercomplete.ipynb --modes full,fast

Each run executes a copy of the chapter in a fresh kernel with `KERAS_BACKEND`
set (`aecourse.course.notebooks.run_notebook`); the stored notebooks are not
touched. For every chapter and mode the table gives each backend's run time
and, against the first backend listed, how far the chapter's printed numbers
moved: the printed lines of both runs are paired in order where their words
agree, and each pair of numbers gives a relative difference |a - b| / max(|a|,
|b|). Numbers move between backends as between seeds (another random stream,
another summation order); whether they moved by more than the seed spread a
chapter prints is read from the chapter, not decided here. Then
`benchmarks/throughput.py` measures the chapter-1 model's training throughput
against the matmul peak, and everything goes to `benchmarks/results/backends.md`
with the date, machine and versions.

Takes as long as all the runs together (the whole book is about half an hour
per backend in full mode on 2 cores): run it on a quiet machine.
"""

import argparse
import importlib.metadata
import os
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile

from runtimes import machine_description, toc_chapters

HERE = pathlib.Path(__file__).resolve().parent
RESULTS = HERE / "results" / "backends.md"
NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def printed_lines(notebook):
    """The text a chapter prints (streams, Markdown and plain-text results), one line each."""
    lines = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.output_type == "stream" and output.name == "stdout":
                text = output.text
            else:
                data = output.get("data", {})
                text = data.get("text/markdown") or data.get("text/plain") or ""
            lines += [line for line in text.splitlines() if NUMBER.search(line)]
    return lines


def relative_differences(reference, other):
    """Relative differences of the numbers on lines paired in order whose words agree."""
    differences = []
    for a, b in zip(reference, other):
        numbers_a, numbers_b = NUMBER.findall(a), NUMBER.findall(b)
        if NUMBER.sub("#", a) != NUMBER.sub("#", b) or len(numbers_a) != len(numbers_b):
            continue
        for x, y in zip(map(float, numbers_a), map(float, numbers_b)):
            scale = max(abs(x), abs(y))
            differences.append(0.0 if scale == 0 else abs(x - y) / scale)
    return differences


def agreement(differences):
    """`numbers compared, median relative difference, share within 5 %` as table cells."""
    if not differences:
        return "0", "-", "-"
    within = sum(d <= 0.05 for d in differences) / len(differences)
    return str(len(differences)), f"{statistics.median(differences):.1%}", f"{within:.0%}"


def run(path, backend, fast, timeout):
    """Seconds and printed lines of one execution of a copy of `path` on `backend`."""
    import nbformat

    from aecourse.course import notebooks

    os.environ["KERAS_BACKEND"] = backend
    notebook = nbformat.read(path, as_version=4)
    seconds = notebooks.run_notebook(notebook, path, fast, timeout)
    return seconds, printed_lines(notebook)


def backend_versions(backends):
    versions = [f"keras {importlib.metadata.version('keras')}"]
    for backend in backends:
        try:
            versions.append(f"{backend} {importlib.metadata.version(backend)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{backend} not installed")
    return ", ".join(versions)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path,
                        help="chapter notebooks (default: every chapter in _toc.yml)")
    parser.add_argument("--backends", default="tensorflow,jax,torch",
                        help="comma-separated; the first is the reference for agreement (default tensorflow,jax,torch)")
    parser.add_argument("--modes", default="full,fast", help="comma-separated, of full and fast (default full,fast)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per cell (default 1800)")
    parser.add_argument("--no-throughput", action="store_true", help="skip benchmarks/throughput.py")
    parser.add_argument("--out", type=pathlib.Path, default=RESULTS)
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not backends or set(backends) - {"tensorflow", "jax", "torch"}:
        parser.error(f"--backends must name tensorflow, jax or torch. Received: {args.backends!r}")
    if not modes or set(modes) - {"full", "fast"}:
        parser.error(f"--modes must be full, fast or full,fast. Received: {args.modes!r}")
    chapters = args.notebooks or toc_chapters()
    missing = [str(path) for path in chapters if not path.is_file()]
    if missing or not chapters:
        parser.error(f"no such chapter notebooks: {missing or 'none in _toc.yml'}")

    header = machine_description()[:3] + [f"versions: {backend_versions(backends)}"]
    print("\n".join(header), flush=True)
    rows, totals = [], {(mode, backend): 0.0 for mode in modes for backend in backends}
    for path in chapters:
        for mode in modes:
            seconds, lines = {}, {}
            for backend in backends:
                seconds[backend], lines[backend] = run(path, backend, mode == "fast", args.timeout)
                totals[mode, backend] += seconds[backend]
                print(f"{path.stem} {mode} {backend}: {seconds[backend]:.0f} s", flush=True)
            cells = [path.stem, mode] + [f"{seconds[b]:.0f} s" for b in backends]
            for backend in backends[1:]:
                cells += agreement(relative_differences(lines[backends[0]], lines[backend]))
            rows.append(cells)

    reference = backends[0]
    columns = ["chapter", "mode"] + [f"{b} run time" for b in backends]
    for backend in backends[1:]:
        columns += [f"numbers compared, {backend} vs {reference}", "median relative difference", "share within 5 %"]
    lines = [
        "# The chapters on each Keras backend",
        "",
        "Written by `python benchmarks/backends.py "
        + " ".join([str(p) for p in args.notebooks] + [f"--backends {args.backends}", f"--modes {args.modes}"])
        + "`. Each run executes a copy of the chapter in a fresh kernel, kernel start included.",
        "",
        *[f"- {line}" for line in header],
        "",
        "| " + " | ".join(columns) + " |",
        "| " + " | ".join("---" for _ in columns) + " |",
        *["| " + " | ".join(row) + " |" for row in rows],
        "",
        *[f"- total, {mode} mode: " + ", ".join(f"{b} {totals[mode, b]:.0f} s" for b in backends) for mode in modes],
    ]
    if not args.no_throughput:
        with tempfile.TemporaryDirectory() as folder:
            target = pathlib.Path(folder) / "throughput.md"
            subprocess.run([sys.executable, str(HERE / "throughput.py"), "--backends", ",".join(backends),
                            "--out", str(target)], check=True)
            lines += ["", "## Training throughput of the chapter-1 model", "",
                      *target.read_text().splitlines()[2:]]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
