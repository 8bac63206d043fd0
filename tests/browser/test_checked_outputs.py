"""nbval's output checks, on the notebooks as JupyterLab ran them.

`make test` runs each notebook once, in JupyterLab through the browser, instead
of once there and once more under `pytest --nbval-lax`: training the two
networks twice does not fit the suite's time on a 2-core machine. This test
applies to that run what `--nbval-lax` checks besides "no cell raised" (which
the walkthrough checks on screen): every code cell marked to be checked (the
comment `# NBVAL_CHECK_OUTPUT` or the tag `nbval-check-output`, and not
`NBVAL_SKIP`) printed the same outputs as the committed notebook stores. The
markers are read and the outputs compared by nbval's own functions: its
comparison ignores images, metadata and execution counts, as under nbval.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from types import SimpleNamespace

import nbformat
import pytest
from lab_session import Walkthrough, code_cells, numbered_notebooks
from nbval.plugin import IPyNbCell, coalesce_streams, find_comment_markers, find_metadata_tags, nocolors

NOTEBOOK_NAMES = [path.name for path in numbered_notebooks()]
# What nbval 0.11 leaves out of a comparison without --nbdime (IPyNbFile.skip_compare).
SKIP_COMPARE = (
    "metadata",
    "traceback",
    "prompt_number",
    "output_type",
    "name",
    "execution_count",
    "application/vnd.jupyter.widget-view+json",
    "image/png",
    "image/jpeg",
)


class NbvalComparison:
    """Just what nbval's IPyNbCell.compare_outputs reads, so nbval's own comparison judges the outputs."""

    colors = nocolors
    compare_outputs = IPyNbCell.compare_outputs
    format_output_compare = IPyNbCell.format_output_compare
    sanitize = IPyNbCell.sanitize

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.ihook = config.hook  # pytest's assertion diff, as in nbval's failure reports
        self.parent = SimpleNamespace(skip_compare=SKIP_COMPARE, sanitize_patterns={})
        self.comparison_traceback: list[str] = []


def nbval_options(cell: nbformat.NotebookNode) -> defaultdict[str, bool]:
    """A cell's nbval options under --nbval-lax: tags, then comment markers; unmarked cells unchecked."""
    options = defaultdict(bool, find_metadata_tags(cell.metadata))
    options.update(dict(find_comment_markers(cell.source)))
    options.setdefault("check", False)
    return options


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_checked_cells_print_what_the_committed_notebook_stores(
    name: str, walkthrough: Walkthrough, run_notebook, pytestconfig: pytest.Config
) -> None:
    """Each cell nbval would check has the committed outputs after Run All Cells in JupyterLab."""
    run_notebook(name)
    committed = walkthrough.expected[name].cells
    executed = code_cells(walkthrough.staged(name))
    assert len(executed) == len(committed)
    differences = []
    for number, (reference, run) in enumerate(zip(committed, executed, strict=True), start=1):
        options = nbval_options(reference)
        if reference.execution_count is None:
            assert not reference.outputs, f"cell {number}: the committed cell has outputs but never ran"
            continue
        if options["skip"] or not options["check"]:
            continue
        comparison = NbvalComparison(pytestconfig)
        test_outputs = coalesce_streams(copy.deepcopy(run.outputs))
        reference_outputs = coalesce_streams(copy.deepcopy(reference.outputs))
        if not comparison.compare_outputs(test_outputs, reference_outputs):
            first_line = reference.source.strip().splitlines()[0]
            differences.append(
                f"cell {number} ({first_line}):\n" + "\n".join(comparison.comparison_traceback)
            )
    assert not differences, "outputs differ from the committed notebook:\n\n" + "\n\n".join(differences)


def test_the_comparison_tells_outputs_apart(pytestconfig: pytest.Config) -> None:
    """nbval's comparison, called this way, passes equal outputs and fails different ones with a diff."""
    stream = nbformat.v4.new_output("stream", name="stdout", text="x_train shape (60000, 28, 28)\n")
    figure = nbformat.v4.new_output("display_data", data={"image/png": "iVBOR", "text/plain": "<Figure>"})
    other_figure = nbformat.v4.new_output(
        "display_data", data={"image/png": "AAAA", "text/plain": "<Figure>"}
    )
    same = NbvalComparison(pytestconfig)
    assert same.compare_outputs(
        [stream, figure], [copy.deepcopy(stream), other_figure]
    )  # images not compared
    changed = copy.deepcopy(stream)
    changed.text = "x_train shape (10000, 28, 28)\n"
    different = NbvalComparison(pytestconfig)
    assert not different.compare_outputs([changed], [stream])
    assert "10000" in "\n".join(different.comparison_traceback)
    missing = NbvalComparison(pytestconfig)
    assert not missing.compare_outputs([], [stream])
