"""The bubblewrap sandbox every graded kernel runs in.

`command(job_dir, fd)` is the `bwrap` command line that runs the grading
kernel (`aecourse.course.runner`) with:

- a read-only system (`/usr` and the few `/etc` files programs need), Python
  and the virtual environment read-only, and the `aecourse` package read-only
  *without* `aecourse/checks` (the reference code);
- a private, empty, size-limited working folder (`/home/learner`) and `/tmp`;
- no network (a new network namespace has only a loopback device), new PID,
  IPC, UTS and user namespaces, and nothing else of the file system: not the
  reference notebooks, the submissions, the output folder, the instructor's
  home or the datasets;
- `limits(...)`: address space per process, processes per sandbox, file size
  and no core dumps; the grader adds the wall-clock limit by killing the
  sandbox, which ends every process in it (its PID namespace dies with it).

`check()` starts a trivial sandbox and raises `SandboxUnavailable`, saying why
and how to fix it, when bubblewrap is missing or user namespaces are disabled.
"""

import contextlib
import dataclasses
import os
import pathlib
import resource
import shutil
import subprocess
import sys
import time
import uuid

import aecourse
from aecourse import data

PACKAGE_DIR = pathlib.Path(aecourse.__file__).resolve().parent
HOME = "/home/learner"
JOB = "/grading"
_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime", "fonts", "ssl/certs")


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot start here; the message says why and how to fix it."""


@dataclasses.dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed kernel.

    Attributes:
        memory: bytes of address space per process (`RLIMIT_AS`; also the
            size of the private `/tmp` and working folder).
        processes: processes and threads in the sandbox.
        file_size: the largest file a process may write, in bytes.
    """

    memory: int = 6 << 30
    processes: int = 256
    file_size: int = 256 << 20


def _python_roots():
    roots = {pathlib.Path(sys.prefix), pathlib.Path(sys.base_prefix), pathlib.Path(sys.exec_prefix),
             pathlib.Path(sys.executable).resolve().parent.parent}
    return sorted(str(root.resolve()) for root in roots if root.resolve() != pathlib.Path("/"))


def _hidden_data():
    folders = {str(data.SYSTEM_FASHION_MNIST.parent)}
    return sorted(folder for folder in folders if os.path.isdir(folder))


def command(job_dir, fd, limits=Limits()):
    """The `bwrap` command that runs the grading kernel on `job_dir` (mounted read-only)."""
    args = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--uid", "65534", "--gid", "65534",
            "--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev"]
    for name in ("bin", "lib", "lib64", "lib32", "sbin"):
        path = pathlib.Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    for name in _ETC:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    for root in _python_roots():
        if not root.startswith("/usr/"):
            args += ["--ro-bind", root, root]
    args += ["--ro-bind", str(PACKAGE_DIR), str(PACKAGE_DIR), "--tmpfs", str(PACKAGE_DIR / "checks")]
    for folder in _hidden_data():
        args += ["--tmpfs", folder]
    size = str(min(limits.memory, 1 << 30))
    args += ["--size", size, "--tmpfs", "/tmp", "--size", size, "--tmpfs", HOME, "--chdir", HOME,
             "--ro-bind", str(job_dir), JOB, "--clearenv", "--setenv", "HOME", HOME,
             "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "AECOURSE_FAST", "1",
             "--setenv", "PYTHONDONTWRITEBYTECODE", "1", "--setenv", "MPLBACKEND", "Agg",
             "--setenv", "PYTHONPATH", str(PACKAGE_DIR.parent)]
    for name in ("KERAS_BACKEND", "OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        if name in os.environ:
            args += ["--setenv", name, os.environ[name]]
    return args + [sys.executable, "-m", "aecourse.course.runner", JOB, str(fd)]


def unsandboxed_command(job_dir, fd):
    """The grading kernel without a sandbox (`--unsafe-no-sandbox`): the learner's code runs as you."""
    return [sys.executable, "-m", "aecourse.course.runner", str(job_dir), str(fd)]


def _set_limits(limits):
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory, limits.memory))
    resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size, limits.file_size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _cgroup_dirs():
    """Where to make a pids cgroup (root only: the kernel exempts uid 0 from RLIMIT_NPROC)."""
    v1 = pathlib.Path("/sys/fs/cgroup/pids")
    if v1.is_dir():
        return v1
    v2 = pathlib.Path("/sys/fs/cgroup")
    if "pids" in (v2 / "cgroup.subtree_control").read_text() if (v2 / "cgroup.subtree_control").is_file() else "":
        return v2
    return None


@contextlib.contextmanager
def process_group(limits=Limits(), sandboxed=True):
    """Yields a `preexec_fn` that applies `limits` to the sandbox's first process.

    Run as root, the kernel does not apply `RLIMIT_NPROC`, so the sandbox also
    gets its own pids cgroup (removed afterwards, killing what is left in it).

    Raises:
        SandboxUnavailable: run as root where no pids cgroup can be made.
    """
    group = None
    if not sandboxed:
        yield None
        return
    if os.geteuid() == 0:
        base = _cgroup_dirs()
        try:
            group = base / f"aecourse-{uuid.uuid4().hex[:12]}"
            group.mkdir()
            (group / "pids.max").write_text(str(limits.processes))
        except (OSError, TypeError) as error:
            raise SandboxUnavailable(
                f"running as root, the process limit needs a pids cgroup, and none could be made "
                f"({error}). Fix: grade as an ordinary user (then RLIMIT_NPROC applies), or mount the "
                f"cgroup pids controller.") from None

    procs = str(group / "cgroup.procs") if group is not None else None

    def preexec():  # runs between fork and exec: system calls only
        if procs is not None:
            handle = os.open(procs, os.O_WRONLY)
            os.write(handle, str(os.getpid()).encode())
            os.close(handle)
        _set_limits(limits)

    try:
        yield preexec
    finally:
        if group is not None:
            for _ in range(50):
                pids = (group / "cgroup.procs").read_text().split()
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError, ValueError):
                        os.kill(int(pid), 9)
                try:
                    group.rmdir()
                    break
                except OSError:
                    time.sleep(0.1)


def check(limits=Limits()):
    """Starts a trivial sandbox; raises `SandboxUnavailable` with the reason and the fix."""
    if shutil.which("bwrap") is None:
        raise SandboxUnavailable(
            "bubblewrap (`bwrap`) is not installed, and grading runs every submission in it. Fix: "
            "`sudo apt-get install bubblewrap` (or `make sandbox`), or grade with --unsafe-no-sandbox "
            "in a throw-away virtual machine.")
    probe = command(pathlib.Path("/tmp"), 1, limits)
    probe = probe[:probe.index(sys.executable)] + [sys.executable, "-c", "import numpy"]
    with process_group(limits) as preexec:
        result = subprocess.run(probe, capture_output=True, text=True, preexec_fn=preexec, timeout=120)
    if result.returncode != 0:
        raise SandboxUnavailable(
            f"bubblewrap cannot start a sandbox here: {result.stderr.strip()[-500:] or result.returncode}. "
            "It needs unprivileged user namespaces: enable them (`sudo sysctl -w "
            "kernel.unprivileged_userns_clone=1` on Debian/Ubuntu, `sudo sysctl -w "
            "user.max_user_namespaces=15000`; in Docker run with --security-opt seccomp=unconfined or "
            "--privileged), or grade with --unsafe-no-sandbox in a throw-away virtual machine.")
