"""Sphinx configuration of the sknmfcluster documentation.

Build with warnings as errors, from the repository root::

    python -m sphinx -W --keep-going -b html doc doc/_build/html

The build needs no network. Links to the documentation of scikit-learn,
NumPy, SciPy and Matplotlib (intersphinx) need the inventories of those
sites, which are fetched over the network: they are only used when
``SKNMF_DOCS_INTERSPHINX=1`` is set. Without it, references to those
projects render as plain code text, without a warning.
"""

import os
import re
import sys
from pathlib import Path

import numba
from sphinx.util import logging

import sknmfcluster

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE / "sphinxext"))

logger = logging.getLogger(__name__)

# -- Project -----------------------------------------------------------------

project = "sknmfcluster"
author = "The sknmfcluster developers"
copyright = "The sknmfcluster developers"
release = sknmfcluster.__version__
version = release.split(".dev")[0]

# -- General -----------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "local_mathjax",  # sphinx.ext.mathjax, with MathJax served from _static
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "page_checks",  # no CDN, no build-machine paths or warnings in the pages
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "sphinxext"]
root_doc = "index"
default_role = "literal"
# Unresolvable references to other projects (when intersphinx is off) render
# as plain code text; broken references inside this site still warn (a
# missing :ref: label or document is a warning whatever ``nitpicky`` says).
nitpicky = False

# -- MathJax (served from the built site) ------------------------------------

# A file under _static: the local_mathjax extension copies MathJax there from
# the django-static-mathjax package of the ``doc`` extra, so the formulas
# render offline. sphinx.ext.mathjax's default is a CDN address.
mathjax_path = "mathjax/tex-mml-chtml.js"

# -- autodoc, autosummary, numpydoc -------------------------------------------

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# -- intersphinx (only with network access) ----------------------------------

INTERSPHINX = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable/", None),
    "scipy": ("https://docs.scipy.org/doc/scipy/", None),
    "sklearn": ("https://scikit-learn.org/stable/", None),
    "matplotlib": ("https://matplotlib.org/stable/", None),
}
if os.environ.get("SKNMF_DOCS_INTERSPHINX", "0") == "1":
    intersphinx_mapping = INTERSPHINX
else:
    intersphinx_mapping = {}
intersphinx_timeout = 10

# -- sphinx-gallery -------------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # Every plot_*.py is executed during the build; its figures and printed
    # output go into the page.
    "filename_pattern": r"/plot_",
    "within_subsection_order": "gallery_order.ExampleOrder",
    "doc_module": ("sknmfcluster",),
    "backreferences_dir": "gen_modules/backreferences",
    "reference_url": {"sknmfcluster": None},
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 1,
    "matplotlib_animations": False,
    "image_srcset": [],
    # The execution-times pages load their table scripts from CDNs and show
    # the build machine's timings; each example page keeps its running time.
    "write_computation_times": False,
}

# sknmfcluster announces the first Numba compile of a process on standard
# error, and sphinx-gallery puts what an example writes there into its page:
# the example that happened to compile first, which depends on what the build
# machine's Numba cache holds, would show the announcement. One throwaway
# compile here, before any example runs, takes it into the build log.
numba.njit(lambda x: x + 1)(1)

# -- HTML ------------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"sknmfcluster {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_show_sourcelink = False
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_sidebars = {
    "changelog": [],
    "install": [],
    "quick_start": [],
}


# -- Reference helpers -------------------------------------------------------------


def resolve_reexported(app, env, node, contnode):
    """Resolve ``sknmfcluster.<module>.<name>`` to the public ``sknmfcluster.<name>``.

    The API reference documents each public object where users import it
    from, the top-level package; docstrings may name the defining module
    (``sknmfcluster.metrics.clustering_accuracy``).
    """
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or not target.startswith("sknmfcluster."):
        return None
    name = target.rsplit(".", 1)[-1]
    if name not in getattr(sknmfcluster, "__all__", ()):
        return None
    node["reftarget"] = f"sknmfcluster.{name}"
    domain = env.get_domain("py")
    return domain.resolve_xref(env, node["refdoc"], app.builder,
                               node["reftype"], node["reftarget"], node,
                               contnode)


def plain_text_for_foreign_labels(app, env, node, contnode):
    """Render scikit-learn's own ``:ref:`` labels and glossary terms as text.

    Methods inherited from scikit-learn (``set_output``,
    ``get_metadata_routing``...) point to labels of scikit-learn's user guide,
    which only exist on its site. With intersphinx on they are links; without
    it they would be undefined labels, so they become text. Labels missing
    from this site's own pages still warn.
    """
    if node.get("reftype") not in ("ref", "doc", "term"):
        return None
    source = node.source or ""
    if "docstring of sklearn." not in source:
        return None
    return contnode


#: Modules that define public data re-exported by ``sknmfcluster``.
DATA_MODULES = ("sknmfcluster.metrics",)


def reexported_data_doc(app, what, name, obj, options, lines):
    """Give re-exported module data the ``#:`` comment of their definition."""
    if (what != "data" or any(line.strip() for line in lines)
            or not name.startswith("sknmfcluster.")):
        return
    from sphinx.pycode import ModuleAnalyzer

    short = name.rsplit(".", 1)[-1]
    for module in DATA_MODULES:
        docs = ModuleAnalyzer.for_module(module).find_attr_docs()
        if ("", short) in docs:
            lines[:] = list(docs[("", short)])
            return
    logger.warning("no documentation found for %s in %s", name,
                   ", ".join(DATA_MODULES))


def check_api_reference(app):
    """Warn (an error under ``-W``) when a public name is missing from api.rst."""
    text = (Path(app.srcdir) / "api.rst").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\s{3}(\w+)\s*$", text, flags=re.M))
    for name in sknmfcluster.__all__:
        if not name.startswith("__") and name not in listed:
            logger.warning("sknmfcluster.%s is public (in __all__) but not "
                           "listed in doc/api.rst", name)


def setup(app):
    app.connect("builder-inited", check_api_reference)
    app.connect("missing-reference", resolve_reexported)
    app.connect("missing-reference", plain_text_for_foreign_labels)
    app.connect("autodoc-process-docstring", reexported_data_doc, priority=400)
