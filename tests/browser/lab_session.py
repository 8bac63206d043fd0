"""JupyterLab and Chromium for the browser walkthrough: start them, drive the UI, read the page, stop them.

The server listens on 127.0.0.1 on a free port with a random token, in smoke
mode, with the project's lab settings (jupyter/lab-settings, as `make lab` uses)
and its own temporary artifacts, user-settings, workspaces, runtime, data and
config folders, so it neither reads nor writes the user's ~/.jupyter or the
project's artifacts/. It serves a copy of notebooks/: the notebooks it runs
(RUN_ALL, and those that save runs these load, when none are given) have no
stored outputs there, so what the tests see of them comes from this run; the
others keep their committed outputs, which the tests see rendered.
"""

from __future__ import annotations

import base64
import functools
import io
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import nbformat
import psutil
import pytest
from markdown_it import MarkdownIt
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from helpers import artifacts

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = PROJECT_ROOT / "notebooks"
LAB_SETTINGS = PROJECT_ROOT / "jupyter" / "lab-settings"  # overrides.json, also used by `make lab`
SCREENSHOTS = PROJECT_ROOT / "build" / "browser"
VIEWPORT = {"width": 1024, "height": 768}  # the classroom projector
NOTEBOOK_TIMEOUT_S = 600  # one notebook's Run All, quick mode, on a slow 2-core machine
UI_TIMEOUT_MS = 60_000  # a click, a menu, JupyterLab's start-up in the page
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SYSTEM_CHROMIUMS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
NO_BROWSER = (
    "No Chromium for the browser tests: Playwright's own is not installed and none of "
    f"{', '.join(SYSTEM_CHROMIUMS)} is on PATH. Install one, e.g. `apt-get install -y chromium` "
    "(Debian/Ubuntu, as root) or `.venv/bin/python -m playwright install chromium`."
)
NEWS_QUESTION = "Would you like to get notified about official Jupyter news?"
# The notebooks run with Run All Cells here: what they show needs a live kernel (07's pad and Photo
# widgets). nbval runs every notebook in make test; the others are opened with their committed outputs.
RUN_ALL = ("07_your_own_digits.ipynb",)

# JavaScript run in the page. The notebook panel is the only one: each notebook gets its own page.
KERNEL_READY_JS = """() => {
  const panel = document.querySelector('.jp-NotebookPanel');
  const kernel = panel?.querySelector('.jp-KernelName')?.textContent.trim() ?? '';
  const status = panel?.querySelector('.jp-Notebook-ExecutionIndicator')?.dataset.status;
  return kernel !== '' && kernel !== 'No Kernel' && status === 'idle';
}"""
_RUN_STATE_JS = """() => {
  const panel = document.querySelector('.jp-NotebookPanel');
  const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
    .map(p => p.textContent.trim());
  const indicator = panel.querySelector('.jp-Notebook-ExecutionIndicator');
  const progress = indicator?.querySelector('[role=progressbar]');
  return {
    status: indicator?.dataset.status ?? 'none',
    progress: Number(progress?.getAttribute('aria-valuenow') ?? 100),
    running: prompts.filter(p => p.includes('*')).length,
    done: prompts.filter(p => /\\d/.test(p)).length,
  };
}"""
_IMAGES_LOADED_JS = """() => [...document.querySelectorAll('.jp-NotebookPanel .jp-OutputArea-output img')]
  .every(img => img.complete)"""
