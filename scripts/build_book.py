"""Build the series' website, "the book", from the committed notebooks and their stored outputs.

    python scripts/build_book.py                 # stage, then build into build/book/
    python scripts/build_book.py --strict        # the same with warnings as errors (the tests)
    python scripts/build_book.py --stage-only    # only write the staging folder

Nothing is executed: every page shows the outputs stored in notebooks/*.ipynb.
The build copies what the book shows into a staging folder (build/book-src/)
laid out like the repository, so that the README's relative links work as they
are, and changes only the copies there:

* each figure cell's alt text (cell metadata `alt`, nbconvert's convention) is
  also written where myst-nb reads it (`mystnb.image.alt`);
* each notebook page gets a "Run this notebook" box after its title cell: the
  committed .ipynb to download, and, once `[project.urls] Repository` is set in
  pyproject.toml, "Open in Colab" and the class hub's nbgitpuller link (the top
  cell's Colab badge, an image from Colab's site, is left out);
* notebook 07's two widgets, which need a live kernel, are shown as a still
  image of the drawing pad and a note on how to run them.

Sphinx (myst-nb, sphinx-book-theme) then builds the HTML with book/conf.py.
The class hub's address is not the repository's: set MNIST_BOOK_HUB (e.g.
https://hub.example.edu) to make the hub link a link; without it the page
shows the link to fill in.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlencode

import nbformat

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
from colab_cells import BADGE, GITHUB, repository_url  # noqa: E402  (the URL's one place, read one way)

BOOK = PROJECT_ROOT / "book"
STAGE = PROJECT_ROOT / "build" / "book-src"
OUTPUT = PROJECT_ROOT / "build" / "book"
# The texts the book shows beside the notebooks, at their paths in the repository.
TEXTS = ("README.md", "deploy/jupyterhub/README.md", "benchmarks/README.md", "tests/browser/README.md")
ORIGINALS = "_originals"  # the committed notebooks, byte for byte, for the download links
PAD_IMAGE = "images/drawing-pad.png"  # in book/
PAD_ALT = (
    "Notebook 07's drawing pad after a 7 was drawn: on the left a white square with a black 7"
    " and the Clear button; on the right the 28 by 28 image the networks read and, for the"
    " Sequential and the functional network, ten probability bars, both reading 7."
)
HUB_ENV = "MNIST_BOOK_HUB"
CLONE_FOLDER = "mnist-cnn-notebooks"  # the folder nbgitpuller clones into (deploy/jupyterhub/README.md)


def launch_links(url: str | None, notebook: str, hub: str | None = None) -> dict[str, str]:
    """The places a notebook page can open its notebook in, as label -> href.

    Always "download" (the committed file, beside the page's staged copy).
    With a GitHub repository: "colab". With any repository URL: "hub", the
    nbgitpuller link, whose href starts with `hub` when one is given and with
    the placeholder "<your hub>" otherwise (the page shows that one as text).
    """
    links = {"download": f"/{ORIGINALS}/notebooks/{notebook}"}
    if not url:
        return links
    match = GITHUB.match(url)
    if match:
        links["colab"] = (
            f"https://colab.research.google.com/github/{match['path']}/blob/main/notebooks/{notebook}"
        )
    query = urlencode(
        {"repo": url, "branch": "main", "urlpath": f"lab/tree/{CLONE_FOLDER}/notebooks/{notebook}"},
        quote_via=quote,
        safe="/:",
    )
    links["hub"] = f"{(hub or '<your hub>').rstrip('/')}/hub/user-redirect/git-pull?{query}"
    return links


def run_box(url: str | None, notebook: str, hub: str | None) -> str:
    """The "Run this notebook" box (MyST) for one notebook page."""
    links = launch_links(url, notebook, hub)
    lines = [
        ":::{admonition} Run this notebook",
        ":class: tip run-this-notebook",
        "",
        f"* {{download}}`Download the notebook (.ipynb) <{links['download']}>`, then run it in"
        " JupyterLab from a clone of the series (`make lab`; see [In class](../index.md#in-class)).",
    ]
    if "colab" in links:
        lines.append(
            f"* [Open in Colab]({links['colab']}): the notebook's first cell installs the helpers there."
        )
    if "hub" in links and hub:
        lines.append(
            f"* [Open on the class hub]({links['hub']}) (nbgitpuller copies the series into your home)."
        )
    elif "hub" in links:
        lines += [
            "* On a class JupyterHub with nbgitpuller, open this link with your hub's address:",
            "",
            f"  `{links['hub']}`",
        ]
    lines.append(":::")
    return "\n".join(lines)


PAD_NOTE = f"""\
:::{{admonition}} The drawing pad needs a live kernel
:class: note

On this page the pad cannot run: each stroke goes to Python, where the two
networks read it. This is what it looks like after drawing a 7:

```{{image}} /{PAD_IMAGE}
:alt: {PAD_ALT}
```

To use it, run notebooks 03 and 04 first, in the same mode, then open this
notebook in JupyterLab and choose *Run All Cells* (under a minute). Under
*Draw your own*, press **Clear** and draw one digit with a mouse, a pen or a
finger; when the pen lifts, both networks show their ten probabilities and
the 28 × 28 image they read.
:::
"""

PHOTO_NOTE = """\
:::{admonition} The Photo button needs a live kernel
:class: note

Run the notebook in JupyterLab (see above) to read a photo of your own digit:
**Photo** shows the preprocessing steps and both networks' answers.
:::
"""

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _widget_cell(notebook: nbformat.NotebookNode, call: str) -> int | None:
    """The index of the code cell that shows a widget and whose code contains `call`."""
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and call in cell.source:
            if any(WIDGET_VIEW in output.get("data", {}) for output in cell.outputs):
                return index
    return None


def stage_notebook(
    notebook: nbformat.NotebookNode, name: str, url: str | None, hub: str | None
) -> nbformat.NotebookNode:
    """The copy of one notebook the book builds from (the committed one is left as it is)."""
    copy = nbformat.from_dict(notebook)
    # The Colab badge is an image on Colab's site; the run box links Colab without it.
    copy.cells[0].source = BADGE.sub("", copy.cells[0].source)
    for cell in copy.cells:
        alt = cell.metadata.get("alt")
        if cell.cell_type == "code" and isinstance(alt, str) and alt.strip():
            mystnb = cell.metadata.setdefault("mystnb", {})
            mystnb.setdefault("image", {})["alt"] = alt.strip()
    # Widgets need a kernel: no widget state or views in the page (they would load scripts from a CDN).
    copy.metadata.pop("widgets", None)
    notes = {}
    for call, note in (("DrawingPad(", PAD_NOTE), ("PhotoReader(", PHOTO_NOTE)):
        index = _widget_cell(copy, call)
        if index is not None:
            notes[index] = note
    for index in sorted(notes, reverse=True):
        cell = copy.cells[index]
        cell.outputs = [o for o in cell.outputs if WIDGET_VIEW not in o.get("data", {})]
        copy.cells.insert(index + 1, nbformat.v4.new_markdown_cell(notes[index]))
    copy.cells.insert(1, nbformat.v4.new_markdown_cell(run_box(url, name, hub)))
    for cell in copy.cells:
        cell.pop("id", None)
    copy.nbformat_minor = 4  # ids dropped: the inserted cells need none
    return copy


def stage(stage_dir: Path = STAGE, url: str | None = None, hub: str | None = None) -> list[str]:
    """Write the staging folder; return the notebooks staged."""
    if stage_dir.exists():
        shutil.rmtree(stage_dir)
    shutil.copytree(BOOK, stage_dir, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    for text in TEXTS:
        (stage_dir / text).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT_ROOT / text, stage_dir / text)
    names = []
    for path in sorted((PROJECT_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        original = stage_dir / ORIGINALS / "notebooks" / path.name
        original.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, original)
        (stage_dir / "notebooks").mkdir(exist_ok=True)
        staged = stage_notebook(nbformat.read(path, as_version=4), path.name, url, hub)
        nbformat.write(staged, stage_dir / "notebooks" / path.name)
        names.append(path.name)
    return names


REPOSITORY_ENV = "MNIST_BOOK_REPOSITORY"  # how this script hands book/conf.py the URL it read


def sphinx_command(
    stage_dir: Path, output: Path, strict: bool = False, url: str | None = None
) -> tuple[list[str], dict[str, str]]:
    """The sphinx-build command line and environment for a staged book."""
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-c", str(BOOK), "-q", "-E"]
    if strict:
        command += ["-W", "--keep-going"]
    command += [str(stage_dir), str(output)]
    return command, {**os.environ, REPOSITORY_ENV: url or ""}


def build(
    output: Path = OUTPUT,
    stage_dir: Path = STAGE,
    strict: bool = False,
    url: str | None = None,
    hub: str | None = None,
) -> float:
    """Stage and build the book; return the seconds it took. Raises CalledProcessError on failure."""
    start = time.perf_counter()
    stage(stage_dir, url, hub)
    command, env = sphinx_command(stage_dir, output, strict, url)
    subprocess.run(command, env=env, check=True, cwd=PROJECT_ROOT)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--output", type=Path, default=OUTPUT, help="the HTML folder (default: build/book)")
    parser.add_argument("--strict", action="store_true", help="warnings are errors (-W --keep-going)")
    parser.add_argument("--stage-only", action="store_true", help="only write build/book-src/")
    args = parser.parse_args()
    url, hub = repository_url(), os.environ.get(HUB_ENV) or None
    if args.stage_only:
        stage(STAGE, url, hub)
        print(f"Staged the book in {STAGE.relative_to(PROJECT_ROOT)}.")
        return 0
    try:
        seconds = build(args.output, STAGE, args.strict, url, hub)
    except subprocess.CalledProcessError as error:
        print(f"The book did not build (sphinx exited {error.returncode}).", file=sys.stderr)
        return 1
    print(f"Built the book in {seconds:.1f} s: {args.output}/index.html (repository: {url or 'not set'}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
