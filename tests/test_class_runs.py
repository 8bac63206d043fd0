"""The teacher's runs shared with a class: publishing, loading, and each way the folder can be wrong."""

from __future__ import annotations

import hashlib
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

import keras
import numpy as np
import pytest

from helpers import artifacts, settings
from helpers.artifacts import ClassRunsError, DamagedRunError, ImageFormatMismatchError, RunError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
import publish_class_runs as class_runs  # noqa: E402  (scripts/publish_class_runs.py)

sys.path.pop(0)

X = np.linspace(0, 1, 8, dtype="float32").reshape(2, 4)


def predictions(model: keras.Model) -> np.ndarray:
    return np.asarray(model(X))


@pytest.fixture
def teacher(clean_settings, tmp_path, tiny_model, run_history):
    """A teacher who trained both recipes in quick mode and published them to tmp_path/class."""
    clean_settings.setenv("MNIST_SERIES_MODE", "quick")
    clean_settings.setenv("MNIST_ARTIFACTS", str(tmp_path / "teacher"))
    models = {"sequential": tiny_model(1), "functional": tiny_model(2)}
    for name, model in models.items():
        artifacts.save_run(name, model, run_history, {"mode": "quick", "by": "teacher"})
    published = class_runs.publish(tmp_path / "class")
    return models, published


@pytest.fixture
def student(teacher, clean_settings, tmp_path):
    """A student with no runs of their own and MNIST_CLASS_RUNS pointing at the teacher's folder."""
    clean_settings.setenv("MNIST_ARTIFACTS", str(tmp_path / "student"))
    clean_settings.setenv("MNIST_CLASS_RUNS", str(tmp_path / "class"))
    return teacher[0]


def test_publishing_writes_each_run_once_per_mode_with_checksums(teacher, tmp_path):
    _, published = teacher
    assert [(run.mode, run.name) for run in published] == [("quick", "sequential"), ("quick", "functional")]
    checksums = (tmp_path / "class" / class_runs.CHECKSUMS).read_text().splitlines()
    assert len(checksums) == 4  # a run.json and a model file per run
    for line in checksums:
        digest, relative = line.split("  ")
        assert hashlib.sha256((tmp_path / "class" / relative).read_bytes()).hexdigest() == digest
    result = subprocess.run(
        ["sha256sum", "-c", class_runs.CHECKSUMS], cwd=tmp_path / "class", capture_output=True
    )
    assert result.returncode == 0, result.stdout


def test_published_files_are_readable_by_everyone_whatever_the_umask(clean_settings, tmp_path, tiny_model):
    import os

    clean_settings.setenv("MNIST_SERIES_MODE", "quick")
    previous = os.umask(0o077)
    try:
        artifacts.save_run("sequential", tiny_model(1), {"loss": [1.0]}, {})
        class_runs.publish(tmp_path / "class")
    finally:
        os.umask(previous)
    for path in [tmp_path / "class", *(tmp_path / "class").rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o755 if path.is_dir() else 0o644), (path, oct(mode))


def test_a_student_without_runs_uses_the_class_runs_and_is_told_so(student, tmp_path, capsys):
    artifacts.require_runs("sequential", "functional")
    said = capsys.readouterr().out
    assert "'sequential': the class's run (quick mode, saved " in said
    assert f"from {tmp_path / 'class'}" in said
    for name, model in student.items():
        np.testing.assert_allclose(predictions(artifacts.load_model(name)), predictions(model), rtol=1e-6)
        assert artifacts.load_history(name)["info"]["by"] == "teacher"


def test_a_students_own_run_comes_first_and_saves_never_touch_the_class_folder(
    student, tmp_path, tiny_model, run_history, capsys
):
    before = {p: p.read_bytes() for p in (tmp_path / "class").rglob("*") if p.is_file()}
    own = tiny_model(3)
    artifacts.save_run("sequential", own, run_history, {"mode": "quick", "by": "student"})
    assert artifacts.run_dir("sequential").is_relative_to(tmp_path / "student")
    np.testing.assert_allclose(predictions(artifacts.load_model("sequential")), predictions(own), rtol=1e-6)
    artifacts.require_runs("sequential", "functional")
    said = capsys.readouterr().out
    assert "'sequential': your own run (quick mode" in said and "'functional': the class's run" in said
    assert {p: p.read_bytes() for p in (tmp_path / "class").rglob("*") if p.is_file()} == before


def test_publishing_again_replaces_the_class_run_and_leaves_one_model_file(
    teacher, clean_settings, tmp_path, tiny_model, run_history
):
    newer = tiny_model(4)
    artifacts.save_run("sequential", newer, run_history, {"mode": "quick", "by": "teacher, again"})
    class_runs.publish(tmp_path / "class")
    clean_settings.setenv("MNIST_ARTIFACTS", str(tmp_path / "student"))
    clean_settings.setenv("MNIST_CLASS_RUNS", str(tmp_path / "class"))
    np.testing.assert_allclose(predictions(artifacts.load_model("sequential")), predictions(newer), rtol=1e-6)
    assert len(list((tmp_path / "class" / "quick" / "sequential").glob("*.keras"))) == 1


