"""Every figure the committed notebooks store has alt text: the cell's metadata `alt` (nbconvert's key),
which the book writes on each <img> (scripts/build_book.py, checked in test_book_build.py)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
IMAGES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")
FILE_NAME = re.compile(r"^\S+\.(png|jpe?g|svg|gif)$", re.IGNORECASE)
MIN_WORDS = 5  # "A figure." says nothing a screen-reader user can learn from


def alt_problem(alt: object) -> str | None:
    """Why a cell's `alt` metadata is not alt text for its figures, or None when it is."""
    if not isinstance(alt, str) or not alt.strip():
        return "no alt text (cell metadata `alt`)"
    text = alt.strip()
    if FILE_NAME.match(text):
        return f"alt text is a file name: {text!r}"
    if text.startswith("<Figure size") or text.startswith("<matplotlib"):
        return f"alt text is matplotlib's repr: {text!r}"
    if len(text.split()) < MIN_WORDS:
        return f"alt text too short to describe a figure: {text!r}"
    return None


def test_what_counts_as_alt_text() -> None:
    assert alt_problem(None) and alt_problem("  ") and alt_problem(["a list"])
    assert alt_problem("cf9ce207d3917447518c7f82bab0eafafa0129d9.png")
    assert alt_problem("<Figure size 640x480 with 1 Axes>")
    assert alt_problem("A figure.")
    assert alt_problem("Ten digits from the training set, each with its label above it.") is None


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem[:2])
def test_every_stored_figure_has_alt_text(notebook: Path) -> None:
    problems = []
    for number, cell in enumerate(nbformat.read(notebook, as_version=4).cells, start=1):
        if cell.cell_type != "code":
            continue
        if not any(mime in output.get("data", {}) for output in cell.outputs for mime in IMAGES):
            continue
        problem = alt_problem(cell.metadata.get("alt"))
        if problem:
            first_line = cell.source.splitlines()[0] if cell.source else ""
            problems.append(f"cell {number} ({first_line[:50]!r}): {problem}")
    assert not problems, f"{notebook.name}:\n" + "\n".join(problems)
