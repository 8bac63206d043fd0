"""How much each run mode trains: training images and epochs, for the lessons and for their exercises.

full   the recipes as written: every training image, each recipe's own epochs;
quick  a class that cannot wait: a seeded subset and a few epochs;
smoke  the test suite (nbval in make test): just enough training that every cell runs
       and every check has a network that learnt something to look at.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from helpers import settings
from helpers.preprocess import PreparedSplit


class RunSize(NamedTuple):
    """What one mode trains; None means "as the recipe says" (all images, its own epochs)."""

    train_images: int | None
    epochs: int | None
    exercise_images: int
    exercise_epochs: int | None
    exercise_test_images: int


SIZES = {
    "full": RunSize(None, None, 10_000, None, 10_000),
    "quick": RunSize(10_000, 3, 1_000, 2, 2_000),
    "smoke": RunSize(6_000, 2, 500, 1, 1_000),
}


class ExerciseSize(NamedTuple):
    """How much an exercise's solution trains and scores, so that each runs in seconds."""

    images: int
    epochs: int
    test_images: int


def run_size() -> RunSize:
    """The sizes of the current mode (MNIST_SERIES_MODE)."""
    return SIZES[settings.mode()]


def epochs_for_mode(full_epochs: int) -> int:
    """The epochs to train for: `full_epochs` (a recipe's own) in full mode, fewer in quick and smoke mode."""
    if full_epochs < 1:
        raise ValueError(f"full_epochs must be at least 1, got {full_epochs}.")
    epochs = run_size().epochs
    return full_epochs if epochs is None else min(epochs, full_epochs)


def training_split_for_mode(split: PreparedSplit, seed: int = settings.SEED) -> PreparedSplit:
    """All training images in full mode; a seeded random subset in quick and smoke mode."""
    wanted = run_size().train_images
    if wanted is None or len(split.images) <= wanted:
        return split
    chosen = np.sort(np.random.default_rng(seed).choice(len(split.images), wanted, replace=False))
    return split.select(chosen)


def exercise_size(full_epochs: int = 3) -> ExerciseSize:
    """The exercises' training images, epochs (`full_epochs` in full mode) and test images in this mode."""
    size = run_size()
    epochs = full_epochs if size.exercise_epochs is None else size.exercise_epochs
    return ExerciseSize(size.exercise_images, epochs, size.exercise_test_images)
