"""The classroom walkthrough in a real browser: each notebook opened in JupyterLab at 1024 x 768.

The notebooks in lab_session.RUN_ALL (07, whose pad and Photo button need a
live kernel) are run with Run All Cells; the others show their committed
outputs (make test runs every notebook under nbval before). What the tests
expect is read from the committed notebooks when the session starts (their
code cells, their stored image/png outputs, their markdown tables), never
written down here, so the notebooks can change under them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lab_session import (
    NEWS_QUESTION,
    SCREENSHOTS,
    Walkthrough,
    notebook_report,
    numbered_notebooks,
    png_dpi,
    save_screenshot,
    saved_execution_counts,
)

from helpers import plots

pytestmark = pytest.mark.slow  # drives JupyterLab in a browser

NOTEBOOK_NAMES = [path.name for path in numbered_notebooks()]
MIN_UNSHRUNK = 0.9  # JupyterLab may scale a figure down to fit its output area, but not by more than this
MIN_TITLE_CSS_PX = 10  # digit captions in the mistake gallery, as rendered on the 1024 x 768 page


def first_line(source: str) -> str:
    """A code cell's first line, to name it in a failure message."""
    return source.strip().splitlines()[0] if source.strip() else "(empty cell)"


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_notebook_shows_cleanly_in_jupyterlab(name: str, walkthrough: Walkthrough, run_notebook) -> None:
    """Every cell in the page and run, no error or stderr box, every figure and table shows.

    The notebook is opened from the file browser, and run with Run All Cells if
    it is in walkthrough.to_run; else what shows are its committed outputs.
    """
    page = run_notebook(name)
    report = notebook_report(page)
    save_screenshot(page, SCREENSHOTS / f"{Path(name).stem}.png")
    expected = walkthrough.expected[name]
    cells = report["codeCells"]
    assert len(cells) == len(expected.sources), (
        f"JupyterLab shows {len(cells)} of {len(expected.sources)} code cells: cells outside the view are "
        "not in the page (is windowingMode 'none' in jupyter/lab-settings/overrides.json?)"
    )
    stderr = [
        f"cell {i + 1} ({first_line(source)}):\n{text}"
        for i, (cell, source) in enumerate(zip(cells, expected.sources, strict=True))
        for text in cell["stderr"]
    ]
    assert not stderr, "error or stderr output on screen:\n" + "\n\n".join(stderr)
    counts = saved_execution_counts(walkthrough.staged(name))  # hidden-input cells show no prompt
    not_run = [
        f"cell {i + 1}: {first_line(source)}"
        for i, (count, source) in enumerate(zip(counts, expected.sources, strict=True))
        if count is None and source.strip()  # JupyterLab sends no request for an empty cell
    ]
    assert not not_run, "code cells without an execution count:\n" + "\n".join(not_run)
    for cell, count in zip(cells, counts, strict=True):
        assert cell["prompt"] in ("", f"[{count}]:"), "the prompts on screen disagree with the saved notebook"
    images = [image for cell in cells for image in cell["images"]]
    assert len(images) == expected.figures, (
        f"{len(images)} figures rendered; the committed notebook shows {expected.figures}"
    )
    for image in images:
        assert image["complete"] and image["naturalWidth"] > 0, "a figure did not load"
        scale = image["renderedWidth"] / image["naturalWidth"]
        assert scale >= MIN_UNSHRUNK, (
            f"a {image['naturalWidth']} px wide figure is drawn {image['renderedWidth']:.0f} px wide"
        )
    assert report["tables"] == expected.tables, (
        f"{report['tables']} markdown tables rendered; the notebook's markdown holds {expected.tables}"
    )


def test_no_news_popup(walkthrough: Walkthrough, run_notebook) -> None:
    """JupyterLab's "get notified about official Jupyter news?" pop-up never covers the class's screen."""
    page = run_notebook(NOTEBOOK_NAMES[0])
    assert notebook_report(page)["newsToasts"] == 0
    assert page.get_by_text(NEWS_QUESTION).count() == 0
    assert walkthrough.server is not None
    setting = json.loads(
        walkthrough.server.request("GET", "/lab/api/settings/@jupyterlab/apputils-extension:notification")
    )
    default = setting["schema"]["properties"]["fetchNews"]["default"]  # overrides.json sets defaults
    assert setting["settings"].get("fetchNews", default) == "false"


def test_mistake_gallery_captions_are_legible_at_1024(walkthrough: Walkthrough, run_notebook) -> None:
    """In notebook 06 the captions above the digits ("6 → 5 (99.87%)") render at 10 CSS px or more.

    The caption's size on screen is its size in the PNG (DIGIT_TITLE_SIZE points at
    the dpi the PNG records) times the width JupyterLab draws the image at over its
    natural width.
    """
    (name,) = [n for n in NOTEBOOK_NAMES if n.startswith("06_")]
    page = run_notebook(name)
    cells = notebook_report(page)["codeCells"]
    galleries = [i for i, source in enumerate(walkthrough.expected[name].sources) if "show_digits(" in source]
    images = [image for i in galleries for image in cells[i]["images"]]
    assert images, f"no show_digits gallery rendered in {name}"
    for image in images:
        scale = image["renderedWidth"] / image["naturalWidth"]
        caption_px = plots.DIGIT_TITLE_SIZE * png_dpi(image["src"]) / 72 * scale
        assert caption_px >= MIN_TITLE_CSS_PX, (
            f"captions render at {caption_px:.1f} CSS px (image {image['naturalWidth']} px wide, "
            f"drawn {image['renderedWidth']:.0f} px)"
        )
    gallery = page.locator(".jp-CodeCell").nth(galleries[0]).locator("img").first
    gallery.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / f"{Path(name).stem}-gallery-1024x768.png"))
