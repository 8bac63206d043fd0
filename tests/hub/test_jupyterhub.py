"""A class on one JupyterHub: three students at once run notebooks 05 to 07 against the teacher's runs.

The teacher runs notebooks 03 and 04 in quick mode and publishes the runs
(scripts/publish_class_runs.py, what `make class-runs` runs). A real JupyterHub
then starts from deploy/jupyterhub/jupyterhub_config.py; three students log in
through its REST API at once, start their servers and run 05, 06 and 07 in
kernels of their own servers, and 08's set-up. No cell may fail or write to stderr, and no
student trains or saves a recipe run: they all use the class's. Then every
process the hub started is stopped, by pid. `make test-deploy` runs this.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hub_session import PROJECT_ROOT, Hub, NotebookRun

pytestmark = [pytest.mark.deploy, pytest.mark.slow]  # make test-deploy runs it, make test does not

STUDENTS = ["ada", "grace", "alan"]
NOTEBOOKS = [
    PROJECT_ROOT / "notebooks" / name
    for name in ("05_training_curves.ipynb", "06_predictions_and_mistakes.ipynb", "07_your_own_digits.ipynb")
]
BEYOND = PROJECT_ROOT / "notebooks" / "08_beyond_the_recipes.ipynb"
RESULTS = PROJECT_ROOT / "build" / "hub_class.json"


@pytest.fixture(scope="module")
def class_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The teacher's quick-mode runs of 03 and 04, published into a class folder."""
    folder = tmp_path_factory.mktemp("teacher")
    env = {**os.environ, "MNIST_SERIES_MODE": "quick", "MNIST_ARTIFACTS": str(folder / "artifacts")}
    env.pop("MNIST_CLASS_RUNS", None)
    scripts = PROJECT_ROOT / "scripts"
    subprocess.run(
        [
            sys.executable,
            scripts / "run_series.py",
            "--output-dir",
            folder / "executed",
            "--only",
            "03_sequential_cnn.ipynb",
            "04_functional_cnn.ipynb",
        ],
        env=env,
        check=True,
    )
    subprocess.run(
        [sys.executable, scripts / "publish_class_runs.py", "--dest", folder / "class"], env=env, check=True
    )
    return folder / "class"


async def a_student(hub: Hub, student: str) -> list[NotebookRun]:
    await hub.log_in(student)
    await hub.start_server(student)
    folder = hub.hand_out(student, [*NOTEBOOKS, BEYOND])
    runs = [await hub.run_notebook(student, folder / path.name) for path in NOTEBOOKS]
    # 08 trains networks of its own; its set-up, which needs both recipes' runs, must pass at once.
    return [*runs, await hub.run_notebook(student, folder / BEYOND.name, until="require_runs")]


async def a_class(hub: Hub) -> list[list[NotebookRun]]:
    await hub.wait_until_up()
    try:
        return await asyncio.gather(*(a_student(hub, student) for student in STUDENTS))
    finally:
        await hub.stop_servers()


def test_three_students_run_05_to_07_at_once_on_the_class_runs(class_runs, tmp_path, capsys):
    before = {path: path.read_bytes() for path in class_runs.rglob("*") if path.is_file()}
    environment = {"MNIST_SERIES_MODE": "quick", "MNIST_CLASS_RUNS": str(class_runs)}
    hub = Hub(tmp_path, STUDENTS, environment)
    try:
        runs = [run for student in asyncio.run(a_class(hub)) for run in student]
    finally:
        hub.stop()
    assert not hub.alive(), f"still running after the hub stopped: {hub.alive()}"

    for run in runs:
        assert not run.problems, f"{run.student}, {run.notebook}:\n" + "\n".join(run.problems)
    assert sorted((run.student, run.notebook) for run in runs) == sorted(
        (student, path.name) for student in STUDENTS for path in [*NOTEBOOKS, BEYOND]
    )
    for student in STUDENTS:  # nobody trained a recipe: every network came from the class folder
        own = tmp_path / "homes" / student / "mnist-artifacts"
        assert not list(own.glob("*/*/run.json")), list(own.glob("*/*/run.json"))
    assert {path: path.read_bytes() for path in class_runs.rglob("*") if path.is_file()} == before

    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps([run.__dict__ for run in runs], indent=2))
    with capsys.disabled():
        print("\nThree students at once, quick mode (seconds of Run All; kernel peak memory):")
        for run in runs:
            print(f"  {run.student:6} {run.notebook:36} {run.seconds:6.1f} s {run.peak_mb:7.0f} MB")
