"""The one path that trains a recipe as notebooks 03 and 04 do, for benchmarks and tests.

The network comes from the notebook's own cell (lesson_networks.py, beside this file).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras

from helpers import settings
from helpers.epoch_timing import EpochTimer
from helpers.input_pipeline import EVALUATION_BATCH, batched_dataset
from helpers.preprocess import PreparedSplit
from helpers.recipe_runs import run_info
from helpers.recipes import Recipe
from helpers.run_sizes import epochs_for_mode


@dataclass
class TrainingRun:
    """What one call of train() produced."""

    model: keras.Model
    history: dict[str, list[float]]
    epoch_seconds: list[float]
    test_loss: float
    test_accuracy: float
    info: dict[str, Any]


def train(
    recipe: Recipe,
    model: keras.Model,
    train_split: PreparedSplit,
    test_split: PreparedSplit,
    *,
    epochs: int | None = None,
    seed: int = settings.SEED,
    verbose: int = 2,
) -> TrainingRun:
    """Fit a compiled model as notebooks 03 and 04 do, for benchmarks and tests.

    The recipe's batch size, the mode's epochs (see epochs_for_mode) unless
    given, ``seed`` for the per-epoch shuffle. The test set is measured after
    each epoch, as the Sequential write-up's ``validation_data`` did (the
    functional write-up fit without it); that only records the curves and
    changes no weight.
    """
    if not model.compiled:
        raise ValueError("compile the model first, e.g. helpers.compile_with_adadelta(model).")
    epochs = epochs_for_mode(recipe.epochs) if epochs is None else epochs
    timer = EpochTimer()
    fit = model.fit(
        batched_dataset(train_split, recipe.batch_size, shuffle_seed=seed),
        epochs=epochs,
        validation_data=batched_dataset(test_split, EVALUATION_BATCH),
        callbacks=[timer],
        shuffle=False,  # batched_dataset already reshuffles every epoch
        verbose=verbose,
    )
    test_loss, test_accuracy = model.evaluate(batched_dataset(test_split, EVALUATION_BATCH), verbose=0)
    info = run_info(recipe, model, timer.seconds, len(train_split.images), test_loss, test_accuracy)
    history = {key: [float(v) for v in values] for key, values in fit.history.items()}
    return TrainingRun(model, history, timer.seconds, float(test_loss), float(test_accuracy), info)
