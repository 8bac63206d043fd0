"""Make book/images/drawing-pad.png, the still image of notebook 07's drawing pad that its book page shows.

    MNIST_NPZ=... .venv/bin/python book/pad_image.py

Runs notebook 07 in JupyterLab (smoke mode, on the smoke runs of 03 and 04 in
artifacts/smoke/: run them first), draws a 7 on the pad with the mouse, waits
until both networks answer, and screenshots the pad. Run it again when the pad
changes how it looks; the alt text is PAD_ALT in scripts/build_book.py.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT / "tests" / "browser"))
from lab_session import (  # noqa: E402
    KERNEL_READY_JS,
    LabServer,
    click_menu,
    free_port,
    launch_chromium,
    open_from_file_browser,
)
from playwright.sync_api import sync_playwright  # noqa: E402

sys.path.insert(0, str(PROJECT_ROOT))
from helpers.handwriting import PAD_SIZE  # noqa: E402  (the pad's side in its own units)

NOTEBOOK = "07_your_own_digits.ipynb"
OUTPUT = PROJECT_ROOT / "book" / "images" / "drawing-pad.png"
SEVEN = [(70 + 7 * i, 60) for i in range(21)] + [(210 - 4.5 * i, 60 + 9.5 * i) for i in range(1, 21)]
ANSWERED_JS = """() => [...document.querySelectorAll('.mnist-pad .top-digit')]
  .every(shown => shown.dataset.digit === '7')"""


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        (work / "root").mkdir()
        shutil.copy(PROJECT_ROOT / "notebooks" / NOTEBOOK, work / "root")
        (work / "private").mkdir()
        (work / "private" / "artifacts").symlink_to(PROJECT_ROOT / "artifacts")  # the smoke runs
        server = LabServer(root=work / "root", workdir=work / "private", log_path=work / "lab.log")
        server.port = free_port()
        server.start()
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                page = browser.new_page(viewport={"width": 1024, "height": 768})
                page.goto(f"{server.url}/lab/workspaces/pad?reset&token={server.token}")
                open_from_file_browser(page, NOTEBOOK)
                page.wait_for_function(KERNEL_READY_JS, timeout=60_000, polling=250)
                click_menu(page, "Run", "Run All Cells")
                canvas = page.locator(".mnist-pad-canvas")
                canvas.wait_for(state="attached", timeout=300_000)
                page.wait_for_timeout(5_000)  # Run All draws the sample on the pad; let it finish
                page.locator(".mnist-pad-clear").click()
                page.wait_for_function("() => document.querySelector('.mnist-pad').dataset.state === 'empty'")
                canvas.scroll_into_view_if_needed()
                box = canvas.bounding_box()
                scale = box["width"] / PAD_SIZE
                points = [(box["x"] + x * scale, box["y"] + y * scale) for x, y in SEVEN]
                page.mouse.move(*points[0])
                page.mouse.down()
                for point in points[1:]:
                    page.mouse.move(*point, steps=2)
                page.mouse.up()
                page.wait_for_function(ANSWERED_JS, timeout=60_000)
                page.locator(".mnist-pad").screenshot(path=str(OUTPUT))
                browser.close()
        finally:
            server.stop()
    print(f"Wrote {OUTPUT.relative_to(PROJECT_ROOT)}.")


if __name__ == "__main__":
    main()
