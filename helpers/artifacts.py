"""Save and load trained runs so that a later notebook always finds a complete one.

``run_dir(name)/run.json`` holds the run's history and facts and names its model file,
``model-<token>.keras``, with the file's SHA-256 digest. A save writes and flushes a new model
file, then replaces run.json in one atomic step (os.replace), so a kill leaves the old run.json
or the new one, each naming a whole model file. Saves hold ``.lock`` (filelock; the OS frees it
if a process dies), so they take turns, the later wins, and each deletes only model files that
run.json does not name. Loaders take no lock: they check the digest, and look again when a save
replaced run.json while they read. run.json also records the Python, TensorFlow and Keras versions
that saved the run, so a model file another Keras cannot load is not mistaken for a damaged one.

A teacher can publish their runs for a class (scripts/publish_class_runs.py, `make class-runs`) into a folder
students read through MNIST_CLASS_RUNS, laid out as ``<folder>/<mode>/<name>/``. The loaders take
the user's own run first and the class's only when the user has none; saves always go to the
user's own folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import re
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf
from filelock import FileLock

from helpers import settings
from helpers.preprocess import DATA_FORMATS

RECORD, LOCK_FILE = "run.json", ".lock"
PRODUCED_BY = {  # which notebook saves each run, for the messages that say what to run
    "sequential": "03_sequential_cnn.ipynb",
    "functional": "04_functional_cnn.ipynb",
    "beyond": "08_beyond_the_recipes.ipynb",
}
SHAPE = "{'history': {metric: [numbers]}, 'info': {...}, 'image_data_format': ..., 'model': {...}}"


class RunError(Exception):
    """A saved run cannot be written or used; the message says what is wrong and how to fix it."""

    def _render_traceback_(self) -> list[str]:
        """IPython/Jupyter hook: show only the class and message, not frames a student cannot act on."""
        lines = str(self).splitlines() or [""]
        return [f"{type(self).__name__}: {lines[0]}", *lines[1:]]


class RunNotReadyError(RunError, FileNotFoundError):
    """A run a notebook needs is missing (or damaged): run the notebook that saves it first."""

    problems: tuple[tuple[str, str | None], ...] = ()  # (run, what is damaged, or None if never saved)


class DamagedRunError(RunNotReadyError):
    """A saved run's file is truncated, corrupted or of the wrong shape: save it again."""


class VersionMismatchError(RunError):
    """Keras cannot load a run that other versions of Python, TensorFlow or Keras saved."""


class ImageFormatMismatchError(RunError, ValueError):
    """The run was trained under another keras image_data_format than the current one."""


class ArtifactsFolderError(RunError, OSError):
    """The artifacts folder (MNIST_ARTIFACTS) is not a folder that can be written."""


class ClassRunsError(RunError, OSError):
    """MNIST_CLASS_RUNS names a folder that cannot give this notebook the class's runs."""


CLASS_FIX = (
    "Point MNIST_CLASS_RUNS at the folder your teacher published with `make class-runs`, ask them to "
    "publish it again, or unset MNIST_CLASS_RUNS and train your own runs"
)


def versions() -> dict[str, str]:
    """The versions a run's model file depends on, as save_run records them in run.json."""
    return {"Python": platform.python_version(), "TensorFlow": tf.__version__, "Keras": keras.__version__}


def run_dir(name: str) -> Path:
    """The folder of a named run ('sequential', 'functional', ...) in the current mode."""
    return settings.artifacts_dir() / name


def _run_notebooks(names: list[str], when: str) -> str:
    """The sentence that says to run the notebooks saving these runs, in the series' order, and when."""
    notebooks = {PRODUCED_BY.get(name, f"the notebook that trains the '{name}' run") for name in names}
    in_order = sorted(notebooks, key=lambda notebook: (not notebook[:2].isdigit(), notebook))
    return f"Run {', then '.join(in_order)} {when} (with MNIST_SERIES_MODE={settings.mode()}, as here)"


