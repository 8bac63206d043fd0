"""The two write-ups' training recipes: epochs, batch size, learning rate, published accuracy, and compile."""

from __future__ import annotations

from dataclasses import dataclass

import keras


@dataclass(frozen=True)
class Recipe:
    """One write-up's training settings as it published them; notebook 03 or 04 trains by them.

    The notebooks' checks cells hold their pages' settings to these, and saved
    runs record them; the benchmarks train by the pages' own (lesson_recipe).
    """

    name: str
    epochs: int
    batch_size: int
    published_accuracy: float
    learning_rate: float = 1.0  # old Keras's Adadelta default; see compile_with_adadelta


SEQUENTIAL = Recipe("sequential", epochs=20, batch_size=128, published_accuracy=0.9922)
FUNCTIONAL = Recipe("functional", epochs=12, batch_size=500, published_accuracy=0.9906)


def compile_with_adadelta(model: keras.Model, learning_rate: float = 1.0) -> keras.Model:
    """Compile as both recipes do: Adadelta, categorical cross-entropy, accuracy.

    The recipes were written for old Keras, whose Adadelta() started at learning
    rate 1.0. Keras 3's default is 0.001, which leaves these models stuck near
    chance, so the series passes 1.0 explicitly.
    """
    model.compile(
        optimizer=keras.optimizers.Adadelta(learning_rate=learning_rate),
        loss=keras.losses.categorical_crossentropy,
        metrics=["accuracy"],
    )
    return model
