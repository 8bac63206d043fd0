"""Write the notebooks as hand-outs for a class that grades the exercises: no solutions, no outputs.

    python scripts/student_copies.py                          # build/students/, quiz answers kept
    python scripts/student_copies.py --quiz-answers remove    # the quiz answers left out too

Each cell tagged `solution` becomes an empty cell for the student's own answer;
the Exercises section says so. No other code cell follows the solutions, so the
copies still run top to bottom.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = PROJECT_ROOT / "notebooks"
ANSWER = re.compile(r"\n*<details><summary>Answer</summary>.*?</details>\n*", re.DOTALL)
SOLUTION = re.compile(r"# Solution to exercise (\d+)")
HAND_OUT_NOTE = "*This copy leaves the solutions out: write yours in the empty cell under each exercise.*\n\n"


def student_copy(notebook: nbformat.NotebookNode, quiz_answers: bool) -> nbformat.NotebookNode:
    """The notebook without outputs and solutions, and without quiz answers unless asked to keep them."""
    copy = nbformat.from_dict(notebook)
    first_solution = next(
        (i for i, cell in enumerate(copy.cells) if "solution" in cell.metadata.get("tags", [])), None
    )
    if first_solution is not None and any(
        cell.cell_type == "code" and "solution" not in cell.metadata.get("tags", [])
        for cell in copy.cells[first_solution:]
    ):
        raise ValueError("a code cell follows the solutions: without them, it may not run")
    for cell in copy.cells:
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        if "solution" in tags:
            number = SOLUTION.match(cell.source).group(1)
            cell.source = f"# Your solution to exercise {number}\n"
            cell.metadata = {"tags": ["answer"]}
        elif cell.cell_type == "markdown" and cell.source.startswith("## Exercises"):
            heading, _, rest = cell.source.partition("\n")
            cell.source = f"{heading}\n{HAND_OUT_NOTE}{rest}"
        elif cell.cell_type == "markdown" and not quiz_answers:
            cell.source = ANSWER.sub("\n\n", cell.source).strip() + "\n"
    return copy


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--output-dir", type=Path, default=PROJECT_ROOT / "build" / "students")
    parser.add_argument("--quiz-answers", choices=("keep", "remove"), default="keep")
    args = parser.parse_args()
    args.output_dir.mkdir(parents=True, exist_ok=True)
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        copy = student_copy(nbformat.read(path, as_version=4), args.quiz_answers == "keep")
        nbformat.write(copy, args.output_dir / path.name)
        print(args.output_dir / path.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