def _not_ready(problems: list[tuple[str, str | None]], from_class: bool = False) -> RunNotReadyError:
    """The error naming each run that is not ready, what is wrong with it, and the notebooks to run."""

    def missing(name: str) -> str:
        if settings.class_runs_root() is None:
            return f"There is no saved '{name}' run in {run_dir(name)}."
        return f"There is no saved '{name}' run in {run_dir(name)}, nor among the class's runs."

    whose = "class's" if from_class else "saved"
    lines = [f"The {whose} '{n}' run is damaged: {d}." if d else missing(n) for n, d in problems]
    damaged = all(damage for _, damage in problems)
    fix = _run_notebooks([n for n, _ in problems], "again" if damaged and not from_class else "first")
    lines.append(f"{fix} to save {'it' if len(problems) == 1 else 'them'}.")
    if from_class:
        lines += [f"{settings.describe_class_runs_setting()}.", f"{CLASS_FIX}."]
    error = (DamagedRunError if damaged else RunNotReadyError)("\n".join(lines))
    error.problems = tuple(problems)
    return error


def _damaged(name: str, damage: str, from_class: bool = False) -> RunNotReadyError:
    return _not_ready([(name, damage)], from_class)


def _class_error(name: str, problem: str) -> ClassRunsError:
    return ClassRunsError(
        f"There is no saved '{name}' run of your own in {run_dir(name)}, and the class's runs cannot be "
        f"used: {problem}.\n{settings.describe_class_runs_setting()}. {CLASS_FIX}."
    )


def _located(name: str) -> tuple[Path, bool]:
    """The folder to read a run from, and whether it is the class's: the user's own run comes first."""
    own = run_dir(name)
    root = settings.class_runs_root()
    if root is None or (own / RECORD).exists():
        return own, False
    mode = settings.mode()
    try:
        is_folder, exists = root.is_dir(), root.exists()
        entries = root.iterdir() if is_folder else []
        modes = sorted(entry.name for entry in entries if entry.name in settings.MODES and entry.is_dir())
    except OSError as error:
        raise _class_error(name, f"the folder cannot be read ({error.strerror or error})") from error
    if not is_folder:
        raise _class_error(name, "that is a file, not a folder" if exists else "there is no such folder")
    if mode not in modes:
        if not modes:
            raise _class_error(name, f"it holds no runs; `make class-runs` writes {root}/<mode>/<run>/")
        raise _class_error(
            name,
            f"it holds runs of {' and '.join(modes)} mode, not of {mode} mode (MNIST_SERIES_MODE). "
            f"Set MNIST_SERIES_MODE={modes[0]} to use them, or ask your teacher to publish {mode}-mode runs",
        )
    return root / mode / name, True


def _ensure_writable(folder: Path) -> None:
    """Create the folder if needed and really write a file in it, or raise ArtifactsFolderError."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder) as probe:  # the OS removes it even after a kill
            probe.write(b"can write")
    except OSError as error:
        blocker = next((path for path in (folder, *folder.parents) if path.is_file()), None)
        why = (
            f"{blocker} is a file, not a folder" if blocker else f"writing fails ({error.strerror or error})"
        )
        raise ArtifactsFolderError(
            f"Trained runs cannot be saved in {folder}: {why}.\n{settings.describe_artifacts_setting()}. "
            "Set MNIST_ARTIFACTS to a folder you can write (it is created if missing), "
            "or make this one writable, then run this notebook again."
        ) from error


def check_artifacts_writable() -> Path:
    """The current mode's artifacts folder, created and checked writable before training spends minutes."""
    folder = settings.artifacts_dir()
    _ensure_writable(folder)
    return folder


def _flush(path: Path) -> str:
    """Flush a file to disk, so that a power cut cannot undo the steps after it; return its SHA-256."""
    with open(path, "r+b") as file:
        data = file.read()
        os.fsync(file.fileno())
    return hashlib.sha256(data).hexdigest()


def _remove_unnamed(name: str) -> None:
    """Delete the files run.json does not name, leftovers of failed or killed saves; call under the lock."""
    try:
        keep = {RECORD, LOCK_FILE, _read_record(name, run_dir(name))["model"]["file"]}
    except DamagedRunError:
        return  # keep every file: run.json may be repaired to name one
    except RunNotReadyError:
        keep = {RECORD, LOCK_FILE}
    for path in run_dir(name).iterdir():
        if path.name not in keep and path.is_file():
            path.unlink()


