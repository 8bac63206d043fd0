"""Sphinx settings of the series' website, built by scripts/build_book.py (make book).

The source folder is the staging copy the script writes (build/book-src/),
laid out like the repository; this file stays in book/. The book works
offline: nothing is executed, and no page loads a font, an icon, a script or
an image from another site.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
from colab_cells import repository_url  # noqa: E402

project = "MNIST CNN notebooks"
author = "the series' authors"
copyright = "the series' authors"  # noqa: A001  (Sphinx's name for it)

extensions = ["myst_nb"]
root_doc = "index"
# README.md is the landing page's text (index.md includes it); _originals holds the downloads.
exclude_patterns = ["README.md", "_originals", "**/.ipynb_checkpoints"]

# myst-nb: show the stored outputs, run nothing.
nb_execution_mode = "off"
nb_ipywidgets_js = {}  # no widget scripts from a CDN; 07's widgets get a still image (build_book.py)
nb_merge_streams = True
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3  # GitHub's slugs, so README links such as benchmarks/README.md#test-times resolve

html_theme = "sphinx_book_theme"
html_title = project
html_static_path = ["_static"]
html_css_files = ["book.css"]
html_copy_source = False  # each notebook page links the committed .ipynb instead
html_show_sourcelink = False
html_last_updated_fmt = None

# scripts/build_book.py passes the URL it read from pyproject.toml (empty while unset).
_repository = os.environ.get("MNIST_BOOK_REPOSITORY", repository_url() or "") or None
html_theme_options = {
    "use_download_button": False,  # the page's "Run this notebook" box links the committed .ipynb
    "use_fullscreen_button": False,
    "use_repository_button": bool(_repository),
    "repository_url": _repository or "",
    "repository_branch": "main",
    "path_to_docs": "",
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "navigation_with_keys": False,
    # pydata-sphinx-theme: no requests to other sites when a page is viewed.
    "icon_links": [],
    "analytics": {},
}
html_context = {"default_mode": "light"}
