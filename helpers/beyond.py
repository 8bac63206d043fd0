"""Notebook 08's network beyond the recipes, and the study's steps, defined once for its benchmark and tests.

Notebook 08 writes the final network, its augmentation, its schedule and its
shifted predictions out in plain Keras in its own cells;
tests/test_notebook_networks.py and tests/test_beyond.py prove they are the ones
defined here. benchmarks/beyond_recipes.py trains every step and the sweep;
notebook 08 reads its stored results as helpers.beyond.stored_ladder (see
helpers.ladder_study).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import keras
import numpy as np
from keras import layers, ops

from helpers.ladder_study import stored_ladder as stored_ladder  # notebook 08 calls them from here
from helpers.ladder_study import stored_timing as stored_timing

# Augmentation: each training image is turned by up to ±10°, moved by up to 2 pixels each way and zoomed by up
# to ±10 %, all in one resampling.
ROTATION_DEGREES, SHIFT_PIXELS, ZOOM = 10.0, 2.0, 0.1
# The convolutions' widths: two at 26 and 24 pixels, pooling, two at 10 and 8, pooling, one at 2.
WIDTHS = (16, 32, 32, 48, 64)
# Dropout before the output layer (0: none).
DROPOUT = 0.0
# AdamW: the peak learning rate is reached after a quarter of the run, then falls along a cosine to 0.
PEAK_LEARNING_RATE, WEIGHT_DECAY, WARMUP_FRACTION = 3e-3, 5e-4, 0.25
# Label smoothing: the targets are 0.91 for the right digit and 0.01 for each other one.
LABEL_SMOOTHING = 0.1
# The study's moving average of the weights spans about the last 1,000 updates (each moves it 0.1 %).
EMA_MOMENTUM = 0.999
BATCH_SIZE, EPOCHS = 128, 12
# How far batch normalization's running averages, used when predicting, move towards each batch's statistics.
# Keras's default, 0.99, still remembers its starting variance of 1 after a few hundred updates, far above the
# first layer's real variance of about 0.01, so with it short runs score near chance on the validation set.
BN_MOMENTUM = 0.9
# Test-time shifts: the image itself and its copies moved by one pixel left, right, up and down.
SHIFTS = ((0, 0), (0, -1), (0, 1), (-1, 0), (1, 0))


# Reference points notebook 08 draws beside its study: the recipes as the series trains them (test accuracy,
# mean of 10 seeds; their minutes are 20 and 12 float32 epochs of the recipes' own code on a 2-core AMD EPYC
# with AVX-512 BF16, benchmarks/README.md, Training speed), and published networks, which give no cost here.
ANCHORS = (
    {"name": "Sequential recipe", "accuracy": 0.9921, "tflop": 86.3, "minutes": 12.9},  # 20 x 38.7 s
    {"name": "functional recipe", "accuracy": 0.9902, "tflop": 51.1, "minutes": 4.1},  # 12 x 20.5 s
    {"name": "Deotte, one network", "accuracy": 0.9964},  # mean over many runs
    {"name": "Deotte, 15 networks", "accuracy": 0.9975},
)


@keras.saving.register_keras_serializable(package="mnist_cnn_notebooks")
class RandomAffine(layers.Layer):
    """A random turn, zoom and shift of each image, in one resampling, only while training."""

    def __init__(self, degrees: float, pixels: float, zoom: float, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.degrees, self.pixels, self.zoom, self.seed = degrees, pixels, zoom, seed
        self.generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=False):
        if not training:
            return images
        count = ops.shape(images)[0]

        def uniform():  # one number in [-1, 1) per image
            return keras.random.uniform((count,), -1.0, 1.0, seed=self.generator)

        angle = uniform() * math.radians(self.degrees)
        scale = 1.0 + uniform() * self.zoom
        dx, dy = uniform() * self.pixels, uniform() * self.pixels
        # For each output pixel, where to read the input: turn back, unzoom, about the centre.
        data_format = keras.config.image_data_format()
        centre = (images.shape[2 if data_format == "channels_first" else 1] - 1) / 2
        cos, sin = ops.cos(angle) / scale, ops.sin(angle) / scale
        x_from = centre - cos * (centre + dx) - sin * (centre + dy)
        y_from = centre + sin * (centre + dx) - cos * (centre + dy)
        zero = ops.zeros_like(cos)
        transforms = ops.stack([cos, sin, x_from, -sin, cos, y_from, zero, zero], axis=1)
        return ops.image.affine_transform(images, transforms, fill_mode="constant", data_format=data_format)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "degrees": self.degrees,
            "pixels": self.pixels,
            "zoom": self.zoom,
            "seed": self.seed,
        }


def augmentation(strength: float = 1.0, seed: int | None = None) -> RandomAffine:
    """The final network's augmentation, its turn, shift and zoom times `strength` (float32: moves pixels)."""
    return RandomAffine(
        ROTATION_DEGREES * strength, SHIFT_PIXELS * strength, ZOOM * strength, seed=seed, dtype="float32"
    )


