"""The call side of the exercise protocol: what runs next to the learner's code.

A check (`aecourse.checks.Check`) is split in three steps:

1. `inputs(rng)` makes the cases from a random generator (a secret seed when
   grading);
2. the learner's answer is *called* on each case and its result turned into
   data (arrays, numbers, text) by a probe; this module does that step;
3. `judge(cases, results)` compares the data with the reference.

Self-check runs the three steps in the learner's process. Grading runs step 2
alone inside the sandbox, where this module is visible but the checks (the
reference code) are not, and steps 1 and 3 in the grader's own process. Cases
and results cross between the two as `encode`d bytes: an `.npz` archive read
with `allow_pickle=False` plus a JSON description of the structure, so nothing
that comes back from the learner's process can run code in the grader.
"""

import dataclasses
import io
import json
import sys

import numpy as np

KINDS = ("implement", "train", "derive", "explain")
NOT_ANSWERED = "not answered yet: replace `raise NotImplementedError` (or `...`) with your answer."
MAX_TEXT = 20_000  # characters of an explain answer, or of any string in the data


class AnswerError(Exception):
    """The learner's answer could not be called or turned into data; the message is the hint."""


@dataclasses.dataclass(frozen=True)
class Rng:
    """A case argument: `np.random.default_rng(seed)`, made where the answer is called."""

    seed: int


@dataclasses.dataclass(frozen=True)
class Function:
    """A case argument: a known test function (`FUNCTIONS[name](*params)`), e.g. for a Jacobian."""

    name: str
    params: tuple = ()


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


# Test functions a case may pass to an answer (they hold no reference answer).
FUNCTIONS = {
    "tanh_affine": lambda matrix, offset: (lambda v: np.tanh(matrix @ v + offset)),
    "sigmoid_affine": lambda kernel, bias: (lambda v: _sigmoid(np.asarray(v) @ kernel + bias)),
}


def materialize(value):
    """A case with its `Rng` and `Function` markers replaced by the real objects."""
    if isinstance(value, Rng):
        return np.random.default_rng(value.seed)
    if isinstance(value, Function):
        return FUNCTIONS[value.name](*value.params)
    if isinstance(value, (list, tuple)):
        return type(value)(materialize(v) for v in value)
    if isinstance(value, dict):
        return {k: materialize(v) for k, v in value.items()}
    return value


# ----------------------------------------------------------------------------- data codec

def _to_spec(value, arrays):
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        arrays.append(np.asarray(value))
        return {"a": len(arrays) - 1}
    if value is None or isinstance(value, (bool, int, float)):
        return {"v": value}
    if isinstance(value, str):
        return {"s": value[:MAX_TEXT]}
    if isinstance(value, Rng):
        return {"rng": int(value.seed)}
    if isinstance(value, Function):
        return {"fn": value.name, "p": _to_spec(tuple(value.params), arrays)}
    if isinstance(value, (list, tuple)):
        return {"l" if isinstance(value, list) else "t": [_to_spec(v, arrays) for v in value]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"d": {k: _to_spec(v, arrays) for k, v in value.items()}}
    raise TypeError(f"Cannot encode a {type(value).__name__} in exercise data; use arrays, numbers, "
                    f"strings, lists, tuples, str-keyed dicts, Rng or Function.")


def encode(value):
    """`value` (arrays, numbers, strings, lists, tuples, dicts, `Rng`, `Function`) as `.npz` bytes."""
    arrays = []
    spec = json.dumps(_to_spec(value, arrays), allow_nan=True)
    buffer = io.BytesIO()
    np.savez(buffer, _spec=np.frombuffer(spec.encode(), dtype=np.uint8),
             **{f"a{i}": array for i, array in enumerate(arrays)})
    return buffer.getvalue()


def _from_spec(node, archive):
    if not isinstance(node, dict) or len(node) not in (1, 2):
        raise ValueError("malformed exercise data")
    (key, item), = list(node.items())[:1]
    if key == "a":
        array = archive[f"a{int(item)}"]
        if array.dtype.kind not in "biufcSU":
            raise ValueError(f"unexpected array type {array.dtype} in exercise data")
        return array
    if key == "v":
        if item is not None and not isinstance(item, (bool, int, float)):
            raise ValueError("malformed number in exercise data")
        return item
    if key == "s":
        return str(item)[:MAX_TEXT]
    if key == "rng":
        return Rng(int(item))
    if key == "fn":
        return Function(str(item), _from_spec(node["p"], archive))
    if key in ("l", "t"):
        values = [_from_spec(v, archive) for v in item]
        return values if key == "l" else tuple(values)
    if key == "d":
        return {str(k): _from_spec(v, archive) for k, v in item.items()}
    raise ValueError(f"unknown node {key!r} in exercise data")


