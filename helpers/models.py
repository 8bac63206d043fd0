"""The reference definitions of the series' two networks, layer for layer as their recipes wrote them.

Benchmarks and tests build the networks from here. Notebooks 03 and 04 write
the same networks out in plain Keras in their own cells, where students read
and edit them; a test (tests/test_notebook_networks.py) proves the two agree.
Both builders take a Keras dtype policy. Under ``mixed_bfloat16`` every layer
computes in bfloat16 except the softmax output, which stays float32 so that
the probabilities and the loss keep their full precision.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import layers


def build_sequential_cnn(input_shape: tuple[int, int, int], policy: str = "float32") -> keras.Sequential:
    """Recipe 1: two convolutions, 2x2 pooling, dropout, Dense(128) (1,199,882 weights)."""
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu", dtype=policy),
            layers.Conv2D(64, (3, 3), activation="relu", dtype=policy),
            layers.MaxPooling2D(pool_size=(2, 2), dtype=policy),
            layers.Dropout(0.25, dtype=policy),
            layers.Flatten(dtype=policy),
            layers.Dense(128, activation="relu", dtype=policy),
            layers.Dropout(0.5, dtype=policy),
            layers.Dense(10, activation="softmax", dtype="float32"),
        ],
        name="sequential_cnn",
    )


def build_functional_cnn(input_shape: tuple[int, int, int], policy: str = "float32") -> keras.Model:
    """Recipe 2: two convolutions, 3x3 pooling, dropout 0.5, Dense(250, sigmoid)."""
    inputs = keras.Input(shape=input_shape, name="digit_image")
    x = layers.Conv2D(32, kernel_size=(3, 3), activation="relu", dtype=policy)(inputs)
    x = layers.Conv2D(64, (3, 3), activation="relu", dtype=policy)(x)
    x = layers.MaxPooling2D(pool_size=(3, 3), dtype=policy)(x)
    x = layers.Dropout(0.5, dtype=policy)(x)
    x = layers.Flatten(dtype=policy)(x)
    x = layers.Dense(250, activation="sigmoid", dtype=policy)(x)
    outputs = layers.Dense(10, activation="softmax", dtype="float32", name="digit_probabilities")(x)
    return keras.Model(inputs, outputs, name="functional_cnn")


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


def architecture(model: keras.Model) -> list[tuple[str, dict[str, Any], tuple[int | None, ...], int]]:
    """Each layer's type, settings (its config without names), output shape and parameter count.

    Two models with equal architectures are the same network, whatever their
    layers are called: tests use this to prove that the networks written out in
    notebooks 03 and 04 are the reference builders above, layer for layer.
    """
    plan = []
    for layer in model.layers:
        config = _without_names(layer.get_config())
        plan.append((layer.__class__.__name__, config, tuple(layer.output.shape), layer.count_params()))
    return plan


def _without_names(config: Any) -> Any:
    """A layer config without the layer's name, nor those of the layers nested inside it.

    A dtype policy is kept whole: its name ("float32", "mixed_bfloat16") is a setting.
    """
    if isinstance(config, dict):
        if "DTypePolicy" in str(config.get("class_name", "")):
            return config
        return {key: _without_names(value) for key, value in config.items() if key != "name"}
    if isinstance(config, list):
        return [_without_names(value) for value in config]
    return config
