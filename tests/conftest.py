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
