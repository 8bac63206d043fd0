"""Saved runs: round trip, failed saves, damaged files, image formats, MNIST_ARTIFACTS, umask, messages."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import keras
import numpy as np
import pytest

from helpers import artifacts
from helpers.artifacts import (
    ArtifactsFolderError,
    DamagedRunError,
    ImageFormatMismatchError,
    RunNotReadyError,
    check_artifacts_writable,
)

X = np.linspace(0, 1, 8, dtype="float32").reshape(2, 4)
FIX = "Run 03_sequential_cnn.ipynb again (with MNIST_SERIES_MODE=full, as here) to save it."


def assert_same_predictions(loaded: keras.Model, model: keras.Model) -> None:
    np.testing.assert_allclose(np.asarray(loaded(X)), np.asarray(model(X)), rtol=1e-6)


def entries(name: str) -> list[str]:
    """What a run's folder holds, model files' tokens replaced, to compare with what a save leaves."""
    return sorted(
        "model-*.keras" if p.name.startswith("model-") else p.name for p in artifacts.run_dir(name).iterdir()
    )


SAVED = [".lock", "model-*.keras", "run.json"]


def record_path(name: str = "sequential") -> Path:
    return artifacts.run_dir(name) / "run.json"


def model_path(name: str = "sequential") -> Path:
    (path,) = artifacts.run_dir(name).glob("model-*.keras")
    return path


# --- Saving and loading ---------------------------------------------------------------------------


def test_round_trip_and_a_new_save_replaces_the_old_one(clean_settings, tiny_model, run_history):
    first = tiny_model(1)
    folder = artifacts.save_run("sequential", first, run_history, {"run": "first"})
    assert folder == artifacts.run_dir("sequential")
    assert folder.relative_to(folder.parents[2]).as_posix() == "artifacts/full/sequential"  # as 03 prints it
    assert artifacts.load_history("sequential") == {"history": run_history, "info": {"run": "first"}}
    assert_same_predictions(artifacts.load_model("sequential"), first)
    first_file = model_path()

    second = tiny_model(2)
    artifacts.save_run("sequential", second, {"loss": [0.1]}, {"run": "second"})
    assert artifacts.load_history("sequential") == {"history": {"loss": [0.1]}, "info": {"run": "second"}}
    assert_same_predictions(artifacts.load_model("sequential"), second)
    assert entries("sequential") == SAVED and not first_file.exists()


def interrupted_save(model: keras.Model, path: Path, *args, **kwargs) -> None:
    """keras.Model.save stopped by Ctrl+C (KeyboardInterrupt) half-way through writing."""
    Path(path).write_bytes(b"half a model")
    raise KeyboardInterrupt


@pytest.mark.parametrize("before", ["a saved run", "nothing"])
def test_an_interrupted_save_keeps_what_was_there_and_leaves_nothing(
    clean_settings, monkeypatch, tiny_model, run_history, before
):
    first = tiny_model(1)
    if before == "a saved run":
        artifacts.save_run("sequential", first, run_history, {"run": "first"})

    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(keras.Model, "save", interrupted_save)
        artifacts.save_run("sequential", tiny_model(2), {"loss": [0.1]}, {"run": "second"})

    if before == "a saved run":
        assert artifacts.load_history("sequential")["info"] == {"run": "first"}
        assert_same_predictions(artifacts.load_model("sequential"), first)
        assert entries("sequential") == SAVED
    else:
        with pytest.raises(RunNotReadyError, match="There is no saved 'sequential' run"):
            artifacts.load_model("sequential")
        assert entries("sequential") == [".lock"]


def test_info_that_is_not_json_fails_before_anything_is_written(clean_settings, tiny_model, run_history):
    with pytest.raises(TypeError):
        artifacts.save_run("sequential", tiny_model(1), run_history, {"model": object()})
    assert not artifacts.run_dir("sequential").exists()


def test_a_failure_while_removing_leftovers_does_not_fail_a_save_in_place(
    clean_settings, monkeypatch, tiny_model, run_history
):
    artifacts.save_run("sequential", tiny_model(1), run_history, {"run": "first"})

    def permission_denied(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")  # as Windows refuses to delete a file in use

    with monkeypatch.context() as patch:
        patch.setattr(Path, "unlink", permission_denied)
        artifacts.save_run("sequential", tiny_model(2), run_history, {"run": "second"})
    assert artifacts.load_history("sequential")["info"] == {"run": "second"}
    assert len(list(artifacts.run_dir("sequential").glob("model-*.keras"))) == 2
    artifacts.save_run("sequential", tiny_model(3), run_history, {"run": "third"})
    assert entries("sequential") == SAVED


def test_a_loader_reads_again_when_a_save_replaces_the_run_meanwhile(
    clean_settings, monkeypatch, tiny_model, run_history
):
    artifacts.save_run("sequential", tiny_model(1), run_history, {"run": "first"})
    old_file, newer = model_path(), tiny_model(2)
    real_read_record, first_read = artifacts._read_record, []

    def read_then_another_kernel_saves(name: str, *where: object) -> dict:
        record = real_read_record(name, *where)
        if not first_read:  # between reading run.json and reading the model file it names
            first_read.append(record)
            artifacts.save_run("sequential", newer, run_history, {"run": "second"})
        return record

    monkeypatch.setattr(artifacts, "_read_record", read_then_another_kernel_saves)
    assert_same_predictions(artifacts.load_model("sequential"), newer)
    assert first_read[0]["model"]["file"] == old_file.name and not old_file.exists()


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_folders_and_files_follow_the_umask(clean_settings, tiny_model, run_history, umask):
    previous = os.umask(umask)
    try:
        artifacts.save_run("sequential", tiny_model(1), run_history, {})
    finally:
        os.umask(previous)
    seen = []
    for folder, _, files in os.walk(artifacts.run_dir("sequential").parents[1]):
        seen.append((stat.S_IMODE(os.stat(folder).st_mode), 0o777 & ~umask, folder))
        paths = [os.path.join(folder, file_name) for file_name in files]
        seen += [(stat.S_IMODE(os.stat(path).st_mode), 0o666 & ~umask, path) for path in paths]
    assert [(mode, path) for mode, wanted, path in seen if mode != wanted] == []
    assert len(seen) == 6  # artifacts, full, sequential; .lock, run.json, the model


@pytest.fixture
def image_format() -> Iterator[Callable[[str], None]]:
    """Set keras.backend.image_data_format() in a test; put the original back afterwards."""
    original = keras.backend.image_data_format()
    yield keras.backend.set_image_data_format
    keras.backend.set_image_data_format(original)


def test_a_run_trained_channels_first_is_refused_under_channels_last(
    clean_settings, tiny_model, run_history, image_format
):
    image_format("channels_first")
    model = tiny_model(1)
    artifacts.save_run("sequential", model, run_history, {})
    assert json.loads(record_path().read_text())["image_data_format"] == "channels_first"
    image_format("channels_last")
    with pytest.raises(ImageFormatMismatchError) as error:
        artifacts.load_model("sequential")
    message = str(error.value)
    assert "trained with images in channels_first layout, but Keras now uses channels_last" in message
    assert "keras.backend.set_image_data_format('channels_first')" in message
    assert "Run 03_sequential_cnn.ipynb again under channels_last (with MNIST_SERIES_MODE=full" in message
    assert artifacts.load_history("sequential")["history"] == run_history  # the history does not care
    image_format("channels_first")
    assert_same_predictions(artifacts.load_model("sequential"), model)


# --- Damaged runs ---------------------------------------------------------------------------------


@pytest.fixture
def saved(clean_settings, tiny_model, run_history) -> str:
    """A saved 'sequential' run, to damage."""
    artifacts.save_run("sequential", tiny_model(1), run_history, {"epochs": 2})
    return "sequential"


def damage_error(loader: Callable[[str], object], path: Path, *words: str) -> str:
    """The DamagedRunError loader('sequential') raises, checked to name the file, words and notebook."""
    with pytest.raises(DamagedRunError) as error:
        loader("sequential")
    message = str(error.value)
    assert isinstance(error.value, FileNotFoundError)  # so callers may catch any run not ready as one
    assert message.startswith(f"The saved 'sequential' run is damaged: {path} ")
    assert message.endswith(FIX)
    for word in words:
        assert word in message
    return message


def flip_a_weight_byte(path: Path) -> None:
    with zipfile.ZipFile(path) as archive:
        weights = archive.getinfo("model.weights.h5")
    data = bytearray(path.read_bytes())
    data[weights.header_offset + 30 + len(weights.filename) + weights.compress_size // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", ["truncated", "one byte flipped"])
def test_a_damaged_model_file_fails_its_digest(saved, damage):
    path = model_path()
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:500])
    else:
        flip_a_weight_byte(path)
    for loader in (artifacts.load_model, artifacts.require_runs):
        damage_error(loader, path, "does not match its SHA-256 digest in run.json")
    assert artifacts.load_history(saved)["info"] == {"epochs": 2}  # the record itself is whole


def test_a_missing_model_file(saved):
    path = model_path()
    path.unlink()
    damage_error(artifacts.load_model, path, "cannot be read: No such file or directory")


def test_a_model_file_that_matches_its_digest_but_is_no_keras_model(saved):
    path = model_path()
    path.write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip archive
    record = json.loads(record_path().read_text())
    record["model"]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    record_path().write_text(json.dumps(record))
    damage_error(artifacts.load_model, path, "cannot be loaded by Keras")


# --- Runs saved by other versions -------------------------------------------------------------------


def installed(*distributions: str) -> str:
    """The version pip installed of the first of these distributions that is installed."""
    for distribution in distributions:
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            continue
    raise LookupError(f"none of {distributions} is installed")


def test_a_save_records_the_versions_it_ran_under(saved):
    assert json.loads(record_path().read_text())["versions"] == {
        "Python": ".".join(map(str, sys.version_info[:3])),
        "TensorFlow": installed("tensorflow-cpu", "tensorflow"),
        "Keras": importlib.metadata.version("keras"),
    }


def save_as_another_keras(versions: dict[str, str] | None) -> Path:
    """Make the saved run one this Keras cannot load: a layer it does not know, under other versions.

    As a newer Keras writes a layer class this one lacks; the digest in run.json
    matches the new file, so only the versions tell this apart from damage.
    """
    path = model_path()
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    members["config.json"] = members["config.json"].replace(b'"Dense"', b'"GatedDense"')
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    record = json.loads(record_path().read_text())
    record["model"]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    if versions is None:
        del record["versions"]  # as saved before runs recorded their versions
    else:
        record["versions"] = versions
    record_path().write_text(json.dumps(record))
    return path


@pytest.mark.parametrize("whose", ["saved", "class's"])
def test_a_run_another_keras_saved_says_which_versions_and_what_to_do(saved, clean_settings, tmp_path, whose):
    here = json.loads(record_path().read_text())["versions"]
    save_as_another_keras({**here, "Keras": "3.99.0"})
    if whose == "class's":  # the same run, published for a class: MNIST_ARTIFACTS's layout is the class's
        class_root = artifacts.run_dir(saved).parents[1]
        clean_settings.setenv("MNIST_CLASS_RUNS", str(class_root))
        clean_settings.setenv("MNIST_ARTIFACTS", str(tmp_path / "student"))
    artifacts.require_runs(saved)  # whole: its digest matches
    with pytest.raises(artifacts.VersionMismatchError) as error:
        artifacts.load_model(saved)
    assert not isinstance(error.value, RunNotReadyError)
    lines = str(error.value).splitlines()
    assert lines[0].startswith(f"The {whose} 'sequential' run cannot be loaded by Keras here (")
    assert "GatedDense" in lines[0]
    assert lines[1] == f"It was saved with Keras 3.99.0; this kernel runs Keras {keras.__version__}."
    if whose == "class's":
        assert lines[2].startswith(f"MNIST_CLASS_RUNS is set to {str(class_root)!r}. Install the versions")
    fix = "Install the versions that saved it (`pip install keras==3.99.0`) and restart the kernel to load it"
    assert fix in lines[2]
    assert lines[2].endswith(f"{FIX.removesuffix(' to save it.')} to save it with the versions here.")


@pytest.mark.parametrize(
    ("kernel", "fix"),
    [
        ({"Keras": "3.0.0"}, "Run `make install` (it installs requirements.lock: the versions that saved"),
        ({"Python": "3.99.0"}, "Switch to a Python {Python} kernel"),
    ],
)
def test_the_fix_for_another_version_fits_what_differs(saved, monkeypatch, kernel, fix):
    """Saved with the lock's versions: make install restores them; only Python differs: another kernel."""
    here = json.loads(record_path().read_text())["versions"]
    assert {what: here[what] for what in ("TensorFlow", "Keras")} == artifacts.locked_versions()
    save_as_another_keras(here)
    monkeypatch.setattr(artifacts, "versions", lambda: {**here, **kernel})
    with pytest.raises(artifacts.VersionMismatchError) as error:
        artifacts.load_model(saved)
    assert fix.format(**here) in str(error.value).splitlines()[2]
    assert "and restart the kernel to load it" in str(error.value).splitlines()[2]


