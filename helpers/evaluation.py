"""Where a trained model is right and wrong: per-digit accuracy, confusion, and confidence as text."""

from __future__ import annotations

import numpy as np

from helpers.preprocess import NUM_CLASSES


def confusion_matrix(true_labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Counts[i, j] = how many images of digit i the model called j."""
    true_labels, predicted = np.asarray(true_labels), np.asarray(predicted)
    if true_labels.shape != predicted.shape:
        raise ValueError(f"{true_labels.shape} true labels vs {predicted.shape} predictions.")
    counts = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64)
    np.add.at(counts, (true_labels, predicted), 1)
    return counts


def accuracy_per_digit(counts: np.ndarray) -> np.ndarray:
    """The share of each digit's images classified right, from a confusion matrix."""
    return np.diag(counts) / counts.sum(axis=1)


def confidence_text(probability: float, most_decimals: int = 4) -> str:
    """A probability as a percentage with just enough decimals not to round up to 100 %.

    A softmax output of 0.9996 printed as "100%" claims a certainty the network
    did not have; this prints "99.96%" instead, and "> 99.9999%" (with the
    default four decimals) when even that would round up.
    """
    if not 0.0 <= probability <= 1.0:
        raise ValueError(f"a probability lies between 0 and 1, got {probability}.")
    percent = 100.0 * probability
    if percent == 100.0:
        return "100%"
    for decimals in range(most_decimals + 1):
        text = f"{percent:.{decimals}f}"
        if float(text) < 100.0:
            return f"{text}%"
    return f"> {100 - 10.0**-most_decimals:.{most_decimals}f}%"
