"""Reshaping for both data formats, scaling and one-hot labels, on real MNIST and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.preprocess import add_channel_axis, input_shape, one_hot, prepare, scale_pixels


@pytest.fixture(scope="module")
def test_images(real_arrays):
    return real_arrays["x_test"]


def test_channels_last(test_images):
    shaped = add_channel_axis(test_images, "channels_last")
    assert shaped.shape == (10000, 28, 28, 1)
    np.testing.assert_array_equal(shaped[3, :, :, 0], test_images[3])
    assert input_shape("channels_last") == (28, 28, 1)


def test_channels_first(test_images):
    shaped = add_channel_axis(test_images, "channels_first")
    assert shaped.shape == (10000, 1, 28, 28)
    np.testing.assert_array_equal(shaped[3, 0], test_images[3])
    assert input_shape("channels_first") == (1, 28, 28)


def test_default_format_follows_keras(test_images):
    import keras

    expected = (1, 28, 28) if keras.backend.image_data_format() == "channels_first" else (28, 28, 1)
    assert input_shape() == expected
    assert add_channel_axis(test_images[:2]).shape == (2, *expected)


def test_unknown_data_format():
    with pytest.raises(ValueError, match="channels_last' or 'channels_first', not 'NHWC'"):
        input_shape("NHWC")


@pytest.mark.parametrize("shape", [(10, 784), (10, 28, 28, 1), (10, 32, 32)])
def test_wrong_image_shape(shape):
    with pytest.raises(ValueError, match=r"expected images of shape \(n, 28, 28\)"):
        add_channel_axis(np.zeros(shape, dtype=np.uint8))


def test_scaling_real_pixels(real_arrays):
    scaled = scale_pixels(real_arrays["x_train"])
    assert scaled.dtype == np.float32
    assert scaled.min() == 0.0 and scaled.max() == 1.0
    assert scaled.mean() == pytest.approx(0.1307, abs=5e-5)
    assert scaled.std() == pytest.approx(0.3081, abs=5e-5)


def test_scaling_twice_is_refused(test_images):
    with pytest.raises(ValueError, match="expected uint8 pixels"):
        scale_pixels(scale_pixels(test_images))


def test_one_hot_worked_example():
    np.testing.assert_array_equal(
        one_hot(np.array([3, 0])),
        [[0, 0, 0, 1, 0, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]],
    )


def test_one_hot_of_real_labels(real_arrays):
    labels = real_arrays["y_test"]
    targets = one_hot(labels)
    assert targets.shape == (10000, 10) and targets.dtype == np.float32
    assert (targets.sum(axis=1) == 1).all()
    np.testing.assert_array_equal(targets.argmax(axis=1), labels)


@pytest.mark.parametrize(
    "labels, problem",
    [
        (np.array([1, 10]), "integers from 0 to 9"),
        (np.array([-1, 2]), "integers from 0 to 9"),
        (np.array([0.5, 2.0]), "integers from 0 to 9"),
        (np.zeros((3, 10), dtype=int), "1-D array"),
    ],
)
def test_bad_labels(labels, problem):
    with pytest.raises(ValueError, match=problem):
        one_hot(labels)


def test_prepare_a_split(real_arrays):
    split = prepare(real_arrays["x_test"][:100], real_arrays["y_test"][:100], "channels_last")
    assert split.images.shape == (100, 28, 28, 1) and split.images.dtype == np.float32
    assert split.targets.shape == (100, 10)
    assert split.labels[:5].tolist() == [7, 2, 1, 0, 4]
    first = split.head(3)
    assert [len(part) for part in first] == [3, 3, 3]
    assert first.labels.tolist() == [7, 2, 1]


def test_prepare_rejects_mismatched_lengths(real_arrays):
    with pytest.raises(ValueError, match="100 images but 99 labels"):
        prepare(real_arrays["x_test"][:100], real_arrays["y_test"][:99])
