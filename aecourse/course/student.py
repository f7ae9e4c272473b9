"""The student edition of the chapters: every solution blanked, the dropdowns removed.

`python -m aecourse student book/ --out DIR` writes it. The repository keeps a
copy without outputs in `student/` (`LEARNER_DIR`): the notebooks the chapters'
"Open in Colab" links open, so that no link sends a learner to a solution.
`python -m aecourse execute` rewrites a chapter's copy there.
"""

import copy
import pathlib

import nbformat

from aecourse.course import exercises


def chapter_paths(source):
    """The chapter notebooks a path names: the file itself, or `NN_*.ipynb` in a folder.

    Raises:
        ValueError: if nothing matches.
    """
    source = pathlib.Path(source)
    paths = sorted(source.glob("[0-9][0-9]_*.ipynb")) if source.is_dir() else [source]
    if not paths or not all(p.is_file() and p.suffix == ".ipynb" for p in paths):
        raise ValueError(f"Expected a chapter notebook or a folder of NN_name.ipynb chapters. "
                         f"Received: {str(source)!r}")
    return paths


# The learners' copy of the chapters, next to `book/`: what the Colab links open.
LEARNER_DIR = "student"


def student_edition(notebook, outputs=True):
    """The student edition of a chapter notebook (the input is not modified).

    Each solution between the markers is blanked (`exercises.blank_solution`;
    code outside the markers is kept) and loses its outputs; the
    `{solution-start}`/`{solution-end}` cells are removed; check cells keep
    their stored pass lines; cells and notebook keep their metadata, and each
    solution cell records its exercise label and kind (`metadata.aecourse`).

    Args:
        notebook: a reference chapter (`nbformat` notebook).
        outputs: `False` to clear the outputs of every code cell but the check
            cells (whose pass lines the self-check compares), as for the
            learners' copy that Colab opens.

    Returns:
        The student edition, a new notebook.
    """
    edition = copy.deepcopy(notebook)
    if not outputs:
        for cell in edition.cells:
            if cell.cell_type == "code" and "check" not in cell.metadata.get("tags", []):
                cell.outputs, cell.execution_count = [], None
    dropped = set()
    for exercise in exercises.find_exercises(edition):
        solution = edition.cells[exercise.solution]
        solution.source = exercises.blank_solution(solution.source, exercise.label)
        solution.outputs, solution.execution_count = [], None
        solution.metadata.setdefault("aecourse", {})["exercise"] = exercise.label
        edition.cells[exercise.check].metadata.setdefault("aecourse", {})["exercise"] = exercise.label
        dropped.update({exercise.solution - 1, exercise.solution + 1})
    edition.cells = [cell for i, cell in enumerate(edition.cells) if i not in dropped]
    return edition


def write_student_edition(source, out_dir, outputs=True):
    """Writes the student edition of one chapter or of every chapter in a folder.

    Args:
        source: a chapter notebook or the `book/` folder.
        out_dir: folder for the student notebooks (created; must differ from the source's).
        outputs: `False` to keep only the check cells' outputs (see `student_edition`).

    Returns:
        The written paths.
    """
    paths, out_dir = chapter_paths(source), pathlib.Path(out_dir)
    if out_dir.resolve() in {p.parent.resolve() for p in paths}:
        raise ValueError(f"The student edition would overwrite the reference chapters; choose another "
                         f"--out folder. Received: out={str(out_dir)!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in paths:
        target = out_dir / path.name
        nbformat.write(student_edition(nbformat.read(path, as_version=4), outputs=outputs), target)
        written.append(target)
    return written


def write_learner_copy(chapter):
    """Writes the learners' copy of `chapter` (`book/NN_x.ipynb`) to `student/NN_x.ipynb` beside `book/`.

    Args:
        chapter: path of a reference chapter notebook in the book's folder.

    Returns:
        The written path.
    """
    chapter = pathlib.Path(chapter)
    return write_student_edition(chapter, chapter.resolve().parent.parent / LEARNER_DIR, outputs=False)[0]
