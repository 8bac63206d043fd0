"""Notebook 08's plumbing: the stored study it shows, whole-pixel shifts, and a network's multiply-adds.

08 writes its network, augmentation, schedule and shifted predictions in its
own cells. The study itself is trained by benchmarks/beyond_recipes.py (its
plan: benchmarks/study_plan.py), which writes the results files read here.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import keras
import numpy as np
from keras import layers

from helpers.settings import PROJECT_ROOT

# Where benchmarks/beyond_recipes.py's results are kept: in a clone, and (the same files, linked in git)
# inside the helpers package, so that helpers installed without the clone (Colab) can show them too.
RESULTS_FOLDERS = (PROJECT_ROOT / "benchmarks" / "results", Path(__file__).resolve().parent / "study")
STUDY, TIMING = "beyond_recipes.json", "beyond_timing_float32.json"
MAKE = {
    STUDY: "MNIST_PRECISION=float32 python benchmarks/beyond_recipes.py --jobs 2 "
    "--json benchmarks/results/beyond_recipes.json (about 65 minutes on a 2-core CPU)",
    TIMING: "MNIST_PRECISION=float32 python benchmarks/beyond_recipes.py --steps augmentation --seeds 1 "
    "--no-sweep --json benchmarks/results/beyond_timing_float32.json (about 5 minutes)",
}


def _stored(name: str) -> dict:
    for folder in RESULTS_FOLDERS:
        if (folder / name).is_file():
            return json.loads((folder / name).read_text())
    raise FileNotFoundError(
        f"{name} is missing from {' and '.join(map(str, RESULTS_FOLDERS))}: restore it with git, "
        f"or measure it again with `{MAKE[name]}`."
    )


def stored_ladder() -> dict:
    """The benchmark's stored study of every step and the sweep: its date, CPU, runs and tables."""
    return _stored(STUDY)


def stored_timing() -> dict:
    """The final network trained alone in float32 with all cores, to time it: the benchmark's report."""
    return _stored(TIMING)


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


def forward_multiply_adds(model: keras.Model) -> int:
    """Multiply-adds of one image's forward pass through the model's convolutions and Dense layers."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D | layers.Dense):
            positions = math.prod(layer.output.shape[1:]) // layer.kernel.shape[-1]  # pixels; 1 for Dense
            total += positions * math.prod(layer.kernel.shape)
    return total
