"""Hand-out copies (make student-copies): no solutions, no outputs, quiz answers by a switch, runnable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
import student_copies  # noqa: E402

sys.path.pop(0)


def tagged(notebook: nbformat.NotebookNode, tag: str) -> list:
    return [cell for cell in notebook.cells if tag in cell.metadata.get("tags", [])]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name[:2])
def test_a_copy_has_an_empty_cell_for_each_solution_and_no_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    copy = student_copies.student_copy(notebook, quiz_answers=True)
    solutions, answers = tagged(notebook, "solution"), tagged(copy, "answer")
    assert solutions and not tagged(copy, "solution")
    assert [cell.source for cell in answers] == [
        f"# Your solution to exercise {n}\n" for n in range(1, len(solutions) + 1)
    ]
    assert not any("# Solution to exercise" in cell.source for cell in copy.cells)
    assert all(
        not cell.outputs and cell.execution_count is None for cell in copy.cells if cell.cell_type == "code"
    )
    exercises = next(cell.source for cell in copy.cells if cell.source.startswith("## Exercises"))
    assert student_copies.HAND_OUT_NOTE.strip() in exercises
    markdown = [cell.source for cell in notebook.cells if cell.cell_type == "markdown"]
    kept = "".join(cell.source for cell in copy.cells)
    assert kept.count("<summary>Answer</summary>") == "".join(markdown).count("<summary>Answer</summary>") > 0


def outside_answers(markdown: str) -> list[str]:
    """The non-empty lines of a markdown cell that are not inside a collapsed answer, in order."""
    lines, inside = [], False
    for line in markdown.splitlines():
        inside = inside or line.startswith("<details>")
        if not inside and line.strip():
            lines.append(line)
        inside = inside and "</details>" not in line
    return lines


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name[:2])
def test_the_switch_removes_the_quiz_answers_and_keeps_the_questions(path):
    notebook = nbformat.read(path, as_version=4)
    copy = student_copies.student_copy(notebook, quiz_answers=False)
    pairs = [
        (cell.source, copied.source)
        for cell, copied in zip(notebook.cells, copy.cells, strict=True)
        if cell.cell_type == "markdown" and not cell.source.startswith("## Exercises")
    ]
    assert sum(original.count("<details>") for original, _ in pairs) >= 3
    for original, copied in pairs:
        assert "<details>" not in copied
        assert [line for line in copied.splitlines() if line.strip()] == outside_answers(original)


def test_a_code_cell_after_the_solutions_is_refused():
    notebook = nbformat.v4.new_notebook()
    solution = nbformat.v4.new_code_cell("# Solution to exercise 1\nx = 1")
    solution.metadata["tags"] = ["solution"]
    notebook.cells = [solution, nbformat.v4.new_code_cell("print(x)")]
    with pytest.raises(ValueError, match="a code cell follows the solutions"):
        student_copies.student_copy(notebook, quiz_answers=True)


@pytest.mark.slow
def test_the_script_writes_every_copy_and_a_copy_runs_top_to_bottom(tmp_path):
    subprocess.run(
        [
            sys.executable,
            PROJECT_ROOT / "scripts" / "student_copies.py",
            "--output-dir",
            tmp_path,
            "--quiz-answers",
            "remove",
        ],
        check=True,
        capture_output=True,
    )
    assert sorted(p.name for p in tmp_path.glob("*.ipynb")) == [p.name for p in NOTEBOOKS]
    copy = nbformat.read(tmp_path / "02_preprocessing.ipynb", as_version=4)
    env = {"MNIST_SERIES_MODE": "smoke", "MNIST_ARTIFACTS": str(tmp_path / "artifacts")}
    previous = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        NotebookClient(copy, timeout=300, resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    errors = [
        out
        for cell in copy.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "error"
    ]
    assert not errors and all(cell.execution_count for cell in copy.cells if cell.cell_type == "code")
