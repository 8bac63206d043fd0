"""Runs are saved all or nothing, and a missing run says which notebook makes it."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from helpers import artifacts


def tiny_model(seed):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    return model


HISTORY = {"loss": [0.9, 0.5], "val_loss": [0.8, 0.6]}


def test_round_trip(clean_settings):
    model = tiny_model(1)
    folder = artifacts.save_run("sequential", model, HISTORY, {"epochs": 2})
    assert folder == artifacts.run_dir("sequential")
    record = artifacts.load_history("sequential")
    assert record == {"history": HISTORY, "info": {"epochs": 2}}
    loaded = artifacts.load_model("sequential")
    x = np.ones((2, 4), dtype="float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_missing_run_names_the_notebook(clean_settings):
    with pytest.raises(FileNotFoundError, match="Run 04_functional_cnn.ipynb first"):
        artifacts.load_model("functional")
    with pytest.raises(FileNotFoundError, match="Run 03_sequential_cnn.ipynb first"):
        artifacts.load_history("sequential")


def test_interrupted_save_keeps_the_previous_run(clean_settings, monkeypatch):
    artifacts.save_run("sequential", tiny_model(1), HISTORY, {"run": "first"})

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(artifacts.json, "dumps", interrupted)  # dies after model.keras is written
        artifacts.save_run("sequential", tiny_model(2), {"loss": [0.1]}, {"run": "second"})

    folder = artifacts.run_dir("sequential")
    assert json.loads((folder / "history.json").read_text())["info"] == {"run": "first"}
    assert sorted(p.name for p in folder.parent.iterdir()) == ["sequential"]  # no half-written folder


def test_interrupted_first_save_leaves_nothing_to_load(clean_settings, monkeypatch):
    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(keras.Model, "save", interrupted)
        artifacts.save_run("functional", tiny_model(1), HISTORY, {})
    with pytest.raises(FileNotFoundError):
        artifacts.load_model("functional")


def test_leftovers_of_a_killed_save_are_cleared(clean_settings):
    parent = artifacts.run_dir("sequential").parent
    (parent / ".sequential-new-abc123").mkdir(parents=True)
    artifacts.save_run("sequential", tiny_model(1), HISTORY, {})
    assert sorted(p.name for p in parent.iterdir()) == ["sequential"]
