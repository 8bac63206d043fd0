"""Turn MNIST's uint8 arrays into what the networks take: shaped, scaled, one-hot."""

from __future__ import annotations

from typing import NamedTuple

import keras
import numpy as np

IMAGE_ROWS, IMAGE_COLS = 28, 28
NUM_CLASSES = 10
DATA_FORMATS = ("channels_last", "channels_first")


def _check_format(data_format: str | None) -> str:
    data_format = data_format or keras.backend.image_data_format()
    if data_format not in DATA_FORMATS:
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first', not {data_format!r}.")
    return data_format


def input_shape(data_format: str | None = None) -> tuple[int, int, int]:
    """The shape of one image as the network sees it: (28, 28, 1) or (1, 28, 28)."""
    if _check_format(data_format) == "channels_first":
        return (1, IMAGE_ROWS, IMAGE_COLS)
    return (IMAGE_ROWS, IMAGE_COLS, 1)


def add_channel_axis(images: np.ndarray, data_format: str | None = None) -> np.ndarray:
    """Reshape (n, 28, 28) images to (n, 28, 28, 1) or (n, 1, 28, 28).

    Conv2D layers expect a channel axis; MNIST is grey, so it has one channel, and
    Keras's image_data_format() says whether it comes last or first.
    """
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != (IMAGE_ROWS, IMAGE_COLS):
        raise ValueError(
            f"expected images of shape (n, {IMAGE_ROWS}, {IMAGE_COLS}), got {images.shape}; "
            "pass x_train or x_test as load_mnist() returns them."
        )
    return images.reshape((images.shape[0], *input_shape(data_format)))


def scale_pixels(images: np.ndarray) -> np.ndarray:
    """Convert uint8 pixels 0..255 to float32 values in [0, 1]."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise ValueError(
            f"expected uint8 pixels (0..255), got dtype {images.dtype}; "
            "scale the raw arrays from load_mnist() only once."
        )
    scaled = images.astype("float32")
    scaled /= 255.0  # in place: one float32 copy of the images at a time, not two
    return scaled


def one_hot(labels: np.ndarray, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """Digit labels 0..9 as one-hot rows of length 10, via keras.utils.to_categorical."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"expected a 1-D array of digit labels, got shape {labels.shape}.")
    if labels.size and (
        not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() >= num_classes
    ):
        raise ValueError(
            f"labels must be integers from 0 to {num_classes - 1}; "
            f"got dtype {labels.dtype} with values from {labels.min()} to {labels.max()}."
        )
    return keras.utils.to_categorical(labels, num_classes).astype("float32")


class PreparedSplit(NamedTuple):
    images: np.ndarray  # float32, (n, 28, 28, 1) or (n, 1, 28, 28), values in [0, 1]
    targets: np.ndarray  # float32 one-hot, (n, 10)
    labels: np.ndarray  # the original digit labels, (n,)

    def select(self, index: slice | np.ndarray) -> PreparedSplit:
        """The images picked by a slice or index array, with their targets and labels."""
        return PreparedSplit(self.images[index], self.targets[index], self.labels[index])

    def head(self, count: int) -> PreparedSplit:
        """The first `count` images of the split, with their targets and labels."""
        return self.select(slice(None, count))


def prepare(images: np.ndarray, labels: np.ndarray, data_format: str | None = None) -> PreparedSplit:
    """Apply the recipes' three steps to one split: channel axis, scaling, one-hot labels."""
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels; they must match.")
    return PreparedSplit(
        add_channel_axis(scale_pixels(images), data_format), one_hot(labels), np.asarray(labels)
    )
