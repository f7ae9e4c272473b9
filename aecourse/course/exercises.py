"""The exercise cells of a chapter notebook, as the protocol lays them out.

An exercise is five consecutive cells (see `book/instructors.md`): the
`{exercise}` statement (label `ex-<chapter>-<slug>`), `{solution-start}`, the
code cell tagged `solution` (answer between `### BEGIN SOLUTION` and
`### END SOLUTION`), `{solution-end}`, and the check cell tagged `check`.
The solution cell's metadata declares the exercise's kind,
`{"aecourse": {"exercise": "ex-1-error", "kind": "implement"}}`, and the check
cell is one call `checks.check_<name>(<answer>)`.
The student edition and the grader find exercises through this module.
"""

import ast
import dataclasses
import re

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
_LABEL = re.compile(r"^:label:\s*(\S+)\s*$", re.MULTILINE)
_SOLUTION = re.compile(rf"^([ \t]*){re.escape(BEGIN)}[^\n]*\n.*?^[ \t]*{re.escape(END)}[^\n]*$",
                       re.MULTILINE | re.DOTALL)


@dataclasses.dataclass(frozen=True)
class Exercise:
    """Where one exercise sits in a notebook (indices into `notebook.cells`).

    Attributes:
        label: the exercise label, e.g. `"ex-1-error"`.
        statement: index of the `{exercise}` Markdown cell.
        solution: index of the code cell tagged `solution`.
        check: index of the code cell tagged `check`.
        kind: the kind in the solution cell's metadata (`None` if not declared).
    """

    label: str
    statement: int
    solution: int
    check: int
    kind: str = None


def tags(cell):
    """The set of tags of a notebook cell."""
    return set(cell.get("metadata", {}).get("tags", []))


def statement_label(cell):
    """The label of an `{exercise}` Markdown cell, or `None` for any other cell."""
    if cell.get("cell_type") != "markdown" or not "".join(cell.get("source", "")).lstrip().startswith("```{exercise}"):
        return None
    match = _LABEL.search("".join(cell["source"]))
    return match.group(1) if match else None


def find_exercises(notebook):
    """The exercises of a reference chapter notebook, in order.

    Args:
        notebook: an `nbformat` notebook in the five-cell exercise format.

    Returns:
        A list of `Exercise`.

    Raises:
        ValueError: if an exercise does not have its five cells in order.
    """
    cells, found = notebook.cells, []
    for i, cell in enumerate(cells):
        label = statement_label(cell)
        if label is None:
            continue
        five = cells[i:i + 5]
        kinds = [c.cell_type for c in five]
        if (kinds != ["markdown", "markdown", "code", "markdown", "code"]
                or "solution" not in tags(five[2]) or "check" not in tags(five[4])):
            raise ValueError(
                f"Exercise {label} must be five cells: statement, solution-start, a code cell tagged "
                f"'solution', solution-end, a code cell tagged 'check'. Received cell kinds {kinds} "
                f"with tags {[sorted(tags(c)) for c in five]}.")
        kind = five[2].get("metadata", {}).get("aecourse", {}).get("kind")
        found.append(Exercise(label, i, i + 2, i + 4, kind))
    return found


def check_call(source):
    """`(check function name, answer name)` of a check cell `checks.check_x(answer)`.

    Raises:
        ValueError: if the cell is not exactly one such call.
    """
    try:
        body = ast.parse(source).body
    except SyntaxError:
        body = []
    call = body[0].value if len(body) == 1 and isinstance(body[0], ast.Expr) else None
    if (not isinstance(call, ast.Call) or not isinstance(call.func, ast.Attribute) or len(call.args) != 1
            or call.keywords or not isinstance(call.args[0], ast.Name)):
        raise ValueError(f"A check cell is one call `checks.check_<name>(<answer>)`. Received: {source[:200]!r}")
    return call.func.attr, call.args[0].id


def solution_label(notebook, index):
    """The exercise a solution cell answers: its `aecourse.exercise` metadata,
    else the label of the closest `{exercise}` cell above it (or `None`)."""
    label = notebook.cells[index].get("metadata", {}).get("aecourse", {}).get("exercise")
    if label:
        return label
    for cell in reversed(notebook.cells[:index]):
        label = statement_label(cell)
        if label:
            return label
    return None


def solutions_by_label(notebook):
    """The solution cells of any notebook (e.g. a learner's), grouped by label.

    Solution cells are matched by exercise label, never by position, so a
    learner may add, remove or move other cells.

    Returns:
        A dict mapping each label to the list of its solution cells.
    """
    found = {}
    for i, cell in enumerate(notebook.cells):
        if cell.get("cell_type") == "code" and "solution" in tags(cell):
            found.setdefault(solution_label(notebook, i), []).append(cell)
    return found


def blank_solution(source, label):
    """Replaces the code between the solution markers with `raise NotImplementedError`.

    Code outside the markers (e.g. the `def` line) is kept, and the `raise`
    takes the indentation of the `### BEGIN SOLUTION` line. A block at top
    level that assigns names (a `derive` or `explain` answer) becomes
    `name = ...` for each name instead, so that the cell still runs.

    Args:
        source: a solution cell's source.
        label: the exercise label, named in the raised error.

    Returns:
        The student's version of the source.

    Raises:
        ValueError: if the source has no `### BEGIN SOLUTION` ... `### END SOLUTION` block.
    """
    if not _SOLUTION.search(source):
        raise ValueError(f"Solution cell of {label} needs a '{BEGIN}' ... '{END}' block. "
                         f"Received: source={source[:200]!r}")
    return _SOLUTION.sub(lambda m: _blank(m, label), source)


def _blank(match, label):
    indent = match.group(1)
    if not indent:
        try:
            body = ast.parse(match.group(0)).body
        except SyntaxError:
            body = []
        names = [t.id for node in body if isinstance(node, (ast.Assign, ast.AnnAssign))
                 for t in (node.targets if isinstance(node, ast.Assign) else [node.target]) if isinstance(t, ast.Name)]
        if names:
            return "\n".join(f"{name} = ...  # {label}: your answer" for name in dict.fromkeys(names))
    return f'{indent}raise NotImplementedError("{label}")'
