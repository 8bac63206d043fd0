"""The links a notebook page offers, and the staged copy the book builds from (no Sphinx run)."""

from __future__ import annotations

import nbformat
import pytest
from build_book import PROJECT_ROOT, launch_links, run_box, stage_notebook

NAME = "05_training_curves.ipynb"
GITHUB = "https://github.com/example-school/mnist-cnn-notebooks"


def test_unpublished_offers_only_the_download() -> None:
    assert launch_links(None, NAME) == {"download": f"/_originals/notebooks/{NAME}"}
    box = run_box(None, NAME, hub=None)
    assert "colab" not in box.lower() and "git-pull" not in box and "http" not in box


def test_a_github_repository_opens_in_colab_and_on_a_hub() -> None:
    links = launch_links(GITHUB, NAME, hub="https://hub.example.edu/")
    assert links["colab"] == (
        "https://colab.research.google.com/github/example-school/mnist-cnn-notebooks/blob/main/notebooks/"
        + NAME
    )
    assert links["hub"] == (
        "https://hub.example.edu/hub/user-redirect/git-pull?repo=https://github.com/example-school/"
        "mnist-cnn-notebooks&branch=main&urlpath=lab/tree/mnist-cnn-notebooks/notebooks/" + NAME
    )
    box = run_box(GITHUB, NAME, hub="https://hub.example.edu")
    assert f"[Open in Colab]({links['colab']})" in box
    assert "[Open on the class hub](https://hub.example.edu/hub/" in box


def test_without_a_hub_address_the_hub_link_is_text_to_fill_in() -> None:
    links = launch_links(GITHUB, NAME)
    assert links["hub"].startswith("<your hub>/hub/user-redirect/git-pull?")
    box = run_box(GITHUB, NAME, hub=None)
    assert f"`{links['hub']}`" in box and "](<your hub>" not in box


def test_a_repository_off_github_gets_no_colab_link() -> None:
    links = launch_links("https://gitlab.example.org/school/mnist.git", NAME, hub="https://hub.example.edu")
    assert "colab" not in links and "repo=https://gitlab.example.org/school/mnist.git" in links["hub"]


@pytest.fixture(scope="module")
def staged_07() -> tuple[nbformat.NotebookNode, nbformat.NotebookNode]:
    path = PROJECT_ROOT / "notebooks" / "07_your_own_digits.ipynb"
    committed = nbformat.read(path, as_version=4)
    return committed, stage_notebook(committed, path.name, None, None)


def test_staging_maps_alt_text_to_myst_nb_and_leaves_the_notebook_alone(staged_07) -> None:
    committed, staged = staged_07
    before = nbformat.read(PROJECT_ROOT / "notebooks" / "07_your_own_digits.ipynb", as_version=4)
    assert committed == before, "staging changed the committed notebook in memory"
    for cell in staged.cells:
        if cell.metadata.get("alt"):
            assert cell.metadata["mystnb"]["image"]["alt"] == cell.metadata["alt"].strip()


def test_staged_07_shows_the_pad_as_an_image_and_loads_no_widgets(staged_07) -> None:
    _, staged = staged_07
    assert "widgets" not in staged.metadata
    views = [
        output
        for cell in staged.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if "application/vnd.jupyter.widget-view+json" in output.get("data", {})
    ]
    assert views == []
    notes = [cell.source for cell in staged.cells if "needs a live kernel" in cell.source]
    assert len(notes) == 2 and "drawing-pad.png" in notes[0] and ":alt:" in notes[0]
    assert staged.cells[1].source.startswith(":::{admonition} Run this notebook")


def test_staging_leaves_out_the_colab_badge_image_and_keeps_the_link() -> None:
    import colab_cells

    path = PROJECT_ROOT / "notebooks" / NAME
    published = colab_cells.with_setup(nbformat.read(path, as_version=4), NAME, GITHUB)
    assert "colab-badge.svg" in published.cells[0].source
    staged = stage_notebook(published, NAME, GITHUB, None)
    assert "colab-badge.svg" not in staged.cells[0].source
    assert staged.cells[0].source.lstrip().startswith("# ")
    assert launch_links(GITHUB, NAME)["colab"] in staged.cells[1].source
