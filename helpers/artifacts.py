"""Save and load trained runs atomically, so a later notebook never loads half a run.

A run is a folder ``<artifacts>/<name>/`` holding ``model.keras`` and
``history.json``. It is written in full to a hidden temporary folder beside it
and only then renamed into place: if training or saving is interrupted, the
previous complete run (or none) stays where it was.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

import keras

from helpers import settings

MODEL_FILE = "model.keras"
HISTORY_FILE = "history.json"

# Which notebook produces each run, for the message when a run is missing.
PRODUCED_BY = {
    "sequential": "03_sequential_cnn.ipynb",
    "functional": "04_functional_cnn.ipynb",
}


def run_dir(name: str) -> Path:
    """The folder of a named run ('sequential' or 'functional') in the current mode."""
    return settings.artifacts_dir() / name


def _remove_leftovers(parent: Path, name: str) -> None:
    for leftover in parent.glob(f".{name}-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def save_run(name: str, model: keras.Model, history: dict[str, list[float]], info: dict[str, Any]) -> Path:
    """Write a model, its per-epoch history and facts about the run, all or nothing."""
    final = run_dir(name)
    final.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(final.parent, name)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-new-", dir=final.parent))
    try:
        model.save(staging / MODEL_FILE)
        record = {"history": {k: [float(v) for v in vs] for k, vs in history.items()}, "info": info}
        (staging / HISTORY_FILE).write_text(json.dumps(record, indent=2) + "\n")
        retired = None
        if final.exists():
            retired = final.parent / f".{name}-old-{uuid.uuid4().hex[:8]}"
            final.rename(retired)
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)
    return final


def _require(name: str, file_name: str) -> Path:
    path = run_dir(name) / file_name
    if not path.is_file():
        notebook = PRODUCED_BY.get(name, "the notebook that trains it")
        raise FileNotFoundError(
            f"No trained '{name}' run for {settings.mode()} mode at {path.parent}. "
            f"Run {notebook} first (in the same MNIST_SERIES_MODE); it saves the model "
            "and its history there."
        )
    return path


def load_history(name: str) -> dict[str, Any]:
    """The saved record of a run: {'history': {metric: [per epoch]}, 'info': {...}}."""
    return json.loads(_require(name, HISTORY_FILE).read_text())


def load_model(name: str) -> keras.Model:
    """The trained model of a run, ready to predict (loaded without its optimizer)."""
    _require(name, HISTORY_FILE)
    return keras.models.load_model(_require(name, MODEL_FILE), compile=False)
