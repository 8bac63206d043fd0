"""The two recipes' saved runs: what a run records, and loading both by the titles the notebooks show."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras

from helpers import artifacts, settings
from helpers.epoch_timing import EpochTimer
from helpers.preprocess import PreparedSplit
from helpers.recipes import FUNCTIONAL, SEQUENTIAL, Recipe

# The recipes as the notebooks name them on screen, and the name each run is saved under.
TITLES = {"Sequential": SEQUENTIAL.name, "functional": FUNCTIONAL.name}


def run_info(
    recipe: Recipe,
    model: keras.Model,
    epoch_seconds: Sequence[float],
    training_images: int,
    test_loss: float,
    test_accuracy: float,
) -> dict[str, Any]:
    """What later notebooks and benchmarks read about a trained recipe: its settings, mode and results."""
    return {
        "recipe": recipe.name,
        "mode": settings.mode(),
        "epochs": len(epoch_seconds),
        "batch_size": recipe.batch_size,
        "learning_rate": recipe.learning_rate,
        # the policy the model computes in, e.g. 'mixed_bfloat16': its first layer with weights
        "dtype_policy": next(layer for layer in model.layers if layer.weights).dtype_policy.name,
        "training_images": training_images,
        "test_loss": float(test_loss),
        "test_accuracy": float(test_accuracy),
        "epoch_seconds": [round(seconds, 2) for seconds in epoch_seconds],
    }


def save_recipe_run(
    recipe: Recipe,
    model: keras.Model,
    history: keras.callbacks.History,
    timer: EpochTimer,
    train_split: PreparedSplit,
    test_loss: float,
    test_accuracy: float,
) -> Path:
    """Save a notebook's trained recipe network with its history and run_info, for notebooks 05 to 08."""
    info = run_info(recipe, model, timer.seconds, len(train_split.images), test_loss, test_accuracy)
    return artifacts.save_run(recipe.name, model, history.history, info)


def load_recipe_networks() -> dict[str, keras.Model]:
    """Both recipes' trained networks, by title (run helpers.require_runs first for a clear message)."""
    return {title: artifacts.load_model(name) for title, name in TITLES.items()}


def load_recipe_records() -> dict[str, dict[str, Any]]:
    """Both recipes' saved histories and run_info, by title."""
    return {title: artifacts.load_history(name) for title, name in TITLES.items()}


def saved_test_accuracy(title: str) -> float:
    """The test accuracy a recipe's network had when its notebook trained it."""
    return float(artifacts.load_history(TITLES[title])["info"]["test_accuracy"])