def save_run(name: str, model: keras.Model, history: dict[str, list[float]], info: dict[str, Any]) -> Path:
    """Save a model, its per-epoch history and facts about the run, all or nothing; returns run_dir(name)."""
    history = {metric: [float(v) for v in values] for metric, values in history.items()}
    record = {
        "history": history,
        "info": info,
        "image_data_format": keras.backend.image_data_format(),
        "versions": versions(),
        "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    json.dumps(record)  # info that is not JSON fails here, before anything is written
    check_artifacts_writable()
    folder = run_dir(name)
    _ensure_writable(folder)
    token = uuid.uuid4().hex
    model_path, record_path = folder / f"model-{token}.keras", folder / f"run-{token}.tmp"
    with FileLock(folder / LOCK_FILE):
        try:
            model.save(model_path)
            record["model"] = {"file": model_path.name, "sha256": _flush(model_path)}
            record_path.write_text(json.dumps(record, indent=2), encoding="utf-8")
            _flush(record_path)
            os.replace(record_path, folder / RECORD)
            if os.name == "posix":  # flush the folder's entries too, so a power cut cannot undo the replace
                fd = os.open(folder, os.O_RDONLY)
                with contextlib.suppress(OSError):  # a few file systems cannot flush folders
                    os.fsync(fd)
                os.close(fd)
        finally:
            with contextlib.suppress(OSError):  # whatever is left, the next save removes
                _remove_unnamed(name)
    return folder


def _shape_problem(record: Any) -> str | None:
    """What keeps a parsed run.json from the shape save_run writes, or None."""
    if not isinstance(record, dict) or not all(isinstance(record.get(k), dict) for k in ("history", "info")):
        return "it is not an object with 'history' and 'info' objects"
    for metric, values in record["history"].items():
        if not isinstance(values, list) or not all(type(v) in (int, float) for v in values):
            return f"its history of {metric!r} is not a list of numbers"
    if (data_format := record.get("image_data_format")) not in DATA_FORMATS:
        return f"its image_data_format {data_format!r} is not one of {DATA_FORMATS}"
    model = record.get("model")
    if not isinstance(model, dict) or {type(model.get("file")), type(model.get("sha256"))} != {str}:
        return "its 'model' does not name a file and its sha256"
    return None


def _read_record(name: str, folder: Path, from_class: bool = False) -> dict[str, Any]:
    """The run's run.json in folder, checked to have the shape save_run writes; RunNotReadyError if none."""
    path = folder / RECORD
    try:
        record = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise _not_ready([(name, None)]) from None
    except (OSError, ValueError) as error:  # ValueError: JSONDecodeError, UnicodeDecodeError
        damage = f"{path} is not valid JSON ({error}); it is truncated or corrupted"
        raise _damaged(name, damage, from_class) from error
    if problem := _shape_problem(record):
        damage = f"{path} is not a saved run record: {problem}; save_run writes {SHAPE}"
        raise _damaged(name, damage, from_class)
    if from_class and (trained_in := record["info"].get("mode", settings.mode())) != settings.mode():
        raise _damaged(name, f"{path} holds a run trained in {trained_in} mode, not {settings.mode()}", True)
    return record


def verified_run(name: str, folder: Path, from_class: bool = False) -> tuple[dict[str, Any], Path]:
    """The run's record and model file, checked against its digest; read again if a save replaced them."""
    while True:  # each further round needs a save that landed during the round before
        record = _read_record(name, folder, from_class)
        path = folder / record["model"]["file"]
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as error:
            if _read_record(name, folder, from_class) != record:
                continue  # a save replaced the run and deleted this model file: read the new one
            raise _damaged(name, f"{path} cannot be read: {error.strerror or error}", from_class) from error
        if digest != record["model"]["sha256"]:
            damage = f"{path} does not match its SHA-256 digest in {RECORD}: it is corrupted"
            raise _damaged(name, damage, from_class)
        return record, path


def _check_image_format(name: str, record: dict[str, Any], from_class: bool) -> None:
    """Raise ImageFormatMismatchError when the run was trained under another image_data_format."""
    saved, current = record["image_data_format"], keras.backend.image_data_format()
    if saved == current:
        return
    whose = "class's" if from_class else "saved"
    fix = (
        f"{settings.describe_class_runs_setting()}: ask your teacher to publish runs trained under "
        f"{current}, or "
        if from_class
        else ""
    ) + f"{_run_notebooks([name], f'again under {current}')} to train and save it afresh"
    raise ImageFormatMismatchError(
        f"The {whose} '{name}' run was trained with images in {saved} layout, but Keras now uses "
        f"{current} (keras.backend.image_data_format()), so its layers expect images of another shape.\n"
        f"{fix}, or set the format back first: keras.backend.set_image_data_format({saved!r}) "
        "(or keras.json in ~/.keras)."
    )


def locked_versions() -> dict[str, str]:
    """The TensorFlow and Keras versions requirements.lock pins ({} where the project has no lock)."""
    try:
        lock = (settings.PROJECT_ROOT / "requirements.lock").read_text()
    except OSError:  # helpers installed on their own, as in Colab
        return {}
    names = {"keras": "Keras", "tensorflow": "TensorFlow", "tensorflow-cpu": "TensorFlow"}
    pins = re.findall(r"^(keras|tensorflow|tensorflow-cpu)==([^\s;]+)", lock, flags=re.MULTILINE)
    return {names[name]: version for name, version in pins}


def _check_versions(name: str, record: dict[str, Any], from_class: bool, error: Exception) -> None:
    """Raise VersionMismatchError when Keras failed on a run that other versions saved, else return."""
    saved, here = record.get("versions"), versions()
    if not isinstance(saved, dict):  # saved before runs recorded their versions
        return
    if not (changed := [what for what in here if saved.get(what) != here[what]]):
        return
    whose = "class's" if from_class else "saved"
    teacher = f"{settings.describe_class_runs_setting()}. " if from_class else ""
    packages = [what for what in changed if what != "Python"]
    locked = locked_versions()
    if packages and all(locked.get(what) == saved.get(what) for what in packages):
        fix = "Run `make install` (it installs requirements.lock: the versions that saved it)"
    elif packages:
        pins = " ".join(f"{what.lower()}=={saved.get(what)}" for what in packages)
        fix = f"Install the versions that saved it (`pip install {pins}`)"
    else:
        fix = f"Switch to a Python {saved.get('Python')} kernel"
    raise VersionMismatchError(
        f"The {whose} '{name}' run cannot be loaded by Keras here "
        f"({type(error).__name__}: {error}).\nIt was saved with "
        f"{', '.join(f'{what} {saved.get(what)}' for what in changed)}; this kernel runs "
        f"{', '.join(f'{what} {here[what]}' for what in changed)}.\n{teacher}{fix} "
        f"and restart the kernel to load it; or replace it: {_run_notebooks([name], 'again')} to save it "
        "with the versions here."
    ) from error


def load_history(name: str) -> dict[str, Any]:
    """The saved record of a run, {'history': {metric: [per epoch]}, 'info': {...}}, for curves and facts."""
    folder, from_class = _located(name)
    record = _read_record(name, folder, from_class)
    return {"history": record["history"], "info": record["info"]}


def load_model(name: str) -> keras.Model:
    """The trained model of a run, ready to predict (loaded without its optimizer)."""
    folder, from_class = _located(name)
    record, path = verified_run(name, folder, from_class)
    _check_image_format(name, record, from_class)
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as error:
        if not path.exists():  # a save replaced the run since the check
            return load_model(name)
        _check_versions(name, record, from_class, error)
        damage = f"{path} cannot be loaded by Keras ({type(error).__name__}: {error})"
        raise _damaged(name, damage, from_class) from error


def describe_run(name: str, record: dict[str, Any], folder: Path, from_class: bool) -> str:
    """One line saying which run a notebook uses: whose, its mode and when it was saved."""
    saved_at = record.get("saved_at")
    if isinstance(saved_at, str):
        when = datetime.fromisoformat(saved_at)
    else:  # a record written before runs noted their time: the file's own time
        when = datetime.fromtimestamp((folder / RECORD).stat().st_mtime, UTC)
    mode = record["info"].get("mode", settings.mode())
    facts = f"{mode} mode, saved {when.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    if from_class:
        return f"'{name}': the class's run ({facts}), from {folder.parent.parent}"
    return f"'{name}': your own run ({facts})"


def require_runs(*names: str) -> None:
    """Check every named run is saved, whole and usable, and say which is used; else name what to run."""
    problems, found = [], []
    for name in dict.fromkeys(names):
        folder, from_class = _located(name)
        try:
            record, _ = verified_run(name, folder, from_class)
        except RunNotReadyError as error:
            if from_class and isinstance(error, DamagedRunError):
                raise  # its message names MNIST_CLASS_RUNS and the fix, which a combined one would lose
            problems += error.problems
            continue
        _check_image_format(name, record, from_class)
        found.append(describe_run(name, record, folder, from_class))
    if problems:
        raise _not_ready(problems)
    print("Runs used:", *found, sep="\n  ")
