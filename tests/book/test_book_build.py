"""The book builds from the committed notebooks with no warning, and every page's links and images resolve.

Each build here is `make book`'s build with warnings as errors (-W --keep-going),
into a temporary folder; nothing is executed and nothing is fetched.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
from book_site import PUBLISHED_HUB, PUBLISHED_URL, Build
from build_book import PROJECT_ROOT, launch_links

pytestmark = pytest.mark.slow  # a Sphinx build of the whole series, about 15 s on two cores

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
FETCHED = (("img", "src"), ("script", "src"), ("link", "href"), ("source", "src"), ("iframe", "src"))
LOADED_LINKS = ("stylesheet", "icon", "preload", "modulepreload", "manifest")
REMOTE_IN_CSS = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])(?:https?:)?//""", re.IGNORECASE)


def test_the_book_builds_with_no_warning(book: Build) -> None:
    warnings = [line for line in book.log.splitlines() if "WARNING" in line or "ERROR" in line]
    assert book.returncode == 0 and not warnings, "sphinx-build -W --keep-going:\n" + "\n".join(
        warnings or book.log.splitlines()[-20:]
    )


def _target(page: Path, reference: str) -> tuple[Path, str] | None:
    """The file and fragment a local reference points at; None for another site or a data URL."""
    parts = urlsplit(reference)
    if parts.scheme or parts.netloc or reference.startswith(("mailto:", "data:", "javascript:")):
        return None
    path = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
    if parts.path.endswith("/"):
        path = path / "index.html"
    return path, unquote(parts.fragment)


def _ids(book: Build, page: Path, cache: dict[Path, set[str]]) -> set[str]:
    if page not in cache:
        soup = book.soup(str(page.relative_to(book.html)))
        cache[page] = {tag["id"] for tag in soup.find_all(id=True)} | {
            tag["name"] for tag in soup.find_all("a", attrs={"name": True})
        }
    return cache[page]


def test_every_internal_link_and_image_resolves_and_nothing_comes_from_another_site(book: Build) -> None:
    assert (book.html / "index.html").is_file(), book.log[-2000:]
    broken, remote, ids = [], [], {}
    for page in book.pages():
        soup = book.soup(str(page.relative_to(book.html)))
        name = page.relative_to(book.html)
        for tag, attribute in FETCHED:
            for element in soup.find_all(tag, attrs={attribute: True}):
                rel = " ".join(element.get("rel", []))
                if tag == "link" and not any(kind in rel for kind in LOADED_LINKS):
                    continue  # <link rel="next">, "index", "search": references, nothing is loaded
                if _target(page, element[attribute]) is None and not element[attribute].startswith("data:"):
                    remote.append(f"{name}: <{tag} {attribute}={element[attribute]}>")
        for anchor in soup.find_all("a", href=True):
            target = _target(page, anchor["href"])
            if target is None:
                continue
            path, fragment = target
            if not path.is_file():
                broken.append(f"{name}: {anchor['href']} (no such file)")
            elif fragment and path.suffix == ".html" and fragment not in _ids(book, path, ids):
                broken.append(f"{name}: {anchor['href']} (no #{fragment} there)")
        for image in soup.find_all("img", src=True):
            target = _target(page, image["src"])
            if target is not None and not target[0].is_file():
                broken.append(f"{name}: <img src={image['src']}> (no such file)")
    for stylesheet in book.html.rglob("*.css"):
        if REMOTE_IN_CSS.search(stylesheet.read_text(encoding="utf-8", errors="replace")):
            remote.append(f"{stylesheet.relative_to(book.html)} loads a font or an image from another site")
    assert not broken, "broken links or images:\n" + "\n".join(broken)
    assert not remote, "a page loads something from another site (the book must work offline):\n" + "\n".join(
        remote
    )


def _toc_order(book: Build) -> list[str]:
    soup = book.soup("index.html")
    links = soup.select("nav.bd-links a.reference.internal")
    return [urlsplit(link["href"]).path for link in links]


