"""The training path: mode-dependent data and epochs, the input pipeline, Adadelta, and a short real fit.

The fit goes through benchmarks/recipe_training.py, the path the benchmarks train the recipes on.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import recipe_training
from lesson_networks import build

from helpers import epoch_timing, run_sizes
from helpers.input_pipeline import batched_dataset
from helpers.preprocess import prepare
from helpers.recipes import SEQUENTIAL, compile_with_adadelta
from helpers.seeding import seed_everything


@pytest.fixture(scope="module")
def splits(real_arrays):
    train = prepare(real_arrays["x_train"][:3000], real_arrays["y_train"][:3000], "channels_last")
    test = prepare(real_arrays["x_test"][:1000], real_arrays["y_test"][:1000], "channels_last")
    return train, test


def test_full_mode_uses_everything(clean_settings, real_arrays):
    split = prepare(real_arrays["x_train"], real_arrays["y_train"])
    assert run_sizes.training_split_for_mode(split) is split
    assert run_sizes.epochs_for_mode(20) == 20
    assert run_sizes.epochs_for_mode(12) == 12


def test_quick_mode_takes_a_seeded_subset(clean_settings, real_arrays):
    clean_settings.setenv("MNIST_SERIES_MODE", "quick")
    split = prepare(real_arrays["x_train"], real_arrays["y_train"])
    first = run_sizes.training_split_for_mode(split)
    again = run_sizes.training_split_for_mode(split)
    assert len(first.images) == 10_000
    np.testing.assert_array_equal(first.labels, again.labels)
    assert set(np.unique(first.labels)) == set(range(10))
    assert run_sizes.epochs_for_mode(20) == 3
    assert run_sizes.epochs_for_mode(1) == 1  # never more than asked for
    with pytest.raises(ValueError, match="at least 1"):
        run_sizes.epochs_for_mode(0)


def test_smoke_mode_is_smaller_than_quick_mode_and_sizes_the_exercises(clean_settings, real_arrays):
    split = prepare(real_arrays["x_train"], real_arrays["y_train"])
    sizes = {}
    for mode in ("full", "quick", "smoke"):
        clean_settings.setenv("MNIST_SERIES_MODE", mode)
        images = len(run_sizes.training_split_for_mode(split).images)
        sizes[mode] = (images, run_sizes.epochs_for_mode(12), run_sizes.exercise_size(full_epochs=6))
    assert sizes["full"] == (60_000, 12, (10_000, 6, 10_000))
    assert sizes["quick"] == (10_000, 3, (1_000, 2, 2_000))
    assert sizes["smoke"] == (6_000, 2, (500, 1, 1_000))


def test_dataset_batches_and_shuffles(splits):
    train, _ = splits
    batches = list(batched_dataset(train, 1000, shuffle_seed=1))
    assert [b[0].shape[0] for b in batches] == [1000, 1000, 1000]
    labels = np.concatenate([b[1].numpy().argmax(axis=1) for b in batches])
    assert sorted(labels.tolist()) == sorted(train.labels.tolist())
    assert labels.tolist() != train.labels.tolist()
    in_order = np.concatenate([b[1].numpy().argmax(axis=1) for b in batched_dataset(train, 1000)])
    np.testing.assert_array_equal(in_order, train.labels)


def test_a_seeded_dataset_reshuffles_every_epoch_and_repeats_with_its_seed(splits):
    """Each epoch of fit sees a new order; the same seed gives the same orders again (a run repeats)."""
    train = splits[0].head(500)

    def epochs_of(seed: int) -> list[list[int]]:
        dataset = batched_dataset(train, 100, shuffle_seed=seed)
        return [np.concatenate([b[1].numpy().argmax(axis=1) for b in dataset]).tolist() for _ in range(2)]

    first, second = epochs_of(1)
    assert first != second and sorted(first) == sorted(second)
    assert epochs_of(1) == [first, second]
    assert epochs_of(2)[0] != first


def test_train_refuses_an_uncompiled_model(splits):
    with pytest.raises(ValueError, match="compile the model first"):
        recipe_training.train(SEQUENTIAL, build("sequential"), *splits, epochs=1)


def small_network() -> keras.Model:
    """A small dense network: trains in a second, and shows the same Adadelta trap as the recipes."""
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def test_adadelta_trap_and_a_real_fit(clean_settings, splits):
    """One epoch on 3,000 images: learning rate 1.0 learns, Keras 3's default 0.001 barely moves."""
    results = {}
    for rate in (1.0, 0.001):
        seed_everything()
        model = compile_with_adadelta(small_network(), learning_rate=rate)
        results[rate] = recipe_training.train(SEQUENTIAL, model, *splits, epochs=1, verbose=0)
    learnt, stalled = results[1.0], results[0.001]
    print(f"test accuracy after one epoch: {learnt.test_accuracy:.3f} vs {stalled.test_accuracy:.3f}")
    assert learnt.test_accuracy > 0.7
    assert stalled.test_accuracy < 0.3
    assert set(learnt.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert learnt.info["epochs"] == 1 and learnt.info["training_images"] == 3000
    assert len(learnt.epoch_seconds) == 1 and learnt.epoch_seconds[0] > 0


def test_median_epoch_seconds_leaves_out_the_first_epoch():
    assert epoch_timing.median_epoch_seconds([30.0, 10.0, 12.0, 11.0]) == 11.0
    assert epoch_timing.median_epoch_seconds([7.5]) == 7.5
    with pytest.raises(ValueError, match="at least one epoch"):
        epoch_timing.median_epoch_seconds([])


def test_the_seed_makes_a_run_repeat(clean_settings, splits):
    """Same seed: the same trained weights; another shuffle seed: other weights."""

    train, test = splits[0].head(1000), splits[1].head(200)

    def weights_after_one_epoch(shuffle_seed):
        seed_everything(3)
        model = compile_with_adadelta(small_network())
        recipe_training.train(SEQUENTIAL, model, train, test, epochs=1, seed=shuffle_seed, verbose=0)
        return model.get_weights()[-2]

    first, again, other = (weights_after_one_epoch(seed) for seed in (3, 3, 4))
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


def test_adadelta_starts_at_the_recipes_learning_rate_not_keras_3s():
    """The recipes relied on old Keras's Adadelta default, 1.0; Keras 3's is 0.001 (notebook 03's trap)."""
    model = compile_with_adadelta(small_network())
    assert isinstance(model.optimizer, keras.optimizers.Adadelta)
    assert float(model.optimizer.learning_rate) == pytest.approx(1.0)
    assert keras.optimizers.Adadelta().get_config()["learning_rate"] == pytest.approx(0.001)
