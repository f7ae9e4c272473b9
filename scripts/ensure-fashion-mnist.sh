#!/usr/bin/env bash
# Makes sure Fashion-MNIST is on disk: Keras cache, Debian's system folder or
# $AECOURSE_DATA; otherwise installs Debian's dataset-fashion-mnist package
# (Debian/Ubuntu), or elsewhere (macOS, other Linux) downloads it through
# keras.datasets into the Keras cache with the Python given as $1 (default
# .venv/bin/python). README.md, "Fashion-MNIST off Debian", has the details.
set -euo pipefail
python="${1:-.venv/bin/python}"
files="train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz"
keras_cache="${KERAS_HOME:-$HOME/.keras}/datasets/fashion-mnist"
has_all() { for f in $files; do [ -f "$1/$f" ] || return 1; done; }
for dir in "$keras_cache" /usr/share/datasets/fashion-mnist \
           "${AECOURSE_DATA:-/nonexistent}/fashion-mnist" "${AECOURSE_DATA:-/nonexistent}"; do
  if has_all "$dir"; then echo "Fashion-MNIST found in $dir"; exit 0; fi
done
if ! command -v apt-get >/dev/null; then
  echo "Fashion-MNIST not found and no apt-get (not Debian): downloading it through keras.datasets."
  if [ -x "$python" ] && "$python" -c "import keras; keras.datasets.fashion_mnist.load_data()" >/dev/null 2>&1 \
      && has_all "$keras_cache"; then
    echo "Fashion-MNIST downloaded into $keras_cache"; exit 0
  fi
  echo "error: could not download Fashion-MNIST. Download the four *-ubyte.gz files of" >&2
  echo "  https://github.com/zalandoresearch/fashion-mnist/tree/master/data/fashion" >&2
  echo "into $keras_cache, or into a folder you name in AECOURSE_DATA (README.md, 'Fashion-MNIST off Debian')." >&2
  exit 1
fi
echo "Fashion-MNIST not found; installing Debian's dataset-fashion-mnist package."
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
  echo "error: run as root, or install dataset-fashion-mnist yourself, or set AECOURSE_DATA to a folder with the four *-ubyte.gz files (README.md, 'Fashion-MNIST off Debian')." >&2
  exit 1
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq dataset-fashion-mnist >/dev/null
has_all /usr/share/datasets/fashion-mnist || { echo "error: dataset-fashion-mnist installed no files in /usr/share/datasets/fashion-mnist" >&2; exit 1; }
echo "Fashion-MNIST installed in /usr/share/datasets/fashion-mnist"