_REQUIRE_RUNS = re.compile(r"require_runs\(([^)]*)\)")  # helpers.require_runs("sequential", ...)
_SAVES = ("save_run", "save_recipe_run")  # the helpers a notebook saves its trained run with
_TWO_FRAMES_JS = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"
_REPORT_JS = """() => {
  const panel = document.querySelector('.jp-NotebookPanel');
  const outputs = (cell, mime) =>
    [...cell.querySelectorAll(`.jp-OutputArea-output[data-mime-type="${mime}"]`)];
  return {
    codeCells: [...panel.querySelectorAll('.jp-Cell.jp-CodeCell')].map(cell => ({
      prompt: cell.querySelector('.jp-InputArea-prompt')?.textContent.trim() ?? '',
      stderr: outputs(cell, 'application/vnd.jupyter.stderr').map(o => o.textContent.slice(0, 3000)),
      images: outputs(cell, 'image/png').flatMap(o => [...o.querySelectorAll('img')]).map(img => ({
        src: img.src,
        naturalWidth: img.naturalWidth,
        renderedWidth: img.getBoundingClientRect().width,
        complete: img.complete,
      })),
    })),
    markdownCells: panel.querySelectorAll('.jp-Cell.jp-MarkdownCell').length,
    tables: panel.querySelectorAll('.jp-MarkdownCell .jp-RenderedMarkdown table').length,
    newsToasts: [...document.querySelectorAll('.Toastify__toast')]
      .filter(t => t.textContent.includes('official Jupyter news')).length,
  };
}"""
_SCROLL_HEIGHT_JS = """() => {
  const scroller = document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer');
  return scroller ? scroller.scrollHeight : 0;
}"""
_SCROLL_TO_TOP_JS = """() => {
  const scroller = document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer');
  if (scroller) scroller.scrollTop = 0;
}"""


def numbered_notebooks(folder: Path = NOTEBOOKS) -> list[Path]:
    """The series' notebooks in teaching order: notebooks/NN_*.ipynb."""
    return sorted(folder.glob("[0-9][0-9]_*.ipynb"))


def code_cells(path: Path) -> list[nbformat.NotebookNode]:
    """The code cells of a notebook file, in order."""
    return [cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]


def stored_figures(path: Path) -> int:
    """How many figures (image/png outputs) the committed notebook shows: the run must show as many."""
    return sum("image/png" in output.get("data", {}) for cell in code_cells(path) for output in cell.outputs)


def markdown_tables(path: Path) -> int:
    """How many tables the notebook's markdown cells hold (GitHub-style, or written as HTML)."""
    parser = MarkdownIt("commonmark").enable("table")
    count = 0
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "markdown":
            continue
        for token in parser.parse(cell.source):
            if token.type == "table_open":
                count += 1
            elif token.type == "html_block":
                count += len(re.findall(r"<table\b", token.content, re.IGNORECASE))
    return count


@dataclass(frozen=True)
class Expected:
    """What a run of a notebook must show, read from the committed file when the session copied it."""

    cells: list[nbformat.NotebookNode]  # its code cells, with their stored outputs, in order
    figures: int
    tables: int

    @property
    def sources(self) -> list[str]:
        """The source of each code cell, in order."""
        return [cell.source for cell in self.cells]


def expectations(path: Path) -> Expected:
    """The code cells, stored figure count and markdown table count of a committed notebook."""
    return Expected(code_cells(path), stored_figures(path), markdown_tables(path))


