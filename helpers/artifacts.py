"""Save and load trained runs so that a later notebook always finds a complete one.

Layout of one run, ``run_dir(name)`` = ``<artifacts>/<mode>/<name>/``::

    20261121T193605.123456789Z/        a complete saved version (UTC time it was committed)
        model.keras
        history.json                   {"history": ..., "info": ..., "image_data_format": ...}
    .staging-<token>/                  a save in progress, never loaded
    .staging-<token>.lock              held (locked) by that save while it is alive
    .trash-<token>/                    an old version being deleted
    .commit.lock                       serialises committing and tidying

Why versions instead of swapping one folder. No portable call replaces a non-empty
folder in one step: rename(2) on POSIX and MoveFileEx on Windows both refuse, and
a symlink flip needs a privilege most Windows users lack. Renaming a finished
folder to a new, unused name is atomic on Linux, macOS and Windows alike. So a save
writes everything into its own hidden staging folder, flushes it to disk, renames
it to a new version name, and only then deletes older versions (each first renamed
to a trash name). After a kill at any step, every folder under a version name is
complete, the previous complete version is still there until a newer one is, and
loaders take the newest version.

Two saves at once: each writes its own staging folder; the rename into place and
the tidying run under ``.commit.lock``, and version names are strictly increasing
in commit order, so both saves finish and the last to commit wins. A save removes
only versions older than its own, so the newest complete run is never deleted.

Leftovers of killed saves are removed only when provably dead: a live save holds an
OS lock on its ``.staging-<token>.lock`` (``fcntl.flock`` on POSIX, ``msvcrt.locking``
on Windows), which the OS releases when the process dies, however it dies. Where
locks are not available, a leftover counts as dead after ``STALE_AFTER_SECONDS``.
Loaders lock nothing; if a concurrent save deletes the version they were reading,
they look again. Folders and files get the user's umask (a class can share a folder).

Runs saved by the earlier layout (``model.keras`` and ``history.json`` straight in
the run's folder, or a complete run moved aside to ``.<name>-old-*``) still load,
as older than any version, and are removed by the next save once it is in place.
"""

from __future__ import annotations

import calendar
import contextlib
import json
import os
import re
import shutil
import tempfile
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import keras

from helpers import settings

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]
try:  # Windows
    import msvcrt
except ImportError:
    msvcrt = None  # type: ignore[assignment]

MODEL_FILE = "model.keras"
HISTORY_FILE = "history.json"
COMMIT_LOCK = ".commit.lock"
STAGING_PREFIX = ".staging-"
TRASH_PREFIX = ".trash-"
LOCK_SUFFIX = ".lock"
# Without OS locks, a staging folder this old is taken for the leftover of a killed save.
STALE_AFTER_SECONDS = 6 * 3600
# How often a loader looks again when a concurrent save removed the version it was reading.
LOAD_ATTEMPTS = 5
DATA_FORMATS = ("channels_last", "channels_first")
VERSION_NAME = re.compile(r"^(\d{8}T\d{6})\.(\d{9})Z$")

# Which notebook produces each run, for the message when a run is missing or damaged.
PRODUCED_BY = {
    "sequential": "03_sequential_cnn.ipynb",
    "functional": "04_functional_cnn.ipynb",
}

T = TypeVar("T")


# --- Errors -------------------------------------------------------------------------


class RunProblem(NamedTuple):
    """Why one named run is not ready: missing, or damaged with what is wrong."""

    name: str
    damage: str | None  # None when the run was never saved


class RunError(Exception):
    """A saved run cannot be written or used; the message says what is wrong and how to fix it."""

    def _render_traceback_(self) -> list[str]:
        """IPython/Jupyter hook: show only the class and message, not frames a student cannot act on."""
        lines = str(self).splitlines() or [""]
        return [f"{type(self).__name__}: {lines[0]}", *lines[1:]]


class RunNotReadyError(RunError, FileNotFoundError):
    """A run a notebook needs is missing (or damaged): run the notebook that saves it first."""

    problems: tuple[RunProblem, ...] = ()  # each run that is not ready, and why


