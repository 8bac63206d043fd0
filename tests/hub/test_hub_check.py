"""The hub's settings: which mode it runs for what the teacher published, and folders closed to students.

The pre-flight check itself, against a real hub's set-up, is in test_jupyterhub.py (make test-deploy).
"""

from __future__ import annotations

import os
import pwd
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from hub_session import Student, student_python

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy" / "jupyterhub"))
import hub_check  # noqa: E402
from hub_check import HubSettings, Preflight, closed_folder  # noqa: E402

sys.path.pop(0)


def published(root: Path, *modes: str) -> dict[str, str]:
    for mode in modes:
        (root / mode / "sequential").mkdir(parents=True)
    return {"MNIST_CLASS_RUNS": str(root)}


@pytest.mark.parametrize(
    ("modes", "expected"),
    [(("full",), "full"), (("quick",), "quick"), (("full", "quick"), "quick"), ((), "quick")],
)
def test_the_hub_runs_the_mode_the_teacher_published(tmp_path, modes, expected):
    hub = HubSettings.from_environment(published(tmp_path, *modes))
    assert hub.mode == expected
    assert hub.mode_chosen == (f"published in {tmp_path}" if modes else "no runs published")


def test_mnist_series_mode_overrides_what_was_published(tmp_path):
    hub = HubSettings.from_environment({**published(tmp_path, "quick"), "MNIST_SERIES_MODE": "Full"})
    assert (hub.mode, hub.mode_chosen) == ("full", "MNIST_SERIES_MODE")


def test_an_empty_mnist_class_runs_means_no_class_runs():
    assert HubSettings.from_environment({"MNIST_CLASS_RUNS": ""}).class_runs is None


@pytest.fixture
def open_folder():
    """A folder under /tmp that everyone may enter (pytest's own temporary folders are closed to others)."""
    folder = Path(tempfile.mkdtemp(dir="/tmp"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


def test_the_folder_closed_to_a_student_is_named(open_folder):
    nobody = pwd.getpwnam("nobody")
    private = open_folder / "private"
    (private / "bin").mkdir(parents=True)
    python = private / "bin" / "python"
    python.touch()
    private.chmod(0o755)
    assert closed_folder(python, nobody, [nobody.pw_gid]) is None
    private.chmod(0o700)
    assert closed_folder(python, nobody, [nobody.pw_gid]) == private
    link = open_folder / "python-link"  # a venv's python: a link into a folder students cannot enter
    link.symlink_to(python)
    assert closed_folder(link, nobody, [nobody.pw_gid]) == private


def stand_in_python(path: Path, status: int) -> str:
    """A script standing in for a Python: it exits as a Python 3.11 (0) or another version (1) would."""
    path.write_text(f"#!/bin/sh\nexit {status}\n")
    path.chmod(0o755)
    return str(path)


@pytest.mark.skipif(os.geteuid() != 0, reason="runs programs as the account nobody: needs root")
def test_the_hub_test_builds_from_the_first_python_3_11_a_student_can_run(open_folder):
    private = open_folder / "private"
    private.mkdir(mode=0o700)
    hidden = stand_in_python(private / "python3.11", 0)  # as a version manager's Python under /root
    other = stand_in_python(open_folder / "python3.12", 1)
    usable = stand_in_python(open_folder / "python3.11", 0)
    nobody = Student("nobody", "")
    assert student_python(nobody, [hidden, other, usable]) == usable
    with pytest.raises(RuntimeError) as error:
        student_python(nobody, [hidden, other])
    assert f"none of {hidden}, {other} runs for the student nobody" in str(error.value)
    assert "apt-get install python3.11-venv" in str(error.value)
    assert "make PYTHON=" in str(error.value)


def preflight_as_nobody(root: Path, python: Path) -> Preflight:
    hub = HubSettings(root / "mnist.npz", None, "quick", "test", root / "state", "nobody", python)
    preflight = Preflight(hub)
    preflight.student = pwd.getpwnam("nobody")
    preflight.groups = [preflight.student.pw_gid]
    return preflight


def test_an_unreadable_file_of_the_series_gets_the_chmod_that_opens_it(open_folder, monkeypatch):
    monkeypatch.setattr(hub_check, "SERIES", open_folder)
    closed = open_folder / "jupyter" / "lab-settings"
    closed.mkdir(parents=True, mode=0o700)
    (open_folder / "notes.txt").touch(mode=0o600)
    preflight = preflight_as_nobody(open_folder, Path(sys.executable))
    preflight._unreadable([str(closed / "overrides.json")])
    preflight._unreadable([str(open_folder / "notes.txt")])
    assert preflight.problems == [
        f"Students cannot read {closed / 'overrides.json'}: chmod -R o+rX {closed}.",
        f"Students cannot read {open_folder / 'notes.txt'}: chmod -R o+rX {open_folder / 'notes.txt'}.",
    ]


@pytest.mark.skipif(os.geteuid() != 0, reason="runs programs as the account nobody: needs root")
def test_a_python_students_cannot_run_gets_a_fix_even_with_no_other_python(open_folder, monkeypatch):
    private = open_folder / "private"
    private.mkdir(mode=0o700)
    python = Path(stand_in_python(private / "python3.11", 0))
    usable = stand_in_python(open_folder / "python3.11", 0)
    monkeypatch.setattr(hub_check, "python_candidates", lambda: [str(python), usable])
    preflight = preflight_as_nobody(open_folder, python)
    assert preflight._interpreter_problem("").endswith(f"make PYTHON={usable} hub-install.")
    monkeypatch.setattr(hub_check, "python_candidates", lambda: [str(python)])
    alone = preflight._interpreter_problem("")
    assert f"{private} is closed to them" in alone
    assert "no Python 3.11 here runs for a student" in alone and "apt-get install python3.11-venv" in alone
