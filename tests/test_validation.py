"""The validation split: stratified, seeded, disjoint from what is left to train on."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.preprocess import prepare
from helpers.validation import stratified_holdout


@pytest.fixture(scope="module")
def everything(real_arrays):
    return prepare(real_arrays["x_train"], real_arrays["y_train"], "channels_last")


def test_every_digit_keeps_its_share(everything):
    fit, validation = stratified_holdout(everything, 5_000, seed=1)
    assert len(validation.labels) == 5_000 and len(fit.labels) == 55_000
    expected = np.bincount(everything.labels, minlength=10) * 5_000 / 60_000
    counts = np.bincount(validation.labels, minlength=10)
    assert np.all(np.abs(counts - expected) < 1), (counts, expected)  # each digit within rounding


def test_the_parts_are_disjoint_and_cover_the_split(real_arrays):
    labels = real_arrays["y_train"]
    images = np.zeros((len(labels), 28, 28), dtype=np.uint8)
    images[:, 0, 0], images[:, 0, 1] = np.arange(len(labels)) % 256, np.arange(len(labels)) // 256
    fit, validation = stratified_holdout(prepare(images, labels, "channels_last"), 5_000, seed=1)

    def positions(split):  # each image's index in the original split, read back from its two marked pixels
        pixels = np.rint(split.images[:, 0, :2, 0] * 255).astype(int)
        return pixels[:, 0] + 256 * pixels[:, 1]

    fit_at, validation_at = positions(fit), positions(validation)
    assert not set(fit_at) & set(validation_at)
    assert sorted([*fit_at, *validation_at]) == list(range(len(labels)))
    assert np.all(np.diff(fit_at) > 0) and np.all(np.diff(validation_at) > 0)  # original order kept
    assert np.array_equal(labels[validation_at], validation.labels)  # labels travel with their images
    assert np.array_equal(validation.targets.argmax(axis=1), validation.labels)


def test_the_seed_repeats_and_changes_the_draw(everything):
    first, again, other = (stratified_holdout(everything, 1_000, seed=s)[1] for s in (3, 3, 4))
    assert np.array_equal(first.images, again.images)
    assert not np.array_equal(first.images, other.images)


def test_uneven_shares_round_to_the_exact_size():
    labels = np.array([0] * 7 + [1] * 2 + [2] * 1)
    images = np.zeros((10, 28, 28), dtype=np.uint8)
    fit, validation = stratified_holdout(prepare(images, labels, "channels_last"), 3, seed=0)
    assert len(validation.labels) == 3 and len(fit.labels) == 7
    assert np.bincount(validation.labels, minlength=3).tolist() == [2, 1, 0]


@pytest.mark.parametrize("size", [0, 60_000, -5])
def test_impossible_sizes_are_refused(everything, size):
    with pytest.raises(ValueError, match="holdout_size must be between 1 and 59999"):
        stratified_holdout(everything, size, seed=1)