class DamagedRunError(RunNotReadyError):
    """A saved run's file is truncated, corrupted or of the wrong shape: save it again."""


class ImageFormatMismatchError(RunError, ValueError):
    """The run was trained under another keras image_data_format than the current one."""


class ArtifactsFolderError(RunError, OSError):
    """The artifacts folder (MNIST_ARTIFACTS) is not a folder that can be written."""


class _VersionVanished(Exception):
    """A concurrent save removed the version being read; the loader looks again."""


# --- Where runs live ------------------------------------------------------------------


def run_dir(name: str) -> Path:
    """The folder of a named run ('sequential' or 'functional') in the current mode."""
    return settings.artifacts_dir() / name


def _notebook_for(name: str) -> str:
    """The notebook that saves a run, for messages."""
    return PRODUCED_BY.get(name, f"the notebook that trains the '{name}' run")


def _version_name(ns: int) -> str:
    """A version folder name: the UTC commit time to the nanosecond, which sorts as it reads."""
    seconds, fraction = divmod(ns, 10**9)
    return f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime(seconds))}.{fraction:09d}Z"


def _version_ns(name: str) -> int | None:
    """The commit time in a version folder name; None for any other name."""
    match = VERSION_NAME.match(name)
    if match is None:
        return None
    seconds = calendar.timegm(time.strptime(match[1], "%Y%m%dT%H%M%S"))
    return seconds * 10**9 + int(match[2])


def _versions(folder: Path) -> list[Path]:
    """The committed version folders of a run, oldest first."""
    if not folder.is_dir():
        return []
    found = [(_version_ns(p.name), p) for p in folder.iterdir() if p.is_dir()]
    return [path for ns, path in sorted((ns, p) for ns, p in found if ns is not None)]


def _legacy_moved_aside(folder: Path) -> list[Path]:
    """Complete runs the earlier layout moved aside (``.<name>-old-*``), oldest first."""
    moved = [p for p in folder.parent.glob(f".{folder.name}-old-*") if (p / HISTORY_FILE).is_file()]
    return sorted(moved, key=lambda p: (p / HISTORY_FILE).stat().st_mtime)


def _newest_saved(name: str) -> Path | None:
    """The folder holding the newest committed run: a version, else an earlier layout's run."""
    folder = run_dir(name)
    versions = _versions(folder)
    if versions:
        return versions[-1]
    if (folder / HISTORY_FILE).exists() or (folder / MODEL_FILE).exists():
        return folder
    moved = _legacy_moved_aside(folder)
    return moved[-1] if moved else None


# --- Messages -------------------------------------------------------------------------


def _mode_note() -> str:
    """Reminds that runs are kept per mode: the notebook must run in this one."""
    return f"with MNIST_SERIES_MODE={settings.mode()}, as here"


def _notebooks_in_order(problems: list[RunProblem]) -> list[str]:
    """The notebooks that save these runs, each once, in the series' order."""
    notebooks = {_notebook_for(problem.name) for problem in problems}
    return sorted(notebooks, key=lambda notebook: (not notebook[:2].isdigit(), notebook))


def _one_run_message(problem: RunProblem) -> str:
    """The message for one run that is missing or damaged."""
    notebook = _notebook_for(problem.name)
    if problem.damage is None:
        head = f"There is no saved '{problem.name}' run for {settings.mode()} mode in {run_dir(problem.name)}"
        when = "first"
    else:
        head = f"The saved '{problem.name}' run is damaged: {problem.damage}"
        when = "again"
    return (
        f"{head}.\nRun {notebook} {when} ({_mode_note()}); it trains the network "
        "and saves the model and its history there."
    )


def _many_runs_message(problems: list[RunProblem]) -> str:
    """The message for several runs: each with what is wrong, then the notebooks in order."""
    where = f"{settings.mode()} mode, in {settings.artifacts_dir()}"
    lines = [f"{len(problems)} saved runs this notebook needs are not ready ({where}):"]
    for problem in problems:
        state = "not saved yet" if problem.damage is None else f"damaged: {problem.damage}"
        lines.append(f"  - {problem.name}: {state}")
    lines.append(f"Run these notebooks first, in this order ({_mode_note()}):")
    lines += [f"  {number}. {notebook}" for number, notebook in enumerate(_notebooks_in_order(problems), 1)]
    return "\n".join(lines)


