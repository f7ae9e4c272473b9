"""Exercise checks: one function per exercise, one module per chapter.

The protocol (see `book/instructors.md`): a check calls the learner's code on
fresh random inputs, compares it with the reference within a tolerance, and
either prints exactly one deterministic pass line,
`✔ ex-1-error: <what was checked>`, or raises `ExerciseFailure` (an
`AssertionError`) whose message starts with the exercise label and gives a
hint. nbval compares the printed line with the stored one, so a check cell
passes only if the learner's code is right.
"""

import sys

import numpy as np

PASS_MARK = "\u2714"


class ExerciseFailure(AssertionError):
    """A learner's answer is wrong; the message names the exercise and a hint."""


def fail(label, hint):
    """Raises `ExerciseFailure` for exercise `label` with a hint."""
    raise ExerciseFailure(f"{label}: {hint}")


def passed(label, message):
    """Prints the exercise's deterministic pass line (and returns nothing, so
    that a check cell's output is that line alone)."""
    print(f"{PASS_MARK} {label}: {message}")


def call(label, function, *args, **kwargs):
    """Calls the learner's function; turns its exceptions into clear failures.

    Returns:
        The result as a NumPy array (Keras tensors are converted).
    """
    if not callable(function):
        fail(label, f"expected a function, got {type(function).__name__}.")
    try:
        result = function(*args, **kwargs)
    except NotImplementedError:
        fail(label, "not answered yet: replace `raise NotImplementedError` with your solution.")
    except ExerciseFailure:
        raise
    except Exception as error:  # the learner's bug: report it as a failed check
        fail(label, f"your function raised {type(error).__name__}: {error}")
    if "keras" in sys.modules and not isinstance(result, np.ndarray):  # a backend tensor
        try:
            result = sys.modules["keras"].ops.convert_to_numpy(result)
        except Exception:
            pass
    try:
        return np.asarray(result, dtype="float64")
    except (TypeError, ValueError):
        fail(label, f"expected an array of numbers, got {type(result).__name__}.")


def expect_close(label, got, expected, what, rtol=1e-4, atol=1e-5):
    """Fails `label` unless `got` matches `expected` in shape and value.

    Args:
        label: the exercise label.
        got: the learner's result.
        expected: the reference result.
        what: a short noun phrase for the hint, e.g. "the per-image errors".
        rtol: relative tolerance.
        atol: absolute tolerance.
    """
    got, expected = np.asarray(got), np.asarray(expected)
    if got.shape != expected.shape:
        fail(label, f"{what} should have shape {expected.shape}, got {got.shape}.")
    if not np.all(np.isfinite(got)):
        fail(label, f"{what} contain NaN or infinite values.")
    if not np.allclose(got, expected, rtol=rtol, atol=atol):
        worst = np.max(np.abs(got - expected))
        fail(label, f"{what} differ from the reference (largest difference {worst:.3g}).")


def fresh_rng():
    """A NumPy generator seeded from the OS: checks use inputs the learner cannot guess."""
    return np.random.default_rng()
