"""Reshaping for both data formats, scaling and one-hot labels: known pixels, real MNIST, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.preprocess import add_channel_axis, input_shape, one_hot, prepare, scale_pixels


def one_pixel_images() -> np.ndarray:
    """Two blank 28 x 28 images but for pixel (row 5, column 7) of the second, set to 200."""
    images = np.zeros((2, 28, 28), dtype=np.uint8)
    images[1, 5, 7] = 200
    return images


@pytest.fixture
def image_format():
    """keras.backend.set_image_data_format for one test; the original format is put back afterwards."""
    import keras

    original = keras.backend.image_data_format()
    yield keras.backend.set_image_data_format
    keras.backend.set_image_data_format(original)


@pytest.mark.parametrize(
    ("data_format", "shape", "where"),
    [("channels_last", (2, 28, 28, 1), [1, 5, 7, 0]), ("channels_first", (2, 1, 28, 28), [1, 0, 5, 7])],
)
def test_the_channel_axis_goes_where_the_format_says(data_format, shape, where):
    shaped = add_channel_axis(one_pixel_images(), data_format)
    assert shaped.shape == shape
    assert np.argwhere(shaped).tolist() == [where] and shaped[tuple(where)] == 200
    assert input_shape(data_format) == shape[1:]


@pytest.mark.parametrize(
    ("keras_format", "shape"), [("channels_last", (28, 28, 1)), ("channels_first", (1, 28, 28))]
)
def test_no_format_given_means_keras_s_own(image_format, keras_format, shape):
    image_format(keras_format)
    assert input_shape() == shape
    assert add_channel_axis(one_pixel_images()).shape == (2, *shape)


def test_unknown_data_format():
    with pytest.raises(ValueError, match="channels_last' or 'channels_first', not 'NHWC'"):
        input_shape("NHWC")


@pytest.mark.parametrize("shape", [(10, 784), (10, 28, 28, 1), (10, 32, 32)])
def test_wrong_image_shape(shape):
    with pytest.raises(ValueError, match=r"expected images of shape \(n, 28, 28\)"):
        add_channel_axis(np.zeros(shape, dtype=np.uint8))


def test_scaling_known_pixels():
    pixels = np.array([[0, 51, 102, 255]], dtype=np.uint8)
    scaled = scale_pixels(pixels)
    assert scaled.dtype == np.float32
    np.testing.assert_allclose(scaled, [[0.0, 0.2, 0.4, 1.0]], rtol=1e-7, atol=0)
    assert pixels.tolist() == [[0, 51, 102, 255]]  # the raw array is left as it was


def test_scaling_real_pixels(real_arrays):
    scaled = scale_pixels(real_arrays["x_train"])
    assert scaled.dtype == np.float32
    assert scaled.min() == 0.0 and scaled.max() == 1.0
    assert scaled.mean() == pytest.approx(0.1307, abs=5e-5)
    assert scaled.std() == pytest.approx(0.3081, abs=5e-5)


def test_scaling_twice_is_refused():
    with pytest.raises(ValueError, match="expected uint8 pixels"):
        scale_pixels(scale_pixels(one_pixel_images()))


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
    assert split.targets[0].tolist() == [0, 0, 0, 0, 0, 0, 0, 1, 0, 0]  # a 7
    assert split.images.min() == 0.0 and split.images.max() == 1.0
    first = split.head(3)
    assert [len(part) for part in first] == [3, 3, 3]
    assert first.labels.tolist() == [7, 2, 1]


def test_prepare_rejects_mismatched_lengths(real_arrays):
    with pytest.raises(ValueError, match="100 images but 99 labels"):
        prepare(real_arrays["x_test"][:100], real_arrays["y_test"][:99])