@pytest.mark.parametrize("make", ["missing", "a file", "empty"])
def test_a_class_folder_that_is_not_one_names_the_setting_and_the_fix(clean_settings, tmp_path, make):
    folder = tmp_path / "class"
    if make == "a file":
        folder.write_text("not a folder")
    elif make == "empty":
        folder.mkdir()
    clean_settings.setenv("MNIST_CLASS_RUNS", str(folder))
    with pytest.raises(ClassRunsError) as error:
        artifacts.require_runs("sequential")
    message = str(error.value)
    why = {"missing": "there is no such folder", "a file": "that is a file", "empty": "it holds no runs"}[
        make
    ]
    assert why in message and "cannot be read" not in message
    assert f"MNIST_CLASS_RUNS is set to {str(folder)!r}" in message and "make class-runs" in message


def test_an_unreadable_class_folder_is_named(student, tmp_path, monkeypatch):
    real_iterdir = Path.iterdir

    def iterdir(path: Path):
        if path == tmp_path / "class":
            raise PermissionError(13, "Permission denied")
        return real_iterdir(path)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    with pytest.raises(ClassRunsError, match=r"the folder cannot be read \(Permission denied\)"):
        artifacts.load_model("sequential")


def test_class_runs_of_another_mode_are_refused_with_the_setting_to_change(student, clean_settings):
    clean_settings.setenv("MNIST_SERIES_MODE", "full")
    with pytest.raises(ClassRunsError) as error:
        artifacts.load_model("sequential")
    message = str(error.value)
    assert "it holds runs of quick mode, not of full mode" in message
    assert "Set MNIST_SERIES_MODE=quick to use them" in message


def test_a_run_copied_into_the_wrong_mode_folder_is_refused(student, tmp_path):
    (tmp_path / "class" / "quick").rename(tmp_path / "class" / "smoke")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MNIST_SERIES_MODE", "smoke")
        with pytest.raises(DamagedRunError, match="holds a run trained in quick mode, not smoke"):
            artifacts.require_runs("sequential")


def test_a_damaged_class_run_is_refused_not_replaced_by_another(student, tmp_path):
    (model,) = (tmp_path / "class" / "quick" / "sequential").glob("*.keras")
    model.chmod(0o644)
    model.write_bytes(model.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(DamagedRunError) as error:
        artifacts.require_runs("sequential", "functional")
    message = str(error.value)
    assert message.startswith("The class's 'sequential' run is damaged:")
    assert "MNIST_CLASS_RUNS is set to" in message and "ask them to publish it again" in message
    with pytest.raises(DamagedRunError):
        artifacts.load_model("sequential")


def test_a_class_run_of_another_image_format_is_refused_before_loading(student):
    keras.backend.set_image_data_format("channels_first")
    try:
        with pytest.raises(ImageFormatMismatchError) as error:
            artifacts.require_runs("sequential")
    finally:
        keras.backend.set_image_data_format("channels_last")
    message = str(error.value)
    assert message.startswith("The class's 'sequential' run was trained with images in channels_last layout")
    assert "ask your teacher to publish runs trained under channels_first" in message


def test_a_damaged_own_run_is_not_published(clean_settings, tmp_path, tiny_model, run_history):
    artifacts.save_run("sequential", tiny_model(1), run_history, {})
    (model,) = artifacts.run_dir("sequential").glob("*.keras")
    model.write_bytes(b"not a model")
    with pytest.raises(DamagedRunError):
        class_runs.publish(tmp_path / "class")
    assert not (tmp_path / "class").exists()


def test_nothing_to_publish_and_publishing_into_ones_own_artifacts_are_refused(clean_settings, tmp_path):
    with pytest.raises(RunError, match="There are no saved runs in .* to publish"):
        class_runs.publish(tmp_path / "class")
    with pytest.raises(RunError, match="publish into a folder of its own"):
        class_runs.publish(tmp_path)


def test_the_archive_unpacks_into_a_class_folder(teacher, clean_settings, tmp_path):
    archive = class_runs.archive(tmp_path / "class", tmp_path / "handout" / "class-runs.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path / "unpacked", filter="data")
    clean_settings.setenv("MNIST_ARTIFACTS", str(tmp_path / "student"))
    clean_settings.setenv("MNIST_CLASS_RUNS", str(tmp_path / "unpacked" / "class"))
    artifacts.require_runs("sequential", "functional")
    np.testing.assert_allclose(
        predictions(artifacts.load_model("functional")), predictions(teacher[0]["functional"]), rtol=1e-6
    )


def test_the_script_publishes_and_says_what_students_set(teacher, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["publish_class_runs.py", "--dest", str(tmp_path / "again")])
    assert class_runs.main() == 0
    assert f"Students set MNIST_CLASS_RUNS={tmp_path / 'again'}" in capsys.readouterr().out
    monkeypatch.setenv("MNIST_ARTIFACTS", str(tmp_path / "nobody"))
    assert class_runs.main() == 1
    assert "Nothing was published: There are no saved runs" in capsys.readouterr().err
    assert settings.class_runs_root() is None
