"""Fixtures of the book's tests: the book built once a session, as pyproject.toml has it and as published."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # book_site, this suite's helpers

from book_site import PUBLISHED_HUB, PUBLISHED_URL, Build, build  # noqa: E402


@pytest.fixture(scope="session")
def book(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """The book as `make book` builds it now: the repository URL read from pyproject.toml."""
    from build_book import repository_url

    return build(tmp_path_factory.mktemp("book"), repository_url())


@pytest.fixture(scope="session")
def unpublished_book(book: Build, tmp_path_factory: pytest.TempPathFactory) -> Build:
    """The book with no repository URL (as before the series is published)."""
    from build_book import repository_url

    return book if repository_url() is None else build(tmp_path_factory.mktemp("unpublished"), None)


@pytest.fixture(scope="session")
def published_book(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """The book once the repository URL is set, built for a class whose hub has an address."""
    return build(tmp_path_factory.mktemp("published"), PUBLISHED_URL, PUBLISHED_HUB)
