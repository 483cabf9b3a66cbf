"""Order of the examples in the gallery.

Sphinx-Gallery takes the sort key by its fully qualified name (``conf.py``
puts this folder on ``sys.path``), which keeps ``sphinx_gallery_conf``
picklable: an unpicklable config value is a Sphinx warning, and the docs are
built with warnings as errors.
"""

from pathlib import Path

#: The reading order of the gallery: from the first fit to the practical
#: matters. An example not listed here comes after these, by file name.
EXAMPLE_ORDER = [
    "plot_ratings_matrix.py",
    "plot_digits_clustering.py",
    "plot_parts_vs_pca.py",
    "plot_image_reconstruction.py",
    "plot_inpainting.py",
    "plot_topics.py",
    "plot_sparse_parts.py",
    "plot_graph_clustering.py",
    "plot_choose_rank.py",
    "plot_negative_data.py",
]


class ExampleOrder:
    """Sort key for ``within_subsection_order``: listed examples first."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        name = Path(filename).name
        if name in EXAMPLE_ORDER:
            return (0, EXAMPLE_ORDER.index(name), name)
        return (1, 0, name)

    def __repr__(self):
        # Sphinx-Gallery compares configurations by repr to decide whether
        # the gallery must be rebuilt.
        return f"<{type(self).__name__}>"
