"""Notebook 07's pad in a real browser: JupyterLab runs the notebook, the mouse draws, the bars answer."""

from __future__ import annotations

import math

import pytest
from playwright.sync_api import Page

pytestmark = pytest.mark.slow  # drives JupyterLab in a browser

NOTEBOOK = "07_your_own_digits.ipynb"
PAD_UNITS = 280  # helpers.handwriting.PAD_SIZE: the pad's side in its own units
READ_TIMEOUT_MS = 30_000  # a stroke's round trip: browser → kernel (preprocess, two networks) → bars


def _draw(page: Page, points: list[tuple[float, float]]) -> None:
    """Press the mouse at the first point, move through the others, release: one stroke on the pad."""
    canvas = page.locator(".mnist-pad-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None, "the pad is not on screen"
    scale = box["width"] / PAD_UNITS

    def at(x: float, y: float) -> tuple[float, float]:
        return box["x"] + x * scale, box["y"] + y * scale

    page.mouse.move(*at(*points[0]))
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*at(*point), steps=2)
    page.mouse.up()


def _clear(page: Page) -> None:
    page.locator(".mnist-pad-clear").click()
    page.wait_for_function(
        "() => document.querySelector('.mnist-pad').dataset.state === 'empty'", timeout=READ_TIMEOUT_MS
    )
    assert page.locator(".mnist-pad .top-digit").all_text_contents() == ["–", "–"]


def _top_digits_become(page: Page, digit: int) -> list[str]:
    """Wait until every network's top digit shown on the pad is `digit`; return what the pad shows."""
    page.wait_for_function(
        """digit => {
          const shown = [...document.querySelectorAll('.mnist-pad .top-digit')];
          return shown.length === 2 && shown.every(element => element.dataset.digit === digit);
        }""",
        arg=str(digit),
        timeout=READ_TIMEOUT_MS,
    )
    return page.locator(".mnist-pad .top-digit").all_text_contents()


def test_drawing_a_one_then_a_zero_on_the_pad(run_notebook) -> None:
    page = run_notebook(NOTEBOOK)
    assert page.locator(".mnist-pad").count() == 1, "notebook 07 should show one drawing pad"
    _clear(page)  # Run All leaves the sample 4 on the pad

    _draw(page, [(140, 40 + 10 * i) for i in range(21)])  # a vertical stroke
    assert _top_digits_become(page, 1) == ["1", "1"]
    assert page.locator(".mnist-pad").get_attribute("data-strokes-read") == "1"

    _clear(page)
    circle = [
        (140 + 85 * math.cos(t), 140 + 100 * math.sin(t)) for t in (i * math.pi / 16 for i in range(34))
    ]
    _draw(page, circle)
    assert _top_digits_become(page, 0) == ["0", "0"]
    message = page.locator(".mnist-pad-message").text_content()
    assert message and "Clear" in message