def _conv(x, filters: int, policy: str, pool: bool):
    """A 3x3 convolution without padding, then max pooling if asked, batch normalization and ReLU."""
    x = layers.Conv2D(filters, (3, 3), use_bias=False, dtype=policy)(x)
    if pool:
        x = layers.MaxPooling2D((2, 2), dtype=policy)(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, dtype=policy)(x)
    return layers.Activation("relu", dtype=policy)(x)


def build_compact_cnn(
    input_shape: tuple[int, int, int],
    policy: str = "float32",
    augment: bool = True,
    strength: float = 1.0,
    widths: tuple[int, ...] = WIDTHS,
    dropout: float = DROPOUT,
) -> keras.Model:
    """Five small convolutions, pooling after the 2nd and 4th, then the channels' averages and the output."""
    if len(widths) != 5:
        raise ValueError(f"widths must give the 5 convolutions' filters, got {widths}.")
    inputs = keras.Input(shape=input_shape)
    x = augmentation(strength)(inputs) if augment else inputs
    for index, filters in enumerate(widths):
        x = _conv(x, filters, policy, pool=index in (1, 3))
    x = layers.GlobalAveragePooling2D(dtype=policy)(x)
    if dropout:
        x = layers.Dropout(dropout, dtype=policy)(x)
    outputs = layers.Dense(10, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="compact_cnn")


def warmup_cosine(
    total_updates: int, peak: float = PEAK_LEARNING_RATE, warmup_fraction: float = WARMUP_FRACTION
) -> keras.optimizers.schedules.LearningRateSchedule:
    """A linear rise from peak / 25 to `peak` over `warmup_fraction` of the run, then a cosine fall to 0."""
    if total_updates < 2 or not 0 < warmup_fraction < 1:
        raise ValueError(
            f"the schedule needs at least 2 updates and a warm-up fraction between 0 and 1, "
            f"got {total_updates} updates and {warmup_fraction}."
        )
    warmup = max(1, round(total_updates * warmup_fraction))
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=peak / 25,
        warmup_target=peak,
        warmup_steps=warmup,
        decay_steps=total_updates - warmup,
    )


def compile_compact(
    model: keras.Model,
    total_updates: int,
    peak: float = PEAK_LEARNING_RATE,
    weight_decay: float = WEIGHT_DECAY,
    label_smoothing: float = 0.0,
    ema: bool = False,
) -> keras.Model:
    """AdamW on the warm-up and cosine schedule, label smoothing, and the weights' moving average if `ema`."""
    model.compile(
        optimizer=keras.optimizers.AdamW(
            learning_rate=warmup_cosine(total_updates, peak),
            weight_decay=weight_decay,
            use_ema=ema,
            ema_momentum=EMA_MOMENTUM,
        ),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
        metrics=["accuracy"],
    )
    return model


