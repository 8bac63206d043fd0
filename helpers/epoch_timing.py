"""How long training epochs take: a callback that times each one, and the typical time of a run."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np


class EpochTimer(keras.callbacks.Callback):
    """Records the wall-clock seconds of each epoch, validation included."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        self.seconds.append(time.perf_counter() - self._start)


def median_epoch_seconds(epoch_seconds: Sequence[float]) -> float:
    """Typical seconds per epoch: the median of the epochs after the first.

    The first epoch also traces and compiles the training step, so it is left
    out whenever there is more than one.
    """
    if not epoch_seconds:
        raise ValueError("no epoch timings: train for at least one epoch first.")
    return float(np.median(epoch_seconds[1:] or epoch_seconds))