@pytest.mark.parametrize("versions", ["the same", "none recorded"])
def test_a_run_keras_cannot_load_under_the_same_versions_is_damaged(saved, versions):
    here = json.loads(record_path().read_text())["versions"]
    path = save_as_another_keras(here if versions == "the same" else None)
    damage_error(artifacts.load_model, path, "cannot be loaded by Keras", "GatedDense")


def test_a_run_saved_before_runs_recorded_versions_loads(saved, tiny_model):
    record = json.loads(record_path().read_text())
    del record["versions"]
    record_path().write_text(json.dumps(record))
    artifacts.require_runs(saved)
    assert_same_predictions(artifacts.load_model(saved), tiny_model(1))


def test_a_damaged_run_of_other_versions_is_called_damaged(saved):
    record = json.loads(record_path().read_text())
    record["versions"] = {"Python": "3.12.1", "TensorFlow": "2.99.0", "Keras": "3.99.0"}
    record_path().write_text(json.dumps(record))
    path = model_path()
    path.write_bytes(path.read_bytes()[:500])
    damage_error(artifacts.load_model, path, "does not match its SHA-256 digest in run.json")


@pytest.mark.parametrize("content", [b'{"history": {"loss": [0.9,', bytes(range(128, 256))])
def test_run_json_that_is_not_json(saved, content):
    record_path().write_bytes(content)
    for loader in (artifacts.load_history, artifacts.load_model, artifacts.require_runs):
        damage_error(loader, record_path(), "is not valid JSON", "truncated or corrupted")


