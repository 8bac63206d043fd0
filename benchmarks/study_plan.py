"""The plan of notebook 08's study: its steps, the sweep around the final network, and how each run trains.

benchmarks/beyond_recipes.py trains every run of this plan; each builds notebook
08's own network (its cell tagged "network", through lesson_networks.py) with
the step's variant, and compiles it with the step's optimizer and loss. Notebook
08 shows the stored results (helpers.beyond.stored_ladder) and writes the final
network's training in its own cells; the batch size, epochs, peak learning rate,
weight decay and test-time shifts are read from those cells (tagged "recipe").
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from lesson_networks import build, lesson, page_recipe

if TYPE_CHECKING:  # imported at run time, after helpers, which imports TensorFlow quietly
    import keras

# 08's own recipe, from its cells tagged "recipe": batch size, epochs, AdamW's peak learning rate and
# weight decay, and the test-time shifts (the image and its copies moved one pixel left, right, up, down).
_PAGE = page_recipe("beyond")
BATCH_SIZE, EPOCHS = _PAGE["BATCH_SIZE"], _PAGE["EPOCHS"]
PEAK_LEARNING_RATE, WEIGHT_DECAY = _PAGE["PEAK_LEARNING_RATE"], _PAGE["WEIGHT_DECAY"]
SHIFTS = tuple(_PAGE["SHIFTS"])
# The probabilities averaged over each image and its SHIFTS copies: predict_with_shifts(model, images).
predict_with_shifts = _PAGE["predict_with_shifts"]
# The final network's widths, the default of 08's build_network: two convolutions at 26 and 24 pixels,
# pooling, two at 10 and 8, pooling, one at 2.
WIDTHS = inspect.signature(lesson("beyond")["build_network"]).parameters["widths"].default
# The peak learning rate is reached after a quarter of the run, then falls along a cosine to 0, as in
# 08's schedule cell (tests/test_beyond.py runs that cell and compares).
WARMUP_FRACTION = 0.25
# Label smoothing: the targets are 0.91 for the right digit and 0.01 for each other one.
LABEL_SMOOTHING = 0.1
# The study's moving average of the weights spans about the last 1,000 updates (each moves it 0.1 %).
EMA_MOMENTUM = 0.999


def warmup_cosine(
    total_updates: int, peak: float = PEAK_LEARNING_RATE, warmup_fraction: float = WARMUP_FRACTION
) -> keras.optimizers.schedules.LearningRateSchedule:
    """A linear rise from peak / 25 to `peak` over `warmup_fraction` of the run, then a cosine fall to 0."""
    import keras

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


def training_tflop(model: keras.Model, images: int, epochs: int) -> float:
    """Training arithmetic in TFLOP: 6 x forward multiply-adds (forward and backward) x images x epochs."""
    from helpers.beyond import forward_multiply_adds

    return 6 * forward_multiply_adds(model) * images * epochs / 1e12


@dataclass(frozen=True)
class Step:
    """One run's settings: a step of the study, or a point of the sweep around the final network."""

    name: str
    change: str
    augment: bool = True
    strength: float = 1.0
    widths: tuple[int, ...] = WIDTHS
    dropout: float = 0.0
    peak: float = PEAK_LEARNING_RATE
    weight_decay: float = WEIGHT_DECAY
    label_smoothing: float = 0.0
    ema: bool = False
    epochs: int = EPOCHS
    sweep: dict = field(default_factory=dict)  # for a sweep point: the one setting it changes, and its value

    def build(self, policy: str = "float32") -> keras.Model:
        """A fresh copy of notebook 08's network with this step's widths, dropout and augmentation."""
        strength = self.strength if self.augment else 0.0
        return build("beyond", policy, widths=self.widths, dropout=self.dropout, strength=strength)

    def compile(self, model: keras.Model, total_updates: int) -> keras.Model:
        """AdamW on the warm-up and cosine schedule, label smoothing, and the weights' average if `ema`."""
        import keras

        model.compile(
            optimizer=keras.optimizers.AdamW(
                learning_rate=warmup_cosine(total_updates, self.peak),
                weight_decay=self.weight_decay,
                use_ema=self.ema,
                ema_momentum=EMA_MOMENTUM,
            ),
            loss=keras.losses.CategoricalCrossentropy(label_smoothing=self.label_smoothing),
            metrics=["accuracy"],
        )
        return model


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
