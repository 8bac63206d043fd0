"""Notebook 08's building blocks: the augmentation, the one-cycle schedule, the stored study."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from helpers import beyond, ladder_study


def test_augmentation_changes_images_only_while_training():
    images = np.zeros((4, 28, 28, 1), dtype="float32")
    images[:, 8:20, 12:16, 0] = 1.0  # a vertical bar
    keras.utils.set_random_seed(1)
    augment = beyond.augmentation()
    np.testing.assert_array_equal(np.asarray(augment(images, training=False)), images)
    changed = np.asarray(augment(images, training=True))
    assert changed.shape == images.shape
    assert np.abs(changed - images).mean() > 0.005
    assert np.abs(changed.sum(axis=(1, 2, 3)) - images.sum(axis=(1, 2, 3))).max() < 0.5 * images[0].sum()


def test_one_cycle_warms_up_for_one_epoch_then_decays_to_zero():
    schedule = beyond.one_cycle(steps_per_epoch=100, epochs=5)
    rate = lambda step: float(schedule(step))  # noqa: E731
    start, peak = beyond.PEAK_LEARNING_RATE / 25, beyond.PEAK_LEARNING_RATE
    assert rate(0) == pytest.approx(start)
    assert rate(50) == pytest.approx((start + peak) / 2, rel=0.01)  # linear warm-up
    assert rate(100) == pytest.approx(peak)
    later = [rate(step) for step in range(100, 500, 50)]
    assert later == sorted(later, reverse=True)
    assert rate(500) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(("steps", "epochs"), [(0, 5), (100, 0)])
def test_one_cycle_refuses_empty_runs(steps, epochs):
    with pytest.raises(ValueError, match="at least 1"):
        beyond.one_cycle(steps, epochs)


def test_batch_normalization_follows_the_batches_quickly():
    model = beyond.build_compact_cnn((28, 28, 1))
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(norms) == 3 and all(layer.momentum == beyond.BN_MOMENTUM == 0.9 for layer in norms)


def test_a_missing_study_says_how_to_make_it(monkeypatch, tmp_path):
    monkeypatch.setattr(ladder_study, "LADDER_RESULTS", tmp_path / "beyond_recipes.json")
    with pytest.raises(FileNotFoundError, match="benchmarks/beyond_recipes.py --json"):
        beyond.stored_ladder()


def test_the_committed_study_covers_every_step():
    """Notebook 08 shows this file: a full run (not --short) with a row for every step and the ensembles."""
    study = json.loads(ladder_study.LADDER_RESULTS.read_text())
    assert study == beyond.stored_ladder() and not study["short"]
    assert (study["fit_images"], study["validation_images"]) == (55_000, 5_000)
    assert {run["step"] for run in study["runs"]} == {step.name for step in beyond.STEPS}
    finals = [run for run in study["runs"] if run["step"] == "final"]
    assert {run["budget"] for run in finals} == set(study["final_epochs"])
    assert all(len({run["seed"] for run in finals if run["budget"] == b}) >= 3 for b in study["final_epochs"])
    assert all("test_accuracy" not in run for run in study["runs"] if run["step"] != "final")
    for step in beyond.STEPS[:-1]:
        assert f"| {step.name} | {step.change} |" in study["table"]
    assert len(study["ensembles"]) == len(study["final_epochs"])