GONE = object()  # the key is removed


@pytest.mark.parametrize(
    ("key", "value", "what"),
    [
        (None, None, "it is not an object with 'history' and 'info' objects"),  # the record in a list
        ("info", GONE, "it is not an object with 'history' and 'info' objects"),
        ("history", [0.5], "it is not an object with 'history' and 'info' objects"),
        ("history", {"loss": "0.5"}, "its history of 'loss' is not a list of numbers"),
        ("history", {"loss": [0.5, None]}, "its history of 'loss' is not a list of numbers"),
        ("history", {"loss": [True]}, "its history of 'loss' is not a list of numbers"),
        ("image_data_format", "sideways", "its image_data_format 'sideways' is not one of"),
        ("image_data_format", GONE, "its image_data_format None is not one of"),
        ("model", GONE, "its 'model' does not name a file and its sha256"),
        ("model", {"file": 3, "sha256": "0"}, "its 'model' does not name a file and its sha256"),
    ],
    ids=[
        "a list",
        "no info",
        "history a list",
        "history a string",
        "a null in history",
        "true in history",
        "unknown image format",
        "no image format",
        "no model",
        "model file a number",
    ],
)
def test_run_json_of_the_wrong_shape(saved, key, value, what):
    record = json.loads(record_path().read_text())
    if key is None:
        record = [record]
    elif value is GONE:
        del record[key]
    else:
        record[key] = value
    record_path().write_text(json.dumps(record))
    for loader in (artifacts.load_history, artifacts.load_model, artifacts.require_runs):
        damage_error(loader, record_path(), "is not a saved run record", what, "save_run writes")


