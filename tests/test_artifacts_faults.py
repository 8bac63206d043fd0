"""A kill at any step of a save leaves the newest complete run loadable and deletes nothing complete.

Each file-system call of a save (os.open, mkdir, rename, replace, unlink, rmdir, fsync) is a step,
and so is each file written whole (the model, run.json's new copy), also cut off half-way. For
every step k, the save runs again and is stopped right after step k; the artifacts folder is
copied at that instant, which is what a killed process leaves on disk (no clean-up handler runs in
the copy, and its lock file is held by nobody, as after a real kill). The copy must then load a
complete run, the newest one saved so far, and the next save must succeed and remove every leftover.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import pytest

from helpers import artifacts
from helpers.artifacts import RunNotReadyError

X = np.linspace(0, 1, 8, dtype="float32").reshape(2, 4)
OS_STEPS = ("open", "mkdir", "rename", "replace", "unlink", "rmdir", "fsync")


class Killed(BaseException):
    """Stands for the kill; the test reads the disk copy taken at that instant, not what runs after."""


class KillSwitch:
    """Counts the file-system steps of a save; after step kill_at, copies the disk and raises Killed."""

    def __init__(self, watched: Path, kill_at: int | None = None, copy_to: Path | None = None):
        self.watched, self.kill_at, self.copy_to = watched, kill_at, copy_to
        self.steps: list[str] = []
        self.armed = True

    def install(self, patch: pytest.MonkeyPatch) -> None:
        for name in OS_STEPS:
            patch.setattr(os, name, self._after(getattr(os, name), name))
        patch.setattr(
            keras.Model, "save", self._whole_write(keras.Model.save, "model.save", lambda m, p: Path(p))
        )
        patch.setattr(Path, "write_text", self._whole_write(Path.write_text, "write_text", lambda p, text: p))

    def _step_done(self, label: str) -> bool:
        """Count one finished step; True when it is the one to be killed after."""
        if not self.armed:
            return False
        self.steps.append(re.sub(r"[0-9a-f]{32}", "<token>", label))
        if len(self.steps) != self.kill_at:
            return False
        self.armed = False
        shutil.copytree(self.watched, self.copy_to, symlinks=True)
        return True

    def _after(self, real: Callable, label: str) -> Callable:
        close = os.close

        def step(*args, **kwargs):
            result = real(*args, **kwargs)
            target = args[0] if args and isinstance(args[0], str | os.PathLike) else ""
            if target and not Path(target).is_relative_to(self.watched):
                return result  # elsewhere, such as Keras's own temporary folder
            if self._step_done(f"{label} {Path(target).name}".strip()):
                if label == "open":
                    close(result)
                raise Killed
            return result

        return step

    def _whole_write(self, real: Callable, label: str, path_of: Callable) -> Callable:
        """A write of a whole file as two steps: killed half-way (half its bytes there), and done."""

        def write(*args, **kwargs):
            path = path_of(*args[:2])
            if not path.is_relative_to(self.watched):
                return real(*args, **kwargs)
            if self.armed and len(self.steps) + 1 == self.kill_at:
                self.armed = False
                real(*args, **kwargs)
                path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
                self.armed = True
            if self._step_done(f"{label} {path.name} half-written"):
                raise Killed
            result = real(*args, **kwargs)
            if self._step_done(f"{label} {path.name}"):
                raise Killed
            return result

        return write


MODELS: dict[str, keras.Model] = {}  # the model saved under each run name, to check what loads


@pytest.fixture(autouse=True)
def models(tiny_model) -> None:
    MODELS.update(first=tiny_model(1), second=tiny_model(2), third=tiny_model(3))


def save(run: str, history: dict) -> None:
    """Save MODELS[run] as the 'sequential' run, its name in the info."""
    artifacts.save_run("sequential", MODELS[run], history, {"run": run})


def which_run_loads() -> str | None:
    """The run the loaders give ('first', 'second', ...), checked whole; None when there is none."""
    try:
        artifacts.require_runs("sequential")
    except RunNotReadyError as error:
        assert type(error) is RunNotReadyError, error  # missing is allowed, damaged never
        return None
    run = artifacts.load_history("sequential")["info"]["run"]
    loaded = artifacts.load_model("sequential")
    np.testing.assert_allclose(np.asarray(loaded(X)), np.asarray(MODELS[run](X)), rtol=1e-6)
    return run


def use(monkeypatch: pytest.MonkeyPatch, root: Path) -> Path:
    monkeypatch.setenv("MNIST_ARTIFACTS", str(root))
    return root


@pytest.mark.parametrize("before", ["first", None], ids=["over a saved run", "first save"])
def test_a_kill_after_any_step_leaves_the_newest_complete_run(
    clean_settings, monkeypatch, tmp_path, run_history, before
):
    template = use(monkeypatch, tmp_path / "before")
    template.mkdir()
    if before:
        save(before, run_history)
    assert which_run_loads() == before
    shutil.copytree(template, tmp_path / "dry-run", dirs_exist_ok=True)
    counting = KillSwitch(use(monkeypatch, tmp_path / "dry-run"))
    with monkeypatch.context() as patch:
        counting.install(patch)
        save("second", run_history)
    assert which_run_loads() == "second"
    steps = counting.steps
    assert {"model.save model-<token>.keras", "write_text run-<token>.tmp", "replace run-<token>.tmp"} <= {
        *steps
    }
    assert sum(step.startswith("fsync") for step in steps) >= 3  # the model, run.json and the folder

    outcomes = []
    for kill_at in range(1, len(steps) + 1):
        live, disk = tmp_path / f"kill-{kill_at}" / "live", tmp_path / f"kill-{kill_at}" / "disk"
        shutil.copytree(template, use(monkeypatch, live), dirs_exist_ok=True)
        switch = KillSwitch(live, kill_at, copy_to=disk)
        with monkeypatch.context() as patch, pytest.raises(Killed):
            switch.install(patch)
            save("second", run_history)
        assert switch.steps == steps[:kill_at]  # the same save, step for step
        use(monkeypatch, disk)
        outcomes.append(which_run_loads())
        save("third", run_history)  # the next save succeeds and leaves no leftover
        assert which_run_loads() == "third"
        folder = artifacts.run_dir("sequential")
        assert sorted(p.name[:6] for p in folder.iterdir()) == [".lock", "model-", "run.js"], kill_at
        assert [p.name for p in folder.parent.iterdir()] == ["sequential"]

    # Killed before run.json is replaced, the previous run loads; from then on, the new one. Nothing else.
    switched = outcomes.index("second")
    timeline = list(zip(steps, outcomes, strict=True))
    assert outcomes == [before] * switched + ["second"] * (len(outcomes) - switched), timeline
    assert steps[switched] == "replace run-<token>.tmp", timeline