def _not_ready_message(problems: list[RunProblem]) -> str:
    """What is not ready and which notebooks to run, in order, in the current mode."""
    return _one_run_message(problems[0]) if len(problems) == 1 else _many_runs_message(problems)


def _not_ready(problems: list[RunProblem]) -> RunNotReadyError:
    """The error for runs that are not ready: DamagedRunError when all of them exist but are damaged."""
    error_class = DamagedRunError if all(p.damage is not None for p in problems) else RunNotReadyError
    error = error_class(_not_ready_message(problems))
    error.problems = tuple(problems)
    return error


def _damaged(name: str, damage: str) -> RunNotReadyError:
    """The error for one damaged run."""
    return _not_ready([RunProblem(name, damage)])


def _what_blocks(folder: Path, error: OSError) -> str:
    """Say in words why a folder cannot be created or written."""
    existing = next(path for path in (folder, *folder.parents) if path.exists() or path == path.parent)
    if existing.exists() and not existing.is_dir():
        return f"{existing} is a file, not a folder"
    if isinstance(error, PermissionError):
        if existing == folder:
            return f"you may not write in {folder} (permission denied)"
        return f"it cannot be created: you may not write in {existing} (permission denied)"
    return f"it cannot be written ({type(error).__name__}: {error.strerror or error})"


def _artifacts_error(folder: Path, error: OSError) -> ArtifactsFolderError:
    """The error for an artifacts folder that cannot be written: what, why, and the fix."""
    return ArtifactsFolderError(
        f"Trained runs cannot be saved in {folder}: {_what_blocks(folder, error)}.\n"
        f"{settings.describe_artifacts_setting()}. Set MNIST_ARTIFACTS to a folder you can write "
        "(it is created if missing), or make this one writable, then run this notebook again."
    )


# --- Writable artifacts folder --------------------------------------------------------


def _ensure_writable(folder: Path) -> None:
    """Create the folder if needed and really write a file in it, or raise ArtifactsFolderError."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder) as probe:  # the OS removes it even after a kill
            probe.write(b"can write")
            probe.flush()
    except OSError as error:
        raise _artifacts_error(folder, error) from error


def check_artifacts_writable() -> Path:
    """The current mode's artifacts folder, created and checked writable before training spends minutes.

    Raises ArtifactsFolderError, naming MNIST_ARTIFACTS and how to fix it, when it is a
    file, cannot be created or cannot be written.
    """
    folder = settings.artifacts_dir()
    _ensure_writable(folder)
    return folder


# --- OS locks ---------------------------------------------------------------------------


def _open_lock_file(path: Path, flags: int) -> int:
    """Open a lock file (flags may add O_CREAT, O_EXCL); read-only if another user's file is not writable."""
    try:
        return os.open(path, os.O_RDWR | flags, 0o666)
    except PermissionError:
        if flags & os.O_EXCL:
            raise
        return os.open(path, os.O_RDONLY)


def _try_lock(fd: int) -> bool | None:
    """Lock a whole lock file without waiting: True if taken, False if held elsewhere, None if unsupported."""
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        except OSError:
            return None  # a file system without locks (some network shares)
        return True
    if msvcrt is not None:  # pragma: no cover - Windows
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False  # Windows reports a lock held elsewhere as an OSError
        return True
    return None  # pragma: no cover


def _lock_blocking(fd: int) -> None:
    """Wait for a lock file; go on unlocked where the file system has no locks."""
    while _try_lock(fd) is False:
        time.sleep(0.02)