def test_model_files_without_run_json_are_a_run_never_saved(saved):
    """What a first save killed before its last step leaves: not a damaged run, just none yet."""
    record_path().unlink()
    with pytest.raises(RunNotReadyError) as error:
        artifacts.load_model(saved)
    assert type(error.value) is RunNotReadyError
    assert str(error.value).startswith(f"There is no saved 'sequential' run in {artifacts.run_dir(saved)}.")


def test_a_save_that_fails_over_a_damaged_run_json_deletes_no_model_file(
    saved, monkeypatch, tiny_model, run_history
):
    """Which model file a damaged run.json named is unknown, so all stay for whoever repairs it."""
    model_file = model_path()
    record_path().write_text("{")
    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(keras.Model, "save", interrupted_save)
        artifacts.save_run("sequential", tiny_model(2), run_history, {})
    assert model_file.exists() and len(list(artifacts.run_dir(saved).glob("model-*"))) == 2


# --- require_runs and what a student sees in Jupyter --------------------------------------------


def test_require_runs_names_every_missing_run_and_notebook_in_order(clean_settings):
    with pytest.raises(RunNotReadyError) as error:
        artifacts.require_runs("functional", "sequential", "functional")
    assert str(error.value).splitlines() == [
        f"There is no saved 'functional' run in {artifacts.run_dir('functional')}.",
        f"There is no saved 'sequential' run in {artifacts.run_dir('sequential')}.",
        "Run 03_sequential_cnn.ipynb, then 04_functional_cnn.ipynb first "
        "(with MNIST_SERIES_MODE=full, as here) to save them.",
    ]
    assert [name for name, _ in error.value.problems] == ["functional", "sequential"]


