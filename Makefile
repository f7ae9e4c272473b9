# The two README commands (`make book`, `make test`) and their helpers.
VENV ?= .venv
PYTHON ?= python3.11
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
CHAPTERS := $(wildcard book/[0-9][0-9]_*.ipynb)

.PHONY: book test setup data browser sandbox execute unit student-site clean

$(INSTALLED): requirements.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or run make PYTHON=python3"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

setup: $(INSTALLED) data

data:
	@bash scripts/ensure-fashion-mnist.sh $(PY)

## sandbox: bubblewrap, the sandbox grading runs every submission in (Debian package).
sandbox:
	@bash scripts/ensure-bubblewrap.sh

## browser: headless Chromium and its driver for the site tests (Debian packages).
browser:
	@bash scripts/ensure-chromium.sh

## book: the whole site in _build/html, strict (warnings are errors).
book: setup
	$(VENV)/bin/jupyter-book build . -W -n --keep-going

## test: the whole test suite. The package tests run on TensorFlow in the cached floor venv
## (tests/test_floor.py: TensorFlow 2.19 / Keras 3.10, what Colab shipped; the backend-sensitive ones
## on JAX there too), on JAX (the book's default) and PyTorch in .venv at the pinned versions
## (PyTorch's without the grading tool's tests, marker "grading", and the train-exercise judges' model
## answers, marker "training": both run on JAX and on the floor's TensorFlow; PyTorch trains them slowest). Not run: the package
## tests on the pinned (newest) TensorFlow. The TensorFlow pass runs the
## "book" tests: the floor venv's runs (its package tests, nbval over every chapter in fast mode on
## JAX), the Colab test, the strict site build, grading's student edition (chapter 6 on TensorFlow).
## Every pass runs on two workers (pytest-xdist): most of a small test's time is Keras tracing,
## single-threaded, so two processes use both cores. Tests that share an expensive fixture stay on
## one worker (xdist_group "site": one book build; "grading": one graded corpus).
test: setup browser sandbox
	KERAS_BACKEND=tensorflow $(PY) -m pytest -q -ra --durations=20 -n 2 --dist loadgroup -m book tests -k "not test_chapter_passes_nbval_in_fast_mode"
	KERAS_BACKEND=jax $(PY) -m pytest -q -ra --durations=10 -n 2 --dist loadgroup -m "not book" tests
	KERAS_BACKEND=torch $(PY) -m pytest -q -ra --durations=10 -n 2 --dist loadgroup -m "not book and not grading and not training" tests

## student-site: the site with every exercise solution left out, in _build/student/html.
student-site: setup
	$(PY) scripts/student_site.py _build/student/_config.yml
	$(VENV)/bin/jupyter-book build . --config _build/student/_config.yml --path-output _build/student -W -n --keep-going
	rm -rf _build/student/html && mv _build/student/_build/html _build/student/html
	@echo "student site: _build/student/html/index.html"

## unit: package tests only, on the current backend.
unit: setup
	$(PY) -m pytest -q -m "not book" tests

## execute: re-execute every chapter in full mode and re-stamp it.
execute: setup
	$(PY) -m aecourse execute $(CHAPTERS)

clean:
	rm -rf _build .pytest_cache
