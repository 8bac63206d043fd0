"""Every numbered notebook has the parts a lesson is built from, found by their cell tags.

`checks` tags the one cell that asserts what the text says; `solution` tags
the collapsed solutions under the exercises. make test runs them (nbval); this
reads the files only.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def tagged(cells: list, tag: str) -> list[int]:
    return [i for i, cell in enumerate(cells) if tag in cell.metadata.get("tags", [])]


def heading(cells: list, text: str) -> int:
    (index,) = [i for i, c in enumerate(cells) if c.cell_type == "markdown" and c.source.startswith(text)]
    return index


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name[:2])
def test_a_lesson_has_its_aims_checks_exercises_with_solutions_and_a_way_on(path: Path) -> None:
    cells = nbformat.read(path, as_version=4).cells
    number = int(path.name[:2])
    top = cells[0].source
    assert top.startswith(f"# {number:02d} ·") and "After this notebook you can" in top
    exercises = heading(cells, "## Exercises")

    (checks,) = tagged(cells, "checks")
    assert cells[checks].cell_type == "code" and checks < exercises
    assert cells[checks].source.startswith("# Checks behind the text")

    solutions = tagged(cells, "solution")
    assert solutions and all(i > exercises for i in solutions)
    numbers = [int(re.match(r"# Solution to exercise (\d+)", cells[i].source).group(1)) for i in solutions]
    assert numbers == list(range(1, len(solutions) + 1))
    assert all(cells[i].metadata.get("jupyter", {}).get("source_hidden") for i in solutions), "collapsed"

    following = [p.name for p in NOTEBOOKS if int(p.name[:2]) == number + 1]
    markdown = "\n".join(cell.source for cell in cells if cell.cell_type == "markdown")
    assert all(f"({name})" in markdown for name in following), f"no link to {following}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name[:2])
def test_every_collapsed_answer_is_closed_in_its_own_cell(path: Path) -> None:
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "markdown":
            opened = [m.start() for m in re.finditer("<details>", cell.source)]
            closed = [m.start() for m in re.finditer("</details>", cell.source)]
            assert len(opened) == len(closed), f"an answer is not closed: {cell.source[:60]!r}"
            assert all(o < c for o, c in zip(opened, closed, strict=True)), "</details> before <details>"