def shifted(images: np.ndarray, down: int, right: int) -> np.ndarray:
    """The images moved by whole pixels, the uncovered border filled with 0 (in either image data format)."""
    rows = 2 if keras.config.image_data_format() == "channels_first" else 1
    pad = max(abs(down), abs(right))
    padding = [(0, 0)] * images.ndim
    padding[rows] = padding[rows + 1] = (pad, pad)
    window = [slice(None)] * images.ndim
    window[rows] = slice(pad - down, pad - down + images.shape[rows])
    window[rows + 1] = slice(pad - right, pad - right + images.shape[rows + 1])
    return np.pad(images, padding)[tuple(window)]


def predict_with_shifts(model: keras.Model, images: np.ndarray, batch_size: int = 250) -> np.ndarray:
    """The model's probabilities averaged over each image and its SHIFTS copies (test-time augmentation)."""
    return np.mean(
        [model.predict(shifted(images, *move), batch_size=batch_size, verbose=0) for move in SHIFTS], axis=0
    )


def forward_multiply_adds(model: keras.Model) -> int:
    """Multiply-adds of one image's forward pass through the model's convolutions and Dense layers."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D | layers.Dense):
            positions = math.prod(layer.output.shape[1:]) // layer.kernel.shape[-1]  # pixels; 1 for Dense
            total += positions * math.prod(layer.kernel.shape)
    return total


def training_tflop(model: keras.Model, images: int, epochs: int) -> float:
    """Training arithmetic in TFLOP: 6 x forward multiply-adds (forward and backward) x images x epochs."""
    return 6 * forward_multiply_adds(model) * images * epochs / 1e12


@dataclass(frozen=True)
class Step:
    """One run's settings: a step of the study, or a point of the sweep around the final network."""

    name: str
    change: str
    augment: bool = True
    strength: float = 1.0
    widths: tuple[int, ...] = WIDTHS
    dropout: float = DROPOUT
    peak: float = PEAK_LEARNING_RATE
    weight_decay: float = WEIGHT_DECAY
    label_smoothing: float = 0.0
    ema: bool = False
    epochs: int = EPOCHS
    sweep: dict = field(default_factory=dict)  # for a sweep point: the one setting it changes, and its value

    def build(self, input_shape: tuple[int, int, int], policy: str = "float32") -> keras.Model:
        """A fresh network with this step's layers."""
        return build_compact_cnn(input_shape, policy, self.augment, self.strength, self.widths, self.dropout)

    def compile(self, model: keras.Model, total_updates: int) -> keras.Model:
        """Compile `model` with this step's optimizer and loss."""
        return compile_compact(
            model, total_updates, self.peak, self.weight_decay, self.label_smoothing, self.ema
        )


# The steps, each adding one idea to the one before; all train EPOCHS epochs and are scored after the last,
# with the test-time shifts. The final network is the step with the best mean validation accuracy over its
# seeds: the augmentation step; label smoothing and the weights' average did not raise it.
STEPS = (
    Step("compact", "compact network, AdamW", augment=False),
    Step("augmentation", "+ random turn, shift and zoom: the final network"),
    Step("smoothing", "+ label smoothing", label_smoothing=LABEL_SMOOTHING),
    Step("ema", "+ moving average of the weights", label_smoothing=LABEL_SMOOTHING, ema=True),
)
FINAL = STEPS[1]


def _point(setting: str, value, **changes) -> Step:
    return replace(
        FINAL, name=f"{setting} {value}", change=f"{setting} = {value}", sweep={setting: value}, **changes
    )


# The sweep: the final network with one setting changed, seed 1; the final network itself is the centre.
SWEEP = (
    _point("peak learning rate", 1.5e-3, peak=1.5e-3),
    _point("peak learning rate", 6e-3, peak=6e-3),
    _point("weight decay", 1e-4, weight_decay=1e-4),
    _point("weight decay", 2e-3, weight_decay=2e-3),
    _point("augmentation strength", 0.5, strength=0.5),
    _point("augmentation strength", 1.5, strength=1.5),
    _point("dropout", 0.2, dropout=0.2),
    _point("widths", "12-24-24-36-48", widths=(12, 24, 24, 36, 48)),
    _point("epochs", 8, epochs=8),
)
# Every step and sweep point by its name, for the benchmark's command line.
STEPS_BY_NAME = {step.name: step for step in (*STEPS, *SWEEP)}
