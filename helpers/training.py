"""The two training recipes and the one path that trains them, in full or quick mode."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from helpers import settings
from helpers.models import build_functional_cnn, build_sequential_cnn
from helpers.preprocess import PreparedSplit

# Quick mode: a seeded subset of the training images and a short run, for CI.
QUICK_TRAIN_IMAGES = 10_000
QUICK_EPOCHS = 3
EVALUATION_BATCH = 1000


@dataclass(frozen=True)
class Recipe:
    """One write-up's training settings, kept exactly as it gave them."""

    name: str
    build: Callable[..., keras.Model]
    epochs: int
    batch_size: int
    published_accuracy: float
    learning_rate: float = 1.0  # old Keras's Adadelta default; see compile_with_adadelta


SEQUENTIAL = Recipe("sequential", build_sequential_cnn, epochs=20, batch_size=128, published_accuracy=0.9922)
FUNCTIONAL = Recipe("functional", build_functional_cnn, epochs=12, batch_size=500, published_accuracy=0.9906)
# Each recipe by its name, for scripts that take recipe names on the command line.
RECIPES = {recipe.name: recipe for recipe in (SEQUENTIAL, FUNCTIONAL)}


def seed_everything(seed: int = settings.SEED) -> None:
    """Seed Python, NumPy and TensorFlow so a run's weights and shuffles repeat."""
    keras.utils.set_random_seed(seed)


def epochs_for_mode(full_epochs: int) -> int:
    """The epochs to train for: `full_epochs` (a recipe's own) in full mode, QUICK_EPOCHS in quick mode."""
    if full_epochs < 1:
        raise ValueError(f"full_epochs must be at least 1, got {full_epochs}.")
    return min(QUICK_EPOCHS, full_epochs) if settings.is_quick() else full_epochs


def training_split_for_mode(split: PreparedSplit, seed: int = settings.SEED) -> PreparedSplit:
    """All training images in full mode; a seeded random subset in quick mode."""
    if not settings.is_quick() or len(split.images) <= QUICK_TRAIN_IMAGES:
        return split
    chosen = np.sort(np.random.default_rng(seed).choice(len(split.images), QUICK_TRAIN_IMAGES, replace=False))
    return split.select(chosen)


def batched_dataset(
    split: PreparedSplit, batch_size: int, shuffle_seed: int | None = None
) -> tf.data.Dataset:
    """A tf.data pipeline over in-memory arrays: shuffled each epoch if seeded, batched, prefetched.

    On the 2-core classroom CPU, tf.data's autotuner and its shared thread pool
    compete with the training step for the cores: epochs then take either about
    10 s or about 20 s at random (measured with the functional recipe). One
    private thread and a fixed prefetch of two batches keep every epoch at the
    fast time.
    """
    dataset = tf.data.Dataset.from_tensor_slices((split.images, split.targets))
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(split.images), seed=shuffle_seed, reshuffle_each_iteration=True)
    options = tf.data.Options()
    options.autotune.enabled = False
    options.threading.private_threadpool_size = 1
    return dataset.batch(batch_size).prefetch(2).with_options(options)


def compute_policy(model: keras.Model) -> str:
    """The dtype policy of the model's first layer with weights, e.g. 'mixed_bfloat16'."""
    return next(layer for layer in model.layers if layer.weights).dtype_policy.name


def median_epoch_seconds(epoch_seconds: Sequence[float]) -> float:
    """Typical seconds per epoch: the median of the epochs after the first.

    The first epoch also traces and compiles the training step, so it is left
    out whenever there is more than one.
    """
    if not epoch_seconds:
        raise ValueError("no epoch timings: train for at least one epoch first.")
    return float(np.median(epoch_seconds[1:] or epoch_seconds))


class EpochTimer(keras.callbacks.Callback):
    """Records the wall-clock seconds of each epoch, validation included."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        self.seconds.append(time.perf_counter() - self._start)


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
    info = {
        "recipe": recipe.name,
        "mode": settings.mode(),
        "epochs": epochs,
        "batch_size": recipe.batch_size,
        "learning_rate": recipe.learning_rate,
        "dtype_policy": compute_policy(model),
        "training_images": len(train_split.images),
        "test_loss": float(test_loss),
        "test_accuracy": float(test_accuracy),
        "epoch_seconds": [round(s, 2) for s in timer.seconds],
    }
    history = {key: [float(v) for v in values] for key, values in fit.history.items()}
    return TrainingRun(model, history, timer.seconds, float(test_loss), float(test_accuracy), info)
