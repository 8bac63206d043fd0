"""Publish this user's trained runs for a class: a read-only folder, or an archive to hand out.

    python scripts/publish_class_runs.py --dest /srv/mnist-class
    python scripts/publish_class_runs.py --dest build/class-runs --archive build/class-runs.tar.gz

The teacher trains once (``make series``, or notebooks 03, 04 and 08) and runs
``make class-runs DEST=/srv/mnist-class``. Every complete run of every mode in
the teacher's artifacts folder is checked against its digest and copied to
``DEST/<mode>/<name>/`` the way save_run writes one: the model file first, then
run.json in one atomic replace, so a student's kernel that reads while the
teacher publishes again sees the old run or the new one, never half of each.
``SHA256SUMS`` lists every file for ``sha256sum -c``. Files are made readable
by everyone and writable by no one but their owner, whatever the umask.

Students set MNIST_CLASS_RUNS to the folder (JupyterHub sets it for everyone: see
deploy/jupyterhub/README.md); notebooks 05 to 08 then open without training.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tarfile
import uuid
from pathlib import Path
from typing import NamedTuple

from filelock import FileLock

import helpers  # noqa: F401  (imports TensorFlow quietly before helpers.artifacts does)
from helpers import artifacts, settings
from helpers.artifacts import RunError

CHECKSUMS = "SHA256SUMS"
FILE_MODE, FOLDER_MODE = 0o644, 0o755


class PublishedRun(NamedTuple):
    mode: str
    name: str
    folder: Path


def _readable_by_all(path: Path) -> None:
    path.chmod(FOLDER_MODE if path.is_dir() else FILE_MODE)


def _publish_one(source: Path, record: dict, model: Path, target: Path) -> None:
    """Copy one verified run into target: model file, then run.json by atomic replace, then tidy up."""
    target.mkdir(parents=True, exist_ok=True)
    _readable_by_all(target)
    with FileLock(target / artifacts.LOCK_FILE):
        copied = target / model.name
        if (
            not copied.exists()
            or hashlib.sha256(copied.read_bytes()).hexdigest() != record["model"]["sha256"]
        ):
            temporary = target / f"{model.name}.{uuid.uuid4().hex}.tmp"
            shutil.copyfile(model, temporary)
            _readable_by_all(temporary)
            os.replace(temporary, copied)
        record_tmp = target / f"run-{uuid.uuid4().hex}.tmp"
        shutil.copyfile(source / artifacts.RECORD, record_tmp)
        _readable_by_all(record_tmp)
        os.replace(record_tmp, target / artifacts.RECORD)
        for path in target.iterdir():
            if path.name not in {artifacts.RECORD, artifacts.LOCK_FILE, model.name} and path.is_file():
                path.unlink()
        _readable_by_all(target / artifacts.LOCK_FILE)


def _write_checksums(destination: Path) -> None:
    """SHA256SUMS over every published run.json and model file, in `sha256sum -c` format."""
    lines = []
    for path in sorted(destination.glob("*/*/*")):
        if path.name == artifacts.RECORD or path.suffix == ".keras":
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            lines.append(f"{digest}  {path.relative_to(destination).as_posix()}\n")
    temporary = destination / f"{CHECKSUMS}.tmp"
    temporary.write_text("".join(lines), encoding="utf-8")
    _readable_by_all(temporary)
    os.replace(temporary, destination / CHECKSUMS)


def publish(destination: Path, names: tuple[str, ...] = tuple(artifacts.PRODUCED_BY)) -> list[PublishedRun]:
    """Publish every complete run of these names, in every mode, from this user's artifacts folder.

    A damaged run stops the publishing with its DamagedRunError before anything of it is copied;
    runs never saved are left out. Raises RunError when there is nothing to publish.
    """
    destination = destination.expanduser().resolve()
    own_root = settings.artifacts_dir().parent
    if own_root.resolve() == destination or destination in own_root.resolve().parents:
        raise RunError(
            f"The class folder {destination} holds your own artifacts folder {own_root}: "
            "publish into a folder of its own (e.g. DEST=/srv/mnist-class)."
        )
    found = []
    for mode in settings.MODES:
        for name in names:
            source = own_root / mode / name
            if (source / artifacts.RECORD).exists():
                record, model = artifacts.verified_run(name, source)
                found.append((mode, name, source, record, model))
    if not found:
        raise RunError(
            f"There are no saved runs in {own_root} to publish ({settings.describe_artifacts_setting()}). "
            "Train them first: `make series`, or notebooks 03 and 04 (and 08)."
        )
    destination.mkdir(parents=True, exist_ok=True)
    _readable_by_all(destination)
    published = []
    for mode, name, source, record, model in found:
        (destination / mode).mkdir(exist_ok=True)
        _readable_by_all(destination / mode)
        _publish_one(source, record, model, destination / mode / name)
        published.append(PublishedRun(mode, name, destination / mode / name))
    _write_checksums(destination)
    return published


def archive(destination: Path, archive_path: Path) -> Path:
    """A .tar.gz of a published class folder, to hand out; students unpack it and set MNIST_CLASS_RUNS."""
    archive_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = archive_path.with_name(f"{archive_path.name}.{uuid.uuid4().hex}.tmp")
    with tarfile.open(temporary, "w:gz") as tar:
        for path in sorted(destination.rglob("*")):
            if path.is_file() and path.name != artifacts.LOCK_FILE:
                tar.add(path, arcname=Path(destination.name, path.relative_to(destination)).as_posix())
    os.replace(temporary, archive_path)
    return archive_path


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--dest", type=Path, required=True, help="the class folder to write (created if missing)"
    )
    parser.add_argument("--archive", type=Path, help="also write this .tar.gz of the class folder")
    args = parser.parse_args()
    try:
        published = publish(args.dest)
    except (RunError, OSError) as error:
        print(f"Nothing was published: {error}", file=sys.stderr)
        return 1
    for run in published:
        print(f"{run.mode:5} {run.name:10} -> {run.folder}")
    destination = args.dest.expanduser().resolve()
    print(f"Students set MNIST_CLASS_RUNS={destination} (checksums: {destination / CHECKSUMS}).")
    if args.archive:
        print(f"Archive: {archive(destination, args.archive)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
