"""Exercise checks: one `Check` per exercise, one module per chapter.

The protocol (see "Writing a check" in `book/instructors.md`): a check is
three steps, so that one definition serves both the learner's self-check and
the instructor's sandboxed grading:

1. `inputs(rng) -> cases`: the cases the answer is called on, drawn from `rng`
   (a fresh generator in self-check, a per-run secret seed when grading);
2. the answer is called on each case and its result turned into data (arrays,
   numbers, text) by a *probe* (`aecourse.course.protocol`); when grading this
   is the only step that runs in the learner's sandboxed process;
3. `judge(cases, results) -> message`: compares the data with the reference
   and returns the pass message, or raises `ExerciseFailure` (via `fail`)
   with a hint; when grading it runs in the grader's process.

Calling a check in a notebook (`checks.check_per_image_error(per_image_error)`)
runs the three steps in process and prints exactly one deterministic pass line,
`✔ ex-1-error: <message>`, which nbval compares with the stored one.
"""

import functools

import numpy as np

from aecourse import data
from aecourse.course import protocol
from aecourse.course.protocol import KINDS, Function, Rng, materialize  # noqa: F401  (the check-writing API)

PASS_MARK = "\u2714"
IMPLEMENT, TRAIN, DERIVE, EXPLAIN = KINDS
REGISTRY = {}  # label -> Check, filled as the chapter modules are imported


class ExerciseFailure(AssertionError):
    """A learner's answer is wrong; the message names the exercise and a hint."""


def fail(label, hint):
    """Raises `ExerciseFailure` for exercise `label` with a hint."""
    raise ExerciseFailure(f"{label}: {hint}")


def passed(label, message):
    """Prints the exercise's deterministic pass line (and returns nothing, so
    that a check cell's output is that line alone)."""
    print(f"{PASS_MARK} {label}: {message}")


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


def expect_shape(label, got, shape, hint=""):
    """Fails `label` unless the array `got` has `shape`; `hint` says how to get it right."""
    if np.shape(got) != tuple(shape):
        fail(label, f"expected shape {tuple(shape)}, got {np.shape(got)}. {hint}".strip())


def fresh_rng():
    """A NumPy generator seeded from the OS: self-check inputs the learner cannot guess."""
    return np.random.default_rng()


@functools.lru_cache(maxsize=2)
def fashion_pixels(split):
    """Fashion-MNIST's `"train"` or `"test"` images as (N, 784) pixels in [0, 1], loaded once."""
    images = data.fashion_mnist()
    return data.flatten(images.x_train if split == "train" else images.x_test)


def fashion_training_sample(n_images):
    """`inputs(rng)` for a train check: one case, `n_images` Fashion-MNIST training images."""
    def inputs(rng):
        pixels = fashion_pixels("train")
        return [(pixels[rng.choice(len(pixels), n_images, replace=False)],)]
    return inputs


def held_out_test_images(n_images):
    """`n_images` random Fashion-MNIST test images (float64): the judge's data, never the learner's."""
    test = fashion_pixels("test")
    return test[np.random.default_rng().choice(len(test), n_images, replace=False)].astype("float64")


def expect_one_hidden_layer(label, weights, min_units, max_units, model):
    """Fails `label` unless `weights` are a finite `784 -> K -> 784` model, `min_units <= K <= max_units`.

    `model` names the expected layers in the hint, e.g. `"Dense(K, relu) -> Dense(784, sigmoid)"`.
    Returns `K`.
    """
    shapes = [np.shape(w) for w in weights]
    units = shapes[1][0] if len(shapes) == 4 and len(shapes[1]) == 1 else None
    if units is None or shapes != [(784, units), (units,), (units, 784), (784,)] or not (
            min_units <= units <= max_units):
        fail(label, f"expected {model} with {min_units} <= K <= {max_units}, i.e. weights of shapes "
                    f"[(784, K), (K,), (K, 784), (784,)]; got {shapes}.")
    if not all(np.all(np.isfinite(w)) for w in weights):
        fail(label, "the trained weights contain NaN or infinite values (a learning rate too large?).")
    return units


