"""The published book, checked in a real browser (headless system Chromium, Playwright).

For every page that ``_toc.yml`` lists (read at collection time, so a new chapter is checked as
soon as it is in the table of contents), served from ``_build/html`` over a local HTTP server:

- the page loads with no console error, no uncaught exception, no failed or 4xx/5xx request,
  and requests nothing outside the book (the book must read offline: MathJax is local);
- every ``<img>`` has loaded (``naturalWidth > 0``), and the page shows one image per image
  output stored in its notebook;
- MathJax has typeset every math element, with no TeX error, and no raw TeX (``\\(``, ``$$``,
  ``\\command``) or unresolved ``{cite}`` role is left in the text outside code;
- every same-origin link answers HTTP 200 and its ``#fragment`` is an id of the target page;
  every citation link points to an entry of the bibliography, one link per cited key;
- a full-page screenshot is saved to ``_build/screenshots/<page>.png``;
- each chapter's launch button opens its notebook on Binder (``_config.yml`` repository).

Run with ``make browser-test`` after ``make book`` (``make test`` does not collect this folder).
"""

from __future__ import annotations

import html.parser
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import build_book  # noqa: E402

PAGES = build_book.toc_files(yaml.safe_load((ROOT / "_toc.yml").read_text()))
#: Milliseconds a page may take to load and typeset on a loaded two-core machine.
TIMEOUT_MS = 120_000
VIEWPORT = {"width": 1280, "height": 900}

#: Gathers, in the page, what the checks need (after MathJax has finished).
COLLECT_JS = r"""
() => {
  const main = document.querySelector('main') || document.body;
  const images = Array.from(document.images).map(img => ({
    src: img.currentSrc || img.src,
    ok: img.complete && img.naturalWidth > 0,
    output: img.closest('.cell_output') !== null,
  }));
  const math = Array.from(main.querySelectorAll('.math'));
  const unrendered = math.filter(el => el.querySelector('mjx-container') === null)
                         .map(el => el.textContent.trim().slice(0, 80));
  const tex = [], texErrors = [];
  if (window.MathJax && MathJax.startup && MathJax.startup.document) {
    for (const item of MathJax.startup.document.math) {
      tex.push(item.math);
      const err = item.typesetRoot && item.typesetRoot.querySelector('mjx-merror');
      if (err) texErrors.push(`${err.getAttribute('data-mjx-error') || err.textContent}`
                              + ` in ${JSON.stringify(item.math)}`);
    }
  }
  const merrors = document.querySelectorAll('mjx-merror').length;
  const clone = main.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, textarea, svg, mjx-container, .highlight')
       .forEach(el => el.remove());
  const links = Array.from(document.querySelectorAll('a[href]')).map(a => ({
    href: a.href,
    cite: a.closest('.bibtex-citation') !== null,
  }));
  return {
    images, mathCount: math.length, unrendered, texErrors, merrors, tex,
    mjxCount: document.querySelectorAll('mjx-container').length,
    text: clone.textContent, links,
  };
}
"""

#: Raw TeX left in rendered text: math delimiters, or a backslash command.
RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|\$[^$\n]{1,200}\$|\\[A-Za-z]{2,}")
#: Control characters in a TeX source: a Python escape (``"\\approx"`` written as ``"\approx"``
#: gives BEL + "pprox", ``"\\theta"`` gives TAB + "heta") that MathJax may render silently wrong.
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
CITE_ROLE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")
FENCE = re.compile(r"^(```+|~~~+).*?^\1\s*$", re.S | re.M)


@dataclass
class Visit:
    """What one page showed in the browser."""

    page: str
    url: str
    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    data: dict = field(default_factory=dict)
    screenshot: Path | None = None
    crash: str = ""


@dataclass
class Target:
    """A same-origin URL fetched over HTTP: its status and, for HTML, its ids and their classes."""

    status: int
    ids: dict[str, str]


