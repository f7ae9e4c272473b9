"""Fast mode, seeding, quiet logs and BLAS threads: what every chapter's setup cell calls.

Fast mode (`AECOURSE_FAST=1`) shrinks training so that CI can execute every
chapter in about a minute. It is read from the environment each time, so a
test can switch it with `monkeypatch.setenv`.
"""

import logging
import os
import warnings

FAST_ENV = "AECOURSE_FAST"


def is_fast():
    """Whether fast mode is on (`AECOURSE_FAST` set to `1`, `true` or `yes`).

    Returns:
        `True` in fast mode, `False` in full mode.

    Example:

    >>> import os
    >>> os.environ["AECOURSE_FAST"] = "1"
    >>> is_fast()
    True
    """
    value = os.environ.get(FAST_ENV, "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise ValueError(
        f"{FAST_ENV} must be 1/true/yes (fast mode) or 0/false/no/unset (full "
        f"mode). Received: {FAST_ENV}={value!r}"
    )


def budget(full, fast):
    """Picks the full-mode or the fast-mode value of a training budget.

    The one place where fast mode changes what a chapter does: epochs, subset
    sizes, numbers of seeds.

    Args:
        full: value used by the published book.
        fast: smaller value used in fast mode.

    Returns:
        `fast` when fast mode is on, else `full`.

    Example:

    >>> epochs = budget(full=20, fast=2)
    """
    return fast if is_fast() else full


def steps_per_execution(steps):
    """The `steps_per_execution` to pass to `Model.compile` on the current backend.

    Several training steps per call speed up small models on TensorFlow and
    JAX; the PyTorch backend runs one step per call only (it raises a
    `ValueError` for anything else), so there this returns 1.

    Args:
        steps: training steps per call wanted (a positive integer).

    Returns:
        `steps`, or 1 on the PyTorch backend.

    Example:

    >>> model.compile(optimizer="sgd", steps_per_execution=steps_per_execution(20))  # doctest: +SKIP
    """
    import keras

    if not (isinstance(steps, int) and not isinstance(steps, bool) and steps > 0):
        raise ValueError(f"steps must be a positive integer. Received: steps={steps!r}")
    return 1 if keras.backend.backend() == "torch" else steps


def quiet_logs():
    """Silences TensorFlow's C++ log lines and Python-side warnings spam.

    Must run before TensorFlow is imported; `aecourse` calls it on import.
    A few lines that TensorFlow writes before its logger starts cannot be
    silenced from Python; the book hides stderr and `aecourse.notebooks`
    strips them from stored outputs.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)


def seed_everything(seed=0):
    """Seeds Python, NumPy and the Keras backend once, for reproducible runs.

    Clears the Keras session first: older Keras (3.10, Colab's in 2025) keeps
    its global random generator (what `keras.random.normal(shape)` without a
    seed draws from) across `keras.utils.set_random_seed`, so seeding alone
    would not repeat a run there. Call it before building models.

    Args:
        seed: non-negative integer seed.

    Returns:
        The seed, for printing in the setup cell.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer. Received: seed={seed!r}")
    import keras

    keras.utils.clear_session()
    keras.utils.set_random_seed(seed)
    return seed


def single_threaded_blas():
    """Makes NumPy's, SciPy's and scikit-learn's OpenBLAS use one thread from now on.

    The chapters' scikit-learn baselines (logistic regression, PCA fills,
    kernel methods) multiply small matrices thousands of times. On a 2-core
    machine, Colab's CPU runtime included, OpenBLAS's second thread costs more
    than it saves there, and far more when the cores are busy: three L-BFGS
    logistic regressions on 1,000 Fashion-MNIST images took 61 s with two
    threads and 2.5 s with one while other work ran on both cores. Keras
    trains on its backend's own threads (XLA, oneDNN, PyTorch's MKL), which
    this leaves alone.
    """
    import numpy  # noqa: F401  (loads the OpenBLAS libraries first: only loaded ones are limited)
    import scipy.linalg  # noqa: F401
    import threadpoolctl

    threadpoolctl.ThreadpoolController().select(internal_api="openblas").limit(limits=1)


def setup(seed=0):
    """The setup cell of a chapter: quiet logs, one BLAS thread, seed, and a one-line summary.

    Args:
        seed: seed for Python, NumPy and the Keras backend.

    Returns:
        A one-line description of the run (Keras version, backend and how it
        was chosen, mode, seed).
    """
    quiet_logs()
    single_threaded_blas()
    import keras

    from aecourse.compat import DEFAULT_BACKEND

    seed_everything(seed)
    mode = "fast" if is_fast() else "full"
    backend = keras.backend.backend()
    if backend == DEFAULT_BACKEND:
        how = "the book's default; to choose another, set KERAS_BACKEND before importing aecourse"
    else:
        how = "set by KERAS_BACKEND" if os.environ.get("KERAS_BACKEND") else "Keras's own configuration"
    return f"Keras {keras.__version__}, backend {backend} ({how}), {mode} mode, seed {seed}, one BLAS thread for NumPy"