@contextlib.contextmanager
def _commit_lock(folder: Path) -> Iterator[None]:
    """Hold the run's commit lock: one save at a time renames its version into place and tidies."""
    fd = _open_lock_file(folder / COMMIT_LOCK, os.O_CREAT)
    try:
        _lock_blocking(fd)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _remove_lock_file(path: Path, fd: int) -> None:
    """Delete a lock file while holding it (POSIX), or just after closing it (Windows)."""
    try:
        path.unlink()
    except OSError:
        os.close(fd)
        with contextlib.suppress(OSError):
            path.unlink()
        return
    os.close(fd)


# --- Saving -----------------------------------------------------------------------------


def _claim_staging(folder: Path) -> tuple[Path, Path, int]:
    """Create a staging folder with its lock file already locked, so no clean-up takes it for dead."""
    while True:
        token = uuid.uuid4().hex[:16]
        lock_path = folder / f"{STAGING_PREFIX}{token}{LOCK_SUFFIX}"
        fd = _open_lock_file(lock_path, os.O_CREAT | os.O_EXCL)
        locked = _try_lock(fd)
        try:
            still_ours = locked is not False and os.path.samestat(os.fstat(fd), os.stat(lock_path))
        except FileNotFoundError:
            still_ours = False
        if not still_ours:  # a clean-up took the new file for a leftover before we locked it
            os.close(fd)
            continue
        staging = folder / f"{STAGING_PREFIX}{token}"
        os.mkdir(staging)
        return staging, lock_path, fd


@contextlib.contextmanager
def _staging_folder(folder: Path) -> Iterator[Path]:
    """A private, locked staging folder; removed if the save fails, its lock released at the end."""
    staging, lock_path, fd = _claim_staging(folder)
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        _remove_lock_file(lock_path, fd)


def _fsync_path(path: Path) -> None:
    """Flush a file, or a folder's entries on POSIX, to disk so a power cut cannot undo a rename."""
    if path.is_dir() and os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY if path.is_dir() else os.O_RDWR)
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync folders; the rename is still atomic
    finally:
        os.close(fd)


def _record_text(history: dict[str, list[float]], info: dict[str, Any]) -> str:
    """The history.json text; built before anything is written, so bad info fails early."""
    record = {
        "history": {metric: [float(v) for v in values] for metric, values in history.items()},
        "info": info,
        "image_data_format": keras.backend.image_data_format(),
    }
    return json.dumps(record, indent=2) + "\n"


def _write_files(staging: Path, model: keras.Model, record_text: str) -> None:
    """Write the model and the record into the staging folder and flush them to disk."""
    model.save(staging / MODEL_FILE)
    _fsync_path(staging / MODEL_FILE)
    with open(staging / HISTORY_FILE, "w", encoding="utf-8") as file:
        file.write(record_text)
        file.flush()
        os.fsync(file.fileno())
    _fsync_path(staging)


def _commit(staging: Path, folder: Path) -> Path:
    """Rename the finished staging folder to a version name later than every existing one."""
    versions = _versions(folder)
    newest_ns = _version_ns(versions[-1].name) if versions else 0
    ns = max(time.time_ns(), newest_ns + 1)
    while True:
        target = folder / _version_name(ns)
        try:
            os.rename(staging, target)
        except OSError:
            if not target.exists():
                raise
            ns += 1  # taken by a save that had no lock to wait on
            continue
        _fsync_path(folder)
        return target


def _seconds_since_change(path: Path) -> float:
    """How long ago a leftover last changed (0 if it is gone), for the no-locks fallback."""
    try:
        return time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def _remove_if_dead(staging: Path) -> None:
    """Remove a staging folder and its lock file if its save is provably dead (lock free, or stale)."""
    lock_path = staging.with_name(staging.name + LOCK_SUFFIX)
    try:
        fd: int | None = _open_lock_file(lock_path, 0)
    except FileNotFoundError:
        fd = None
    except OSError:
        return
    held = _try_lock(fd) if fd is not None else None
    unsupported_and_fresh = held is None and (
        _seconds_since_change(staging if staging.exists() else lock_path) <= STALE_AFTER_SECONDS
    )
    if held is False or unsupported_and_fresh:
        if fd is not None:
            os.close(fd)
        return
    shutil.rmtree(staging, ignore_errors=True)
    if fd is not None:
        _remove_lock_file(lock_path, fd)


