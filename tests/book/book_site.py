"""What the book's tests share: build the book into a folder, read its pages, serve it on 127.0.0.1."""

from __future__ import annotations

import functools
import http.server
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup

PROJECT_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
import build_book  # noqa: E402

# The repository and class hub the tests publish the book for (example addresses; nothing is fetched).
PUBLISHED_URL = "https://github.com/example-school/mnist-cnn-notebooks"
PUBLISHED_HUB = "https://hub.example.edu"


@dataclass
class Build:
    """One build of the book: where its HTML is, and what Sphinx said."""

    html: Path
    returncode: int
    log: str

    def pages(self) -> list[Path]:
        """Every HTML page, the landing page first."""
        return sorted(self.html.rglob("*.html"), key=lambda path: (path.name != "index.html", str(path)))

    def soup(self, relative: str) -> BeautifulSoup:
        return BeautifulSoup((self.html / relative).read_text(encoding="utf-8"), "html.parser")


def build(folder: Path, url: str | None, hub: str | None = None) -> Build:
    """Stage and build the book (warnings as errors, going on after each) into folder/html."""
    stage, html = folder / "src", folder / "html"
    build_book.stage(stage, url, hub)
    command, env = build_book.sphinx_command(stage, html, strict=True, url=url)
    result = subprocess.run(command, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True)
    return Build(html, result.returncode, result.stdout + result.stderr)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002  (the base class's name)
        pass


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve folder over HTTP on 127.0.0.1 (a free port) while the block runs; yield the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
