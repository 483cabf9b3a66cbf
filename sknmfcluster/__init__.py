"""sknmfcluster: non-negative matrix factorization for scikit-learn users."""

from ._clusterer import NMFClusterer
from ._factorization import non_negative_factorization
from ._sparse_nmf import SparseNMF
from .metrics import clustering_accuracy, clustering_accuracy_scorer

__version__ = "0.1.0.dev0"

__all__ = [
    "NMFClusterer",
    "SparseNMF",
    "clustering_accuracy",
    "clustering_accuracy_scorer",
    "non_negative_factorization",
    "__version__",
]