def _remove_dead_staging(folder: Path) -> None:
    """Remove staging folders and lock files of killed saves, never those of live ones."""
    names = {path.name.removesuffix(LOCK_SUFFIX) for path in folder.glob(f"{STAGING_PREFIX}*")}
    for name in sorted(names):
        _remove_if_dead(folder / name)


def _retire(path: Path, folder: Path) -> None:
    """Delete an old version: first rename it out of the version names, then remove it."""
    trash = folder / f"{TRASH_PREFIX}{uuid.uuid4().hex[:16]}"
    try:
        os.rename(path, trash)
    except OSError:
        return  # in use (Windows) or gone; the next save tries again
    shutil.rmtree(trash, ignore_errors=True)


def _remove_earlier_layout(folder: Path) -> None:
    """Remove runs and leftovers of the earlier layout, now that a newer version is in place."""
    for file_name in (HISTORY_FILE, MODEL_FILE):
        with contextlib.suppress(FileNotFoundError):
            (folder / file_name).unlink()
    for moved in folder.parent.glob(f".{folder.name}-old-*"):
        shutil.rmtree(moved, ignore_errors=True)
    for staged in folder.parent.glob(f".{folder.name}-new-*"):
        if _seconds_since_change(staged) > STALE_AFTER_SECONDS:
            shutil.rmtree(staged, ignore_errors=True)


def _tidy(folder: Path, newest: Path) -> None:
    """After a commit (under the commit lock): drop older versions, trash and dead leftovers."""
    for version in _versions(folder):
        if _version_ns(version.name) < _version_ns(newest.name):
            _retire(version, folder)
    for trash in folder.glob(f"{TRASH_PREFIX}*"):
        shutil.rmtree(trash, ignore_errors=True)
    _remove_dead_staging(folder)
    _remove_earlier_layout(folder)


def save_run(name: str, model: keras.Model, history: dict[str, list[float]], info: dict[str, Any]) -> Path:
    """Save a model, its per-epoch history and facts about the run, all or nothing.

    Returns the run's folder, run_dir(name); the files are in its newest version folder.
    Raises ArtifactsFolderError, before writing anything, when the folder cannot be written.
    """
    record_text = _record_text(history, info)
    check_artifacts_writable()
    folder = run_dir(name)
    _ensure_writable(folder)
    with _staging_folder(folder) as staging:
        _write_files(staging, model, record_text)
        with _commit_lock(folder):
            newest = _commit(staging, folder)
            with contextlib.suppress(OSError):  # the run is saved; what is left, the next save tidies
                _tidy(folder, newest)
    return folder


# --- Loading ----------------------------------------------------------------------------


def _json_kind(value: object) -> str:
    """What a JSON value is, in words, for messages."""
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "true/false", type(None): "null"}
    return kinds.get(type(value), "a number")


def _record_shape_problem(record: object) -> str | None:
    """What is wrong with a parsed history.json, or None when it has the saved shape."""
    if not isinstance(record, dict):
        return f"it holds {_json_kind(record)}"
    history, info = record.get("history"), record.get("info")
    if not isinstance(history, dict):
        return f"its 'history' is {_json_kind(history)}" if "history" in record else "it has no 'history'"
    for metric, values in history.items():
        if not isinstance(values, list) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in values
        ):
            return f"its history of {metric!r} is not a list of numbers"
    if not isinstance(info, dict):
        return f"its 'info' is {_json_kind(info)}" if "info" in record else "it has no 'info'"
    data_format = record.get("image_data_format", DATA_FORMATS[0])
    if data_format not in DATA_FORMATS:
        return f"its image_data_format {data_format!r} is neither {' nor '.join(DATA_FORMATS)}"
    return None


def _file_in(version: Path, name: str, file_name: str) -> Path:
    """A file of a version; raises if the version vanished or the file is missing from it."""
    path = version / file_name
    if not path.is_file():
        if not version.exists():
            raise _VersionVanished(version)
        raise _damaged(name, f"{path} is missing")
    return path


