"""Per-digit accuracy, the confusion matrix and confidence as text."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.evaluation import (
    accuracy_per_digit,
    confidence_text,
    confusion_matrix,
)


def test_confusion_matrix_counts_pairs():
    counts = confusion_matrix(np.array([0, 0, 1, 9, 9, 9]), np.array([0, 7, 1, 9, 4, 9]))
    assert counts.sum() == 6
    assert counts[0, 0] == 1 and counts[0, 7] == 1 and counts[1, 1] == 1
    assert counts[9, 9] == 2 and counts[9, 4] == 1


def test_confusion_matrix_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="true labels vs"):
        confusion_matrix(np.zeros(3, dtype=int), np.zeros(4, dtype=int))


def test_accuracy_per_digit():
    true = np.repeat(np.arange(10), 4)
    predicted = true.copy()
    predicted[:2] = 5  # half of the zeros wrong
    accuracy = accuracy_per_digit(confusion_matrix(true, predicted))
    assert accuracy[0] == 0.5 and (accuracy[1:] == 1.0).all()


def test_confidence_text_never_rounds_up_to_certainty():
    assert confidence_text(0.9) == "90%"
    assert confidence_text(0.9996) == "99.96%"
    assert confidence_text(0.999991) == "99.999%"
    assert confidence_text(0.9999991) == "99.9999%"
    assert confidence_text(0.99999999) == "> 99.9999%"
    assert confidence_text(1.0) == "100%"
    assert confidence_text(0.123) == "12%"
    with pytest.raises(ValueError, match="between 0 and 1"):
        confidence_text(1.5)