def stage_notebooks(destination: Path) -> dict[str, Expected]:
    """Copy notebooks/ to destination; return what each numbered notebook's committed copy expects.

    The expectations are read from the same version of each file that was
    copied (others may edit the notebooks while the suite runs), in teaching order.
    """
    shutil.copytree(NOTEBOOKS, destination, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return {path.name: expectations(path) for path in numbered_notebooks(destination)}


def strip_outputs(path: Path) -> None:
    """Remove a notebook's stored outputs and execution counts, so that what shows comes from a run."""
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nbformat.write(notebook, path)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def png_dpi(data_url: str) -> float:
    """The dots per inch a PNG data: URL records (matplotlib writes the figure's dpi into it)."""
    header, _, payload = data_url.partition(",")
    if not header.startswith("data:image/png;base64"):
        raise ValueError(f"not a base64 PNG data URL: {header[:40]!r}")
    with Image.open(io.BytesIO(base64.b64decode(payload))) as image:
        return float(image.info["dpi"][0])


@dataclass
class LabServer:
    """One JupyterLab process started for the tests, and how to reach and stop it."""

    root: Path  # the folder it serves
    workdir: Path  # its private settings, workspaces, runtime and artifacts folders
    log_path: Path
    token: str = field(default_factory=lambda: secrets.token_hex(24))
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL of the server."""
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        """The server's (and so its kernels') environment: smoke mode, private folders, MNIST_NPZ kept."""
        env = dict(os.environ)
        env.pop("MPLBACKEND", None)  # kernels must use the inline backend, whatever the caller uses
        private = {
            "MNIST_ARTIFACTS": "artifacts",
            "JUPYTERLAB_SETTINGS_DIR": "user-settings",
            "JUPYTERLAB_WORKSPACES_DIR": "workspaces",
            "JUPYTER_RUNTIME_DIR": "runtime",
            "JUPYTER_DATA_DIR": "data",
            "JUPYTER_CONFIG_DIR": "config",
            "IPYTHONDIR": "ipython",
        }
        env.update({name: str(self.workdir / folder) for name, folder in private.items()})
        env["MNIST_SERIES_MODE"] = "smoke"
        return env

    def artifacts_dir(self) -> Path:
        """Where the server's kernels save runs: MNIST_ARTIFACTS and the mode, as helpers.settings has it."""
        env = self.environment()
        return Path(env["MNIST_ARTIFACTS"]) / env["MNIST_SERIES_MODE"]

    def command(self) -> list[str]:
        """The jupyter lab command line, with the lab settings `make lab` passes too."""
        command = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            f"--LabApp.app_settings_dir={LAB_SETTINGS}",
        ]
        if os.geteuid() == 0:  # CI and classroom VMs run as root; Jupyter refuses unless told
            command.append("--allow-root")
        return command

    def write_user_settings(self) -> None:
        """The test server's own settings: each cell's run time recorded, and no autosave.

        The run times feed the slowest-cells summary. Without autosave a notebook
        is saved only when the walkthrough saves it, so no autosave races that
        save and leaves JupyterLab asking whether the file changed on disk.
        """
        settings = {
            ("notebook-extension", "tracker"): {"recordTiming": True},
            ("docmanager-extension", "plugin"): {"autosave": False},
        }
        for (extension, plugin), values in settings.items():
            folder = self.workdir / "user-settings" / "@jupyterlab" / extension
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{plugin}.jupyterlab-settings").write_text(json.dumps(values))

    def start(self, attempts: int = 3, timeout_s: float = 120) -> None:
        """Start the server and wait until its API answers; try another port if one was taken meanwhile."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.write_user_settings()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(attempts):
            self.port = free_port()
            with self.log_path.open("ab") as log:
                self.process = subprocess.Popen(
                    self.command(),
                    env=self.environment(),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group, which stop() can signal
                )
            try:
                ready = self._wait_until_ready(timeout_s)
            except BaseException:  # Ctrl-C (or a failure) while it starts: leave no server running
                self.stop()
                raise
            if ready:
                return
        raise RuntimeError(f"JupyterLab did not start; its log:\n{self.log_tail()}")

    def _wait_until_ready(self, timeout_s: float) -> bool:
        """True once /api/status answers; False if the process exits first; an error after timeout_s.

        start() stops the server when this raises.
        """
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            try:
                self.request("GET", "/api/status", timeout_s=2)
                return True
            except OSError:
                time.sleep(1.0)
        raise RuntimeError(f"JupyterLab did not answer within {timeout_s:.0f} s; its log:\n{self.log_tail()}")

    def request(self, method: str, path: str, timeout_s: float = 10) -> bytes:
        """Call the server's REST API with the token."""
        request = urllib.request.Request(
            self.url + path, method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return response.read()

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's log, for failure messages."""
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """Shut down the server and every kernel it started, and nothing else.

        Kernels run in sessions of their own (jupyter_client starts them so), so the
        server's process group does not hold them: they are collected from the
        server's children before it is asked to shut down, and ended by their pids.
        """
        if self.process is None:
            return
        process, self.process = self.process, None
        try:
            started = psutil.Process(process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            started = []
        try:
            self.request("POST", "/api/shutdown", timeout_s=5)
        except (OSError, urllib.error.HTTPError):
            pass
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
                try:
                    os.killpg(process.pid, sig)
                    process.wait(timeout=wait)
                    break
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    continue
        left = [child for child in started if child.is_running()]
        for child in left:
            child.terminate()
        _, alive = psutil.wait_procs(left, timeout=10)
        for child in alive:
            child.kill()


def launch_chromium(playwright: Playwright) -> Browser:
    """Playwright's own Chromium when it is installed, else the system's; fails saying how to get one."""
    try:
        return playwright.chromium.launch(headless=True, args=CHROMIUM_ARGS)
    except PlaywrightError as error:
        if "Executable doesn't exist" not in str(error):
            raise
    for name in SYSTEM_CHROMIUMS:
        executable = shutil.which(name)
        if executable:
            return playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
    pytest.fail(NO_BROWSER, pytrace=False)


WALKTHROUGH = pytest.StashKey["Walkthrough"]()  # the session's walkthrough, in pytest's config.stash
WALKTHROUGH_FIXTURES = {"walkthrough", "run_notebook"}  # a test that asks for one needs the walkthrough


@dataclass
class NotebookRun:
    """One notebook in its page: when Run All began (None until chosen) and since when it looks finished."""

    page: Page
    code_cells: int
    began: float | None = None
    finished_since: float | None = None
    polls_finished: int = 0

    def has_finished(self) -> bool:
        """True once the kernel is idle, the progress circle full and no prompt [*], for 1 s and 3 polls.

        The progress circle counts every cell Run All scheduled, those with hidden
        input too. The staged notebooks start with no execution counts, so a number
        in a prompt can only come from this run. After an error the remaining cells
        are cancelled and the circle fills, which also ends the run (the
        walkthrough then reports them). Raises if the kernel died or Run All
        exceeds NOTEBOOK_TIMEOUT_S.
        """
        assert self.began is not None
        # Chromium renders a page behind others seldom, so what it shows can be stale: look in front.
        self.page.bring_to_front()
        self.page.evaluate(_TWO_FRAMES_JS)
        state = self.page.evaluate(_RUN_STATE_JS)
        if state["status"] == "dead":
            raise RuntimeError(f"the kernel died: {state}")
        now = time.monotonic()
        idle = state["status"] == "idle" and state["progress"] >= 100 and state["running"] == 0
        if idle and (state["done"] or not self.code_cells):
            self.finished_since = self.finished_since or now
            self.polls_finished += 1
        else:
            self.finished_since, self.polls_finished = None, 0
        if self.polls_finished >= 3 and now - self.finished_since >= 1.0:
            return True
        if now - self.began > NOTEBOOK_TIMEOUT_S:
            raise TimeoutError(f"Run All did not finish within {NOTEBOOK_TIMEOUT_S} s: {state}")
        return False


class Walkthrough:
    """A teacher's session: one JupyterLab, one browser, each notebook opened in its own page, some run.

    tests/conftest.py begins it when the session starts and calls advance()
    between tests; a step that fails there (no browser, say) is tried again
    when a test asks for a notebook, and fails that test with the fix in the
    message. runs_from is a folder of saved runs (MNIST_ARTIFACTS's layout, as
    the nbval step of make test leaves) copied in before the server starts: a
    notebook in RUN_ALL that loads runs then needs no other notebook run first.
    """

    def __init__(self, workdir: Path, runs_from: Path | None = None) -> None:
        self.workdir, self.runs_from = workdir, runs_from
        self.lab = LabServer(
            root=self.staged(""), workdir=workdir / "lab", log_path=SCREENSHOTS / "jupyterlab.log"
        )
        self.server: LabServer | None = None  # self.lab, once it has started
        self.to_run: list[str] = []  # the notebooks run with Run All Cells, in teaching order
        self.playwright: Playwright | None = None
        self.browser: Browser | None = None
        self.context: BrowserContext | None = None
        self.expected: dict[str, Expected] = {}  # per numbered notebook, in teaching order
        self.runs: dict[str, NotebookRun] = {}  # every notebook opened, finished or not
        self.pages: dict[str, Page] = {}  # the notebooks opened, and for those in to_run, run and saved
        self.opening_seconds: dict[str, float] = {}  # new page, JupyterLab loaded, notebook opened
        self.failures: dict[str, str] = {}

    def start(self) -> None:
        """Launch the browser, stage the notebooks, start JupyterLab: each step once, again if it failed."""
        if self.playwright is None:
            self.playwright = sync_playwright().start()
        if self.browser is None:
            self.browser = launch_chromium(self.playwright)
        if not self.expected:
            for old in SCREENSHOTS.glob("*.png"):  # what build/browser/ shows is from this run only
                old.unlink()
            self.expected = stage_notebooks(self.staged(""))
            if (
                self.runs_from is not None
                and (given := self.runs_from / self.lab.artifacts_dir().name).is_dir()
            ):
                shutil.copytree(given, self.lab.artifacts_dir(), dirs_exist_ok=True)
            self.to_run = self.plan()
            for name in self.to_run:
                strip_outputs(self.staged(name))
        if self.server is None:
            self.lab.log_path.unlink(missing_ok=True)
            self.lab.start()
            self.server = self.lab
        if self.context is None:
            self.context = self.browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
            self.context.set_default_timeout(UI_TIMEOUT_MS)

    def staged(self, name: str) -> Path:
        """The served copy of a notebook ("" for its folder): File > Save writes there, not to notebooks/."""
        return self.workdir / "notebooks" / name

    @functools.cached_property
    def needs(self) -> dict[str, list[str]]:
        """The saved runs each notebook loads: the names its code passes to helpers.require_runs."""
        needs = {}
        for name, expected in self.expected.items():
            calls = [call for source in expected.sources for call in _REQUIRE_RUNS.findall(source)]
            needs[name] = [run for call in calls for run in re.findall(r"[\"']([\w-]+)[\"']", call)]
        return needs

    def trains(self, name: str) -> bool:
        """True when the notebook saves a run that others load."""
        return any(f"{save}(" in s for s in self.expected[name].sources for save in _SAVES)

    def plan(self) -> list[str]:
        """The notebooks to run, in teaching order: RUN_ALL, and those that save a missing run these load."""
        wanted, queue = set(), list(RUN_ALL)
        while queue:
            name = queue.pop()
            if name not in wanted:
                wanted.add(name)
                queue += [
                    artifacts.PRODUCED_BY[run] for run in self.needs[name] if not self.runs_saved([run])
                ]
        return [name for name in self.expected if name in wanted]

    @functools.cached_property
    def order(self) -> list[str]:
        """The order the pages open: those to run (loading no run first, trainers first), then the rest."""

        def key(name: str) -> tuple[bool, bool, bool]:
            if name not in self.to_run:
                return True, False, False  # teaching order, the sort being stable
            return False, bool(self.needs[name]), not self.trains(name)

        return sorted(self.expected, key=key)

    def runs_saved(self, names: list[str]) -> bool:
        """True when every named run is saved in the server's artifacts folder (run.json is written last)."""
        folder = self.lab.artifacts_dir()
        return all((folder / name / artifacts.RECORD).is_file() for name in names)

    def begin(self) -> None:
        """Start the session and the notebooks to run whose runs are there, each with Run All once it is open.

        The other pages open one per call of advance(). Safe to call again.
        """
        self.start()
        for name in self.order:
            if name not in self.to_run or not self.runs_saved(self.needs[name]):
                break
            if name not in self.runs and name not in self.failures and self._open(name):
                self._run_all(name)

    def advance(self) -> None:
        """One step without waiting: save the notebooks that finished, open a page, start what may start.

        A notebook starts once the runs it loads are saved: while the notebooks
        that train them still run their exercises.
        """
        for name, run in self.runs.items():
            if run.began is None or name in self.pages or name in self.failures:
                continue
            try:
                if run.has_finished():
                    save_notebook(run.page)  # the executed notebook, for the checks that read it
                    if not ran_to_the_end(self.staged(name)):  # the page showed a pause between cells
                        run.finished_since, run.polls_finished = None, 0
                        continue
                    self.pages[name] = run.page
            except Exception as error:
                if isinstance(error, TimeoutError):
                    save_screenshot(run.page, SCREENSHOTS / f"{Path(name).stem}-timeout.png")
                self.failures[name] = str(error)
        unopened = [name for name in self.order if name not in self.runs and name not in self.failures]
        if unopened:
            self._open(unopened[0])
        for name in self.order:
            run = self.runs.get(name)
            if run and run.began is None and name in self.to_run and name not in self.failures:
                # Every notebook run here that trains a run (and is not this one) done: a run still missing
                # then never comes, and the notebook itself says what to do.
                trainers = [n for n in self.to_run if self.trains(n) and n != name]
                if self.runs_saved(self.needs[name]) or all(
                    n in self.pages or n in self.failures for n in trainers
                ):
                    self._run_all(name)

    def run_notebook(self, name: str) -> Page:
        """Wait until `name` is open, and has run if in to_run (starting the walkthrough if need be).

        Every notebook opens from the file browser in a page of its own; those in
        to_run run with Run > Run All Cells, several at once: a notebook that
        loads saved runs starts once they are saved (see advance). Each notebook
        runs once per session; its page (1024 x 768) and kernel stay open until
        the session ends. An executed notebook is saved (File > Save Notebook) to
        staged(name). Returns the page, in front, its images loaded.
        """
        if name not in [path.name for path in numbered_notebooks()]:
            raise ValueError(f"{name!r} is not one of the numbered notebooks in {NOTEBOOKS}")
        self.begin()
        while name not in self.pages and name not in self.failures:
            self.advance()
            time.sleep(1.0)
        if name in self.failures:
            raise RuntimeError(f"{name} could not be run in JupyterLab: {self.failures[name]}")
        page = self.pages[name]
        page.bring_to_front()  # a page behind others gets few frames: drawing on it is slow
        page.wait_for_function(_IMAGES_LOADED_JS, timeout=UI_TIMEOUT_MS, polling=250)
        return page

    def _open(self, name: str) -> bool:
        """Open a notebook from the file browser in a fresh page, wait for its kernel; False if it failed."""
        assert self.context is not None and self.server is not None
        opening = time.monotonic()
        try:
            page = self.context.new_page()
            workspace = Path(name).stem.replace("_", "-")
            page.goto(f"{self.server.url}/lab/workspaces/{workspace}?reset&token={self.server.token}")
            open_from_file_browser(page, name)
            page.wait_for_function(KERNEL_READY_JS, timeout=UI_TIMEOUT_MS, polling=250)
        except Exception as error:
            self.failures[name] = f"could not be opened: {error}"
            return False
        self.opening_seconds[name] = time.monotonic() - opening
        self.runs[name] = NotebookRun(page, len(self.expected[name].sources))
        if name not in self.to_run:
            self.pages[name] = page  # shown with its committed outputs: nothing to run
        return True

    def _run_all(self, name: str) -> None:
        """Choose Run > Run All Cells in the notebook's page."""
        run = self.runs[name]
        try:
            run.page.bring_to_front()
            click_menu(run.page, "Run", "Run All Cells")
        except Exception as error:
            self.failures[name] = f"Run All could not be chosen: {error}"
            return
        run.began = time.monotonic()

    def close(self) -> None:
        """Close the browser, then stop the server and its kernels, whatever failed before."""
        try:
            if self.browser is not None:
                self.browser.close()
            if self.playwright is not None:
                self.playwright.stop()
        finally:
            if self.server is not None:
                self.server.stop()


def open_from_file_browser(page: Page, name: str) -> None:
    """Double-click the notebook in JupyterLab's file browser, as a teacher does, and wait for its panel."""
    item = page.locator(".jp-DirListing-item").filter(has=page.get_by_text(name, exact=True))
    item.dblclick()
    page.locator(".jp-NotebookPanel").wait_for(state="visible")


def click_menu(page: Page, menu: str, entry: str) -> None:
    """Choose an entry of a menu in JupyterLab's menu bar (Run All Cells has no default shortcut)."""
    page.locator(".lm-MenuBar-item").filter(has_text=re.compile(f"^{re.escape(menu)}$")).click()
    label = page.locator(".lm-Menu-itemLabel").filter(has_text=re.compile(f"^{re.escape(entry)}$"))
    page.locator(".lm-Menu-item").filter(has=label).click()


def notebook_report(page: Page) -> dict:
    """What the page shows: per code cell its prompt, stderr boxes and images; tables; news pop-ups."""
    return page.evaluate(_REPORT_JS)


def save_screenshot(page: Page, path: Path) -> None:
    """Screenshot the whole notebook, 1024 px wide, then give the page back its 1024 x 768 size."""
    path.parent.mkdir(parents=True, exist_ok=True)
    height = page.evaluate(_SCROLL_HEIGHT_JS)
    page.set_viewport_size(
        {"width": VIEWPORT["width"], "height": min(max(VIEWPORT["height"], height + 200), 16000)}
    )
    page.wait_for_timeout(500)  # JupyterLab lays the panel out again at the new height
    page.evaluate(_SCROLL_TO_TOP_JS)  # Run All leaves the notebook scrolled to its last cell
    page.wait_for_timeout(200)
    page.screenshot(path=str(path))
    page.set_viewport_size(VIEWPORT)
    page.wait_for_timeout(300)


def save_notebook(page: Page) -> None:
    """File > Save Notebook, then wait until the tab no longer shows unsaved changes."""
    click_menu(page, "File", "Save Notebook")
    page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.jp-mod-dirty").wait_for(state="detached")


def _span(cell: nbformat.NotebookNode) -> tuple[datetime, datetime] | None:
    """When a code cell started and ended, if the server recorded it (recordTiming)."""
    timing = cell.metadata.get("execution", {})
    keys = ("shell.execute_reply.started", "shell.execute_reply")
    if not all(key in timing for key in keys):
        return None
    began, ended = (datetime.fromisoformat(timing[key].replace("Z", "+00:00")) for key in keys)
    return began, ended


def run_seconds(path: Path) -> float:
    """Seconds from the first code cell's start to the last one's end, as the saved notebook records them."""
    spans = [span for cell in code_cells(path) if (span := _span(cell))]
    if not spans:
        return 0.0
    return (max(end for _, end in spans) - min(began for began, _ in spans)).total_seconds()


def slow_cells(path: Path, at_least_s: float) -> list[tuple[float, int, str]]:
    """(seconds, cell number, first line) of the code cells that took at_least_s or more, slowest first."""
    slow = []
    for number, cell in enumerate(code_cells(path), start=1):
        if (span := _span(cell)) and (seconds := (span[1] - span[0]).total_seconds()) >= at_least_s:
            lines = cell.source.strip().splitlines() or [""]
            slow.append((seconds, number, lines[0][:70]))
    return sorted(slow, reverse=True)


def ran_to_the_end(path: Path) -> bool:
    """True when the saved notebook shows every code cell run, or an error that cancelled the rest.

    The file is written from JupyterLab's model of the notebook, which does not
    depend on whether the browser has drawn the page lately.
    """
    cells = code_cells(path)
    errors = any(output.output_type == "error" for cell in cells for output in cell.outputs)
    return errors or all(cell.execution_count is not None for cell in cells if cell.source.strip())


def saved_execution_counts(path: Path) -> list[int | None]:
    """The execution count of each code cell in a saved notebook (hidden-input cells show none on screen)."""
    return [cell.execution_count for cell in code_cells(path)]