class _Ids(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if a.get(key):
                self.ids.setdefault(a[key], a.get("class") or "")


def screenshot_path(directory: Path, page: str) -> Path:
    """``_build/screenshots/<page>.png``, e.g. ``chapters/02_background.png``."""
    path = directory / f"{page}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def visit(browser, base_url, screenshot_dir, stats):
    """``visit(page)``: load a page once in Chromium and return its :class:`Visit` (cached)."""
    cache: dict[str, Visit] = {}

    def run(page_name: str) -> Visit:
        if page_name not in cache:
            cache[page_name] = load(page_name)
        v = cache[page_name]
        if v.crash:
            pytest.fail(f"{page_name}: the page could not be checked: {v.crash}", pytrace=False)
        return v

    def load(page_name: str) -> Visit:
        url = urllib.parse.urljoin(base_url, page_name + ".html")
        v = Visit(page_name, url)
        context = browser.new_context(viewport=VIEWPORT)

        def route(r):
            if r.request.url.startswith(base_url) or r.request.url.startswith("data:"):
                r.continue_()
            else:
                v.outside.append(r.request.url)
                r.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.on("console", lambda m: v.errors.append(f"console.error: {m.text}")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: v.errors.append(f"uncaught: {e}"))
        page.on("requestfailed", lambda r: v.failed.append(f"{r.url}: {r.failure}"))
        # The browser asks for /favicon.ico by itself; the book declares no favicon.
        page.on("response", lambda r: v.failed.append(f"{r.url}: HTTP {r.status}")
                if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
        try:
            page.goto(url, wait_until="load", timeout=TIMEOUT_MS)
            # MathJax is a deferred script: by the load event it has run and defined
            # MathJax.startup, unless it failed to load; then wait for its typesetting.
            if page.locator("script[src*='mathjax']").count():
                if page.evaluate("() => !!(window.MathJax && MathJax.startup"
                                 " && MathJax.startup.promise)"):
                    page.evaluate("() => MathJax.startup.promise.then(() => true)")
                else:
                    v.errors.append("MathJax did not load")
            page.evaluate("() => document.fonts.ready.then(() => true)")
            v.screenshot = screenshot_path(screenshot_dir, page_name)
            page.screenshot(path=str(v.screenshot), full_page=True, timeout=TIMEOUT_MS)
            v.data = page.evaluate(COLLECT_JS)
        except Exception as err:  # a timeout or a crashed page fails every check of the page
            v.crash = f"{type(err).__name__}: {err}"
            return v
        finally:
            context.close()
        stats["pages"] += 1
        stats["images"] += len(v.data["images"])
        stats["math elements"] += v.data["mathCount"]
        stats["screenshots"] += 1
        return v

    return run


@pytest.fixture(scope="session")
def fetch(stats):
    """``fetch(url)``: GET a same-origin URL once and return its :class:`Target` (cached)."""
    cache: dict[str, Target] = {}

    def run(url: str) -> Target:
        if url not in cache:
            try:
                with urllib.request.urlopen(url, timeout=30) as response:
                    status, body = response.status, response.read()
                    kind = response.headers.get_content_type()
            except urllib.error.HTTPError as err:
                status, body, kind = err.code, b"", ""
            parser = _Ids()
            if kind == "text/html":
                parser.feed(body.decode("utf-8", errors="replace"))
            cache[url] = Target(status, parser.ids)
            stats["link targets fetched"] += 1
        return cache[url]

    return run


def source_of(page: str) -> tuple[str, int]:
    """The page's Markdown text (fenced code removed) and its number of image outputs."""
    nb = ROOT / f"{page}.ipynb"
    if nb.exists():
        cells = json.loads(nb.read_text())["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        images = sum(1 for c in cells if c["cell_type"] == "code"
                     for o in c.get("outputs", [])
                     if any(k.startswith("image/") for k in o.get("data", {})))
    else:
        text, images = (ROOT / f"{page}.md").read_text(), 0
    return FENCE.sub("", text), images


def same_origin_links(v: Visit, base_url: str, *, citations: bool) -> list[str]:
    return sorted({link["href"] for link in v.data["links"]
                   if link["href"].startswith(base_url) and link["cite"] == citations})


def broken(url: str, fetch) -> str | None:
    """Why a same-origin link does not resolve, or None."""
    address, _, fragment = url.partition("#")
    target = fetch(address)
    if target.status != 200:
        return f"{url}: HTTP {target.status}"
    if fragment and urllib.parse.unquote(fragment) not in target.ids:
        return f"{url}: no id {fragment!r} in the target page"
    return None


def test_the_toc_lists_pages():
    assert "bibliography" in PAGES and len(PAGES) >= 3
    assert len(set(PAGES)) == len(PAGES)


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_without_errors(page, visit):
    v = visit(page)
    assert v.errors == [], f"{page}: console errors {v.errors}"
    assert v.failed == [], f"{page}: failed requests {v.failed}"
    assert v.outside == [], f"{page}: requests outside the book (it must read offline) {v.outside}"


@pytest.mark.parametrize("page", PAGES)
def test_every_figure_is_present_and_loads(page, visit):
    v = visit(page)
    images = v.data["images"]
    missing = [i["src"] for i in images if not i["ok"]]
    assert missing == [], f"{page}: images that did not load: {missing}"
    _, stored = source_of(page)
    shown = sum(1 for i in images if i["output"])
    assert shown == stored, f"{page}: {stored} image outputs stored, {shown} shown"


@pytest.mark.parametrize("page", PAGES)
def test_math_is_rendered(page, visit):
    v = visit(page)
    d = v.data
    assert d["unrendered"] == [], f"{page}: math MathJax did not typeset: {d['unrendered']}"
    assert d["mjxCount"] >= d["mathCount"]
    assert d["texErrors"] == [], f"{page}: TeX errors {d['texErrors']}"
    assert d["merrors"] == 0, f"{page}: {d['merrors']} MathJax error boxes"
    bad = [t for t in d["tex"] if CONTROL.search(t)]
    assert bad == [], f"{page}: TeX with control characters (a Python escape?): {bad}"
    text, _ = source_of(page)
    if "$" in text or "{math}" in text:
        assert d["mathCount"] > 0, f"{page}: the source has math, the page shows none"
    raw = sorted({m.group(0) for m in RAW_TEX.finditer(d["text"])})
    assert raw == [], f"{page}: raw TeX in the rendered text: {raw}"
    assert "{cite" not in d["text"], f"{page}: an unresolved {{cite}} role"


@pytest.mark.parametrize("page", PAGES)
def test_internal_links_resolve(page, visit, base_url, fetch, stats):
    v = visit(page)
    links = same_origin_links(v, base_url, citations=False)
    assert links, f"{page}: no internal links at all (navigation missing?)"
    stats["internal links"] += len(links)
    bad = [b for url in links if (b := broken(url, fetch))]
    assert bad == [], f"{page}: broken internal links {bad}"


@pytest.mark.parametrize("page", PAGES)
def test_citation_links_resolve_to_bibliography_entries(page, visit, base_url, fetch, stats):
    v = visit(page)
    cites = [link["href"] for link in v.data["links"]
             if link["cite"] and link["href"].startswith(base_url)]
    text, _ = source_of(page)
    keys = [k for m in CITE_ROLE.finditer(text) for k in m.group(1).split(",") if k.strip()]
    assert len(cites) == len(keys), f"{page}: {len(keys)} cited keys, {len(cites)} citation links"
    stats["citation links"] += len(cites)
    bibliography = urllib.parse.urljoin(base_url, "bibliography.html")
    for url in sorted(set(cites)):
        assert broken(url, fetch) is None, broken(url, fetch)
        address, _, fragment = url.partition("#")
        assert address == bibliography, f"{url} does not point to the bibliography"
        assert "citation" in fetch(address).ids[fragment].split(), f"{url} is not an entry"


@pytest.mark.parametrize("page", PAGES)
def test_screenshot_is_saved(page, visit):
    v = visit(page)
    png = v.screenshot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width == VIEWPORT["width"] and height >= VIEWPORT["height"]


@pytest.mark.parametrize("page", [p for p in PAGES if (ROOT / f"{p}.ipynb").exists()])
def test_chapter_has_a_binder_launch_button(page, visit):
    """The rocket menu opens the chapter's notebook on Binder, from _config.yml's repository."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    repo = config["repository"]["url"].removeprefix("https://github.com/").strip("/")
    binder = config["launch_buttons"]["binderhub_url"].rstrip("/")
    prefix = config["repository"].get("path_to_book", "").strip("/")
    notebook = "/".join(filter(None, [prefix, f"{page}.ipynb"]))
    expected = (f"{binder}/v2/gh/{repo}/{config['repository']['branch']}"
                f"?urlpath=lab/tree/{notebook}")
    assert expected in [link["href"] for link in visit(page).data["links"]]
