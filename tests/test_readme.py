"""Every command that README.md and book/intro.md give a reader at least starts.

The commands are read from the two files (shell code blocks, and the first
column of README's command table), so a new command without a smoke test here
fails. Each runs from the repository root as in the activated environment
(`.venv/bin` first on `PATH`), in a form that starts it without doing its
whole job: `make -n` for make targets, `--help` for the CLIs and scripts,
`--collect-only` for pytest, and JupyterLab is started for real and stopped
once it serves.
"""

import os
import re
import shlex
import signal
import subprocess
import sys

import pytest

from conftest import ROOT

pytestmark = pytest.mark.book

BIN = os.path.dirname(sys.executable)


def _commands(path):
    text = (ROOT / path).read_text()
    blocks = re.findall(r"```(?:bash|sh|console)\n(.*?)```", text, flags=re.S)
    lines = [line.split("  #")[0].strip() for block in blocks for line in block.splitlines()]
    table = re.findall(r"^\| `([^`]+)` \|", text, flags=re.M)
    return [line for line in lines + table if line and not line.startswith("#")]


COMMANDS = sorted({command for path in ("README.md", "book/intro.md") for command in _commands(path)})


def _environment(command):
    """The command's leading `NAME=value` words go into the environment."""
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}", VIRTUAL_ENV=os.path.dirname(BIN))
    words = shlex.split(command)
    while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
        name, value = words.pop(0).split("=", 1)
        env[name] = value
    return words, env


def _smoke(words):
    """How to start the command without doing its whole job."""
    if words[0] == "make":
        return ["make", "-n", *words[1:]]
    if words == [".", ".venv/bin/activate"]:
        return ["bash", "-c", ". .venv/bin/activate && command -v python && command -v jupyter"]
    if words[:3] == ["python", "-m", "aecourse"]:
        return [sys.executable, *words[1:4], "--help"]
    if words[0] == "python" and words[1].endswith(".py"):
        return [sys.executable, words[1], "--help"]
    if words[0] == "pytest":
        return [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *words[1:]]
    raise AssertionError(f"no smoke test for the documented command {shlex.join(words)!r}: add one to _smoke")


def test_the_documents_give_the_commands_readers_need():
    for command in ("make book", "make test", "make setup", "AECOURSE_FAST=1 jupyter lab",
                    "pytest --nbval-lax book/01_undercomplete.ipynb"):
        assert command in COMMANDS, command


@pytest.mark.parametrize("command", [c for c in COMMANDS if "jupyter lab" not in c])
def test_documented_command_starts(command):
    words, env = _environment(command)
    result = subprocess.run(_smoke(words), cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"{command}: {result.stdout[-2000:]}{result.stderr[-3000:]}"


def test_jupyter_lab_starts_and_serves(tmp_path):
    words, env = _environment("AECOURSE_FAST=1 jupyter lab")
    assert env["AECOURSE_FAST"] == "1" and words == ["jupyter", "lab"]
    kernels = subprocess.run([os.path.join(BIN, "jupyter"), "kernelspec", "list"], env=env,
                             capture_output=True, text=True, check=True).stdout
    assert "python3" in kernels, kernels
    env.update(JUPYTER_RUNTIME_DIR=str(tmp_path), JUPYTER_CONFIG_DIR=str(tmp_path / "config"))
    as_root = ["--allow-root"] * (os.geteuid() == 0)  # README: "as root (a container), add --allow-root"
    server = subprocess.Popen([os.path.join(BIN, "jupyter"), "lab", "--no-browser", "--port=0",
                               f"--ServerApp.root_dir={ROOT}", *as_root],
                              cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True)
    lines = []
    try:
        for line in server.stderr:  # ends when the server exits; a started server prints its URL
            lines.append(line)
            if re.search(r"http://(localhost|127\.0\.0\.1):\d+/lab", line):
                break
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait()
    assert any("/lab" in line and "http://" in line for line in lines), "".join(lines[-40:])
