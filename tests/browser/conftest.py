"""Fixtures of the browser test: the built book served over HTTP, and headless Chromium.

The test needs the HTML book (``make book``), so ``make test``, which runs before the book
exists, ignores this folder; ``make browser-test`` runs it after ``make book`` and sets
``QMLKIT_REQUIRE_BOOK=1``, which turns a missing book or a missing browser into a failure.
Without that variable (a bare ``pytest``), they skip the tests instead.

The browser is the system Chromium (Debian's ``chromium``; ``CHROMIUM=/path`` picks another)
driven by Playwright's Python package: nothing is downloaded (``playwright install`` is never
run), and the pages are served from ``127.0.0.1`` only.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"

#: Flags for a headless, offline, root-run Chromium: no sandbox (root), and none of the
#: background services that would try to reach the network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-gpu",
    "--disable-dev-shm-usage",
]


#: What the checks covered (pages, images, links, ...), printed at the end of the run.
STATS: Counter[str] = Counter()


def required() -> bool:
    """Whether a missing book or browser is a failure (``make browser-test``) or a skip."""
    return os.environ.get("QMLKIT_REQUIRE_BOOK", "") == "1"


def unavailable(reason: str) -> None:
    if required():
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def chromium_executable() -> str | None:
    """The system Chromium: ``$CHROMIUM``, else ``chromium`` or ``chromium-browser`` on PATH."""
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    return shutil.which("chromium") or shutil.which("chromium-browser")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def book_dir() -> Path:
    """``_build/html``, which must hold a built book."""
    if not (HTML / "index.html").is_file():
        unavailable(f"no built book in {HTML}: run `make book` first")
    return HTML


@pytest.fixture(scope="session")
def base_url(book_dir: Path) -> Iterator[str]:
    """``http://127.0.0.1:PORT/``: the book served by a local http.server on a free port."""
    handler = functools.partial(_QuietHandler, directory=str(book_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """A headless system Chromium driven by Playwright."""
    executable = chromium_executable()
    if executable is None:
        unavailable("no chromium on PATH (apt-get install chromium), or set CHROMIUM=/path")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed: install the lock (requirements/lock.txt)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(scope="session")
def stats() -> Counter[str]:
    """Counts of what was checked, reported in the terminal summary."""
    return STATS


def pytest_terminal_summary(terminalreporter) -> None:
    if STATS:
        terminalreporter.write_line(
            "browser test checked: " + ", ".join(f"{v} {k}" for k, v in STATS.items()))
