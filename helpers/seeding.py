"""One seed for Python, NumPy and TensorFlow, so that a notebook's runs repeat."""

from __future__ import annotations

import keras

from helpers import settings


def seed_everything(seed: int = settings.SEED) -> None:
    """Seed Python, NumPy and TensorFlow so a run's weights and shuffles repeat."""
    keras.utils.set_random_seed(seed)
