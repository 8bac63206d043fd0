"""Notebook 08's steps beyond the recipes, defined once here for its benchmark and tests.

Notebook 08 writes the final network, its augmentation and its optimizer out in
plain Keras in its own cells; tests/test_notebook_networks.py proves they are
the ones defined here. benchmarks/beyond_recipes.py trains every step; notebook
08 reads its stored results as helpers.beyond.stored_ladder (see helpers.ladder_study).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras
from keras import layers

from helpers.ladder_study import stored_ladder as stored_ladder  # notebook 08 calls it from here
from helpers.models import build_sequential_cnn, compile_with_adadelta

# Augmentation: each training image is turned by up to ±10.8° (0.03 of a full turn),
# moved by up to 10 % of its size (2.8 pixels) each way and zoomed by up to ±10 %.
ROTATION, SHIFT, ZOOM = 0.03, 0.1, 0.1
# AdamW with a one-cycle schedule: one epoch of warm-up from PEAK / 25 to PEAK, then cosine decay to 0.
PEAK_LEARNING_RATE, WEIGHT_DECAY = 3e-3, 1e-4
# Early stopping: stop when the validation loss has not improved for this many epochs.
PATIENCE = 3
# How far batch normalization's running averages, used when predicting, move towards each batch's statistics.
# Keras's default, 0.99, still remembers its starting variance of 1 after a few hundred updates, far above the
# first layer's real variance of about 0.01, so with it short runs score near chance on the validation set.
BN_MOMENTUM = 0.9


def augmentation() -> keras.Sequential:
    """Random turns, shifts and zooms, active only while training (float32: they only move pixels)."""
    return keras.Sequential(
        [
            layers.RandomRotation(ROTATION, fill_mode="constant", dtype="float32"),
            layers.RandomTranslation(SHIFT, SHIFT, fill_mode="constant", dtype="float32"),
            layers.RandomZoom(ZOOM, fill_mode="constant", dtype="float32"),
        ],
        name="augmentation",
    )


def _conv_bn_relu(x, filters: int, policy: str, padding: str = "same"):
    x = layers.Conv2D(filters, (3, 3), padding=padding, use_bias=False, dtype=policy)(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, dtype=policy)(x)
    return layers.Activation("relu", dtype=policy)(x)


def build_recipe_with_batch_norm(input_shape: tuple[int, int, int], policy: str = "float32") -> keras.Model:
    """Step 1: the Sequential recipe with batch normalization after each convolution and the Dense layer."""
    inputs = keras.Input(shape=input_shape)
    x = _conv_bn_relu(inputs, 32, policy, padding="valid")
    x = _conv_bn_relu(x, 64, policy, padding="valid")
    x = layers.MaxPooling2D((2, 2), dtype=policy)(x)
    x = layers.Dropout(0.25, dtype=policy)(x)
    x = layers.Flatten(dtype=policy)(x)
    x = layers.Dense(128, use_bias=False, dtype=policy)(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, dtype=policy)(x)
    x = layers.Activation("relu", dtype=policy)(x)
    x = layers.Dropout(0.5, dtype=policy)(x)
    outputs = layers.Dense(10, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="recipe_with_batch_norm")


def build_compact_cnn(
    input_shape: tuple[int, int, int], policy: str = "float32", augment: bool = True
) -> keras.Model:
    """Steps 2 on: three conv blocks, pooling after the first two, so later layers see 14x14 and 7x7 maps."""
    inputs = keras.Input(shape=input_shape)
    x = augmentation()(inputs) if augment else inputs
    x = _conv_bn_relu(x, 32, policy)
    x = layers.MaxPooling2D((2, 2), dtype=policy)(x)
    x = _conv_bn_relu(x, 48, policy)
    x = layers.MaxPooling2D((2, 2), dtype=policy)(x)
    x = _conv_bn_relu(x, 96, policy)
    x = layers.Flatten(dtype=policy)(x)
    x = layers.Dropout(0.4, dtype=policy)(x)
    outputs = layers.Dense(10, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="compact_cnn")


def one_cycle(steps_per_epoch: int, epochs: int) -> keras.optimizers.schedules.LearningRateSchedule:
    """One epoch of linear warm-up to PEAK_LEARNING_RATE, then cosine decay to 0 at the last step."""
    if steps_per_epoch < 1 or epochs < 1:
        raise ValueError(
            f"steps_per_epoch and epochs must be at least 1, got {steps_per_epoch} and {epochs}."
        )
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=PEAK_LEARNING_RATE / 25,
        warmup_target=PEAK_LEARNING_RATE,
        warmup_steps=steps_per_epoch,
        decay_steps=max(1, steps_per_epoch * (epochs - 1)),
    )


def compile_with_adamw(model: keras.Model, steps_per_epoch: int, epochs: int) -> keras.Model:
    """AdamW on the one-cycle schedule, the recipes' loss and metric."""
    model.compile(
        optimizer=keras.optimizers.AdamW(
            learning_rate=one_cycle(steps_per_epoch, epochs), weight_decay=WEIGHT_DECAY
        ),
        loss=keras.losses.categorical_crossentropy,
        metrics=["accuracy"],
    )
    return model


@dataclass(frozen=True)
class Step:
    """One rung of the ladder: what changes, how the network is built and compiled."""

    name: str
    change: str
    build: Callable[[tuple[int, int, int], str], keras.Model]
    compile: Callable[[keras.Model, int, int], keras.Model]
    batch_size: int = 128
    early_stopping: bool = False


def _adadelta(model: keras.Model, steps_per_epoch: int, epochs: int) -> keras.Model:
    return compile_with_adadelta(model)


def _compact_without_augmentation(input_shape: tuple[int, int, int], policy: str) -> keras.Model:
    return build_compact_cnn(input_shape, policy, augment=False)


STEPS = (
    Step("recipe", "the Sequential recipe as written", build_sequential_cnn, _adadelta),
    Step("batch-norm", "+ batch normalization", build_recipe_with_batch_norm, _adadelta),
    Step("compact", "3 smaller conv blocks, pooling early", _compact_without_augmentation, _adadelta),
    Step("augmentation", "+ turns, shifts and zooms", build_compact_cnn, _adadelta),
    Step("adamw", "+ AdamW, one-cycle schedule", build_compact_cnn, compile_with_adamw),
    Step(
        "final",
        "+ more epochs, early stopping on validation loss",
        build_compact_cnn,
        compile_with_adamw,
        early_stopping=True,
    ),
)
# Each step by its name, for the benchmark's command line.
STEPS_BY_NAME = {step.name: step for step in STEPS}