def test_require_runs_reports_damaged_and_missing_runs_of_this_mode(saved, clean_settings, tiny_model):
    record_path().write_text("[1, 2, 3]")
    with pytest.raises(RunNotReadyError) as error:
        artifacts.require_runs("sequential", "functional")
    lines = str(error.value).splitlines()
    assert lines[0].startswith(f"The saved 'sequential' run is damaged: {record_path()} is not a saved run")
    assert lines[1] == f"There is no saved 'functional' run in {artifacts.run_dir('functional')}."
    assert type(error.value) is RunNotReadyError  # not every run is damaged: one was never saved
    clean_settings.setenv("MNIST_SERIES_MODE", "quick")
    artifacts.save_run("functional", tiny_model(1), {"loss": [0.5]}, {})
    artifacts.require_runs("functional")
    with pytest.raises(
        RunNotReadyError, match=r"(?s)quick/sequential.*Run 03_sequential_cnn.ipynb first.*=quick"
    ):
        artifacts.require_runs("sequential", "functional")


@pytest.fixture
def ipython_shell():
    """An IPython shell that keeps no history on disk, as Jupyter's kernel runs one."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    shell = InteractiveShell.instance(config=config, colors="nocolor")
    shell.user_ns["artifacts"] = artifacts
    yield shell
    InteractiveShell.clear_instance()


def shown_by_ipython(shell, capsys, cell: str) -> list[str]:
    shell.run_cell(cell)
    captured = capsys.readouterr()
    return [line for line in (captured.out + captured.err).splitlines() if line.strip()]


def test_jupyter_shows_the_message_first_and_no_frames(saved, ipython_shell, capsys):
    shown = shown_by_ipython(ipython_shell, capsys, "artifacts.load_model('functional')")
    assert shown == [
        f"RunNotReadyError: There is no saved 'functional' run in {artifacts.run_dir('functional')}.",
        "Run 04_functional_cnn.ipynb first (with MNIST_SERIES_MODE=full, as here) to save it.",
    ]
    record_path().write_text("{")
    shown = shown_by_ipython(ipython_shell, capsys, "artifacts.load_history('sequential')")
    assert shown[0].startswith(f"DamagedRunError: The saved 'sequential' run is damaged: {record_path()}")
    assert shown[-1] == FIX and "Traceback" not in "\n".join(shown)
    control = shown_by_ipython(ipython_shell, capsys, "raise ValueError('an ordinary error')")
    assert any("Traceback" in line for line in control)  # the checks above would see frames if shown


# --- MNIST_ARTIFACTS that cannot hold runs ----------------------------------------------------------


def assert_names_the_setting(message: str, folder: Path, value: str, why: str) -> None:
    assert message.startswith(f"Trained runs cannot be saved in {folder}: {why}.\n")
    assert f"MNIST_ARTIFACTS is set to {value!r}. Set MNIST_ARTIFACTS to a folder you can write" in message


@pytest.mark.parametrize("where", ["the file itself", "below the file"])
def test_mnist_artifacts_that_is_a_file(clean_settings, tiny_model, run_history, tmp_path, where):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    value = str(a_file if where == "the file itself" else a_file / "artifacts")
    clean_settings.setenv("MNIST_ARTIFACTS", value)
    for attempt in (
        check_artifacts_writable,
        lambda: artifacts.save_run("sequential", tiny_model(1), run_history, {}),
    ):
        with pytest.raises(ArtifactsFolderError) as error:
            attempt()
        assert isinstance(error.value, OSError)
        assert_names_the_setting(
            str(error.value), Path(value) / "full", value, f"{a_file} is a file, not a folder"
        )
    assert a_file.read_text() == "not a folder"


# Tests run as root, which chmod does not stop; so the attempts run in a fresh Python process that
# gives up root for the 'nobody' user once it has imported Keras. No mock: the operating system itself
# refuses the writes. A fresh process, not a fork of this one: TensorFlow's threads do not survive a fork.
NOBODY = 65534
WITHOUT_ROOT = f"""
import json, os, sys
import keras
from helpers import artifacts

