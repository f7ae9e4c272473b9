"""Executing chapter notebooks and stamping what produced their outputs.

Chapters are committed executed in full mode. Each notebook's metadata holds
an `aecourse` stamp: a hash of the package modules the notebook uses, the
backend and versions, and the measured run times. The lint tests compare the
stamp's hash with the current sources, so stored outputs cannot go stale
silently. `python -m aecourse execute book/NN_x.ipynb` re-executes and
re-stamps a chapter.
"""

import ast
import hashlib
import os
import pathlib
import platform
import re
import time

PACKAGE_DIR = pathlib.Path(__file__).resolve().parent.parent
IMPORT_PATTERN = re.compile(r"\baecourse(?:\.\w+)*")
# Lines TensorFlow writes to stderr before its logger starts; not silenceable.
LOG_SPAM = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\)|[IWE]\d{4} [\d:.]+ +\d+ \S+\.cc:\d+\]"
    r"|To enable the following instructions:|WARNING:tensorflow:)"
)


def _module_file(name):
    relative = pathlib.Path(*name.split(".")[1:])
    if not relative.parts:
        return PACKAGE_DIR / "__init__.py"
    for candidate in (PACKAGE_DIR / relative.with_suffix(".py"), PACKAGE_DIR / relative / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported_names(source, package="aecourse"):
    """Names of the `aecourse` modules a piece of Python source imports.

    Relative imports are resolved against `package`, the importing module's package.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:  # a cell with IPython magics: fall back to a pattern
        return set(IMPORT_PATTERN.findall(source))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return {name for name in names if name.split(".")[0] == "aecourse"}


def used_modules(notebook):
    """The package files a notebook's code cells import, directly or not.

    Args:
        notebook: an `nbformat` notebook.

    Returns:
        Sorted list of paths relative to the package folder.
    """
    pending = {"aecourse"}
    for cell in notebook.cells:
        if cell.cell_type == "code":
            pending.update(_imported_names(cell.source))
    files, seen = set(), set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        path = _module_file(name)
        if path is None:
            continue
        files.add(path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        pending.update(_imported_names(path.read_text(), package))
        parts = name.split(".")
        pending.update(".".join(parts[:i]) for i in range(1, len(parts)))
    return sorted(str(f.relative_to(PACKAGE_DIR)) for f in files)


def source_hash(modules):
    """SHA-256 over the named package files (path and bytes), 16 hex digits."""
    digest = hashlib.sha256()
    for name in modules:
        digest.update(name.encode() + b"\0" + (PACKAGE_DIR / name).read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def current_stamp(notebook):
    """The `modules` and `source_hash` a fresh execution would record."""
    modules = used_modules(notebook)
    return {"modules": modules, "source_hash": source_hash(modules)}


def strip_log_spam(notebook):
    """Removes TensorFlow's unsilenceable start-up lines from stream outputs."""
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        merged = []  # a kernel may split one printed line over several stream outputs
        for output in cell.outputs:
            if (output.output_type == "stream" and merged and merged[-1].output_type == "stream"
                    and merged[-1].name == output.name):
                merged[-1].text += output.text
            else:
                merged.append(output)
        kept = []
        for output in merged:
            if output.output_type == "stream":
                lines = [line for line in output.text.splitlines(keepends=True) if not LOG_SPAM.match(line)]
                output.text = "".join(lines)
                if not output.text.strip():
                    continue
            kept.append(output)
        cell.outputs = kept
    return notebook


BADGE_TIMES = re.compile(r"(?:about|under) \d+ minutes? on a (?:busy )?2-core CPU \((?:about|under) \d+ minutes? with "
                         r"`AECOURSE_FAST=1`\)")


def _minutes(seconds):
    minutes = max(1, round(seconds / 60))
    return f"about {minutes} minute{'s' if minutes > 1 else ''}"


def badge_times(stamp):
    """The run-time phrase of a chapter's badge line, from its stamped run times."""
    return (f"{_minutes(stamp['runtime_full_s'])} on a 2-core CPU "
            f"({_minutes(stamp['runtime_fast_s'])} with `AECOURSE_FAST=1`)")


def refresh_badge(notebook):
    """Writes the stamped run times into the badge line (the second cell) of a chapter.

    Raises:
        ValueError: if the badge cell has no run-time phrase to update.
    """
    badge = notebook.cells[1]
    if not BADGE_TIMES.search(badge.source):
        raise ValueError("The chapter's second cell must be its badge line with 'about N minutes on a 2-core "
                         f"CPU (about M minutes with `AECOURSE_FAST=1`)'. Received: {badge.source[:300]!r}")
    badge.source = BADGE_TIMES.sub(badge_times(notebook.metadata["aecourse"]), badge.source)
    return notebook


FAST_XLA_FLAG = "--xla_backend_optimization_level=0"


def fast_environment(environ):
    """The environment of a fast-mode run: `environ` with `AECOURSE_FAST=1` and XLA's backend optimisation off.

    A fast-mode run trains small models for a few steps, so most of its time
    goes to compiling them (XLA compiles every training step, initialiser and
    evaluation function once, on JAX and TensorFlow): machine code compiled
    without LLVM's optimisations compiles faster and runs nearly as fast at
    these sizes (chapter 8: 79 s -> 70 s on one core). Only the fast-mode runs
    of `run_notebook` and the test suite's nbval get it; an optimisation level
    already in `XLA_FLAGS` is kept.

    Args:
        environ: a mapping of environment variables (e.g. `os.environ`); not modified.

    Returns:
        A new dict.
    """
    env = dict(environ, AECOURSE_FAST="1")
    flags = env.get("XLA_FLAGS", "")
    if "xla_backend_optimization_level" not in flags:
        env["XLA_FLAGS"] = f"{flags} {FAST_XLA_FLAG}".strip()
    return env


def run_notebook(notebook, path, fast, timeout=1800):
    """Executes `notebook` in place (in memory) in fast or full mode, in a fresh kernel.

    The kernel inherits this process's environment (`KERAS_BACKEND` included)
    with `AECOURSE_FAST` set for the run (and, in fast mode, the rest of
    `fast_environment`); nothing is written to disk.

    Args:
        notebook: an `nbformat` notebook, filled with outputs on return.
        path: the notebook's path; its folder is the kernel's working directory.
        fast: `True` for fast mode (`AECOURSE_FAST=1`), `False` for full mode.
        timeout: per-cell time limit in seconds.

    Returns:
        The wall-clock seconds the execution took, kernel start included.
    """
    import nbclient

    run_env = fast_environment(os.environ) if fast else dict(os.environ, AECOURSE_FAST="0")
    backup = {name: os.environ.get(name) for name in ("AECOURSE_FAST", "XLA_FLAGS")}
    os.environ.update({name: run_env[name] for name in backup if name in run_env})
    try:
        start = time.perf_counter()
        nbclient.NotebookClient(
            notebook, timeout=timeout, kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        ).execute()
        return time.perf_counter() - start
    finally:
        for name, value in backup.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def execute(path, time_fast=True, timeout=1800):
    """Executes a chapter in full mode, stamps it and saves it in place.

    Args:
        path: the notebook's path.
        time_fast: also execute a copy in fast mode (outputs discarded) to
            record the fast-mode run time.
        timeout: per-cell time limit in seconds.

    Returns:
        The stamp written into the notebook's metadata.
    """
    import importlib.metadata

    import nbformat

    path = pathlib.Path(path)
    if not path.is_file() or path.suffix != ".ipynb":
        raise ValueError(f"Expected the path of an existing .ipynb notebook. Received: path={str(path)!r}")
    notebook = nbformat.read(path, as_version=4)
    stamp = current_stamp(notebook)
    if time_fast:
        stamp["runtime_fast_s"] = round(run_notebook(nbformat.read(path, as_version=4), path, True, timeout), 1)
    stamp["runtime_full_s"] = round(run_notebook(notebook, path, False, timeout), 1)
    stamp.update({
        "mode": "full",
        "backend": os.environ.get("KERAS_BACKEND", "tensorflow"),
        "keras_version": importlib.metadata.version("keras"),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
        "executed": time.strftime("%Y-%m-%d"),
    })
    notebook.metadata["aecourse"] = stamp
    if time_fast:
        refresh_badge(notebook)
    nbformat.write(strip_log_spam(notebook), path)
    return stamp


def retime_fast(path, timeout=1800):
    """Re-measures a chapter's fast-mode run time; its stored full-mode outputs stay as they are.

    For a change that only touches the fast-mode budgets (`runtime.budget(full, fast)`), which
    cannot change what full mode computes. Refuses a stale chapter: run `execute` on it.

    Args:
        path: the notebook's path.
        timeout: per-cell time limit in seconds.

    Returns:
        The updated stamp.
    """
    import nbformat

    path = pathlib.Path(path)
    notebook = nbformat.read(path, as_version=4)
    stamp = notebook.metadata.get("aecourse", {})
    current = current_stamp(notebook)
    if stamp.get("mode") != "full" or stamp.get("source_hash") != current["source_hash"]:
        raise ValueError(f"{path} is not executed with the current aecourse modules; run "
                         f"`python -m aecourse execute {path}` (full and fast) instead.")
    stamp["runtime_fast_s"] = round(run_notebook(nbformat.read(path, as_version=4), path, True, timeout), 1)
    refresh_badge(notebook)
    nbformat.write(notebook, path)
    return stamp


def runtime_table(book_dir):
    """A Markdown table of each chapter's stamped run times and machine.

    Args:
        book_dir: folder holding the chapter notebooks (`NN_name.ipynb`).

    Returns:
        The table as a string; chapters never executed show "not yet run".
    """
    import json

    rows = ["| chapter | full mode | fast mode | measured on | date |", "| --- | --- | --- | --- | --- |"]
    for path in sorted(pathlib.Path(book_dir).glob("[0-9][0-9]_*.ipynb")):
        notebook = json.loads(path.read_text())
        stamp = notebook.get("metadata", {}).get("aecourse", {})
        title = next((line.lstrip("# ").strip() for cell in notebook["cells"]
                      if cell["cell_type"] == "markdown"
                      for line in "".join(cell["source"]).splitlines() if line.startswith("# ")), path.stem)
        if "runtime_full_s" not in stamp:
            rows.append(f"| {title} | not yet run | | | |")
            continue
        fast = f"{stamp['runtime_fast_s']:.0f} s" if "runtime_fast_s" in stamp else "-"
        rows.append(
            f"| {title} | {stamp['runtime_full_s']:.0f} s | {fast} | "
            f"{stamp['machine']}, {stamp['backend']} (Keras {stamp['keras_version']}) | {stamp['executed']} |"
        )
    return "\n".join(rows) + "\n"


def write_runtime_table(book_dir):
    """Writes `runtime_table(book_dir)` to `book_dir/_generated/runtimes.md`."""
    target = pathlib.Path(book_dir) / "_generated" / "runtimes.md"
    target.parent.mkdir(exist_ok=True)
    target.write_text(runtime_table(book_dir))
    return target
