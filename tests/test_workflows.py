"""The tests workflow: clean for zizmor, and it runs what .ci/run runs, as root, with uv's downloads cached.

GitHub's schema is checked for every workflow by tests/book/test_pages_workflow.py;
zizmor's offline audits run here with the same configuration (.github/zizmor.yml).
"""

from __future__ import annotations

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


def test_ci_runs_the_test_suite_and_then_the_class_set_ups() -> None:
    commands = [line.strip() for line in CI_RUN.read_text().splitlines() if line.startswith("make ")]
    assert commands == ["make test", "make test-deploy"]


def test_the_workflow_runs_ci_as_root(steps: list[dict]) -> None:
    runs = [step["run"] for step in steps if ".ci/run" in step.get("run", "")]
    assert len(runs) == 1
    command = runs[0].replace("\\\n", " ").splitlines()[-1].split()
    assert command[:2] == ["sudo", "env"] and command[-1] == ".ci/run"


def test_the_cache_holds_what_uv_downloads_for_this_lock(steps: list[dict]) -> None:
    caches = [step["with"] for step in steps if step.get("uses", "").startswith("actions/cache@")]
    (uv_cache,) = [cache for cache in caches if "uv" in cache["path"]]
    assert "hashFiles('requirements.lock'" in uv_cache["key"]
    (run,) = [step["run"] for step in steps if ".ci/run" in step.get("run", "")]
    where = re.search(r"UV_CACHE_DIR=\$HOME(\S+?)\"", run)
    assert where and uv_cache["path"] == "~" + where[1]  # root writes where the cache is kept
    setup = [step for step in steps if step.get("uses", "").startswith("actions/setup-python@")]
    assert setup and "cache" not in setup[0]["with"]  # make installs with uv, not pip


def test_chromium_is_installed_before_the_tests(steps: list[dict]) -> None:
    runs = [step.get("run", "") for step in steps]
    install = next(i for i, run in enumerate(runs) if "playwright install" in run and "chromium" in run)
    assert install < next(i for i, run in enumerate(runs) if ".ci/run" in run)
