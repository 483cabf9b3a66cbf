"""sknmfcluster: non-negative matrix factorization for scikit-learn users."""

import os

# Numba's OpenMP threads spin at the barrier after every parallel loop by
# default. On a machine with other busy processes (CI, GridSearchCV(n_jobs=2),
# pytest-xdist) that made a two-thread kernel up to hundreds of times slower
# than one thread; passive waiting costs a few microseconds per parallel loop
# on an idle machine. A value the user set is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from ._clusterer import NMFClusterer
from ._sparse_nmf import SparseNMF
from .metrics import clustering_accuracy, clustering_accuracy_scorer

__version__ = "0.1.0.dev0"

__all__ = [
    "NMFClusterer",
    "SparseNMF",
    "clustering_accuracy",
    "clustering_accuracy_scorer",
    "__version__",
]