def _read_record(name: str, version: Path) -> dict[str, Any]:
    """The validated history.json record of a version."""
    path = _file_in(version, name, HISTORY_FILE)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise _VersionVanished(version) from error
    except (OSError, UnicodeDecodeError) as error:
        raise _damaged(name, f"{path} cannot be read ({type(error).__name__}: {error})") from error
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        raise _damaged(name, f"{path} is not valid JSON ({error}); it is truncated or corrupted") from error
    problem = _record_shape_problem(record)
    if problem:
        expected = "{'history': {metric: [one number per epoch]}, 'info': {...}}"
        raise _damaged(name, f"{path} is not a saved run record: {problem}, not {expected}")
    return record


def _check_model_file(name: str, version: Path) -> Path:
    """model.keras of a version, checked to be a whole zip archive (a .keras file is one)."""
    path = _file_in(version, name, MODEL_FILE)
    try:
        with zipfile.ZipFile(path) as archive:
            bad_member = archive.testzip()
    except FileNotFoundError as error:
        raise _VersionVanished(version) from error
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise _damaged(
            name, f"{path} is not a complete Keras model file (truncated or corrupted: {error})"
        ) from error
    if bad_member is not None:
        raise _damaged(name, f"{path} is corrupted (its part {bad_member} fails its checksum)")
    return path


def _load_newest(name: str, read: Callable[[Path], T]) -> T:
    """Read the newest saved version of a run, looking again if a concurrent save removed it."""
    for _ in range(LOAD_ATTEMPTS):
        version = _newest_saved(name)
        if version is None:
            raise _not_ready([RunProblem(name, None)])
        try:
            return read(version)
        except _VersionVanished:
            continue
    raise _not_ready([RunProblem(name, None)])


def load_history(name: str) -> dict[str, Any]:
    """The saved record of a run: {'history': {metric: [per epoch]}, 'info': {...}}."""
    record = _load_newest(name, lambda version: _read_record(name, version))
    return {"history": record["history"], "info": record["info"]}


def _check_image_format(name: str, record: dict[str, Any]) -> None:
    """Refuse a run trained with the other channel layout, saying how to fix it."""
    saved = record.get("image_data_format")  # absent in runs saved before it was recorded
    current = keras.backend.image_data_format()
    if saved is None or saved == current:
        return
    raise ImageFormatMismatchError(
        f"The saved '{name}' run was trained with images in {saved} layout, but Keras now uses "
        f"{current} (keras.backend.image_data_format()), so its layers expect images of another shape.\n"
        f"Either set the format back before loading, keras.backend.set_image_data_format({saved!r}) "
        "(or image_data_format in keras.json in the Keras home folder, ~/.keras by default), "
        f"or run {_notebook_for(name)} again under {current} ({_mode_note()}) to train and save it afresh."
    )


def _read_model(name: str, version: Path) -> keras.Model:
    """The model of a version, after checking its record, its image format and its file."""
    _check_image_format(name, _read_record(name, version))
    path = _check_model_file(name, version)
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as error:
        if not version.exists():
            raise _VersionVanished(version) from error
        raise _damaged(name, f"{path} cannot be loaded by Keras ({type(error).__name__}: {error})") from error


def load_model(name: str) -> keras.Model:
    """The trained model of a run, ready to predict (loaded without its optimizer)."""
    return _load_newest(name, lambda version: _read_model(name, version))


def _problem_with(name: str) -> RunProblem | None:
    """Why a run is not ready to load (missing, or what is damaged), or None when it is."""
    try:
        _load_newest(name, lambda version: (_read_record(name, version), _check_model_file(name, version)))
    except RunNotReadyError as error:
        return error.problems[0]
    return None


def require_runs(*names: str) -> None:
    """Check that every named run is saved and undamaged, before a notebook starts on them.

    Raises one RunNotReadyError naming every missing or damaged run and every notebook
    to run first, in order, in the current MNIST_SERIES_MODE.
    """
    problems = [problem for name in dict.fromkeys(names) if (problem := _problem_with(name))]
    if problems:
        raise _not_ready(problems)