def decode(data):
    """The value `encode` wrote; never unpickles (malformed data raises `ValueError`)."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            spec = json.loads(archive["_spec"].tobytes().decode())
            return _from_spec(spec, archive)
    except ValueError:
        raise
    except Exception as error:  # zip, JSON or key errors: all mean "not our data"
        raise ValueError(f"malformed exercise data ({type(error).__name__})") from None


# ----------------------------------------------------------------------------- calling the answer

def to_array(value, what="the result"):
    """`value` as a float64 array (Keras tensors are converted); `AnswerError` if it is not numbers."""
    if value is ...:
        raise AnswerError(NOT_ANSWERED)
    if "keras" in sys.modules and not isinstance(value, (np.ndarray, list, tuple, int, float)):
        try:  # a backend tensor
            value = sys.modules["keras"].ops.convert_to_numpy(value)
        except Exception:
            pass
    try:
        return np.asarray(value, dtype="float64")
    except (TypeError, ValueError):
        raise AnswerError(f"expected {what} to be an array of numbers, got {type(value).__name__}.") from None


def _called(answer, args):
    if not callable(answer):
        if answer is ...:
            raise AnswerError(NOT_ANSWERED)
        raise AnswerError(f"expected a function, got {type(answer).__name__}.")
    try:
        return answer(*args)
    except NotImplementedError:
        raise AnswerError(NOT_ANSWERED) from None
    except Exception as error:  # the learner's bug: reported as a failed check
        raise AnswerError(f"your function raised {type(error).__name__}: {str(error)[:500]}") from None


def _probe_call(answer, args):
    return to_array(_called(answer, args))


def _probe_value(answer, args):
    return to_array(answer, "your answer")


def _probe_text(answer, args):
    if answer is ... or answer is None:
        raise AnswerError(NOT_ANSWERED)
    if not isinstance(answer, str):
        raise AnswerError(f"expected your answer as a string of text, got {type(answer).__name__}.")
    return answer[:MAX_TEXT]


def _probe_weights(answer, args):
    model = _called(answer, args)
    weights = model.get_weights() if hasattr(model, "get_weights") else model
    if not isinstance(weights, (list, tuple)):
        raise AnswerError(f"expected a Keras model (or a list of weight arrays), got {type(model).__name__}.")
    return [to_array(w, "each weight") for w in weights]


def _probe_shapes(answer, args):
    result = _called(answer, args)
    try:
        return np.array([[int(v) for v in shape] for shape in result], dtype="int64")
    except Exception:
        raise AnswerError(f"expected a list of shape tuples, got {str(result)[:200]!r}.") from None


def _probe_frozen_classifier(answer, args):
    """Builds a Keras encoder from given weights, calls `answer(encoder, n_classes)`, and reports
    the model's behaviour as data: its outputs, its trainable weights, what two epochs of SGD
    change, and the given encoder afterwards (its `trainable` flag and weights: an answer must
    freeze a copy, not the caller's encoder) (`args` = encoder weights, x, y, n_classes)."""
    import keras

    weights, x, y, n_classes = args
    inputs = keras.Input((x.shape[1],))
    hidden = keras.layers.Dense(weights[0].shape[1], activation="relu")(inputs)
    encoder = keras.Model(inputs, keras.layers.Dense(weights[2].shape[1], activation="sigmoid")(hidden))
    encoder.set_weights([np.asarray(w, "float32") for w in weights])
    model = _called(answer, (encoder, int(n_classes)))
    if not isinstance(model, keras.Model):
        raise AnswerError(f"return a keras.Model, got {type(model).__name__}.")
    x = np.asarray(x, "float32")
    probabilities = to_array(_called(model, (x,)), "the classifier's output")
    trainable = [to_array(w) for w in model.trainable_weights]
    frozen_before = [to_array(w) for w in model.non_trainable_weights]
    try:
        model.compile(keras.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy")
        model.fit(x, np.asarray(y), epochs=2, batch_size=16, verbose=0)
    except Exception as error:
        raise AnswerError(f"training the returned model raised {type(error).__name__}: {str(error)[:300]}")
    frozen_after = [to_array(w) for w in model.non_trainable_weights]
    return {"probabilities": probabilities, "trainable": trainable,
            "trainable_after": [to_array(w) for w in model.trainable_weights],
            "frozen_changed": any(a.shape != b.shape or not np.array_equal(a, b)
                                  for a, b in zip(frozen_before, frozen_after)),
            "caller_trainable": bool(encoder.trainable), "caller_weights": [to_array(w) for w in encoder.weights]}


# How an answer is turned into data: name -> probe(answer, args).
PROBES = {"call": _probe_call, "value": _probe_value, "text": _probe_text, "weights": _probe_weights,
          "shapes": _probe_shapes, "frozen_classifier": _probe_frozen_classifier}
DEFAULT_PROBES = {"implement": "call", "train": "weights", "derive": "value", "explain": "text"}


def _arrays(value):
    if isinstance(value, np.ndarray):
        return [value]
    if isinstance(value, (list, tuple)):
        return [a for v in value for a in _arrays(v)]
    return []


def answer_data(answer, cases, probe, keep_inputs=False):
    """Calls (or reads) the learner's answer on each case; returns one piece of data per case.

    Args:
        answer: the learner's object (a function, a value, a string).
        cases: list of cases; a case is a tuple of arguments (may hold `Rng`, `Function`).
        probe: a key of `PROBES`.
        keep_inputs: fail an answer that modifies its array arguments in place.

    Returns:
        A list with one result (data) per case.

    Raises:
        AnswerError: the answer is missing, raised, or returned something that is not data.
    """
    results = []
    for case in cases:
        args = materialize(tuple(case))
        before = [a.copy() for a in _arrays(args)] if keep_inputs else None
        results.append(PROBES[probe](answer, args))
        if keep_inputs and any(not np.array_equal(a, b) for a, b in zip(_arrays(args), before)):
            raise AnswerError("your function changed its input in place; return a new array instead.")
    return results
