"""Write each notebook's first cell, which sets the series up in Colab and does nothing anywhere else.

    python scripts/colab_cells.py           # write the cell (and the Colab badge) into every notebook
    python scripts/colab_cells.py --check   # exit 1 if a notebook's cell differs from what it should be

The repository's URL lives in one place, `[project.urls] Repository` in
pyproject.toml. While it is unset, the cell names no URL: in Colab it stops with
a message saying the series has not been published, and no notebook shows a
badge. Once it is set (a GitHub repository), the cell installs the helpers from
it with pip, and each notebook's top cell opens with an "Open in Colab" badge.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

import nbformat

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = PROJECT_ROOT / "notebooks"
TAG = "colab-setup"
BADGE = re.compile(
    r"^\[!\[Open in Colab\]\(https://colab\.research\.google\.com/assets/colab-badge\.svg\)\]\(.*\)\n"
)
GITHUB = re.compile(r"^https://github\.com/(?P<path>[^/]+/[^/]+?)(?:\.git)?/?$")

INSTALL = """\
# extra code: sets the series up in Colab; elsewhere it does nothing
import sys

if "google.colab" in sys.modules:
    import subprocess

    from google.colab import output

    helpers_source = "git+{url}"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", helpers_source],
        check=True,
    )
    output.enable_custom_widget_manager()  # notebook 07's drawing pad"""

UNPUBLISHED = """\
# extra code: sets the series up in Colab; elsewhere it does nothing
import sys

if "google.colab" in sys.modules:
    raise RuntimeError(
        "This copy of the series names no repository to install its helpers"
        " from. Run it where it is cloned (see its README), or set"
        " [project.urls] Repository in its pyproject.toml and run"
        " scripts/colab_cells.py."
    )"""


def repository_url(pyproject: Path = PROJECT_ROOT / "pyproject.toml") -> str | None:
    """`[project.urls] Repository` from pyproject.toml, or None while the series is unpublished."""
    with open(pyproject, "rb") as file:
        urls = tomllib.load(file).get("project", {}).get("urls", {})
    return urls.get("Repository") or None


def setup_source(url: str | None) -> str:
    """The first cell's code for this repository URL (or for none)."""
    return INSTALL.format(url=url) if url else UNPUBLISHED


def badge(url: str | None, notebook: str) -> str:
    """The top cell's "Open in Colab" line for a GitHub repository; empty for anything else."""
    match = GITHUB.match(url or "")
    if not match:
        return ""
    target = f"https://colab.research.google.com/github/{match['path']}/blob/main/notebooks/{notebook}"
    return f"[![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]({target})\n"


def with_setup(notebook: nbformat.NotebookNode, name: str, url: str | None) -> nbformat.NotebookNode:
    """The notebook with its set-up cell first (replaced if there) and the badge line as the URL says."""
    copy = nbformat.from_dict(notebook)
    source = setup_source(url)
    cell = next((c for c in copy.cells if TAG in c.metadata.get("tags", [])), None)
    if cell is None:
        cell = nbformat.v4.new_code_cell(source, metadata={"tags": [TAG]})
    elif cell.source != source:  # its outputs came from other code
        cell.source, cell.outputs, cell.execution_count = source, [], None
    cells = [c for c in copy.cells if c is not cell]
    top = cells[0]
    top.source = badge(url, name) + BADGE.sub("", top.source)
    copy.cells = [top, cell, *cells[1:]]
    return copy


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="only check; exit 1 if a notebook would change")
    args = parser.parse_args()
    url, stale = repository_url(), []
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        updated = with_setup(notebook, path.name, url)
        if updated == notebook:
            continue
        stale.append(path.name)
        if not args.check:
            nbformat.write(updated, path)
    if args.check and stale:
        print(f"Out of date: {', '.join(stale)}. Run: python scripts/colab_cells.py", file=sys.stderr)
        return 1
    print(f"{'Checked' if args.check else 'Wrote'} the Colab set-up cells (repository: {url or 'not set'}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
