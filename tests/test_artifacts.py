"""Runs are saved all or nothing, load from the newest version, and a missing run names its notebook."""

from __future__ import annotations

import json
import os
import stat

import keras
import numpy as np
import pytest

from helpers import artifacts
from helpers.artifacts import ImageFormatMismatchError, RunNotReadyError

HISTORY = {"loss": [0.9, 0.5], "val_loss": [0.8, 0.6]}
X = np.linspace(0, 1, 8, dtype="float32").reshape(2, 4)


def tiny_model(seed: int) -> keras.Model:
    """A four-input softmax layer: saves and loads in milliseconds, weights fixed by the seed."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    return model


def version_folders(name: str) -> list[str]:
    """The names of the saved versions of a run (its visible subfolders)."""
    return sorted(p.name for p in artifacts.run_dir(name).iterdir() if p.is_dir() and p.name[0] != ".")


def hidden_entries(name: str) -> list[str]:
    return sorted(p.name for p in artifacts.run_dir(name).iterdir() if p.name[0] == ".")


def assert_same_predictions(loaded: keras.Model, model: keras.Model) -> None:
    np.testing.assert_allclose(np.asarray(loaded(X)), np.asarray(model(X)), rtol=1e-6)


def test_round_trip(clean_settings):
    model = tiny_model(1)
    folder = artifacts.save_run("sequential", model, HISTORY, {"epochs": 2})
    assert folder == artifacts.run_dir("sequential")
    assert folder.relative_to(folder.parents[2]).as_posix() == "artifacts/full/sequential"
    assert artifacts.load_history("sequential") == {"history": HISTORY, "info": {"epochs": 2}}
    assert_same_predictions(artifacts.load_model("sequential"), model)


def test_a_new_save_replaces_the_old_one_and_leaves_one_version(clean_settings):
    artifacts.save_run("sequential", tiny_model(1), HISTORY, {"run": "first"})
    second = tiny_model(2)
    artifacts.save_run("sequential", second, {"loss": [0.1]}, {"run": "second"})
    assert artifacts.load_history("sequential")["info"] == {"run": "second"}
    assert_same_predictions(artifacts.load_model("sequential"), second)
    assert len(version_folders("sequential")) == 1
    assert hidden_entries("sequential") == [artifacts.COMMIT_LOCK]


def test_versions_are_named_in_commit_order_even_if_the_clock_goes_back(clean_settings, monkeypatch):
    artifacts.save_run("sequential", tiny_model(1), HISTORY, {"run": "first"})
    first = version_folders("sequential")[0]
    monkeypatch.setattr(artifacts.time, "time_ns", lambda: 10**9)  # 1970
    artifacts.save_run("sequential", tiny_model(2), HISTORY, {"run": "second"})
    assert version_folders("sequential")[0] > first
    assert artifacts.load_history("sequential")["info"] == {"run": "second"}


def test_missing_run_names_the_notebook(clean_settings):
    with pytest.raises(FileNotFoundError, match="Run 04_functional_cnn.ipynb first"):
        artifacts.load_model("functional")
    with pytest.raises(RunNotReadyError, match="Run 03_sequential_cnn.ipynb first") as error:
        artifacts.load_history("sequential")
    assert "MNIST_SERIES_MODE=full" in str(error.value)


def test_a_failed_save_keeps_the_previous_run_and_leaves_nothing_behind(clean_settings, monkeypatch):
    first = tiny_model(1)
    artifacts.save_run("sequential", first, HISTORY, {"run": "first"})
    before = version_folders("sequential")

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(keras.Model, "save", interrupted)
        artifacts.save_run("sequential", tiny_model(2), {"loss": [0.1]}, {"run": "second"})

    assert artifacts.load_history("sequential")["info"] == {"run": "first"}
    assert_same_predictions(artifacts.load_model("sequential"), first)
    assert version_folders("sequential") == before
    assert hidden_entries("sequential") == [artifacts.COMMIT_LOCK]


def test_an_interrupted_first_save_leaves_nothing_to_load(clean_settings, monkeypatch):
    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(keras.Model, "save", interrupted)
        artifacts.save_run("functional", tiny_model(1), HISTORY, {})
    with pytest.raises(FileNotFoundError):
        artifacts.load_model("functional")


def test_a_failure_while_tidying_does_not_fail_a_save_already_in_place(clean_settings, monkeypatch):
    artifacts.save_run("sequential", tiny_model(1), HISTORY, {"run": "first"})

    def permission_denied(*args):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(artifacts, "_remove_earlier_layout", permission_denied)
    artifacts.save_run("sequential", tiny_model(2), HISTORY, {"run": "second"})
    assert artifacts.load_history("sequential")["info"] == {"run": "second"}


def test_info_that_is_not_json_fails_before_anything_is_written(clean_settings):
    with pytest.raises(TypeError):
        artifacts.save_run("sequential", tiny_model(1), HISTORY, {"model": object()})
    assert not artifacts.run_dir("sequential").exists()


def write_earlier_layout(name: str, model: keras.Model, info: dict) -> None:
    """A run as the earlier helpers saved it: files straight in the run folder, no image format."""
    folder = artifacts.run_dir(name)
    folder.mkdir(parents=True)
    model.save(folder / artifacts.MODEL_FILE)
    (folder / artifacts.HISTORY_FILE).write_text(json.dumps({"history": HISTORY, "info": info}))


def test_runs_of_the_earlier_layout_still_load_and_are_replaced(clean_settings):
    old = tiny_model(1)
    write_earlier_layout("sequential", old, {"run": "old"})
    assert artifacts.load_history("sequential") == {"history": HISTORY, "info": {"run": "old"}}
    assert_same_predictions(artifacts.load_model("sequential"), old)

    artifacts.save_run("sequential", tiny_model(2), HISTORY, {"run": "new"})
    assert artifacts.load_history("sequential")["info"] == {"run": "new"}
    assert not (artifacts.run_dir("sequential") / artifacts.MODEL_FILE).exists()


def test_a_run_the_earlier_layout_left_moved_aside_is_found(clean_settings):
    """The earlier save_run, killed between its two renames, left the only complete run hidden."""
    old = tiny_model(1)
    write_earlier_layout("sequential", old, {"run": "moved aside"})
    folder = artifacts.run_dir("sequential")
    hidden = folder.parent / ".sequential-old-1a2b3c4d"
    folder.rename(hidden)
    assert artifacts.load_history("sequential")["info"] == {"run": "moved aside"}
    assert_same_predictions(artifacts.load_model("sequential"), old)

    artifacts.save_run("sequential", tiny_model(2), HISTORY, {"run": "new"})
    assert not hidden.exists()
    assert artifacts.load_history("sequential")["info"] == {"run": "new"}


@pytest.mark.parametrize("loader", ["load_history", "load_model"])
def test_a_loader_looks_again_when_a_concurrent_save_removes_its_version(clean_settings, monkeypatch, loader):
    artifacts.save_run("sequential", tiny_model(1), HISTORY, {"run": "first"})
    newer = tiny_model(2)
    real_newest_saved = artifacts._newest_saved
    found = []

    def newest_then_a_save_lands(name):
        found.append(real_newest_saved(name))
        if len(found) == 1:  # another kernel saves between finding the version and reading it
            artifacts.save_run("sequential", newer, HISTORY, {"run": "second"})
        return found[-1]

    monkeypatch.setattr(artifacts, "_newest_saved", newest_then_a_save_lands)
    loaded = getattr(artifacts, loader)("sequential")
    assert len(found) == 2 and not found[0].exists() and found[1].exists()
    if loader == "load_history":
        assert loaded["info"] == {"run": "second"}
    else:
        assert_same_predictions(loaded, newer)


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_folders_and_files_follow_the_umask(clean_settings, umask):
    previous = os.umask(umask)
    try:
        artifacts.save_run("sequential", tiny_model(1), HISTORY, {})
    finally:
        os.umask(previous)
    root = artifacts.run_dir("sequential").parents[1]
    seen = {"folder": 0, "file": 0}
    for folder, _, files in os.walk(root):
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o777 & ~umask, folder
        seen["folder"] += 1
        for file_name in files:
            path = os.path.join(folder, file_name)
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~umask, path
            seen["file"] += 1
    assert seen == {"folder": 4, "file": 3}  # root, mode, run, version; model, history, lock


@pytest.fixture
def image_format():
    """Set keras.backend.image_data_format() in a test; put the original back afterwards."""
    original = keras.backend.image_data_format()
    yield keras.backend.set_image_data_format
    keras.backend.set_image_data_format(original)


def test_a_run_trained_channels_first_is_refused_under_channels_last(clean_settings, image_format):
    image_format("channels_first")
    model = tiny_model(1)
    artifacts.save_run("sequential", model, HISTORY, {})
    image_format("channels_last")
    with pytest.raises(ImageFormatMismatchError) as error:
        artifacts.load_model("sequential")
    message = str(error.value)
    assert "trained with images in channels_first layout" in message
    assert "Keras now uses channels_last" in message
    assert "keras.backend.set_image_data_format('channels_first')" in message
    assert "run 03_sequential_cnn.ipynb again under channels_last" in message
    assert artifacts.load_history("sequential")["history"] == HISTORY  # the history does not care
    image_format("channels_first")
    assert_same_predictions(artifacts.load_model("sequential"), model)


def test_the_image_format_is_recorded_and_a_run_without_it_still_loads(clean_settings, image_format):
    image_format("channels_last")
    model = tiny_model(1)
    artifacts.save_run("sequential", model, HISTORY, {})
    (version,) = version_folders("sequential")
    record_path = artifacts.run_dir("sequential") / version / artifacts.HISTORY_FILE
    record = json.loads(record_path.read_text())
    assert record["image_data_format"] == "channels_last"
    del record["image_data_format"]
    record_path.write_text(json.dumps(record))
    image_format("channels_first")
    assert_same_predictions(artifacts.load_model("sequential"), model)


def test_require_runs_names_every_missing_run_and_notebook_in_order(clean_settings):
    with pytest.raises(RunNotReadyError) as error:
        artifacts.require_runs("functional", "sequential")
    message = str(error.value)
    assert "2 saved runs this notebook needs are not ready (full mode" in message
    assert "  - functional: not saved yet\n  - sequential: not saved yet" in message
    assert "in this order (with MNIST_SERIES_MODE=full, as here)" in message
    assert message.endswith("  1. 03_sequential_cnn.ipynb\n  2. 04_functional_cnn.ipynb")
    assert [p.name for p in error.value.problems] == ["functional", "sequential"]


def test_require_runs_names_only_what_is_missing_in_this_mode(clean_settings):
    clean_settings.setenv("MNIST_SERIES_MODE", "quick")
    artifacts.save_run("sequential", tiny_model(1), HISTORY, {})
    artifacts.require_runs("sequential")
    with pytest.raises(RunNotReadyError) as error:
        artifacts.require_runs("sequential", "functional")
    message = str(error.value)
    assert "There is no saved 'functional' run for quick mode" in message
    assert "Run 04_functional_cnn.ipynb first (with MNIST_SERIES_MODE=quick, as here)" in message
    assert "03_sequential" not in message
    clean_settings.setenv("MNIST_SERIES_MODE", "full")
    with pytest.raises(RunNotReadyError, match="03_sequential_cnn.ipynb"):
        artifacts.require_runs("sequential")
