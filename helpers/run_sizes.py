"""How much each run mode trains: how many training images and epochs, in full mode and in quick mode.

Full mode trains the recipes as written: every training image, each recipe's
own epochs. Quick mode, for CI, trains a seeded subset for a few epochs.
"""

from __future__ import annotations

import numpy as np

from helpers import settings
from helpers.preprocess import PreparedSplit

# Quick mode: a seeded subset of the training images and a short run, for CI.
QUICK_TRAIN_IMAGES = 10_000
QUICK_EPOCHS = 3


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
