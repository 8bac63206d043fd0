"""Hold images out of the training set for choosing, so the test set is used once, at the end."""

from __future__ import annotations

import numpy as np

from helpers.preprocess import NUM_CLASSES, PreparedSplit


def stratified_holdout(
    split: PreparedSplit, holdout_size: int, seed: int
) -> tuple[PreparedSplit, PreparedSplit]:
    """Split `split` into (fit, validation): `holdout_size` images, each digit in its own share.

    Every digit gets the share of the holdout it has in `split` (rounded, with the
    leftover places going to the digits whose share was rounded down most), drawn
    at random with `seed`, so the split repeats and no digit is over- or
    under-represented in the validation set. Both parts keep the original order.
    """
    labels = np.asarray(split.labels)
    if not 0 < holdout_size < len(labels):
        raise ValueError(
            f"holdout_size must be between 1 and {len(labels) - 1} (the split has {len(labels):,} images), "
            f"got {holdout_size}."
        )
    counts = np.bincount(labels, minlength=NUM_CLASSES)
    exact = counts * holdout_size / len(labels)
    per_digit = np.floor(exact).astype(int)
    leftover = holdout_size - per_digit.sum()
    per_digit[np.argsort(per_digit - exact, kind="stable")[:leftover]] += 1

    rng = np.random.default_rng(seed)
    held = np.concatenate(
        [
            rng.choice(np.flatnonzero(labels == digit), count, replace=False)
            for digit, count in enumerate(per_digit)
        ]
    )
    is_held = np.zeros(len(labels), dtype=bool)
    is_held[held] = True
    return split.select(np.flatnonzero(~is_held)), split.select(np.flatnonzero(is_held))
