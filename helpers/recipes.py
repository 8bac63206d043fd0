"""The two write-ups' training recipes: network, epochs, batch size and published accuracy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras

from helpers.models import build_functional_cnn, build_sequential_cnn


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
