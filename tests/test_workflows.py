"""The tests workflow: clean for zizmor, and it runs .ci/run as root, with uv's downloads cached.

GitHub's schema is checked for every workflow by tests/book/test_pages_workflow.py;
zizmor's offline audits run here with the same configuration (.github/zizmor.yml).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TESTS_WORKFLOW = PROJECT_ROOT / ".github" / "workflows" / "tests.yml"
CI_RUN = PROJECT_ROOT / ".ci" / "run"
BIN = Path(sys.executable).parent


def _zizmor(path: Path) -> subprocess.CompletedProcess[str]:
    command = [str(BIN / "zizmor"), "--offline", "--config", str(PROJECT_ROOT / ".github" / "zizmor.yml")]
    return subprocess.run([*command, str(path)], capture_output=True, text=True)


def test_zizmor_finds_nothing_in_the_tests_workflow() -> None:
    result = _zizmor(TESTS_WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_flags_a_checkout_that_keeps_its_credentials(tmp_path: Path) -> None:
    leaky = tmp_path / "leaky.yml"
    workflow = TESTS_WORKFLOW.read_text()
    leaky.write_text(workflow.replace("        with:\n          persist-credentials: false\n", "", 1))
    result = _zizmor(leaky)
    assert result.returncode != 0 and "artipacked" in result.stdout + result.stderr


@pytest.fixture(scope="module")
def steps() -> list[dict]:
    (job,) = yaml.safe_load(TESTS_WORKFLOW.read_text())["jobs"].values()
    return job["steps"]


def _fake_program(folder: Path, name: str, body: str) -> None:
    program = folder / name
    program.write_text(f"#!/bin/sh\n{body}\n")
    program.chmod(0o755)


@pytest.mark.parametrize(("failing", "ran"), [(None, ["test", "test-deploy"]), ("test", ["test"])])
def test_ci_runs_the_test_suite_and_then_the_class_set_ups(tmp_path: Path, failing, ran) -> None:
    """.ci/run, with make replaced by a recorder: make test, then make test-deploy, not after a failure."""
    bin_, log = tmp_path / "bin", tmp_path / "make.log"
    bin_.mkdir()
    status = f'[ "$1" = {failing} ] && exit 1' if failing else ":"
    _fake_program(bin_, "make", f'echo "$*" >> {log}\n{status}')
    browsers = tmp_path / "browsers"
    (browsers / "chromium-1").mkdir(parents=True)  # a Chromium is there: nothing to install
    env = {**os.environ, "PATH": f"{bin_}:{os.environ['PATH']}", "PLAYWRIGHT_BROWSERS_PATH": str(browsers)}
    done = subprocess.run([str(CI_RUN)], env=env, capture_output=True, text=True)
    assert (done.returncode != 0) == bool(failing), done.stdout + done.stderr
    assert log.read_text().splitlines() == ran


@pytest.fixture(scope="module")
def ci_as_run(steps: list[dict], tmp_path_factory: pytest.TempPathFactory) -> tuple[list[list[str]], Path]:
    """What the workflow's test step asks sudo to run, each call's arguments, with HOME at a folder."""
    (run,) = [step["run"] for step in steps if ".ci/run" in step.get("run", "")]
    home = tmp_path_factory.mktemp("home")
    bin_, log = home / "bin", home / "sudo.log"
    bin_.mkdir()
    _fake_program(bin_, "sudo", f'for a in "$@"; do printf "%s\\0" "$a"; done >> {log}; echo >> {log}')
    env = {
        **os.environ,
        "PATH": f"{bin_}:{os.environ['PATH']}",
        "HOME": str(home),
        "GITHUB_WORKSPACE": str(PROJECT_ROOT),
        "PYTHON": sys.executable,
    }
    done = subprocess.run(["bash", "-e", "-c", run], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    calls = [line.split("\0")[:-1] for line in log.read_text().splitlines()]
    return calls, home


def test_the_workflow_runs_ci_as_root(ci_as_run: tuple[list[list[str]], Path]) -> None:
    calls, _ = ci_as_run
    (ci,) = [call for call in calls if call[-1] == ".ci/run"]
    assert ci[0] == "env"  # sudo runs it, with the environment that follows


def test_the_cache_holds_what_uv_downloads_for_the_locks_make_installs(
    steps: list[dict], ci_as_run: tuple[list[list[str]], Path], tmp_path: Path
) -> None:
    caches = [step["with"] for step in steps if step.get("uses", "").startswith("actions/cache@")]
    (uv_cache,) = [cache for cache in caches if "uv" in cache["path"]]
    calls, home = ci_as_run
    (ci,) = [call for call in calls if call[-1] == ".ci/run"]
    (where,) = [arg.partition("=")[2] for arg in ci if arg.startswith("UV_CACHE_DIR=")]
    assert where == uv_cache["path"].replace("~", str(home), 1)  # root writes where the cache is kept
    (bin_ := tmp_path / "venv" / "bin").mkdir(parents=True)
    for stamp in ("python", "uv"):
        (bin_ / stamp).touch()
    dry = subprocess.run(
        ["make", "-n", "-s", "-C", str(PROJECT_ROOT), f"VENV={bin_.parent}", "hub-install"],
        capture_output=True,
        text=True,
        check=True,
    )
    synced = {line.split()[-1] for line in dry.stdout.splitlines() if " pip sync " in line}
    hashed = set(re.findall(r"'([^']+)'", uv_cache["key"]))
    assert synced and synced <= hashed, f"the uv cache's key does not follow {synced - hashed}"
    setup = [step for step in steps if step.get("uses", "").startswith("actions/setup-python@")]
    assert setup and "cache" not in setup[0]["with"]  # make installs with uv, not pip


def test_chromium_is_installed_before_the_tests(steps: list[dict]) -> None:
    runs = [step.get("run", "") for step in steps]
    install = next(i for i, run in enumerate(runs) if "playwright install" in run and "chromium" in run)
    assert install < next(i for i, run in enumerate(runs) if ".ci/run" in run)
