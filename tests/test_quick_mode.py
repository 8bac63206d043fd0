"""Quick mode as a class runs it: the functional recipe trained on quick mode's images and epochs.

make test runs the notebooks at smoke size (under nbval); this is where
the size a class sees trains for real, once, through the path notebook 04
uses, and is held to what notebooks 04 and 07 say of it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers import handwriting, input_shape

pytestmark = pytest.mark.slow


def _read(network, digits: list[np.ndarray]) -> list[int]:
    batch = np.stack(digits).reshape((-1, *input_shape()))
    return network.predict(batch, verbose=0).argmax(axis=1).tolist()


def test_quick_mode_trains_the_recipe_on_its_subset_to_notebook_04s_bar(quick_functional):
    info = quick_functional.info
    assert (info["mode"], info["training_images"], info["epochs"]) == ("quick", 10_000, 3)
    assert quick_functional.test_accuracy >= 0.85  # notebook 04's check in quick mode


def test_after_preprocessing_it_reads_every_sample_but_the_tiny_seven(quick_functional):
    samples = handwriting.load_samples()
    read = _read(quick_functional.model, [handwriting.preprocess(s.image) for s in samples])
    wrong = {sample.name for sample, digit in zip(samples, read, strict=True) if digit != sample.digit}
    assert wrong <= {"pad-7-tiny"}, wrong


def test_it_reads_a_drawn_stroke_as_one_and_a_circle_as_zero(quick_functional):
    stroke = [[(140, 40 + 10 * i) for i in range(21)]]
    turns = [i * math.pi / 16 for i in range(34)]
    circle = [[(140 + 85 * math.cos(t), 140 + 100 * math.sin(t)) for t in turns]]
    drawn = [handwriting.preprocess(handwriting.render_strokes(s)) for s in (stroke, circle)]
    assert _read(quick_functional.model, drawn) == [1, 0]
