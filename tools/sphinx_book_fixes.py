"""Sphinx extension of the book: pages that render offline and load without console errors.

Loaded by ``_config.yml`` (``sphinx: local_extensions``); ``tests/browser`` checks the result
in Chromium.

1. **MathJax from the book, not from a CDN.** ``_config.yml`` sets
   ``mathjax_path: mathjax/tex-mml-chtml.js`` (relative to ``_static``) and this extension
   copies MathJax's ``es5`` build from the locked PyPI package ``django-static-mathjax``
   (MathJax 3.2.2, Apache-2.0; it ships the files only and needs no Django) into
   ``_static/mathjax`` of the HTML output, so the mathematics renders on a machine without
   network (a reader's laptop, Binder, CI). MathJax itself is never committed. The copy
   happens when the builder starts, before any page is written, so Sphinx appends the file's
   checksum to the script URL. A missing package, or a ``mathjax_path`` that points elsewhere,
   fails the build.
2. **No duplicated inline script.** sphinx-thebe adds its inline configuration script
   (``const THEBE_JS_URL = ...``) with ``app.add_js_file(None, body=...)`` after the builder
   has started; Sphinx 7.4 then lists it twice (once with filename ``None``, once with ``''``),
   and the second ``const`` declaration raises "Identifier 'THEBE_JS_URL' has already been
   declared" on every page. Each page's script list is de-duplicated just before rendering.
"""

from __future__ import annotations

import os
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

#: Where the copy goes, relative to the HTML output's ``_static`` directory.
TARGET = "mathjax"
#: The one combined component the book loads (TeX and MathML input, CommonHTML output).
COMPONENT = "tex-mml-chtml.js"
#: What that component loads lazily: TeX extensions (autoload), CHTML fonts, the menu, the
#: accessibility tools and their speech rule engine. The other combined components are not copied.
LAZY_DIRS = ("input", "output", "ui", "a11y", "sre")


def mathjax_source() -> Path:
    """The ``es5`` directory of the installed MathJax 3 distribution."""
    try:
        root = Path(str(resources.files("mathjax"))) / "static" / "mathjax"
    except ModuleNotFoundError as err:
        raise ExtensionError(
            "MathJax is not installed: install the lock (django-static-mathjax)") from err
    es5 = root / "es5"
    if not (es5 / COMPONENT).is_file():
        raise ExtensionError(f"{es5 / COMPONENT} not found: is django-static-mathjax installed?")
    return es5


def copy_mathjax(app: Sphinx) -> None:
    """Copy the MathJax files into ``<outdir>/_static/mathjax`` (HTML builders only)."""
    if app.builder.format != "html":
        return
    expected = f"{TARGET}/{COMPONENT}"
    if app.config.mathjax_path != expected:
        raise ExtensionError(
            f"mathjax_path is {app.config.mathjax_path!r}; set it to {expected!r} in _config.yml")
    es5 = mathjax_source()
    dest = Path(app.outdir) / "_static" / TARGET
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(es5 / COMPONENT, dest / COMPONENT)
    for name in LAZY_DIRS:
        shutil.copytree(es5 / name, dest / name, dirs_exist_ok=True)
    shutil.copy2(es5.parent / "LICENSE", dest / "LICENSE")


def _script_key(js: Any) -> tuple:
    filename = getattr(js, "filename", js)
    attributes = getattr(js, "attributes", {})
    return (os.fspath(filename or ""), getattr(js, "priority", 500),
            tuple(sorted(attributes.items())))


def deduplicate_scripts(app: Sphinx, pagename: str, templatename: str,
                        context: dict[str, Any], doctree: Any) -> None:
    """Drop repeated entries (same file or inline body, same attributes) of a page's scripts."""
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen: set[tuple] = set()
    unique = []
    for js in scripts:
        key = _script_key(js)
        if key not in seen:
            seen.add(key)
            unique.append(js)
    scripts[:] = unique


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("builder-inited", copy_mathjax)
    # After every extension that adds page scripts (sphinx.ext.mathjax, sphinx-thebe: 500).
    app.connect("html-page-context", deduplicate_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
