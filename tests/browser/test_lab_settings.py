"""`make lab`, `make lab-quick` and the browser suite's server share the project's lab settings."""

from __future__ import annotations

import subprocess
from pathlib import Path

from lab_session import LAB_SETTINGS, PROJECT_ROOT, LabServer

SETTINGS_FLAG = f"--LabApp.app_settings_dir={LAB_SETTINGS}"


def test_make_lab_targets_pass_the_lab_settings() -> None:
    """Both lab targets start JupyterLab with the project's settings folder (checked with make -n)."""
    dry_run = subprocess.run(
        ["make", "-n", "-C", str(PROJECT_ROOT), "lab", "lab-quick"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lab_commands = [line for line in dry_run.splitlines() if "jupyter lab" in line]
    assert len(lab_commands) == 2, dry_run
    for command in lab_commands:
        assert SETTINGS_FLAG in command.split(), command


def test_the_test_server_uses_the_same_settings(tmp_path: Path) -> None:
    """The browser suite's JupyterLab gets the same flag, and quick mode with private folders."""
    server = LabServer(root=tmp_path, workdir=tmp_path / "lab", log_path=tmp_path / "log")
    assert SETTINGS_FLAG in server.command()
    env = server.environment()
    assert env["MNIST_SERIES_MODE"] == "smoke"
    for variable in (
        "MNIST_ARTIFACTS",
        "JUPYTERLAB_SETTINGS_DIR",
        "JUPYTERLAB_WORKSPACES_DIR",
        "JUPYTER_RUNTIME_DIR",
    ):
        assert Path(env[variable]).is_relative_to(tmp_path), variable
