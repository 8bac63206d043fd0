"""The tf.data pipeline that feeds prepared images to fit(), evaluate() and predict()."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from helpers.preprocess import PreparedSplit

# Images per batch when a model is only measured or asked for predictions, not trained. The
# activations of a batch fill memory: at 1,000 images the Sequential recipe's second convolution
# alone holds 147 MB; at 250, 37 MB, and measuring the test set takes no longer.
EVALUATION_BATCH = 250


def batched_dataset(
    split: PreparedSplit, batch_size: int, shuffle_seed: int | None = None
) -> tf.data.Dataset:
    """A tf.data pipeline over in-memory arrays: shuffled each epoch if seeded, batched, prefetched.

    The pipeline shuffles and batches the images' positions, and each batch's rows are read
    from the arrays when it is needed. Shuffling the images themselves (from_tensor_slices,
    then shuffle over the whole split) would hold two more copies of them while training:
    376 MB for the 60,000 training images. The order is the same, since shuffle draws the same
    positions whatever the elements are.

    On the 2-core classroom CPU, tf.data's autotuner and its shared thread pool
    compete with the training step for the cores, and some epochs then take
    about twice as long as others. One private thread and a fixed prefetch of
    two batches keep every epoch at the fast time.
    """
    images, targets = split.images, split.targets
    positions = tf.data.Dataset.range(len(images))
    if shuffle_seed is not None:
        positions = positions.shuffle(len(images), seed=shuffle_seed, reshuffle_each_iteration=True)

    def rows(index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return images[index], targets[index]

    def read(index: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        kinds = (tf.as_dtype(images.dtype), tf.as_dtype(targets.dtype))
        batch_images, batch_targets = tf.numpy_function(rows, [index], kinds, stateful=False)
        batch_images.set_shape((None, *images.shape[1:]))
        batch_targets.set_shape((None, *targets.shape[1:]))
        return batch_images, batch_targets

    options = tf.data.Options()
    options.autotune.enabled = False
    options.threading.private_threadpool_size = 1
    return positions.batch(batch_size).map(read).prefetch(2).with_options(options)