def _answered(cases, results, label, min_words):
    words = len(results[0].split())
    if words < min_words:
        fail(label, f"write a few sentences (at least {min_words} words); got {words}.")
    return "answered (your instructor reads it; compare with the model answer)"


class Check:
    """One exercise's check: inputs, how the answer is called, and the judge.

    Args:
        label: the exercise label, `ex-<chapter>-<slug>`.
        kind: `"implement"`, `"train"`, `"derive"` or `"explain"`.
        judge: `judge(cases, results) -> str`: the pass message, or `fail(label, hint)`.
            `results[i]` is the data of case `i` (a float64 array for the `"call"` probe).
            Optional for `explain` (default: the answer has at least `min_words` words).
        inputs: `inputs(rng) -> list of cases`, each case a tuple of arguments (arrays,
            numbers, lists, `Rng(seed)`, `Function(name, params)`). Required for
            `implement` and `train`; `derive` and `explain` read a value, not a call.
        probe: how the answer becomes data (a key of `aecourse.course.protocol.PROBES`);
            default by kind: `call`, `weights`, `value`, `text`.
        keep_inputs: fail an answer that changes its array arguments in place.
        allow: `aecourse` modules a solution may use (e.g. `("aecourse.data",)`); anything
            else of `aecourse`, and `aecourse.checks` always, scores 0 when grading.
        min_words: for `explain`, the fewest words that count as an answer.

    Calling the check on the learner's answer is the self-check: it prints the
    pass line or raises `ExerciseFailure`.
    """

    def __init__(self, label, kind, judge=None, inputs=None, probe=None, keep_inputs=False, allow=(),
                 min_words=10):
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}. Received: kind={kind!r}")
        if kind in (IMPLEMENT, TRAIN) and inputs is None:
            raise ValueError(f"{label}: a {kind} check needs inputs(rng).")
        if kind != EXPLAIN and judge is None:
            raise ValueError(f"{label}: a {kind} check needs judge(cases, results).")
        if label in REGISTRY:
            raise ValueError(f"Two checks have the label {label!r}.")
        self.label, self.kind, self.keep_inputs, self.allow = label, kind, keep_inputs, tuple(allow)
        self.probe = probe or protocol.DEFAULT_PROBES[kind]
        if self.probe not in protocol.PROBES:
            raise ValueError(f"{label}: unknown probe {self.probe!r}; known: {sorted(protocol.PROBES)}")
        self._inputs = inputs
        self._judge = judge or (lambda cases, results: _answered(cases, results, label, min_words))
        REGISTRY[label] = self

    def __repr__(self):
        return f"Check({self.label!r}, {self.kind!r})"

    def cases(self, rng):
        """The cases for this run (`[()]` for a kind that reads a value)."""
        return list(self._inputs(rng)) if self._inputs is not None else [()]

    def results(self, answer, cases):
        """Step 2 in process: the answer's data for each case (`ExerciseFailure` if there is none)."""
        try:
            return protocol.answer_data(answer, cases, self.probe, self.keep_inputs)
        except protocol.AnswerError as error:
            fail(self.label, str(error))

    def judge(self, cases, results):
        """Step 3: the pass message, or `ExerciseFailure` with a hint."""
        message = self._judge(cases, results)
        if not isinstance(message, str) or not message:
            raise TypeError(f"{self.label}: judge must return the pass message (a string).")
        return message

    def __call__(self, answer):
        """The self-check: prints the pass line or raises `ExerciseFailure`."""
        cases = protocol.decode(protocol.encode(self.cases(fresh_rng())))  # as grading sends them
        results = protocol.decode(protocol.encode(self.results(answer, cases)))  # as grading gets them
        passed(self.label, self.judge(cases, results))