def test_the_landing_page_reuses_the_readme_and_lists_every_page_in_order(book: Build) -> None:
    soup = book.soup("index.html")
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    title = readme.splitlines()[0].lstrip("# ").strip()
    assert soup.find("h1").get_text(strip=True).rstrip("#¶") == title
    for heading in re.findall(r"^## (.+)$", readme, flags=re.MULTILINE):
        assert heading.replace("`", "") in soup.get_text(), f"the README's section {heading!r} is missing"
    order = _toc_order(book)
    expected = [f"notebooks/{path.stem}.html" for path in NOTEBOOKS] + [
        "deploy/jupyterhub/README.html",
        "benchmarks/README.html",
        "tests/browser/README.html",
    ]
    assert [entry for entry in order if entry in expected] == expected, order
    assert (book.html / "search.html").is_file() and (book.html / "searchindex.js").is_file()
    index = (book.html / "searchindex.js").read_text(encoding="utf-8")
    assert "adadelta" in index.lower(), "the search index does not cover the notebooks"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem[:2])
def test_each_notebook_page_has_one_title_and_downloads_the_committed_notebook(
    book: Build, notebook: Path
) -> None:
    soup = book.soup(f"notebooks/{notebook.stem}.html")
    titles = [h1.get_text(strip=True) for h1 in soup.select("article h1")]
    assert len(titles) == 1, f"{notebook.name} should have one level-1 heading, the page shows {titles}"
    downloads = [a for a in soup.select("a.download") if a["href"].endswith(notebook.name)]
    assert downloads, f"no download link for {notebook.name}"
    path, _ = _target(book.html / "notebooks" / f"{notebook.stem}.html", downloads[0]["href"])
    assert path.read_bytes() == notebook.read_bytes(), "the download is not the committed notebook"


def _hrefs(book: Build) -> list[str]:
    return [
        a["href"]
        for page in book.html.glob("notebooks/*.html")
        for a in book.soup(str(page.relative_to(book.html))).find_all("a", href=True)
    ]


def test_while_the_url_is_unset_no_link_points_to_colab_or_a_hub(unpublished_book: Build) -> None:
    hrefs = _hrefs(unpublished_book)
    assert not [href for href in hrefs if "colab.research.google.com" in href or "git-pull" in href]
    soup = unpublished_book.soup("notebooks/01_loading_data.html")
    assert soup.select_one(".run-this-notebook") is not None
    assert "<your hub>" not in soup.get_text()


def test_once_the_url_is_set_each_page_opens_in_colab_and_on_the_class_hub(published_book: Build) -> None:
    assert published_book.returncode == 0, published_book.log[-3000:]
    hrefs = set(_hrefs(published_book))
    for notebook in NOTEBOOKS:
        links = launch_links(PUBLISHED_URL, notebook.name, PUBLISHED_HUB)
        assert links["colab"] in hrefs, f"no Colab link for {notebook.name}"
        assert links["hub"].replace("&", "&") in hrefs, f"no class hub link for {notebook.name}"
    assert PUBLISHED_URL in hrefs, "the theme's repository button should link the repository"


def _alt_texts(notebook: Path) -> list[str]:
    """The alt text every stored image of the notebook should carry in the page, in order."""
    expected = []
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        images = sum("image/png" in output.get("data", {}) for output in cell.outputs)
        expected += [str(cell.metadata.get("alt", "")).strip()] * images
    return expected


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem[:2])
def test_the_book_images_carry_the_notebooks_alt_text(book: Build, notebook: Path) -> None:
    soup = book.soup(f"notebooks/{notebook.stem}.html")
    shown = [image.get("alt", "") for image in soup.select("article .cell_output img")]
    assert shown == _alt_texts(notebook), f"{notebook.name}: the page's <img alt> differ from the cells' alt"
    assert all(alt for alt in shown), (
        f"{notebook.name}: {shown.count('')} of {len(shown)} images have no alt text"
    )
    for image in soup.select("article img"):
        assert image.get("alt", "").strip(), f"{notebook.name}: an image without alt text: {image.get('src')}"
