"""Save and load trained runs so that a later notebook always finds a complete one.

``run_dir(name)/run.json`` holds the run's history and facts and names its model file,
``model-<token>.keras``, with the file's SHA-256 digest. A save writes and flushes a new model
file, then replaces run.json in one atomic step (os.replace), so a kill leaves the old run.json
or the new one, each naming a whole model file. Saves hold ``.lock`` (filelock; the OS frees it
if a process dies), so they take turns, the later wins, and each deletes only model files that
run.json does not name. Loaders take no lock: they check the digest, and look again when a save
replaced run.json while they read.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

import keras
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


class ImageFormatMismatchError(RunError, ValueError):
    """The run was trained under another keras image_data_format than the current one."""


class ArtifactsFolderError(RunError, OSError):
    """The artifacts folder (MNIST_ARTIFACTS) is not a folder that can be written."""


def run_dir(name: str) -> Path:
    """The folder of a named run ('sequential', 'functional', ...) in the current mode."""
    return settings.artifacts_dir() / name


def _run_notebooks(names: list[str], when: str) -> str:
    """The sentence that says to run the notebooks saving these runs, in the series' order, and when."""
    notebooks = {PRODUCED_BY.get(name, f"the notebook that trains the '{name}' run") for name in names}
    in_order = sorted(notebooks, key=lambda notebook: (not notebook[:2].isdigit(), notebook))
    return f"Run {', then '.join(in_order)} {when} (with MNIST_SERIES_MODE={settings.mode()}, as here)"


def _not_ready(problems: list[tuple[str, str | None]]) -> RunNotReadyError:
    """The error naming each run that is not ready, what is wrong with it, and the notebooks to run."""
    lines = [
        f"The saved '{n}' run is damaged: {d}." if d else f"There is no saved '{n}' run in {run_dir(n)}."
        for n, d in problems
    ]
    damaged = all(damage for _, damage in problems)
    fix = _run_notebooks([n for n, _ in problems], "again" if damaged else "first")
    lines.append(f"{fix} to save {'it' if len(problems) == 1 else 'them'}.")
    error = (DamagedRunError if damaged else RunNotReadyError)("\n".join(lines))
    error.problems = tuple(problems)
    return error


def _damaged(name: str, damage: str) -> RunNotReadyError:
    return _not_ready([(name, damage)])


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
        keep = {RECORD, LOCK_FILE, _read_record(name)["model"]["file"]}
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
    record = {"history": history, "info": info, "image_data_format": keras.backend.image_data_format()}
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


def _read_record(name: str) -> dict[str, Any]:
    """The run's run.json, checked to have the shape save_run writes; RunNotReadyError when never saved."""
    path = run_dir(name) / RECORD
    try:
        record = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise _not_ready([(name, None)]) from None
    except (OSError, ValueError) as error:  # ValueError: JSONDecodeError, UnicodeDecodeError
        raise _damaged(name, f"{path} is not valid JSON ({error}); it is truncated or corrupted") from error
    if problem := _shape_problem(record):
        raise _damaged(name, f"{path} is not a saved run record: {problem}; save_run writes {SHAPE}")
    return record


def _verified_run(name: str) -> tuple[dict[str, Any], Path]:
    """The run's record and model file, checked against its digest; read again if a save replaced them."""
    while True:  # each further round needs a save that landed during the round before
        record = _read_record(name)
        path = run_dir(name) / record["model"]["file"]
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as error:
            if _read_record(name) != record:
                continue  # a save replaced the run and deleted this model file: read the new one
            raise _damaged(name, f"{path} cannot be read: {error.strerror or error}") from error
        if digest != record["model"]["sha256"]:
            raise _damaged(name, f"{path} does not match its SHA-256 digest in {RECORD}: it is corrupted")
        return record, path


def load_history(name: str) -> dict[str, Any]:
    """The saved record of a run, {'history': {metric: [per epoch]}, 'info': {...}}, for curves and facts."""
    record = _read_record(name)
    return {"history": record["history"], "info": record["info"]}


def load_model(name: str) -> keras.Model:
    """The trained model of a run, ready to predict (loaded without its optimizer)."""
    record, path = _verified_run(name)
    saved, current = record["image_data_format"], keras.backend.image_data_format()
    if saved != current:
        raise ImageFormatMismatchError(
            f"The saved '{name}' run was trained with images in {saved} layout, but Keras now uses "
            f"{current} (keras.backend.image_data_format()), so its layers expect images of another shape.\n"
            f"{_run_notebooks([name], f'again under {current}')} to train and save it afresh, or set the "
            f"format back first: keras.backend.set_image_data_format({saved!r}) (or keras.json in ~/.keras)."
        )
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as error:
        if not path.exists():  # a save replaced the run since the check
            return load_model(name)
        raise _damaged(name, f"{path} cannot be loaded by Keras ({type(error).__name__}: {error})") from error


def require_runs(*names: str) -> None:
    """Check every named run is saved and whole before a notebook starts; else name each notebook to run."""
    problems = []
    for name in dict.fromkeys(names):
        try:
            _verified_run(name)
        except RunNotReadyError as error:
            problems += error.problems
    if problems:
        raise _not_ready(problems)
