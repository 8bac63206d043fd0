"""A damaged saved run gives a clear error naming the file and the notebook; Jupyter shows just that."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import keras
import pytest

from helpers import artifacts
from helpers.artifacts import DamagedRunError, RunNotReadyError

HISTORY = {"loss": [0.9, 0.5]}


def tiny_model(seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])


def saved_file(name: str, file_name: str) -> Path:
    """A file of the one saved version of a run, found by looking, not by asking the helpers."""
    (version,) = [p for p in artifacts.run_dir(name).iterdir() if p.is_dir() and p.name[0] != "."]
    return version / file_name


@pytest.fixture
def saved(clean_settings):
    """A saved 'sequential' run, to damage."""
    artifacts.save_run("sequential", tiny_model(1), HISTORY, {"epochs": 2})
    return "sequential"


def assert_clear_damage_error(error: pytest.ExceptionInfo, path: Path, *words: str) -> None:
    message = str(error.value)
    assert isinstance(error.value, DamagedRunError) and isinstance(error.value, FileNotFoundError)
    assert message.startswith("The saved 'sequential' run is damaged: ")
    assert str(path) in message
    assert "Run 03_sequential_cnn.ipynb again (with MNIST_SERIES_MODE=full, as here)" in message
    assert "File not found" not in message
    for word in words:
        assert word in message


def test_truncated_model_file(saved):
    path = saved_file(saved, artifacts.MODEL_FILE)
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DamagedRunError) as error:
        artifacts.load_model(saved)
    assert_clear_damage_error(error, path, "not a complete Keras model file", "truncated or corrupted")


def test_model_file_with_a_corrupted_part(saved):
    path = saved_file(saved, artifacts.MODEL_FILE)
    with zipfile.ZipFile(path) as archive:
        weights = archive.getinfo("model.weights.h5")
    damaged = bytearray(path.read_bytes())
    middle = weights.header_offset + 30 + len(weights.filename) + weights.compress_size // 2
    damaged[middle] ^= 0xFF
    path.write_bytes(bytes(damaged))
    with pytest.raises(DamagedRunError) as error:
        artifacts.load_model(saved)
    assert_clear_damage_error(error, path, "model.weights.h5")


def test_model_file_missing_from_a_saved_version(saved):
    path = saved_file(saved, artifacts.MODEL_FILE)
    path.unlink()
    with pytest.raises(DamagedRunError) as error:
        artifacts.load_model(saved)
    assert_clear_damage_error(error, path, "is missing")


@pytest.mark.parametrize("loader", ["load_history", "load_model"])
def test_broken_history_json(saved, loader):
    path = saved_file(saved, artifacts.HISTORY_FILE)
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(DamagedRunError) as error:
        getattr(artifacts, loader)(saved)
    assert_clear_damage_error(error, path, "is not valid JSON", "truncated or corrupted")
    assert not isinstance(error.value, json.JSONDecodeError)


def test_history_json_of_binary_garbage(saved):
    path = saved_file(saved, artifacts.HISTORY_FILE)
    path.write_bytes(bytes(range(128, 256)))
    with pytest.raises(DamagedRunError) as error:
        artifacts.load_history(saved)
    assert_clear_damage_error(error, path, "cannot be read")


@pytest.mark.parametrize(
    ("record", "what"),
    [
        ([1, 2, 3], "it holds a list"),
        ("history", "it holds a string"),
        ({"info": {}}, "it has no 'history'"),
        ({"history": [0.5, 0.4], "info": {}}, "its 'history' is a list"),
        ({"history": {"loss": "0.5"}, "info": {}}, "its history of 'loss' is not a list of numbers"),
        ({"history": {"loss": [0.5, None]}, "info": {}}, "its history of 'loss' is not a list of numbers"),
        ({"history": {"loss": [0.5]}}, "it has no 'info'"),
        ({"history": {"loss": [0.5]}, "info": [2]}, "its 'info' is a list"),
        ({"history": {}, "info": {}, "image_data_format": "sideways"}, "its image_data_format 'sideways'"),
    ],
)
def test_valid_json_of_the_wrong_shape(saved, record, what):
    path = saved_file(saved, artifacts.HISTORY_FILE)
    path.write_text(json.dumps(record))
    with pytest.raises(DamagedRunError) as error:
        artifacts.load_history(saved)
    assert_clear_damage_error(error, path, "is not a saved run record", what)


def test_require_runs_reports_damaged_and_missing_runs_together(saved):
    path = saved_file(saved, artifacts.HISTORY_FILE)
    path.write_text("[1, 2, 3]")
    with pytest.raises(RunNotReadyError) as error:
        artifacts.require_runs("sequential", "functional")
    message = str(error.value)
    assert f"  - sequential: damaged: {path} is not a saved run record: it holds a list" in message
    assert "  - functional: not saved yet" in message
    assert message.endswith("  1. 03_sequential_cnn.ipynb\n  2. 04_functional_cnn.ipynb")


def test_require_runs_checks_the_model_file_too(saved):
    path = saved_file(saved, artifacts.MODEL_FILE)
    path.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(DamagedRunError) as error:
        artifacts.require_runs(saved)
    assert_clear_damage_error(error, path, "not a complete Keras model file")


# --- What a student sees in Jupyter --------------------------------------------------------


def test_the_ipython_hook_gives_the_class_and_message_only(clean_settings):
    with pytest.raises(RunNotReadyError) as error:
        artifacts.require_runs("sequential", "functional")
    shown = error.value._render_traceback_()
    assert shown[0].startswith("RunNotReadyError: 2 saved runs this notebook needs are not ready (full mode")
    assert "\n".join(shown) == "RunNotReadyError: " + str(error.value)


@pytest.fixture
def ipython_shell():
    """An IPython shell that keeps no history on disk, as Jupyter's kernel runs one."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    shell = InteractiveShell.instance(config=config, colors="nocolor")
    yield shell
    InteractiveShell.clear_instance()


def shown_by_ipython(shell, capsys, cell: str) -> str:
    shell.run_cell(cell)
    captured = capsys.readouterr()
    return captured.out + captured.err


def test_ipython_shows_the_message_first_and_no_frames(clean_settings, ipython_shell, capsys):
    ipython_shell.user_ns["helpers_artifacts"] = artifacts
    shown = shown_by_ipython(ipython_shell, capsys, "helpers_artifacts.load_model('functional')")
    lines = [line for line in shown.splitlines() if line.strip()]
    where = artifacts.run_dir("functional")
    assert lines[0] == f"RunNotReadyError: There is no saved 'functional' run for full mode in {where}."
    assert lines[1].startswith("Run 04_functional_cnn.ipynb first")
    assert len(lines) == 2
    assert "Traceback" not in shown and "artifacts.py" not in shown

    control = shown_by_ipython(ipython_shell, capsys, "raise ValueError('an ordinary error')")
    assert "Traceback" in control  # the check above would see frames if there were any


def test_ipython_shows_damage_and_format_errors_the_same_way(saved, ipython_shell, capsys):
    saved_file(saved, artifacts.HISTORY_FILE).write_text("{")
    ipython_shell.user_ns["helpers_artifacts"] = artifacts
    shown = shown_by_ipython(ipython_shell, capsys, "helpers_artifacts.load_history('sequential')")
    assert shown.lstrip().startswith("DamagedRunError: The saved 'sequential' run is damaged: ")
    assert "Traceback" not in shown and "JSONDecodeError" not in shown
