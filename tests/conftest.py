"""Shared fixtures: the real MNIST arrays, and an environment free of the series' settings."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import helpers  # noqa: E402  (imports TensorFlow quietly, before any test module does)
from helpers import data  # noqa: E402

SETTINGS = ("MNIST_SERIES_MODE", "MNIST_PRECISION", "MNIST_ARTIFACTS")


@pytest.fixture(scope="session")
def real_npz_path():
    """The verified mnist.npz the suite runs on (MNIST_NPZ, else the Keras cache)."""
    helpers.load_mnist()  # fails with the fix in its message if no source has MNIST
    return data.find_local_copy() or data.keras_cache_path()


@pytest.fixture(scope="session")
def real_arrays(real_npz_path):
    with np.load(real_npz_path, allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


@pytest.fixture
def clean_settings(monkeypatch, tmp_path):
    """No series setting from the outer environment; artifacts go to a temporary folder."""
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MNIST_ARTIFACTS", str(tmp_path / "artifacts"))
    return monkeypatch


# --- Saved runs (helpers.artifacts): one tiny model and history for every artifact test ---------------

HISTORY = {"loss": [0.9, 0.5], "val_loss": [0.8, 0.6]}  # what the artifact tests save as a run's history


def _tiny_model(seed: int):
    """A four-input softmax layer: saves and loads in milliseconds, its weights fixed by the seed."""
    import keras  # here, so that this block stands on its own

    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])


@pytest.fixture(scope="session")
def tiny_model():
    """tiny_model(seed) builds the tiny model the artifact tests save and load."""
    return _tiny_model


@pytest.fixture
def run_history():
    """A fresh copy of HISTORY, the per-epoch history the artifact tests save."""
    return {metric: list(values) for metric, values in HISTORY.items()}
