"""Checks of the built HTML pages, run at the end of every HTML build.

Each problem is a Sphinx warning, so the build (``-W``) fails on it:

- **Offline assets.** Every script, stylesheet and image a page loads is a
  file of the built site: no CDN address (the site must read without a
  network), and no reference to a file the build did not write.
- **Gallery outputs.** The printed output of the gallery examples (standard
  output, standard error, HTML representations) shows nothing of the build
  machine and no warning the example did not mean to show: no file system
  path (a warning's location, a traceback), no line of a Python warning, and
  not the package's one-time Numba compile announcement, which appears or not
  depending on the state of the build machine's cache. An example that
  expects a warning catches it and says in its own words why.

Also runs on an existing build: ``python doc/sphinxext/page_checks.py
doc/_build/html``.
"""

import os
import re
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

#: Outputs that show a warning or the state of the build machine.
UNINTENDED_OUTPUT = [
    (re.compile(r"\b[A-Z]\w*Warning\b:"), "a Python warning"),
    (re.compile(r"\S+\.py:\d+"), "a source location (file:line)"),
    (re.compile(r'File "[^"]+", line \d+'), "a traceback"),
    (re.compile(r"\b(site|dist)-packages\b"), "an installation path"),
    (re.compile(r"sknmfcluster: compiling"),
     "the Numba compile announcement (depends on the build machine's cache)"),
]

#: Output folders that hold no pages (``_modules`` of viewcode does).
NOT_PAGES = {"_static", "_sources", "_images", "_downloads"}

#: ``<link rel=...>`` values that make the browser load the target.
LOADED_LINKS = {"stylesheet", "preload", "modulepreload", "icon",
                "shortcut"}


def machine_paths(srcdir):
    """Absolute paths of the build machine that no page may show."""
    paths = {Path(srcdir).resolve().parent, Path(sys.prefix),
             Path(sys.base_prefix), Path(tempfile.gettempdir()),
             Path.home()}
    return sorted({str(p) + os.sep for p in paths if p != Path(p.anchor)})


class _Page(HTMLParser):
    """Collects the assets a page loads and the text of its gallery outputs."""

    OUTPUT_CLASSES = ("sphx-glr-script-out", "output_subarea")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.assets = []
        self.outputs = []
        self._depth = 0  # nesting of <div> inside the current output block

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "img") and attrs.get("src"):
            self.assets.append(attrs["src"])
        elif (tag == "link" and attrs.get("href") and LOADED_LINKS
                & set((attrs.get("rel") or "").lower().split())):
            self.assets.append(attrs["href"])
        if tag != "div":
            return
        if self._depth:
            self._depth += 1
        elif any(c in (attrs.get("class") or "").split()
                 for c in self.OUTPUT_CLASSES):
            self._depth = 1
            self.outputs.append("")

    def handle_endtag(self, tag):
        if tag == "div" and self._depth:
            self._depth -= 1

    def handle_data(self, data):
        if self._depth:
            self.outputs[-1] += data


def _parse(page):
    parser = _Page()
    parser.feed(page.read_text(encoding="utf-8"))
    parser.close()
    return parser


def asset_problems(outdir):
    """``(page, message)`` for each remote or missing script, style or image."""
    outdir = Path(outdir)
    for page in sorted(outdir.rglob("*.html")):
        if page.relative_to(outdir).parts[0] in NOT_PAGES:
            continue  # e.g. a theme's Jinja macros copied into _static
        for ref in _parse(page).assets:
            parts = urlsplit(ref)
            if parts.scheme or parts.netloc:
                yield page, f"loads {ref} from the network"
            elif parts.path and not (page.parent
                                     / unquote(parts.path)).is_file():
                yield page, f"loads {ref}, which the build did not write"


def gallery_problems(outdir, gallery_dirs, paths):
    """``(page, message)`` for each unintended line of gallery output."""
    patterns = UNINTENDED_OUTPUT + [
        (re.compile(re.escape(p)), "a path of the build machine")
        for p in paths]
    for gallery in gallery_dirs:
        for page in sorted((Path(outdir) / gallery).rglob("*.html")):
            for output in _parse(page).outputs:
                for line in output.splitlines():
                    for pattern, what in patterns:
                        if pattern.search(line):
                            yield page, f"output shows {what}: {line.strip()!r}"
                            break


def _gallery_dirs(app):
    dirs = app.config.sphinx_gallery_conf.get("gallery_dirs", [])
    return [dirs] if isinstance(dirs, str) else list(dirs)


def check_pages(app, exception):
    """Warn (an error under ``-W``) about every problem of the built pages."""
    if exception is not None or app.builder.format != "html":
        return
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    outdir = Path(app.outdir)
    problems = list(asset_problems(outdir)) + list(gallery_problems(
        outdir, _gallery_dirs(app), machine_paths(app.srcdir)))
    for page, message in problems:
        logger.warning("%s %s", page.relative_to(outdir), message)


def setup(app):
    # After local_mathjax has copied MathJax into _static.
    app.connect("build-finished", check_pages, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    site = Path(sys.argv[1] if len(sys.argv) > 1 else "doc/_build/html")
    doc = Path(__file__).resolve().parents[1]
    found = list(asset_problems(site)) + list(gallery_problems(
        site, ["auto_examples"], machine_paths(doc)))
    for page, message in found:
        print(f"{page.relative_to(site)}: {message}")
    sys.exit(1 if found else 0)
