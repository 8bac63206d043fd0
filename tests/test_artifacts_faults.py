"""A kill at any step of a save leaves the newest complete run loadable and deletes nothing complete.

Each file-system call of a save (os.open, mkdir, rename, replace, unlink, rmdir, fsync, and the
model write, also cut off half-way) is a step. For every step k, the save is run again and
stopped right after step k; the artifacts folder is copied at that instant, which is what a
killed process leaves on disk (no clean-up handler runs in the copy, and the copied lock files
are held by nobody, as after a real kill). The copy must then load a complete run, the newest
one saved so far, and the next save must succeed and tidy every leftover.
"""

from __future__ import annotations

import json
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

HISTORY = {"loss": [0.9, 0.5]}
X = np.linspace(0, 1, 8, dtype="float32").reshape(2, 4)
OS_STEPS = ("open", "mkdir", "rename", "replace", "unlink", "rmdir", "fsync")


def tiny_model(seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])


MODELS = {"first": tiny_model(1), "second": tiny_model(2), "third": tiny_model(3)}


def generic_name(path: str | os.PathLike) -> str:
    """A path's name with its random token and its time stamp replaced, so two saves compare equal."""
    name = re.sub(r"[0-9a-f]{16}", "<token>", Path(path).name)
    return re.sub(r"^\d{8}T\d{6}\.\d{9}Z$", "<version>", name)


class Killed(BaseException):
    """Stands for the kill; the test reads the disk copy taken at that instant, not what runs after."""


class KillSwitch:
    """Counts the file-system steps of a save; at step kill_at, copies the disk and raises Killed."""

    def __init__(self, watched: Path, kill_at: int | None = None, copy_to: Path | None = None):
        self.watched, self.kill_at, self.copy_to = watched, kill_at, copy_to
        self.steps: list[str] = []
        self.armed = True

    def install(self, patch: pytest.MonkeyPatch) -> None:
        for name in OS_STEPS:
            patch.setattr(os, name, self._after(getattr(os, name), name))
        patch.setattr(keras.Model, "save", self._model_save(keras.Model.save))

    def _step_done(self, label: str) -> bool:
        """Count one finished step; True when this is the one to be killed after."""
        if not self.armed:
            return False
        self.steps.append(label)
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
            if target and Path(target).is_absolute() and not Path(target).is_relative_to(self.watched):
                return result  # elsewhere, such as Keras's own temporary folder
            if self._step_done(f"{label} {generic_name(target)}".strip()):
                if label == "open":
                    close(result)
                raise Killed
            return result

        return step

    def _model_save(self, real: Callable) -> Callable:
        def save(model, path, *args, **kwargs):
            if self.armed and len(self.steps) + 1 == self.kill_at:  # killed in the middle of writing
                self.armed = False
                real(model, path, *args, **kwargs)
                whole = Path(path).read_bytes()
                Path(path).write_bytes(whole[: len(whole) // 2])
                self.armed = True
            if self._step_done("model.save half-written"):
                raise Killed
            real(model, path, *args, **kwargs)
            if self._step_done("model.save"):
                raise Killed

        return save


def save(run: str, switch: KillSwitch | None = None, patch: pytest.MonkeyPatch | None = None) -> None:
    if switch is None:
        artifacts.save_run("sequential", MODELS[run], HISTORY, {"run": run})
        return
    with patch.context() as patched:
        switch.install(patched)
        artifacts.save_run("sequential", MODELS[run], HISTORY, {"run": run})


def which_run_loads(thorough: bool = True) -> str | None:
    """The run the loaders give ('first', 'second', ...), checked whole; None when there is none.

    Always: the history and the zip of model.keras are checked (require_runs). Thorough: the
    model is also loaded by Keras and must predict as the model saved under that name.
    """
    try:
        artifacts.require_runs("sequential")
    except RunNotReadyError as error:
        assert type(error) is RunNotReadyError, error  # missing is allowed, damaged never
        return None
    run = artifacts.load_history("sequential")["info"]["run"]
    if thorough:
        loaded = artifacts.load_model("sequential")
        np.testing.assert_allclose(np.asarray(loaded(X)), np.asarray(MODELS[run](X)), rtol=1e-6)
    return run


def earlier_layout() -> None:
    """A 'first' run as the earlier helpers saved it: files straight in the run folder."""
    folder = artifacts.run_dir("sequential")
    folder.mkdir(parents=True)
    MODELS["first"].save(folder / artifacts.MODEL_FILE)
    (folder / artifacts.HISTORY_FILE).write_text(json.dumps({"history": HISTORY, "info": {"run": "first"}}))


# What is on disk before the save that gets killed, and whether each kill gets the thorough
# checks (the model loaded by Keras, then a new save that must tidy every leftover). The others
# check the run found is whole (its history, and its model file's zip), which is much faster.
SCENARIOS: dict[str, tuple[Callable[[], None], bool]] = {
    "over a saved run": (lambda: save("first"), True),
    "first save": (lambda: None, False),
    "over a run of the earlier layout": (earlier_layout, False),
}


def assert_tidy_after_a_new_save() -> None:
    """The next save succeeds, is the one loaded, and leaves one version and no leftovers."""
    save("third")
    assert which_run_loads(thorough=False) == "third"
    folder = artifacts.run_dir("sequential")
    entries = sorted(p.name for p in folder.iterdir())
    assert len(entries) == 2 and entries[0] == artifacts.COMMIT_LOCK, entries
    assert [p.name for p in folder.parent.iterdir()] == ["sequential"]


def use(monkeypatch: pytest.MonkeyPatch, root: Path) -> Path:
    monkeypatch.setenv("MNIST_ARTIFACTS", str(root))
    return root


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_kill_after_any_step_leaves_the_newest_complete_run(
    clean_settings, monkeypatch, tmp_path, scenario
):
    setup, thorough = SCENARIOS[scenario]
    template = use(monkeypatch, tmp_path / "before")
    template.mkdir()
    setup()
    before = which_run_loads()
    shutil.copytree(template, tmp_path / "dry-run", dirs_exist_ok=True)
    counting = KillSwitch(use(monkeypatch, tmp_path / "dry-run"))
    save("second", counting, monkeypatch)
    assert which_run_loads() == "second"
    steps = counting.steps
    assert len(steps) > 10 and "model.save" in steps and any(s.startswith("rename") for s in steps)

    outcomes = []
    for kill_at in range(1, len(steps) + 1):
        live, disk = tmp_path / f"kill-{kill_at}" / "live", tmp_path / f"kill-{kill_at}" / "disk"
        shutil.copytree(template, use(monkeypatch, live), dirs_exist_ok=True)
        switch = KillSwitch(live, kill_at, copy_to=disk)
        with pytest.raises(Killed):
            save("second", switch, monkeypatch)
        assert switch.steps == steps[:kill_at]  # the same save, step for step
        use(monkeypatch, disk)
        outcomes.append(which_run_loads(thorough))
        if thorough:
            assert_tidy_after_a_new_save()

    # Killed early, the previous run loads; from one rename on, the new one. Never anything else.
    switched = outcomes.index("second")
    timeline = list(zip(steps, outcomes, strict=True))
    assert outcomes == [before] * switched + ["second"] * (len(outcomes) - switched), timeline
    assert switched > 0 and steps[switched].startswith("rename")
