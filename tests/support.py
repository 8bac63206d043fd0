"""What only the tests use: running code in a fresh Python, with the series' settings, from the project."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
# What a fresh interpreter needs on its path to import helpers and the benchmarks' modules from the clone.
PATHS = (PROJECT, PROJECT / "benchmarks")


def run_fresh_python(code: str, settings: Mapping[str, str], timeout: float = 300) -> str:
    """Run `code` in a new interpreter that has imported nothing yet: its stdout, or a failure with output.

    `settings` replace the MNIST_ variables of this process's environment, so
    the child sees only the ones the test gives it.
    """
    environ = {key: value for key, value in os.environ.items() if not key.startswith("MNIST_")}
    environ |= {**settings, "PYTHONPATH": os.pathsep.join(map(str, PATHS))}
    if "MNIST_NPZ" in os.environ:
        environ.setdefault("MNIST_NPZ", os.environ["MNIST_NPZ"])
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"the fresh process failed:\n{done.stdout}\n{done.stderr[-4000:]}"
    return done.stdout