keras.utils.set_random_seed(1)
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
if os.geteuid() == 0:
    os.setgroups([])
    os.setgid({NOBODY})
    os.setuid({NOBODY})
outcomes = []
for folder, attempt in json.loads(sys.argv[1]):
    os.environ["MNIST_ARTIFACTS"] = folder
    try:
        if attempt == "save":
            artifacts.save_run("sequential", model, {{"loss": [0.5]}}, {{}})
        else:
            artifacts.check_artifacts_writable()
        outcomes.append("ok")
    except Exception as error:
        outcomes.append(f"{{type(error).__name__}}: {{error}}")
print(json.dumps(outcomes))
"""


def outcomes_without_root(attempts: list[tuple[Path, str]]) -> list[str]:
    """Run each (MNIST_ARTIFACTS, 'check' or 'save') as 'nobody'; 'ok' or 'ErrorClass: message' for each."""
    child = subprocess.run(
        [sys.executable, "-c", WITHOUT_ROOT, json.dumps([(str(folder), what) for folder, what in attempts])],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert child.returncode == 0, child.stderr
    return json.loads(child.stdout.splitlines()[-1])


def test_mnist_artifacts_that_cannot_be_written(clean_settings):
    shared = Path(tempfile.mkdtemp(prefix="artifacts-test-"))  # pytest's own folders are owner-only
    try:
        shared.chmod(0o755)
        read_only, class_root = shared / "read-only", shared / "class"
        read_only.mkdir(mode=0o555)
        (class_root / "full" / "sequential").mkdir(parents=True)  # a run folder another user made
        (class_root / "full").chmod(0o777)
        (class_root / "full" / "sequential").chmod(0o555)
        outcomes = outcomes_without_root(
            [(read_only, "check"), (read_only, "save"), (class_root, "check"), (class_root, "save")]
        )
        why = "writing fails (Permission denied)"
        for outcome in outcomes[:2]:
            message = outcome.removeprefix("ArtifactsFolderError: ")
            assert_names_the_setting(message, read_only / "full", str(read_only), why)
        assert list(read_only.iterdir()) == []
        assert outcomes[2] == "ok"
        folder = class_root / "full" / "sequential"
        assert_names_the_setting(
            outcomes[3].removeprefix("ArtifactsFolderError: "), folder, str(class_root), why
        )
        assert list(folder.iterdir()) == []
    finally:
        for path in (shared, *shared.rglob("*")):
            if path.is_dir():
                path.chmod(0o755)
        shutil.rmtree(shared)
