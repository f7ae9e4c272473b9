#!/usr/bin/env bash
# Makes sure Fashion-MNIST is on disk: Keras cache, Debian's system folder or
# $AECOURSE_DATA; otherwise installs Debian's dataset-fashion-mnist package.
set -euo pipefail
files="train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz"
has_all() { for f in $files; do [ -f "$1/$f" ] || return 1; done; }
for dir in "${KERAS_HOME:-$HOME/.keras}/datasets/fashion-mnist" /usr/share/datasets/fashion-mnist \
           "${AECOURSE_DATA:-/nonexistent}/fashion-mnist" "${AECOURSE_DATA:-/nonexistent}"; do
  if has_all "$dir"; then echo "Fashion-MNIST found in $dir"; exit 0; fi
done
echo "Fashion-MNIST not found; installing Debian's dataset-fashion-mnist package."
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
  echo "error: run as root, or install dataset-fashion-mnist yourself, or set AECOURSE_DATA to a folder with the four *-ubyte.gz files." >&2
  exit 1
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq dataset-fashion-mnist >/dev/null
has_all /usr/share/datasets/fashion-mnist || { echo "error: dataset-fashion-mnist installed no files in /usr/share/datasets/fashion-mnist" >&2; exit 1; }
echo "Fashion-MNIST installed in /usr/share/datasets/fashion-mnist"
