"""Serve MathJax from the built site, so that the maths reads without a network.

Sphinx's default ``mathjax_path`` is a CDN address: offline, every formula
shows as raw LaTeX. The PyPI package ``django-static-mathjax`` (in the
``doc`` extra; it needs no Django) installs MathJax 3's browser components
as data of a module named ``mathjax``. This extension copies the component
that ``mathjax_path`` names (``conf.py`` sets ``mathjax/tex-mml-chtml.js``,
a path under ``_static``) with the fonts and the extensions it loads on
demand into ``_static/mathjax`` of the HTML output, and fails the build
when that component is missing. MathJax itself is not kept in the
repository.
"""

import shutil
from pathlib import Path

from sphinx.errors import ExtensionError

#: Where ``mathjax_path`` must point: a file under ``_static/mathjax``.
PREFIX = "mathjax/"


def mathjax_source():
    """The directory of MathJax 3's browser components (``es5``)."""
    try:
        import mathjax  # the django-static-mathjax package
    except ImportError as exc:
        raise ExtensionError(
            "MathJax is served from the built site and comes from the "
            "django-static-mathjax package: install the 'doc' extra "
            "(pip install -e \".[doc]\")") from exc
    return Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"


def check_config(app, config):
    """Fail early when ``mathjax_path`` is not a component of the local copy."""
    path = config.mathjax_path
    if not path.startswith(PREFIX):
        raise ExtensionError(
            f"mathjax_path must name a file under _static/{PREFIX} "
            f"(served from the built site), not {path!r}")
    component = mathjax_source() / path[len(PREFIX):]
    if not component.is_file():
        raise ExtensionError(f"mathjax_path {path!r}: the installed MathJax "
                             f"has no {component}")


def copy_mathjax(app, exception):
    """Copy the component, its fonts and extensions into ``_static/mathjax``."""
    if exception is not None or app.builder.format != "html":
        return
    source = mathjax_source()
    component = app.config.mathjax_path[len(PREFIX):]

    def other_bundles(directory, names):
        # The other combined components (tex-svg.js, mml-chtml.js, ...)
        # are never loaded by the one the pages use.
        if Path(directory) != source:
            return []
        return [name for name in names
                if name.endswith(".js") and name != component]

    target = Path(app.outdir) / "_static" / "mathjax"
    shutil.copytree(source, target, ignore=other_bundles, dirs_exist_ok=True)
    shutil.copy2(source.parent / "LICENSE", target / "LICENSE")


def setup(app):
    app.setup_extension("sphinx.ext.mathjax")
    app.connect("config-inited", check_config)
    # Before page_checks looks for the files the pages reference.
    app.connect("build-finished", copy_mathjax, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
