"""A bad MNIST_ARTIFACTS is reported before training, naming the variable, its value and the fix."""

from __future__ import annotations

import errno
import os
import select
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import keras
import pytest

from helpers import artifacts, settings
from helpers.artifacts import ArtifactsFolderError, check_artifacts_writable

HISTORY = {"loss": [0.5]}


def tiny_model() -> keras.Model:
    keras.utils.set_random_seed(1)
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])


def test_creates_the_mode_folder_and_leaves_nothing_in_it(clean_settings, tmp_path):
    folder = check_artifacts_writable()
    assert folder == tmp_path / "artifacts" / "full" and folder.is_dir()
    assert list(folder.iterdir()) == []


def assert_names_the_setting(message: str, value: str, problem: str) -> None:
    assert problem in message
    assert f"MNIST_ARTIFACTS is set to {value!r}" in message
    assert "Set MNIST_ARTIFACTS to a folder you can write" in message


def test_mnist_artifacts_is_a_file(clean_settings, tmp_path):
    a_file = tmp_path / "artifacts.txt"
    a_file.write_text("not a folder")
    clean_settings.setenv("MNIST_ARTIFACTS", str(a_file))
    for attempt in (
        check_artifacts_writable,
        lambda: artifacts.save_run("sequential", tiny_model(), HISTORY, {}),
    ):
        with pytest.raises(ArtifactsFolderError) as error:
            attempt()
        assert isinstance(error.value, OSError)
        assert_names_the_setting(str(error.value), str(a_file), f"{a_file} is a file, not a folder")
    assert a_file.read_text() == "not a folder"


def test_mnist_artifacts_below_a_file(clean_settings, tmp_path):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("")
    clean_settings.setenv("MNIST_ARTIFACTS", str(a_file / "artifacts"))
    with pytest.raises(ArtifactsFolderError) as error:
        check_artifacts_writable()
    assert_names_the_setting(str(error.value), str(a_file / "artifacts"), f"{a_file} is a file, not a folder")


def test_the_default_folder_is_named_when_mnist_artifacts_is_unset(clean_settings, tmp_path, monkeypatch):
    not_a_folder = tmp_path / "project-root-is-a-file"
    not_a_folder.write_text("")
    clean_settings.delenv("MNIST_ARTIFACTS")
    monkeypatch.setattr(settings, "PROJECT_ROOT", not_a_folder)
    with pytest.raises(ArtifactsFolderError) as error:
        check_artifacts_writable()
    message = str(error.value)
    assert f"MNIST_ARTIFACTS is not set, so the default {not_a_folder / 'artifacts'} is used" in message
    assert "Set MNIST_ARTIFACTS to a folder you can write" in message


def test_a_read_only_file_system(clean_settings, tmp_path, monkeypatch):
    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(artifacts.tempfile, "TemporaryFile", read_only)
    with pytest.raises(ArtifactsFolderError) as error:
        artifacts.save_run("sequential", tiny_model(), HISTORY, {})
    assert_names_the_setting(
        str(error.value),
        str(tmp_path / "artifacts"),
        f"it cannot be written (OSError: {os.strerror(errno.EROFS)})",
    )
    assert not artifacts.run_dir("sequential").exists()


# --- Folders that really cannot be written ----------------------------------------------------
# Tests run as root, which chmod does not stop; so the attempt runs in a forked child that first
# gives up root for the 'nobody' user. No mock: the operating system itself refuses the writes.

NOBODY = 65534


def outcome_in_child(attempt: Callable[[], object], timeout: float = 30) -> str:
    """Run attempt() in a forked child without root; return 'ok' or 'ErrorClass: message'."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no TensorFlow work here, only file system calls
        try:
            os.close(read_end)
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
            try:
                attempt()
                outcome = "ok"
            except BaseException as error:  # reported to the parent
                outcome = f"{type(error).__name__}: {error}"
            os.write(write_end, outcome.encode())
        finally:
            os._exit(0)
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], timeout)
        if not ready:
            os.kill(pid, signal.SIGKILL)
            pytest.fail("the child process did not answer")
        with os.fdopen(read_end, "rb") as pipe:
            return pipe.read().decode()
    finally:
        os.waitpid(pid, 0)


@pytest.fixture
def open_folder() -> Iterator[Path]:
    """A folder any user can enter (pytest's own are owner-only), removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="artifacts-test-"))
    folder.chmod(0o755)
    yield folder
    for path in (folder, *folder.rglob("*")):
        if path.is_dir():
            path.chmod(0o755)
    shutil.rmtree(folder)


needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="uses os.fork to drop privileges")


@needs_fork
def test_a_folder_that_cannot_be_created(clean_settings, open_folder):
    read_only = open_folder / "read-only"
    read_only.mkdir(mode=0o555)
    read_only.chmod(0o555)
    clean_settings.setenv("MNIST_ARTIFACTS", str(read_only))
    model = tiny_model()
    problem = f"it cannot be created: you may not write in {read_only} (permission denied)"
    for attempt in (check_artifacts_writable, lambda: artifacts.save_run("sequential", model, HISTORY, {})):
        outcome = outcome_in_child(attempt)
        assert outcome.startswith(
            f"ArtifactsFolderError: Trained runs cannot be saved in {read_only / 'full'}: "
        )
        assert_names_the_setting(outcome, str(read_only), problem)
    assert list(read_only.iterdir()) == []


@needs_fork
def test_an_existing_folder_that_cannot_be_written(clean_settings, open_folder):
    clean_settings.setenv("MNIST_ARTIFACTS", str(open_folder))
    mode_folder = open_folder / "full"
    mode_folder.mkdir(mode=0o555)
    mode_folder.chmod(0o555)
    model = tiny_model()
    for attempt in (check_artifacts_writable, lambda: artifacts.save_run("sequential", model, HISTORY, {})):
        outcome = outcome_in_child(attempt)
        assert outcome.startswith("ArtifactsFolderError: ")
        assert_names_the_setting(
            outcome, str(open_folder), f"you may not write in {mode_folder} (permission denied)"
        )
    assert list(mode_folder.iterdir()) == []


@needs_fork
def test_a_run_folder_another_user_owns(clean_settings, open_folder):
    """A shared class folder: the mode folder is writable, the run folder someone made is not."""
    clean_settings.setenv("MNIST_ARTIFACTS", str(open_folder))
    mode_folder = open_folder / "full"
    mode_folder.mkdir()
    mode_folder.chmod(0o777)
    run_folder = mode_folder / "sequential"
    run_folder.mkdir(mode=0o555)
    run_folder.chmod(0o555)
    model = tiny_model()
    assert outcome_in_child(check_artifacts_writable) == "ok"
    outcome = outcome_in_child(lambda: artifacts.save_run("sequential", model, HISTORY, {}))
    assert outcome.startswith(f"ArtifactsFolderError: Trained runs cannot be saved in {run_folder}: ")
    assert_names_the_setting(
        outcome, str(open_folder), f"you may not write in {run_folder} (permission denied)"
    )
