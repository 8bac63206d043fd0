"""Fixtures of the browser walkthrough: one JupyterLab server and one Chromium for the whole session.

run_notebook(name: str) -> playwright.sync_api.Page
    Opens notebooks/<name> (e.g. "07_your_own_digits.ipynb") in JupyterLab through
    the file browser (double-click) and returns the page, brought to the front,
    its images loaded: 1024 x 768, the notebook as the only document, its kernel
    running. A notebook in walkthrough.to_run (lab_session.RUN_ALL, and the
    notebooks that save the runs it loads when WALKTHROUGH_RUNS gives none) is
    run first: Run > Run All Cells, until no cell is queued or running and the
    kernel is idle, then saved (File > Save Notebook, into the session's copy of
    notebooks/); the others show their committed outputs. Notebooks run several
    at once, each in its own page; one that loads saved runs starts once they
    are saved. Each notebook opens once per session and later calls return the
    same page. Raises ValueError for a name that is not a numbered notebook, and
    an error (cached: later calls raise it again at once) if the notebook cannot
    be opened or Run All does not finish within lab_session.NOTEBOOK_TIMEOUT_S.

walkthrough (the Walkthrough behind it): .staged(name) is the copy the server
serves, .expected[name] what the committed notebook stores, .server the LabServer.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from lab_session import WALKTHROUGH, Walkthrough, run_seconds, slow_cells
from playwright.sync_api import Page

SLOW_CELL_S = 5.0  # cells at least this slow are listed in the summary


@pytest.fixture(scope="session")
def walkthrough(request: pytest.FixtureRequest) -> Walkthrough:
    """The session's JupyterLab and browser (started by tests/conftest.py, which also stops them)."""
    return request.config.stash[WALKTHROUGH]


@pytest.fixture(scope="session")
def run_notebook(walkthrough: Walkthrough) -> Callable[[str], Page]:
    """run_notebook(name) -> Page: the notebook opened and run in JupyterLab (see this module's docstring)."""
    return walkthrough.run_notebook


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """Print how long each notebook took to open and to run in the browser, and its slowest cells."""
    session = config.stash.get(WALKTHROUGH, None)
    run_here = [name for name in session.to_run if name in session.pages] if session else []
    if not run_here:
        return
    terminalreporter.section("Run All Cells in JupyterLab")
    for name in run_here:
        ran, opened = run_seconds(session.staged(name)), session.opening_seconds.get(name, 0.0)
        terminalreporter.write_line(f"{ran:6.1f} s  {name}  (opened in {opened:.1f} s)")
        for seconds, number, first_line in slow_cells(session.staged(name), SLOW_CELL_S):
            terminalreporter.write_line(f"{seconds:14.1f} s  cell {number}: {first_line}")
