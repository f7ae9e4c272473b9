#!/usr/bin/env bash
# Makes sure bubblewrap is installed and can start a sandbox: `python -m aecourse
# grade` runs every submission in one. Installs Debian's bubblewrap package when
# bwrap is missing, then starts a trivial sandbox (it needs user namespaces).
set -euo pipefail
if ! command -v bwrap >/dev/null; then
  echo "bubblewrap not found; installing Debian's bubblewrap package."
  if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
    echo "error: run as root, or install bubblewrap yourself (grading needs it)." >&2
    exit 1
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null
fi
if ! bwrap --unshare-all --die-with-parent --ro-bind /usr /usr --symlink usr/bin /bin \
     --symlink usr/lib /lib --symlink usr/lib64 /lib64 --proc /proc --dev /dev /usr/bin/true; then
  echo "error: bubblewrap cannot start a sandbox: user namespaces are disabled. Enable them with" >&2
  echo "  sudo sysctl -w kernel.unprivileged_userns_clone=1   (Debian/Ubuntu)" >&2
  echo "  sudo sysctl -w user.max_user_namespaces=15000" >&2
  echo "or, in Docker, run the container with --security-opt seccomp=unconfined." >&2
  exit 1
fi
echo "bubblewrap works: $(bwrap --version)"
