"""sknmfcluster: non-negative matrix factorization for scikit-learn users."""

from ._clusterer import NMFClusterer
from .metrics import clustering_accuracy, clustering_accuracy_scorer

__version__ = "0.1.0.dev0"

__all__ = [
    "NMFClusterer",
    "clustering_accuracy",
    "clustering_accuracy_scorer",
    "__version__",
]
